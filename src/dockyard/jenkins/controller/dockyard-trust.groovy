// dockyard's trust tiers, enforced by the controller at every start (JENKINS_HOME/init.groovy.d,
// copied from the image's ref/ as dockyard-trust.groovy.override, so a new image replaces it).
// The rules are TrustPolicy.groovy's; this wires them into Jenkins (core 2.568.x):
// - jenkins.model.NodeListener: onCreated/onUpdated run in the request thread of the swarm
//   client's createSlave, as the user that called it (Listeners.notify without impersonation),
//   so Jenkins.getAuthentication2() is who created the node. onUpdated(old, new) with two
//   objects is a replacement under the same name (Nodes.addNode; the Computer, and so the
//   live connection, is reused: AbstractCIBase.updateComputer); with one object it is a save
//   of the same node (Nodes.updateNode), which changes nothing here;
// - hudson.util.PluginServletFilter: every HTTP request, after Jenkins has authenticated it
//   (web.xml: authentication-filter, then plugins-filter). An agent connects over WebSocket
//   with its node's name in the Node-Name header (WebSocketAgents; the TCP agent port is off);
//   a swarm client creates or replaces its node with /plugin/swarm/createSlave?name=&hash=
//   (the node is NAME-HASH). Stapler dispatches on the path as decoded; the raw one is
//   HttpServletRequest.getRequestURI;
// - hudson.slaves.ComputerListener.preOnline: called as a connection comes online, before the
//   computer takes work (SlaveComputer.setChannel); an IOException keeps it offline. Its
//   Computer looks its node up by name, so this is where a node swapped in under the name
//   while the agent connected is caught;
// - hudson.model.queue.QueueTaskDispatcher.canTake: a veto for each (node, queued task), asked
//   on every queue pass for a node's executor (Queue.JobOffer; a Pipeline's own flyweight task
//   is not offered to agents); "vetoes are additive", and an exception here blocks the task;
// - hudson.model.ExecutorListener: a node that starts a task stops accepting others
//   (SlaveComputer.setAcceptingTasks, as durable-task's OnceRetentionStrategy does), and is
//   removed when the task ends; its swarm client, run with -noRetryAfterConnected, then exits.
// The boot check of the image build requires the line this script logs when it is in force.
import hudson.AbortException
import hudson.FilePath
import hudson.model.Computer
import hudson.model.Executor
import hudson.model.ExecutorListener
import hudson.model.Item
import hudson.model.Node
import hudson.model.OneOffExecutor
import hudson.model.Queue
import hudson.model.TaskListener
import hudson.model.queue.CauseOfBlockage
import hudson.model.queue.QueueTaskDispatcher
import hudson.remoting.Channel
import hudson.slaves.ComputerListener
import hudson.slaves.SlaveComputer
import hudson.util.PluginServletFilter
import jakarta.servlet.Filter
import jakarta.servlet.FilterChain
import jakarta.servlet.ServletException
import jakarta.servlet.ServletRequest
import jakarta.servlet.ServletResponse
import jakarta.servlet.http.HttpServletRequest
import jakarta.servlet.http.HttpServletResponse
import java.util.logging.Logger
import jenkins.model.Jenkins
import jenkins.model.NodeListener
import jenkins.util.NonLocalizable

class DockyardNodes extends NodeListener {
    def policy

    @Override
    protected void onCreated(Node node) {
        String user = Jenkins.getAuthentication2().name
        String misnamed = policy.nameRefusal(node.nodeName, user)
        if (misnamed == null) {
            policy.created(node, user, node.numExecutors)
        } else {  // not through createSlave's door: never known, so it takes nothing
            DockyardAgentRequests.LOG.warning(misnamed)
            DockyardOneBuildPerAgent.retire(node)
        }
    }

    @Override
    protected void onUpdated(Node oldOne, Node newOne) {
        if (!oldOne.is(newOne)) {
            policy.replaced(oldOne, newOne)
            DockyardOneBuildPerAgent.retire(newOne)
        }
    }

    @Override
    protected void onDeleted(Node node) {
        policy.deleted(node)
    }
}

// Who may connect as a node's agent, and who may replace a node.
class DockyardAgentRequests implements Filter {
    static final Logger LOG = Logger.getLogger('dockyard.trust')
    def policy

