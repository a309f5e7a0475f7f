// Stand-ins for the Jenkins core (2.568.2) classes dockyard-trust.groovy uses, with the
// signatures it relies on (core's sources: hudson.model.queue.QueueTaskDispatcher#canTake,
// jenkins.model.NodeListener#onCreated/onUpdated/onDeleted, hudson.model.ExecutorListener,
// hudson.slaves.SlaveComputer#setAcceptingTasks, hudson.slaves.ComputerListener#preOnline,
// Computer.threadPoolForRemoting, Computer#getNode (by name), Jenkins#getNode/removeNode,
// Queue.withLock, CauseOfBlockage.fromMessage, jenkins.util.NonLocalizable), and just enough
// behaviour to drive the script as Jenkins would: nodes created by a user, a queue asking
// each node, executors starting and finishing tasks, agents connecting. The tests compile the script against
// them (an @Override of a method Jenkins lacks fails) and run it.
package hudson.model

import java.util.concurrent.Executors
import java.util.concurrent.ExecutorService

class Node {
    String nodeName
    String labelString = ''
    int numExecutors = 1
}

interface TaskListener {
}

interface Item {
    String getFullName()
}

class Computer {
    static final ExecutorService threadPoolForRemoting = Executors.newSingleThreadExecutor()
    String name
    List<Executor> executors = []

    // As Jenkins' own: the node now registered under this computer's name.
    Node getNode() { jenkins.model.Jenkins.get().getNode(name) }
}

class Executor {
    Computer owner
    boolean busy
}

class OneOffExecutor extends Executor {
}

interface ExecutorListener {
    void taskStarted(Executor executor, Queue.Task task)
    void taskCompleted(Executor executor, Queue.Task task, long durationMS)
    void taskCompletedWithProblems(Executor executor, Queue.Task task, long durationMS,
                                   Throwable problems)
}

class Queue {
    interface Task {
        Task getOwnerTask()
    }

    static class BuildableItem {
        Task task
    }

    static synchronized void withLock(Runnable runnable) {
        runnable.run()
    }
}
