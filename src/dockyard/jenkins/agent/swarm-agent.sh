#!/bin/bash
# dockyard's Jenkins agent: joins the controller as a swarm client over WebSocket, runs one
# build, and exits.
#
# ECS starts this with JENKINS_URL (the controller's private name), AGENT_USER and AGENT_LABELS
# (which pool: `agents` or `agents-trusted`) and JENKINS_AGENT_PASSWORD (from that pool's
# Secrets Manager secret). The password reaches the swarm client through a pipe that is read
# once: it is not on the command line, in a file, or in the environment the client (and so
# every build on this agent) runs with.
#
# One build per agent: the controller stops giving this node work once a build starts on it
# and removes it when the build ends (dockyard-trust.groovy). The client then exits instead of
# joining again (-noRetryAfterConnected), the task ends, and ECS starts a fresh one: no build
# finds another's processes, files or caches. Until it has joined, the client retries.
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
# -webSocket: through the controller's HTTP port, no TCP agent port; -mode normal: any
# pipeline may use it (the controller itself has no executors, and decides which pool takes
# which build); one build at a time, then -noRetryAfterConnected ends the client.
exec java -jar "$client" \
    -url "$JENKINS_URL" -webSocket \
    -username "$AGENT_USER" -passwordFile <(printf '%s' "$password") \
    -name "fargate-${AGENT_USER}" -labels "$AGENT_LABELS" -mode normal -executors 1 \
    -fsroot "$AGENT_HOME/agent" -retryBackOffStrategy exponential -maxRetryInterval 60 \
    -noRetryAfterConnected
