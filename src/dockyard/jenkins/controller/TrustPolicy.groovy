// dockyard's trust tiers as the controller applies them to its agents: which agent may take
// which build. Plain Groovy, no Jenkins class: dockyard-trust.groovy feeds it what Jenkins
// says (who created a node, which job a queued task belongs to) and turns its answers into
// Jenkins' own vetoes; the tests run it as it is.
//
// - A node is trusted only when the Jenkins user that created it is the trusted agents' user
//   (agents-trusted), and only as that very node: one created by anyone else, even under the
//   same name or with the same labels, is not. Labels are the client's to choose.
// - A node replaced under its name (swarm's deleteExistingClients) keeps the live connection
//   of the node it replaced, whoever that was: the replacement takes no build and is removed,
//   and the name loses its trust.
// - Only agents-trusted may connect to a trusted node. A node's connection secret is a MAC of
//   its name, handed to anyone with Agent/Connect, which both pools need to join; without this
//   rule the untrusted pool could connect to a trusted node before its own agent does.
// - A trusted build (a deploy branch of its job: web/main) runs only on trusted nodes; every
//   other build (pull requests, other branches) never does. So a pull request's code never
//   runs where a trusted build's token is minted, and a trusted build never runs where a pull
//   request ran.
// - A node runs one build: after its first task it takes no other, and is removed when that
//   task ends (its agent then exits and ECS starts a fresh one). No build sees another's
//   leftovers: processes, files, git hooks or caches.
class TrustPolicy {
    final String trustedUser
    final Set<String> trustedBuilds
    // node name -> the node object created by the trusted user (identity, not equality)
    private final Map<String, Object> trustedNodes = [:]
    // nodes that have started a task, by identity
    private final Set<Integer> used = new HashSet<Integer>()
    // nodes that replaced another under its name, by identity
    private final Set<Integer> replacements = new HashSet<Integer>()

    TrustPolicy(String trustedUser, Collection<String> trustedBuilds) {
        this.trustedUser = trustedUser
        this.trustedBuilds = new HashSet<String>(trustedBuilds)
    }

    // A node was created by ``creator``.
    synchronized void created(String name, Object node, String creator) {
        if (creator == trustedUser) {
            trustedNodes[name] = node
        } else {
            trustedNodes.remove(name)
        }
    }

    // ``node`` replaced the node of the same name, keeping its connection: it is not trusted,
    // whoever replaced it, and takes no build.
    synchronized void replaced(String oldName, String name, Object node) {
        trustedNodes.remove(oldName)
        trustedNodes.remove(name)
        replacements.add(System.identityHashCode(node))
    }

    synchronized void deleted(String name, Object node) {
        if (trustedNodes[name].is(node)) {
            trustedNodes.remove(name)
        }
        used.remove(System.identityHashCode(node))
        replacements.remove(System.identityHashCode(node))
    }

    // Why ``user`` may not connect as the agent of the node named ``name``, or null when it may.
    synchronized String connectionRefusal(String name, String user) {
        if (trustedNodes.containsKey(name) && user != trustedUser) {
            return "dockyard: agent ${name} joined as ${trustedUser}; only ${trustedUser} may " +
                "connect to it, not ${user ?: 'anonymous'}"
        }
        return null
    }

    synchronized boolean isTrusted(String name, Object node) {
        return node != null && trustedNodes[name].is(node)
    }

    boolean isTrustedBuild(String build) {
        return build != null && trustedBuilds.contains(build)
    }

    // The node took its first task: it takes no other.
    synchronized void started(Object node) {
        used.add(System.identityHashCode(node))
    }

    synchronized boolean isReplacement(Object node) {
        return replacements.contains(System.identityHashCode(node))
    }

    synchronized boolean isUsed(Object node) {
        return used.contains(System.identityHashCode(node))
    }

    // Why ``node`` may not take a task of ``build`` (its owning job's full name, null when the
    // task has none), or null when it may.
    String blockReason(String name, Object node, String build) {
        if (isReplacement(node)) {
            return "dockyard: agent ${name} replaced another under its name and takes no build " +
                "(it is being removed)"
        }
        if (isUsed(node)) {
            return "dockyard: agent ${name} has run a build and takes no other (a fresh agent " +
                "replaces it)"
        }
        boolean trustedNode = isTrusted(name, node)
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
