#!/bin/bash
# bench/replay.sh [FRAMES ...]: dtcd --replay --json (all decoding, detectors
# and the DTC manager on) against can-utils' log2long (parse and print only)
# on the same simulated log of the reference vehicle; prints frames/s of
# both (best of RUNS), their ratio, dtcd's peak RSS (/usr/bin/time -v) and
# its instructions per frame (callgrind, whole run: start, DBC load and all;
# reliable under load, unlike the times). Default sizes: 2 and 20 million
# frames. CALLGRIND_MAX (default 2000000): larger logs skip callgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
runs=${RUNS:-3}
cg_max=${CALLGRIND_MAX:-2000000}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Db_ndebug=true -Db_lto=true >/dev/null
fi
meson compile -C "$build" daemon/dtcd sim/dtcd-sim >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best of $runs: "seconds peak_rss_kib"
measure() {
	local best= rss=
	for _ in $(seq "$runs"); do
		/usr/bin/time -v -o "$tmp/t" "$@" >/dev/null
		t=$(awk -F': ' '/Elapsed \(wall clock\)/ {
			n = split($2, a, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + a[i]
			print s }' "$tmp/t")
		m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/t")
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
		if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
	done
	echo "$best $rss"
}

# instructions of the whole run, per frame
instructions() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$@" \
		>/dev/null 2>"$tmp/cg.err"
	awk '/Collected :/ {print $NF}' "$tmp/cg.err"
}

echo "uptime: $(uptime)"
printf '%-10s %12s %14s %7s %12s %12s\n' frames dtcd_fps log2long_fps ratio \
	dtcd_rss_mib instr/frame
if [ $# -eq 0 ]; then set -- 2000000 20000000; fi
for n in "$@"; do
	log=${BENCH_DIR:-/tmp}/dtcd-bench-$n.log
	if [ ! -s "$log" ]; then
		"$build/sim/dtcd-sim" -s tests/scenarios/healthy-multi.ini --frames "$n" -o "$log"
	fi
	frames=$(wc -l < "$log")
	read -r td rss < <(measure "$build/daemon/dtcd" --replay "$log" --json)
	read -r tl _ < <(measure sh -c "log2long < '$log'")
	ipf=-
	if [ "$frames" -le "$cg_max" ]; then
		ipf=$(instructions "$build/daemon/dtcd" --replay "$log" --json |
			awk -v n="$frames" '{printf "%.0f", $1 / n}')
	fi
	awk -v n="$frames" -v td="$td" -v tl="$tl" -v rss="$rss" -v ipf="$ipf" 'BEGIN {
		fd = n / td; fl = n / tl;
		printf "%-10d %12.0f %14.0f %7.2f %12.2f %12s\n", n, fd, fl, fd / fl, rss / 1024, ipf }'
done
