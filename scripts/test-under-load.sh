#!/usr/bin/env bash
# Runs `npm test` while busy loops hold every core (at least two), as on a
# loaded CI runner: the suite has to pass there too, so no test may lean on
# how fast the machine is. Prints the wall time and exits with the tests'
# status; the busy loops end with the script (on exit, Ctrl-C or TERM).
# Usage: scripts/test-under-load.sh [command ...]
#   no command: npm test
#   a command:  that instead, e.g. node --test tests/node/*.test.mjs
#   BUSY_LOOPS=n sets the number of busy loops (default: one per core, at least 2)
set -uo pipefail
cd "$(dirname "$0")/.."

cores=$(nproc 2>/dev/null || echo 2)
loops="${BUSY_LOOPS:-$(( cores > 2 ? cores : 2 ))}"
case "$loops" in '' | *[!0-9]*) echo "test-under-load: BUSY_LOOPS must be a number" >&2; exit 2 ;; esac

busy=()
stop_busy() {
  [ ${#busy[@]} -gt 0 ] || return 0
  kill "${busy[@]}" 2>/dev/null
  wait "${busy[@]}" 2>/dev/null
  busy=()
}
trap stop_busy EXIT
# An interrupt still ends through the EXIT trap, so no loop is left spinning.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Normal priority, like whatever else would be running on the machine.
for ((i = 0; i < loops; i++)); do
  sh -c 'while :; do :; done' &
  busy+=("$!")
done
echo "test-under-load: ${loops} busy loops on ${cores} cores (pids ${busy[*]})"

[ $# -gt 0 ] || set -- npm test
started=$(date +%s%N)
"$@"
status=$?
ended=$(date +%s%N)
stop_busy

wall=$(awk -v ns=$((ended - started)) 'BEGIN { printf "%.1f", ns / 1e9 }')
echo "test-under-load: '$*' exited ${status} after ${wall} s wall time"
exit "$status"
