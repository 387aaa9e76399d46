#!/bin/bash
# bench/replay_many.sh [MB] [FILES]: dtcd --replay DIR -j 1 and -j 2 over a
# directory of simulated logs of about MB megabytes in all (default 1024 in
# 8 files); prints frames/s and seconds per job count. Logs are kept in
# ${BENCH_DIR:-/tmp}/dtcd-bench-many-MB for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
mb=${1:-1024}
nfiles=${2:-8}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Db_ndebug=true -Db_lto=true >/dev/null
fi
meson compile -C "$build" >/dev/null
dir=${BENCH_DIR:-/tmp}/dtcd-bench-many-$mb
mkdir -p "$dir"
# a healthy-multi frame is about 46 bytes of candump text
per=$((mb * 1024 * 1024 / 46 / nfiles))
for i in $(seq "$nfiles"); do
	f=$dir/drive-$i.log
	[ -s "$f" ] || "$build/sim/dtcd-sim" -s tests/scenarios/healthy-multi.ini \
		--seed "$i" --frames "$per" -o "$f"
done
frames=$(cat "$dir"/*.log | wc -l)
size=$(du -sm "$dir" | cut -f1)
printf '%s MB, %d files, %d frames; %s\n' "$size" "$nfiles" "$frames" \
	"$(uptime | sed 's/.*load/load/')"
printf '%-6s %10s %14s\n' jobs seconds frames_per_s
t=$(mktemp)
e=$(mktemp)
trap 'rm -f "$t" "$e"' EXIT
for j in 1 2; do
	# the summary table goes to stderr with --json: kept, to check it
	if ! /usr/bin/time -f '%e' -o "$t" "$build/daemon/dtcd" --replay "$dir" \
		-j "$j" -q --json >/dev/null 2>"$e"; then
		echo "dtcd --replay $dir -j $j failed:" >&2
		tail -n 5 "$e" >&2
		exit 1
	fi
	if grep -q '(failed)' "$e"; then
		echo "dtcd --replay $dir -j $j: a file failed:" >&2
		grep '(failed)' "$e" >&2
		exit 1
	fi
	s=$(tail -n1 "$t")
	awk -v j="$j" -v s="$s" -v n="$frames" \
		'BEGIN { printf "%-6d %10.2f %14.0f\n", j, s, n / s }'
done
