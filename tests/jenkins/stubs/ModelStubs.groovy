package jenkins.model

import hudson.model.Node

class Authentication {
    String name
}

abstract class NodeListener {
    protected void onCreated(Node node) {}
    protected void onUpdated(Node oldOne, Node newOne) {}
    protected void onDeleted(Node node) {}
}

class Jenkins extends Node {
    static final Jenkins INSTANCE = new Jenkins()
    static final ThreadLocal<String> CURRENT = new ThreadLocal<String>()
    final Map<Class, List> extensions = [:].withDefault { [] }
    final Map<String, Node> nodeMap = [:]
    final List<Node> removed = []

    static Jenkins get() { INSTANCE }

    static Authentication getAuthentication2() { new Authentication(name: CURRENT.get()) }

    List getExtensionList(Class type) { extensions[type] }

    Node getNode(String name) { nodeMap[name] }

    List<Node> getNodes() { new ArrayList<Node>(nodeMap.values()) }

    // As Nodes.removeNode: only the node now registered under its name, then onDeleted.
    synchronized void removeNode(Node node) {
        if (nodeMap[node.nodeName].is(node)) {
            nodeMap.remove(node.nodeName)
            removed << node
            extensions[NodeListener].each { NodeListener l -> l.onDeleted(node) }
        }
    }
}
