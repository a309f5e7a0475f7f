#!/bin/bash
# dockyard's Jenkins agent: joins the controller as a swarm client over WebSocket, runs one
# build, and exits.
#
# ECS starts this with JENKINS_URL (the controller's private name), AGENT_USER and AGENT_LABELS
# (which pool: `agents` or `agents-trusted`), AGENT_AUTH (realm, or token under GitHub
# sign-in) and JENKINS_AGENT_PASSWORD (from that pool's Secrets Manager secret). The password reaches the swarm client through a pipe that is read
# once: it is not on the command line, in a file, or in the environment the client (and so
# every build on this agent) runs with.
#
# One build per agent: the controller stops giving this node work once a build starts on it
# and removes it when the build ends (dockyard-trust.groovy). The client then exits instead of
# joining again (-noRetryAfterConnected), the task ends, and ECS starts a fresh one: no build
# finds another's processes, files or caches. Until it has joined, the client retries: swarm
# until its node is created, then remoting until the connection is up.
set -euo pipefail

: "${JENKINS_URL:?JENKINS_URL is not set: the controller address, from the task definition}"
: "${JENKINS_AGENT_PASSWORD:?JENKINS_AGENT_PASSWORD is not set: the agent secret, from ECS}"
AGENT_USER=${AGENT_USER:-agents}
AGENT_LABELS=${AGENT_LABELS:-dockyard}
AGENT_HOME=${AGENT_HOME:-/home/jenkins}
WAIT_SECONDS=${WAIT_SECONDS:-900}

# The client comes from the controller itself (the swarm plugin serves it), so client and
# plugin are always the same release. The controller may still be starting: wait for it.
client="$AGENT_HOME/swarm-client.jar"
waited=0
until curl --fail --silent --show-error --location --max-time 60 \
        --output "$client.part" "${JENKINS_URL%/}/swarm/swarm-client.jar"; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
        echo "dockyard-agent: the controller at $JENKINS_URL served no swarm client in" \
             "${WAIT_SECONDS}s; is the jenkins service running?" >&2
        exit 1
    fi
    echo "dockyard-agent: waiting for the controller at $JENKINS_URL (${waited}s)"
    sleep 10
    waited=$((waited + 10))
done
mv "$client.part" "$client"

password=$JENKINS_AGENT_PASSWORD
unset JENKINS_AGENT_PASSWORD
# Under GitHub sign-in (AGENT_AUTH=token) the pool's user has no password in the security
# realm: it joins with the API token the controller made from the same secret
# (dockyard-users.groovy): "11" and the first 32 hex digits of the secret's SHA-256.
if [ "${AGENT_AUTH:-realm}" = token ]; then
    password="11$(printf '%s' "$password" | sha256sum | cut -c1-32)"
fi

# The client's options, as YAML it reads once from a pipe (-config allows no other option).
# - webSocket: through the controller's HTTP port, no TCP agent port. The connection carries
#   the pool's credentials: the controller lets only agents-trusted connect to a node that
#   agents-trusted created (dockyard-trust.groovy), so the untrusted pool, which can learn any
#   node's connection secret, cannot take over a trusted node's connection.
# - mode normal: any pipeline may use it (the controller has no executors of its own, and
#   decides which pool takes which build); one executor, one build, then
#   noRetryAfterConnected ends the client.
# - the working directory is the agent's root (fsroot's default, ".").
swarm_config() {
    local label
    printf 'url: "%s"\n' "$JENKINS_URL"
    printf 'webSocket: true\n'
    printf 'webSocketHeaders:\n  Authorization: "Basic %s"\n' \
        "$(printf '%s:%s' "$AGENT_USER" "$password" | base64 -w0)"
    printf 'username: "%s"\n' "$AGENT_USER"
    printf 'passwordFile: /dev/fd/3\n'
    printf 'name: "fargate-%s"\n' "$AGENT_USER"
    printf 'labels:\n'
    for label in $AGENT_LABELS; do
        printf '  - "%s"\n' "$label"
    done
    printf 'mode: normal\n'
    printf 'executors: 1\n'
    printf 'retryBackOffStrategy: EXPONENTIAL\n'
    printf 'maxRetryInterval: 60\n'
    printf 'noRetryAfterConnected: true\n'
}

mkdir -p "$AGENT_HOME/agent"
cd "$AGENT_HOME/agent"
# No build on this agent may attach to the client's JVM (jcmd, a heap dump) to read the
# password it holds.
exec java -XX:+DisableAttachMechanism -jar "$client" -config <(swarm_config) \
    3< <(printf '%s' "$password")
