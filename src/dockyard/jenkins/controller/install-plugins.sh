#!/bin/bash
# Installs exactly the plugins of plugins.lock into the image, or fails its build.
#
#   install-plugins.sh LOCK                      install (during the image build)
#   install-plugins.sh --verdict RESOLVED LOG LOCK
#                                                judge jenkins-plugin-cli's resolved list and
#                                                log against the lock (what the tests run)
#
# jenkins-plugin-cli resolves dependencies itself; the lock pins every plugin, so what it
# resolves must be the lock, entry for entry: a plugin it adds or a version it raises means
# the lock is stale, and the build stops rather than install an untested set. It also checks
# each plugin's required core against the image's jenkins.war (and fails on a mismatch), and
# prints the update center's security warnings for the plugins it installs: any warning
# refuses the build.
set -euo pipefail

entries() {  # the name:version lines of a plugin list, sorted
    grep -v '^[[:space:]]*#' "$1" | grep -o '^[^[:space:]:]*:[^[:space:]:]*' | sort -u
}

verdict() {
    local resolved=$1 log=$2 lock=$3 status=0
    if grep -q '^Security warnings:' "$log"; then
        echo "plugin lock: refusing plugins with security warnings:" >&2
        sed -n '/^Security warnings:/,/^Done/p' "$log" | grep -v '^Security warnings:\|^Done' \
            | sed 's/^/  /' >&2
        status=1
    fi
    local difference
    difference=$(diff <(entries "$lock") <(entries "$resolved") || true)
    if [ -n "$difference" ]; then
        echo "plugin lock: jenkins-plugin-cli resolved a different set than plugins.lock:" >&2
        grep '^>' <<<"$difference" | sed 's/^> /  resolved, not locked: /' >&2 || true
        grep '^<' <<<"$difference" | sed 's/^< /  locked, not resolved: /' >&2 || true
        echo "  regenerate the lock: python -m devtools.plugin_lock MIRRORS" >&2
        status=1
    fi
    if [ "$status" -eq 0 ]; then
        echo "plugin lock: $(entries "$lock" | wc -l | tr -d ' ') plugins, exactly as locked, no security warning"
    fi
    return "$status"
}

if [ "${1:-}" = "--verdict" ]; then
    verdict "$2" "$3" "$4"
    exit $?
fi

lock=${1:?usage: install-plugins.sh LOCK}
work=$(mktemp -d)
if ! jenkins-plugin-cli --plugin-file "$lock" --latest false --list --output txt \
        >"$work/resolved" 2>"$work/log"; then
    cat "$work/log" >&2
    echo "plugin lock: jenkins-plugin-cli failed (above)" >&2
    exit 1
fi
cat "$work/log"
verdict "$work/resolved" "$work/log" "$lock"
rm -rf "$work"
