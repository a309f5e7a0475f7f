package hudson.model.queue

import hudson.model.Node
import hudson.model.Queue
import jenkins.util.NonLocalizable

abstract class CauseOfBlockage {
    abstract String getShortDescription()

    static CauseOfBlockage fromMessage(NonLocalizable message) {
        return new CauseOfBlockage() {
            String getShortDescription() { message.toString() }
        }
    }
}

abstract class QueueTaskDispatcher {
    CauseOfBlockage canTake(Node node, Queue.BuildableItem item) { null }
}
