// Runs the controller's dockyard-trust.groovy against the Jenkins stand-ins (stubs/) and plays
// a scenario on it, as Jenkins would: swarm clients creating nodes as their users, agents
// connecting, the queue asking whether a node may take a build's task, executors starting and
// ending tasks.
//
//   groovy -cp STUBS trust_driver.groovy SCRIPT_DIR SCENARIO_JSON
//
// SCRIPT_DIR holds dockyard-trust.groovy, TrustPolicy.groovy and trust.json. The scenario is a
// list of steps, or {"before": [NAME, ...], "steps": [...]}: nodes Jenkins loaded from disk
// before the script ran. Each step is a map; each prints one JSON line {"step": i, ...}:
// - {create: NAME, hash: H, as: USER, executors: N, path: P, form: {FIELD: VALUE|null}}: a
//   swarm createSlave request (path /plugin/swarm/createSlave unless P; the form fields the
//   swarm client sends, with FORM's changes, null removing one), through the servlet
//   filters; if they pass it, the node NAME (NAME-H with a hash) is added as Nodes.addNode
//   does: created, or replacing the node of that name, whose Computer (and connection) it
//   keeps. Answers "created" or the filters' error;
// - {save: NAME}: the node saved as it is (onUpdated with itself);
// - {delete: NAME}: Jenkins.removeNode;
// - {connect: NAME, as: USER|null}: an agent's WebSocket request for that node, authenticated
//   as USER, through the filters: "ok" or the status and message;
// - {request: PATH, as: USER}: any other request (PATH as sent; decoded for the servlet's
//   view), through the filters: "ok" or the status and message;
// - {online: NAME}: that connection coming online (ComputerListener.preOnline): "online" or
//   the refusal;
// - {take: NAME, build: "web/main"|null}: whether the node may take a task of that build:
//   "ok" or the vetoes;
// - {start: NAME} / {end: NAME}: a task starts or ends on the node's executor.
// What the script hands the remoting thread pool (a node's removal) is done before the next
// step, except from a step with "hold": true on, until the scenario ends (as if the queue
// asked before the pool got to it). Then one line with the nodes the controller removed.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import hudson.model.Executor
import hudson.model.ExecutorListener
import hudson.model.Item
import hudson.model.Node
import hudson.model.Queue
import hudson.model.queue.QueueTaskDispatcher
import hudson.slaves.ComputerListener
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
def scenario = new JsonSlurper().parseText(args[1])
List steps = (scenario instanceof Map ? scenario.steps : scenario) as List
Jenkins jenkins = Jenkins.get()
Map<String, Executor> executors = [:]
(scenario instanceof Map ? scenario.before : []).each { String name ->
    jenkins.nodeMap[name] = new Node(nodeName: name)
    SlaveComputer computer = new SlaveComputer(name: name)
    executors[name] = new Executor(owner: computer)
    computer.executors << executors[name]
}
System.setProperty('dockyard.home', dir)
new GroovyShell(this.class.classLoader).evaluate(new File(dir, 'dockyard-trust.groovy'))
java.util.concurrent.CountDownLatch held = null

class Job implements Item, Queue.Task {
    String fullName
    Queue.Task getOwnerTask() { this }
}

class Request implements HttpServletRequest {
    String requestURI = '/wsagents/'
    String contextPath = ''
    String servletPath = ''
    String pathInfo = '/wsagents/'
    Map<String, String> headers = [:]
    Map<String, String> parameters = [:]

    String getHeader(String name) {
        headers.find { it.key.equalsIgnoreCase(name) }?.value
    }

    String getParameter(String name) { parameters[name] }
}

class Response implements HttpServletResponse {
    String error
    void sendError(int status, String message) { error = "${status}: ${message}" }
}

class Placeholder implements Queue.Task {
    Queue.Task owner
    Queue.Task getOwnerTask() { owner }
}

// The request through every registered filter, as PluginServletFilter chains them: null if
// it reached the end, else the error a filter sent.
String filtered(Request request, String user) {
    Jenkins.CURRENT.set(user ?: 'anonymous')
    Response response = new Response()
    boolean passed = false
    List filters = PluginServletFilter.LIST
    int position = 0
    FilterChain chain
    chain = { ServletRequest q, ServletResponse r ->
        if (position < filters.size()) {
            filters[position++].doFilter(q, r, chain)
        } else {
            passed = true
        }
    } as FilterChain
    chain.doFilter(request, response)
    return passed ? null : response.error
}

