#!/bin/bash
# store_crash_dtcd.sh: store_crash.sh against dtcd itself: dtcd-sim writes a
# multi-fault log (misfire, dead turbo pump, stuck fuel heater) and dtcd
# replays it with --state while it is killed at random moments.
#   store_crash_dtcd.sh DTCD_SIM SCENARIO.ini KILLS DTCD [ARGS...]
set -euo pipefail
sim=$1 scenario=$2 kills=$3
shift 3
log=$(mktemp /tmp/store_crash_dtcd.XXXXXX.log)
trap 'rm -f "$log"' EXIT
"$sim" -s "$scenario" -o "$log"
echo "store_crash_dtcd: $(wc -l <"$log") frames from $scenario"
"$(dirname "$0")/store_crash.sh" -n "$kills" -i "$log" "$@"
