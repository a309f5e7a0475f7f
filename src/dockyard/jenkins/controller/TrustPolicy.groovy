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
// - A pool's user may create only nodes named as its pool's (fargate-agents-1a2b3c4d,
//   fargate-agents-trusted-5e6f7a8b), so no pool ever takes a name the other used: a running
//   Pipeline finds its agent by name, and would follow the name to whoever holds it next.
// - A pool's user may do nothing else on the controller: ask for a crumb, create its node,
//   connect (and the unauthenticated /login ping). Not configure its node (a rename is a
//   replacement under another's name), not the CLI, not start a build.
// - A trusted build (a deploy branch of its job: web/main) runs only on trusted nodes; every
//   other build (pull requests, other branches) never does.
// - A node runs one build, with one executor: after its first task it takes no other, and is
//   removed when that task ends (its agent then exits and ECS starts a fresh one). No build
//   sees another's leftovers: processes, files, git hooks or caches.
class TrustPolicy {
    // What a pool's user may ask for, exactly as written (swarm's SwarmClient and remoting's
    // Engine.runWebSocket: crumbIssuer, plugin/swarm/createSlave, wsagents/).
    static final Set<String> AGENT_PATHS = ['/crumbIssuer/api/xml', '/plugin/swarm/createSlave',
                                            '/wsagents/', '/login'] as Set<String>

    final String trustedUser
    final Set<String> trustedBuilds
    // a pool's user -> the prefix of its nodes' names
    final Map<String, String> pools
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

    TrustPolicy(String trustedUser, Collection<String> trustedBuilds, Map<String, String> pools) {
        this.trustedUser = trustedUser
        this.trustedBuilds = new HashSet<String>(trustedBuilds)
        this.pools = new HashMap<String, String>(pools)
    }

    // Why ``user`` may not ask for ``path`` (as sent, and as decoded), or null when it may.
    String pathRefusal(String user, String path, String decoded) {
        if (!pools.containsKey(user) || (path in AGENT_PATHS && decoded == path)) {
            return null
        }
        return "dockyard: ${user} may only join agents (${AGENT_PATHS.join(', ')}), not ${path}"
    }

    // Why ``user`` may not create a node called ``name``, or null when it may.
    String nameRefusal(String name, String user) {
        String prefix = pools[user]
        if (prefix == null || name ==~ (java.util.regex.Pattern.quote(prefix) + '-[0-9a-f]{8}')) {
            return null
        }
        return "dockyard: ${user} may create only nodes named ${prefix}-<8 hex digits>, not " +
            "${name}"
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
    // ``busy``: a build still holds an executor of the node's computer (an agent connecting
    // under a running build's node: a Pipeline would carry on there).
    synchronized String onlineRefusal(String name, Object node, boolean busy) {
        Object approval = approved.remove(name)
        if (approval == null || !approval.is(node) || creators[node] == null) {
            return "dockyard: agent ${name} is not the node its connection was approved for " +
                "(it was replaced while connecting); the connection is refused"
        }
        if (busy) {
            return "dockyard: agent ${name} still has a build running on it; a new connection " +
                "does not take it over"
        }
        return null
    }

    // The node a swarm createSlave request creates or replaces (PluginImpl.doCreateSlave:
    // NAME, or NAME-HASH with a hash), null without a name.
    static String createSlaveTarget(Map<String, String> form) {
        if (!form.name) {
            return null
        }
        return form.hash ? "${form.name}-${form.hash}" : form.name
    }

    // Why ``user`` may not send this createSlave ``form`` (its fields, by name: the first
    // value of each, or null), ``node`` being the node now so named; null when it may. A pool's
    // user creates only a node of its pool's names, as dockyard's agents ask for it: one
    // executor, nothing replaced or kept when disconnected, no tools or environment.
    synchronized String createRefusal(String user, Map<String, String> form, Object node) {
        String name = createSlaveTarget(form)
        if (name == null) {
            return "dockyard: a node is created only with a name"
        }
        String misnamed = nameRefusal(name, user)
        if (misnamed != null) {
            return misnamed
        }
        if (pools.containsKey(user)) {
            List<String> bad = []
            if (form.executors != '1') {
                bad << "executors=${form.executors}"
            }
            for (String flag : ['deleteExistingClients', 'keepDisconnectedClients']) {
                if (form[flag] != null && form[flag] != 'false') {
                    bad << "${flag}=${form[flag]}"
                }
            }
            for (String field : ['toolLocation', 'environmentVariable']) {
                if (form[field] != null) {
                    bad << field
                }
            }
            if (bad) {
                return "dockyard: ${user} creates nodes with one executor and nothing else " +
                    "(not ${bad.join(', ')})"
            }
        }
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
        if (build == null) {
            return "dockyard: this task names no job; no agent takes it"
        }
        boolean trustedNode = isTrusted(node)
        boolean trustedBuild = isTrustedBuild(build)
        if (trustedBuild && !trustedNode) {
            return "dockyard: ${build} is a trusted build; it runs only on agents that joined " +
                "as ${trustedUser}, and ${name} did not"
        }
        if (!trustedBuild && trustedNode) {
            return "dockyard: ${build} is untrusted; agent ${name} takes only " +
                "trusted builds"
        }
        return null
    }
}