steps.eachWithIndex { Map step, int i ->
    def answer = null
    if (step.hold && held == null) {
        held = new java.util.concurrent.CountDownLatch(1)
        hudson.model.Computer.threadPoolForRemoting.submit({ held.await() } as Runnable)
    }
    if (step.create) {
        String path = step.path ?: '/plugin/swarm/createSlave'
        Map parameters = [name: step.create as String, executors: "${step.executors ?: 1}",
                          deleteExistingClients: 'false', keepDisconnectedClients: 'false']
        if (step.hash) {
            parameters.hash = step.hash as String
        }
        (step.form ?: [:]).each { k, v -> v == null ? parameters.remove(k) : parameters.put(k, v) }
        String name = step.hash ? "${parameters.name}-${step.hash}" : parameters.name
        String error = filtered(new Request(requestURI: path,
                                            pathInfo: URLDecoder.decode(path, 'UTF-8'),
                                            parameters: parameters), step.as as String)
        if (error != null) {
            answer = error
        } else {
            Node node = new Node(nodeName: name, labelString: step.labels ?: '',
                                 numExecutors: (step.executors ?: 1) as int)
            Node old = jenkins.nodeMap.put(name, node)
            if (old == null) {
                SlaveComputer computer = new SlaveComputer(name: name)
                executors[name] = new Executor(owner: computer)
                computer.executors << executors[name]
            }  // else AbstractCIBase.updateComputer: the Computer is reused
            jenkins.getExtensionList(NodeListener).each { NodeListener l ->
                old == null ? l.onCreated(node) : l.onUpdated(old, node)
            }
            answer = 'created'
        }
    } else if (step.save) {
        Node node = jenkins.getNode(step.save as String)
        jenkins.getExtensionList(NodeListener).each { NodeListener l -> l.onUpdated(node, node) }
        answer = 'saved'
    } else if (step.delete) {
        jenkins.removeNode(jenkins.getNode(step.delete as String))
        answer = 'deleted'
    } else if (step.containsKey('connect')) {
        // lower case: header names are not case-sensitive
        Request request = new Request(headers: ['node-name': step.connect as String,
                                                'Secret-Key': 'mac'])
        answer = filtered(request, step.as as String) ?: 'ok'
    } else if (step.request) {
        String path = step.request as String
        Request request = new Request(requestURI: path, pathInfo: URLDecoder.decode(path, 'UTF-8'))
        answer = filtered(request, step.as as String) ?: 'ok'
    } else if (step.online) {
        SlaveComputer computer = executors[step.online].owner as SlaveComputer
        try {
            jenkins.getExtensionList(ComputerListener).each { ComputerListener l ->
                l.preOnline(computer, null, null, null)
            }
            answer = 'online'
        } catch (IOException refused) {
            answer = "refused: ${refused.message}"
        }
    } else if (step.containsKey('take')) {
        Queue.Task owner = step.build == null ? null : new Job(fullName: step.build)
        Queue.BuildableItem item = new Queue.BuildableItem(task: new Placeholder(owner: owner))
        Node node = executors[step.take].owner.node
        def vetoes = node == null ? [] : jenkins.getExtensionList(QueueTaskDispatcher)
            .collect { it.canTake(node, item) }.findAll { it != null }
        answer = node == null ? 'gone' : vetoes ? vetoes*.shortDescription.join('; ') : 'ok'
    } else if (step.start || step.end) {
        Executor executor = executors[step.start ?: step.end]
        executor.busy = step.start as boolean
        Queue.Task task = new Placeholder(owner: new Job(fullName: 'web/main'))
        jenkins.getExtensionList(ExecutorListener).each { ExecutorListener l ->
            step.start ? l.taskStarted(executor, task) : l.taskCompleted(executor, task, 1L)
        }
        answer = step.start ? "accepting=${executor.owner.acceptingTasks}" : 'ended'
    }
    if (held == null) {
        hudson.model.Computer.threadPoolForRemoting.submit({} as Runnable).get()
    }
    println JsonOutput.toJson([step: i, answer: answer])
}
held?.countDown()
hudson.model.Computer.threadPoolForRemoting.submit({} as Runnable).get()
println JsonOutput.toJson([removed: jenkins.removed*.nodeName])
hudson.model.Computer.threadPoolForRemoting.shutdown()
