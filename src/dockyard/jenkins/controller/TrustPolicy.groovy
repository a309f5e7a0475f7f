// dockyard's trust tiers as the controller applies them to its agents: which agent may take
// which build, and who may connect as which agent. Plain Groovy, no Jenkins class:
// dockyard-trust.groovy feeds it what Jenkins says (who created a node, which job a queued
// task belongs to, who asks to connect) and turns its answers into Jenkins' own vetoes; the
// tests run it as it is.
//
// - Nodes are known by identity, with the Jenkins user that created them. A node this script
//   did not see created (one that replaced another under its name, one loaded from disk) takes
//   no build.
// - A node is trusted only when its creator is the trusted agents' user (agents-trusted).
//   Labels are the client's to choose, and count for nothing here.
// - Only a node's creator may connect as its agent, and the connection must reach the very
//   node it was approved for. A node's connection secret is a MAC of its name, handed to anyone
//   with Agent/Connect, which both pools need to join: without this, the untrusted pool could
//   take a trusted node's connection, or steer a trusted agent onto a node of its own.
// - Only a node's creator may replace it (swarm's deleteExistingClients, or a createSlave of
//   the name while it is offline). A replacement keeps the live connection of the node it
//   replaced, so it takes no build and is removed whoever made it.
// - A trusted build (a deploy branch of its job: web/main) runs only on trusted nodes; every
//   other build (pull requests, other branches) never does.
// - A node runs one build, with one executor: after its first task it takes no other, and is
//   removed when that task ends (its agent then exits and ECS starts a fresh one). No build
//   sees another's leftovers: processes, files, git hooks or caches.
class TrustPolicy {
    final String trustedUser
    final Set<String> trustedBuilds
    // node -> the user that created it, while it exists
    private final Map<Object, String> creators = new IdentityHashMap<Object, String>()
    // node -> how many executors it was created with
    private final Map<Object, Integer> executors = new IdentityHashMap<Object, Integer>()
    // nodes that replaced another under its name
    private final Set<Object> replacements = Collections.newSetFromMap(new IdentityHashMap())
    // nodes that have started a task
    private final Set<Object> used = Collections.newSetFromMap(new IdentityHashMap())
    // node name -> the node a connection was approved for, until that connection comes online
    private final Map<String, Object> approved = [:]

    TrustPolicy(String trustedUser, Collection<String> trustedBuilds) {
        this.trustedUser = trustedUser
        this.trustedBuilds = new HashSet<String>(trustedBuilds)
    }

    // ``node`` was created by ``creator`` with ``count`` executors.
    synchronized void created(Object node, String creator, int count) {
        creators[node] = creator
        executors[node] = count
    }

    // ``node`` replaced ``old`` under its name, keeping its connection: it takes no build.
    synchronized void replaced(Object old, Object node) {
        forget(old)
        replacements.add(node)
    }

    synchronized void deleted(Object node) {
        forget(node)
        replacements.remove(node)
    }

    private void forget(Object node) {
        creators.remove(node)
        executors.remove(node)
        used.remove(node)
        approved.values().removeIf { it.is(node) }
    }

    synchronized String creatorOf(Object node) {
        return node == null ? null : creators[node]
    }

    synchronized boolean isTrusted(Object node) {
        return node != null && creators[node] == trustedUser
    }

    boolean isTrustedBuild(String build) {
        return build != null && trustedBuilds.contains(build)
    }

    // Why ``user`` may not connect as the agent of ``node``, the node now named ``name`` (null
    // when there is none: Jenkins answers that itself), or null when it may; the approval is
    // then held for the connection until it comes online.
    synchronized String connectionRefusal(String name, Object node, String user) {
        if (node == null) {
            return null
        }
        String creator = creators[node]
        if (creator == null) {
            return "dockyard: agent ${name} was not created by an agents' user while " +
                "dockyard-trust ran; no one may connect to it"
        }
        if (creator != user) {
            return "dockyard: agent ${name} was created by ${creator}; only ${creator} may " +
                "connect to it, not ${user ?: 'anonymous'}"
        }
        approved[name] = node
        return null
    }

    // Why the connection now coming online as ``node`` (named ``name``) may not, or null.
    synchronized String onlineRefusal(String name, Object node) {
        Object approval = approved.remove(name)
        if (approval == null || !approval.is(node) || creators[node] == null) {
            return "dockyard: agent ${name} is not the node its connection was approved for " +
                "(it was replaced while connecting); the connection is refused"
        }
        return null
    }

    // Why ``user`` may not replace ``node`` (named ``name``), or null when it may.
    synchronized String replacementRefusal(String name, Object node, String user) {
        String creator = creatorOf(node)
        if (creator != null && creator != user) {
            return "dockyard: agent ${name} was created by ${creator}; ${user ?: 'anonymous'} " +
                "may not replace it"
        }
        return null
    }

    // The node took its first task: it takes no other.
    synchronized void started(Object node) {
        used.add(node)
    }

    // Why ``node`` may not take a task of ``build`` (its owning job's full name, null when the
    // task has none), or null when it may.
    synchronized String blockReason(String name, Object node, String build) {
        if (replacements.contains(node)) {
            return "dockyard: agent ${name} replaced another under its name and takes no build " +
                "(it is being removed)"
        }
        if (!creators.containsKey(node)) {
            return "dockyard: agent ${name} was not created by an agents' user while " +
                "dockyard-trust ran; it takes no build"
        }
        if (executors[node] != 1) {
            return "dockyard: agent ${name} has ${executors[node]} executors; dockyard's agents " +
                "run one build at a time"
        }
        if (used.contains(node)) {
            return "dockyard: agent ${name} has run a build and takes no other (a fresh agent " +
                "replaces it)"
        }
        boolean trustedNode = isTrusted(node)
        boolean trustedBuild = isTrustedBuild(build)
        if (trustedBuild && !trustedNode) {
            return "dockyard: ${build} is a trusted build; it runs only on agents that joined " +
                "as ${trustedUser}, and ${name} did not"
        }
        if (!trustedBuild && trustedNode) {
            return "dockyard: ${build ?: 'this task'} is untrusted; agent ${name} takes only " +
                "trusted builds"
        }
        return null
    }
}
