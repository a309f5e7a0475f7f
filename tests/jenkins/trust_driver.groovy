// Runs the controller's dockyard-trust.groovy against the Jenkins stand-ins (stubs/) and plays
// a scenario on it, as Jenkins would: swarm clients creating nodes as their users, the queue
// asking whether a node may take a build's task, executors starting and ending tasks.
//
//   groovy -cp STUBS trust_driver.groovy SCRIPT_DIR SCENARIO_JSON
//
// SCRIPT_DIR holds dockyard-trust.groovy, TrustPolicy.groovy and trust.json. Each step of the
// scenario is a map: {create: NAME, as: USER, labels: "..."} (a createSlave, or a replacement
// of a node of that name, which keeps its Computer as Jenkins does), {save: NAME} (the node
// saved as it is), {delete: NAME}, {take: NAME, build: "web/main"|null} (prints "ok" or the
// veto), {start: NAME} / {end: NAME} (a task starts or ends on the node's executor),
// {connect: NAME, as: USER|null} (an agent's WebSocket request for that node, authenticated
// as USER: prints "ok" if it passes the filters, else the status and message).
// Prints one JSON line per step: {"step": i, "answer": ...}; then the removed nodes.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import hudson.model.Executor
import hudson.model.ExecutorListener
import hudson.model.Item
import hudson.model.Node
import hudson.model.Queue
import hudson.model.queue.QueueTaskDispatcher
import hudson.slaves.SlaveComputer
import hudson.util.PluginServletFilter
import jakarta.servlet.FilterChain
import jakarta.servlet.ServletRequest
import jakarta.servlet.ServletResponse
import jakarta.servlet.http.HttpServletRequest
import jakarta.servlet.http.HttpServletResponse
import jenkins.model.Jenkins
import jenkins.model.NodeListener

String dir = args[0]
List steps = new JsonSlurper().parseText(args[1]) as List
System.setProperty('dockyard.home', dir)
new GroovyShell(this.class.classLoader).evaluate(new File(dir, 'dockyard-trust.groovy'))

Jenkins jenkins = Jenkins.get()
Map<String, Node> nodes = [:]
Map<String, Executor> executors = [:]

class Job implements Item, Queue.Task {
    String fullName
    Queue.Task getOwnerTask() { this }
}

class Request implements HttpServletRequest {
    Map<String, String> headers
    String getHeader(String name) {
        headers.find { it.key.equalsIgnoreCase(name) }?.value
    }
}

class Response implements HttpServletResponse {
    String error
    void sendError(int status, String message) { error = "${status}: ${message}" }
}

class Placeholder implements Queue.Task {
    Queue.Task owner
    Queue.Task getOwnerTask() { owner }
}

steps.eachWithIndex { Map step, int i ->
    def answer = null
    if (step.create) {
        Jenkins.CURRENT.set(step.as as String)
        Node node = new Node(nodeName: step.create, labelString: step.labels ?: '')
        Node old = nodes[step.create]
        nodes[step.create] = node
        if (old == null) {
            executors[step.create] = new Executor(owner: new SlaveComputer(node: node))
        } else {
            executors[step.create].owner.node = node  // AbstractCIBase.updateComputer: reuse
        }
        jenkins.getExtensionList(NodeListener).each { NodeListener l ->
            old == null ? l.onCreated(node) : l.onUpdated(old, node)
        }
        answer = 'created'
    } else if (step.save) {
        Node node = nodes[step.save]
        jenkins.getExtensionList(NodeListener).each { NodeListener l -> l.onUpdated(node, node) }
        answer = 'saved'
    } else if (step.containsKey('connect')) {
        Jenkins.CURRENT.set((step.as ?: 'anonymous') as String)
        Response response = new Response()
        boolean passed = false
        FilterChain end = { ServletRequest q, ServletResponse r -> passed = true } as FilterChain
        List filters = PluginServletFilter.LIST
        FilterChain chain
        int position = 0
        chain = { ServletRequest q, ServletResponse r ->
            position < filters.size() ? filters[position++].doFilter(q, r, chain) :
                end.doFilter(q, r)
        } as FilterChain
        chain.doFilter(new Request(headers: ['node-name': step.connect as String,
                                             'Secret-Key': 'mac']), response)
        answer = passed ? 'ok' : response.error
    } else if (step.delete) {
        Node node = nodes.remove(step.delete)
        jenkins.getExtensionList(NodeListener).each { NodeListener l -> l.onDeleted(node) }
        answer = 'deleted'
    } else if (step.containsKey('take')) {
        Queue.Task owner = step.build == null ? null : new Job(fullName: step.build)
        Queue.BuildableItem item = new Queue.BuildableItem(task: new Placeholder(owner: owner))
        def vetoes = jenkins.getExtensionList(QueueTaskDispatcher)
            .collect { it.canTake(nodes[step.take], item) }.findAll { it != null }
        answer = vetoes ? vetoes*.shortDescription.join('; ') : 'ok'
    } else if (step.start || step.end) {
        Executor executor = executors[step.start ?: step.end]
        Queue.Task task = new Placeholder(owner: new Job(fullName: 'web/main'))
        jenkins.getExtensionList(ExecutorListener).each { ExecutorListener l ->
            step.start ? l.taskStarted(executor, task) : l.taskCompleted(executor, task, 1L)
        }
        answer = step.start ? "accepting=${executor.owner.acceptingTasks}" : 'ended'
    }
    println JsonOutput.toJson([step: i, answer: answer])
}
hudson.model.Computer.threadPoolForRemoting.submit({} as Runnable).get()
println JsonOutput.toJson([removed: jenkins.removed*.nodeName])
hudson.model.Computer.threadPoolForRemoting.shutdown()
