package hudson.slaves

import hudson.model.Computer

class SlaveComputer extends Computer {
    boolean acceptingTasks = true
}