    @Override
    void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String refusal = request instanceof HttpServletRequest ?
            refusal((HttpServletRequest) request) : null
        if (refusal == null) {
            chain.doFilter(request, response)
        } else {
            LOG.warning(refusal)
            ((HttpServletResponse) response).sendError(403, refusal)
        }
    }

    String refusal(HttpServletRequest request) {
        String user = Jenkins.getAuthentication2().name
        String path = request.requestURI.substring(request.contextPath.length())
        String decoded = request.servletPath + (request.pathInfo ?: '')
        String forbidden = policy.pathRefusal(user, path, decoded)
        if (forbidden != null) {
            return forbidden
        }
        String name = request.getHeader('Node-Name')
        if (name != null) {
            String refused = policy.connectionRefusal(name, Jenkins.get().getNode(name), user)
            if (refused != null) {
                return refused
            }
        }
        if (!isCreateSlave(request)) {
            return null
        }
        Map<String, String> form = CREATE_SLAVE_FIELDS.collectEntries {
            [(it): request.getParameter(it)]
        }
        String target = policy.createSlaveTarget(form)
        return policy.createRefusal(user, form, target ? Jenkins.get().getNode(target) : null)
    }

    // What PluginImpl.doCreateSlave reads from a request (as @QueryParameter or
    // getParameterValues: the first value is what it uses, or, for the last two, whether any).
    static final List<String> CREATE_SLAVE_FIELDS = ['name', 'hash', 'executors',
        'deleteExistingClients', 'keepDisconnectedClients', 'toolLocation', 'environmentVariable']

    // Whether this is swarm's createSlave: matched on the raw and the decoded path, in any case,
    // so no spelling of the URL slips past.
    static boolean isCreateSlave(HttpServletRequest request) {
        return "${request.requestURI} ${request.pathInfo}".toLowerCase(Locale.ROOT)
            .contains('createslave')
    }
}

// A connection comes online only as the node it was approved for.
class DockyardConnections extends ComputerListener {
    def policy

    @Override
    void preOnline(Computer c, Channel channel, FilePath root, TaskListener listener)
            throws IOException, InterruptedException {
        String refusal = policy.onlineRefusal(c.name, c.node, c.executors.any { it.busy })
        if (refusal != null) {
            DockyardAgentRequests.LOG.warning(refusal)
            throw new AbortException(refusal)
        }
    }
}

class DockyardDispatcher extends QueueTaskDispatcher {
    def policy

    @Override
    CauseOfBlockage canTake(Node node, Queue.BuildableItem item) {
        Queue.Task owner = item.task.ownerTask
        String build = owner instanceof Item ? ((Item) owner).fullName : null
        String reason = policy.blockReason(node.nodeName, node, build)
        return reason == null ? null : CauseOfBlockage.fromMessage(new NonLocalizable(reason))
    }
}

class DockyardOneBuildPerAgent implements ExecutorListener {
    def policy

    @Override
    void taskStarted(Executor executor, Queue.Task task) {
        Node node = agentOf(executor)
        if (node != null) {
            policy.started(node)
            Computer computer = executor.owner
            if (computer instanceof SlaveComputer) {
                ((SlaveComputer) computer).acceptingTasks = false
            }
        }
    }

    @Override
    void taskCompleted(Executor executor, Queue.Task task, long durationMS) {
        retire(agentOf(executor))
    }

    @Override
    void taskCompletedWithProblems(Executor executor, Queue.Task task, long durationMS,
                                   Throwable problems) {
        retire(agentOf(executor))
    }

    // The agent node an executor belongs to; null for the controller's own node and for
    // flyweight tasks (a Pipeline run itself), which run on no agent.
    static Node agentOf(Executor executor) {
        if (executor instanceof OneOffExecutor) {
            return null
        }
        Node node = executor.owner.node
        return node == null || node instanceof Jenkins ? null : node
    }

    static void retire(Node node) {
        if (node == null) {
            return
        }
        Computer.threadPoolForRemoting.submit({
            Queue.withLock({ Jenkins.get().removeNode(node) } as Runnable)
        } as Runnable)
    }
}

File home = new File(System.getProperty('dockyard.home', '/usr/share/dockyard'))
Class policyClass = new GroovyClassLoader(getClass().classLoader)
    .parseClass(new File(home, 'TrustPolicy.groovy'))
Map settings = new groovy.json.JsonSlurper().parse(new File(home, 'trust.json')) as Map
def policy = policyClass.newInstance(settings.trustedUser as String,
                                     settings.trustedBuilds as List<String>,
                                     settings.pools as Map<String, String>)
Jenkins.get().getExtensionList(NodeListener).add(new DockyardNodes(policy: policy))
Jenkins.get().getExtensionList(ComputerListener).add(new DockyardConnections(policy: policy))
Jenkins.get().getExtensionList(QueueTaskDispatcher).add(new DockyardDispatcher(policy: policy))
Jenkins.get().getExtensionList(ExecutorListener).add(new DockyardOneBuildPerAgent(policy: policy))
PluginServletFilter.addFilter(new DockyardAgentRequests(policy: policy))
// Agents' nodes left from before this start (Jenkins loads nodes from disk): their agents
// have gone (-noRetryAfterConnected), this script never saw them created, and a Pipeline
// resuming on one would wait for it in vain.
Jenkins.get().nodes.findAll { Node node ->
    (settings.pools as Map).values().any { node.nodeName.startsWith("${it}-") }
}.each { DockyardOneBuildPerAgent.retire(it) }
Logger.getLogger('dockyard.trust').info(
    "dockyard-trust: enforcing trust tiers: trusted agents join as ${settings.trustedUser}; " +
    "trusted builds: ${(settings.trustedBuilds as List).join(', ') ?: 'none'}; one build per agent; " +
    "only a node's creator connects to it or replaces it; agents' users only join")
