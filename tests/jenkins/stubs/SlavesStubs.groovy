package hudson.slaves

import hudson.FilePath
import hudson.model.Computer
import hudson.model.TaskListener
import hudson.remoting.Channel

class SlaveComputer extends Computer {
    boolean acceptingTasks = true
}

abstract class ComputerListener {
    void preOnline(Computer c, Channel channel, FilePath root, TaskListener listener)
        throws IOException, InterruptedException {}
}
