#!/bin/bash
# demo.sh: installs what is missing, builds, and replays a simulated drive of
# the reference vehicle with a misfiring ignition coil: what dtcd finds.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
meson compile -C build >/dev/null
log=$(mktemp --suffix=.log)
state=$(mktemp -d)
trap 'rm -rf "$log" "$state"' EXIT
build/sim/dtcd-sim -s tests/scenarios/demo.ini -o "$log"
echo "== dtcd-sim wrote $(wc -l < "$log") frames of two drives (tests/scenarios/demo.ini)"
echo "== dtcd --replay: DTC events"
build/daemon/dtcd --replay "$log" --state "$state"
echo "== the same as JSON (first event)"
build/daemon/dtcd --replay "$log" --json | head -n 1
