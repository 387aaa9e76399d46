#!/bin/bash
# bench/replay.sh [FRAMES ...]: dtcd --replay (all decoding, detectors and the
# DTC manager on) against can-utils' log2long (parse and print only) on the
# same simulated log of the reference vehicle; prints frames/s, the ratio and
# dtcd's peak RSS. Default sizes: 2 and 20 million frames.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
runs=${RUNS:-3}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Db_ndebug=true -Db_lto=true >/dev/null
fi
meson compile -C "$build" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best of $runs: "seconds peak_rss_kib"
measure() {
	local best= rss=
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >/dev/null
		read -r t m < "$tmp/t"
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
		if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
	done
	echo "$best $rss"
}

printf '%-10s %14s %14s %7s %12s\n' frames dtcd_fps log2long_fps ratio dtcd_rss_mib
for n in "${@:-2000000 20000000}"; do
	log=${BENCH_DIR:-/tmp}/dtcd-bench-$n.log
	if [ ! -s "$log" ]; then
		"$build/sim/dtcd-sim" -s tests/scenarios/bench.ini --frames "$n" -o "$log"
	fi
	frames=$(wc -l < "$log")
	read -r td rss < <(measure "$build/daemon/dtcd" --replay "$log" --json)
	read -r tl _ < <(measure sh -c "log2long < '$log'")
	awk -v n="$frames" -v td="$td" -v tl="$tl" -v rss="$rss" 'BEGIN {
		fd = n / td; fl = n / tl;
		printf "%-10d %14.0f %14.0f %7.2f %12.2f\n", n, fd, fl, fd / fl, rss / 1024 }'
done
