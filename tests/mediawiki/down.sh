#!/usr/bin/env bash
# Stop the test wiki's web server started by up.sh: the whole process group
# recorded in $MW_STATE/server.pid (PHP's built-in server with
# PHP_CLI_SERVER_WORKERS forks workers that would keep the port open if only
# the parent were killed). Does nothing, successfully, if it is not running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pidfile=$MW_STATE/server.pid
if [[ ! -f $pidfile ]]; then
    echo "[down] no $pidfile: server not running"
    exit 0
fi

pgid=$(<"$pidfile")
if [[ ! $pgid =~ ^[0-9]+$ ]] || (( pgid <= 1 )); then
    echo "[down] bad process group id '$pgid' in $pidfile" >&2
    exit 1
fi

# True while a live (non-zombie) process is in the group. Dead workers can
# stay zombies for a while when PID 1 is slow to reap them; they hold no port.
group_alive() {
    ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

if group_alive; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    # Give it up to 5 s to go, then force it.
    for _ in $(seq 50); do
        group_alive || break
        sleep 0.1
    done
    if group_alive; then
        echo "[down] process group $pgid ignored SIGTERM; sending SIGKILL"
        kill -KILL -- "-$pgid" 2>/dev/null || true
        sleep 0.2
    fi
    echo "[down] stopped server (process group $pgid)"
else
    echo "[down] server (process group $pgid) was not running"
fi
rm -f "$pidfile"
