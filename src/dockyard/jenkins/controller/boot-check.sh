#!/bin/bash
# Proves the controller image boots before it is pushed: a RUN step of the image build starts
# Jenkins headless with the image's own plugins and JCasC file, stand-in values for the secrets
# the file names, and fails the build unless Jenkins reports it is fully up with no plugin that
# failed to load and no configuration error. The offending log lines are printed, so kaniko's
# log (and `dockyard up`) show why.
#
#   boot-check.sh                 start Jenkins, wait, judge its log (the image build's step)
#   boot-check.sh --verdict LOG   judge a recorded start-up log only (tests)
set -u

# What Jenkins core and its plugins log when start-up goes wrong (jenkins.InitReactorRunner,
# hudson.PluginManager, hudson.util.BootFailure, configuration-as-code's ConfiguratorException,
# a Descriptor lookup that fails as "is missing its descriptor").
FAILURES='Failed Loading plugin|Failed to load: |or higher required|Failed to initialize Jenkins|BootFailure|ConfiguratorException|Invalid configuration elements|is missing its descriptor|Failed ConfigurationAsCode'
UP='Jenkins is fully up and running'
# What dockyard-trust.groovy logs once the trust tiers are in force (an init script that fails
# is only logged by Jenkins, which then starts without it).
TRUST='dockyard-trust: enforcing trust tiers'
# What dockyard-users.groovy logs once the users that are not people are in place (under GitHub
# sign-in, the agent pools' tokens: without them no agent joins).
USERS='dockyard-users: users that are not people in place'
WAIT_SECONDS=${BOOT_CHECK_SECONDS:-600}
REF=${JENKINS_REF:-/usr/share/jenkins/ref}
TRUST_SETTINGS=${TRUST_SETTINGS:-/usr/share/dockyard/trust.json}
WAR=${JENKINS_WAR:-/usr/share/jenkins/jenkins.war}

verdict() {
    local log=$1 found
    found=$(grep -E -A2 "$FAILURES" "$log" | grep -v '^--$' | head -40)
    if [ -n "$found" ]; then
        echo "boot check: Jenkins did not start cleanly with this image's plugins and JCasC:"
        printf '  %s\n' "$found"
        return 1
    fi
    if ! grep -q "$UP" "$log"; then
        echo "boot check: Jenkins never said \"$UP\"; its last lines:"
        tail -n 20 "$log" | sed 's/^/  /'
        return 1
    fi
    if ! grep -q "$TRUST" "$log"; then
        echo "boot check: the trust tiers are not in force (no \"$TRUST\"); what the init" \
             "scripts said:"
        grep -E -A5 'init.groovy|dockyard-trust|GroovyInitScript' "$log" | head -20 | sed 's/^/  /'
        return 1
    fi
    if ! grep -q "$USERS" "$log"; then
        echo "boot check: the agents' and builds' users are not in place (no \"$USERS\");" \
             "what the init scripts said:"
        grep -E -A5 'init.groovy|dockyard-users|GroovyInitScript' "$log" | head -20 | sed 's/^/  /'
        return 1
    fi
    echo "boot check: Jenkins is fully up with every plugin loaded, the configuration applied" \
         "and the trust tiers in force"
    return 0
}

if [ "${1:-}" = "--verdict" ]; then
    verdict "$2"
    exit $?
fi

home=$(mktemp -d)
log=$(mktemp)
cp -r "$REF/." "$home/"
# As jenkins.sh does at start: a ref/ file named *.override replaces the one without it.
find "$home" -name '*.override' | while read -r file; do mv "$file" "${file%.override}"; done
# Every ${name} the JCasC file reads gets a stand-in value: JSON with each key dockyard's
# secrets hold, which also does as a plain password. No AWS call is made at build time.
standin='{"username":"boot-check","token":"boot-check","private_key":"boot-check","webhook_secret":"boot-check"}'
# (``^${...}`` is escaped: JCasC leaves it to the plugin that reads it.)
names=$(grep -o '\^\?\${[^}:]*}' "$CASC_JENKINS_CONFIG"/*.yaml | grep -v '^\^' |
        sed 's/^\${//; s/}$//' | sort -u)
# And the secrets dockyard-users.groovy reads the same way (trust.json's "tokenUsers": the
# agent pools' secrets, under GitHub sign-in), one "user": "secret" pair to a line.
if [ -f "$TRUST_SETTINGS" ]; then
    names="$names $(sed -n '/"tokenUsers"/,/}/p' "$TRUST_SETTINGS" |
                    sed -n 's/^ *"[^"]*": "\([^"]*\)",\{0,1\}$/\1/p')"
fi
declare -a secrets=()
for name in $names; do secrets+=("$name=$standin"); done
env "${secrets[@]}" JENKINS_HOME="$home" AWS_EC2_METADATA_DISABLED=true \
    java $JAVA_OPTS -Djenkins.model.Jenkins.slaveAgentPort=-1 \
    -jar "$WAR" --httpPort=8089 --httpListenAddress=127.0.0.1 \
    >"$log" 2>&1 &
pid=$!
for _ in $(seq "$WAIT_SECONDS"); do
    if grep -q -E "$UP|Failed to initialize Jenkins" "$log" || \
            ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 1
done
sleep 5  # plugins report failures a moment after "fully up"
# Judged as it was before Jenkins is stopped: what it logs while stopping is not its start.
cp "$log" "$log.start"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
verdict "$log.start"
status=$?
rm -rf "$home" "$log" "$log.start"
exit $status
