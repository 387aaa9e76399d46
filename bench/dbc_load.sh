#!/bin/bash
# bench/dbc_load.sh [N ...]: load time of generated DBCs that stress the
# parser's lookups and sorts, with tests/dbc_dump (load, decode nothing):
#   signals   one message with N signals (duplicate-name check per signal)
#   refs      the same plus a CM_ SG_ per signal (a signal lookup per line)
#   values    one signal with N value descriptions in descending order
#   messages  N extended messages of one signal each (ID check per BO_)
# Prints CPU and wall seconds of the fastest of $RUNS runs and peak RSS.
# Default N: 100000.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
runs=${RUNS:-3}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=release -Db_ndebug=true >/dev/null
fi
meson compile -C "$build" tests/dbc_dump >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/frames"

gen() { # KIND N
	awk -v kind="$1" -v n="$2" 'BEGIN {
		print "VERSION \"\"\n\nBS_:\n\nBU_: ECU\n"
		if (kind == "messages") {
			for (i = 0; i < n; i++)
				printf "BO_ %u M%d: 8 ECU\n SG_ S : 0|8@1+ (1,0) [0|255] \"\" ECU\n\n", 2147483648 + i, i
			exit
		}
		print "BO_ 256 Big: 64 ECU"
		m = kind == "values" ? 1 : n
		for (i = 0; i < m; i++)
			printf " SG_ S%d : %d|1@1+ (1,0) [0|1] \"\" ECU\n", i, i % 512
		print ""
		if (kind == "refs")
			for (i = 0; i < n; i++)
				printf "CM_ SG_ 256 S%d \"signal %d\";\n", i, i
		if (kind == "values") {
			printf "VAL_ 256 S0"
			for (i = n; i-- > 0;)
				printf " %d \"v%d\"", i, i
			print " ;"
		}
	}' > "$tmp/$1-$2.dbc"
}

# "cpu_seconds wall_seconds peak_rss_kib" of the fastest of $runs runs
# (CPU time: the machine may be shared, wall time then says little)
measure() {
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%U %S %e %M' "$@" 2>&1 >/dev/null | tail -n 1 |
			awk '{ print $1 + $2, $3, $4 }'
	done | sort -n | head -n 1
}

printf '%-9s %8s %9s %8s %8s %8s\n' kind n file_mib cpu_s wall_s rss_mib
for n in "${@:-100000}"; do
	for kind in signals refs values messages; do
		gen "$kind" "$n"
		f="$tmp/$kind-$n.dbc"
		read -r cpu wall rss < <(measure "$build/tests/dbc_dump" "$f" "$tmp/frames")
		awk -v k="$kind" -v n="$n" -v sz="$(stat -c %s "$f")" -v cpu="$cpu" \
			-v wall="$wall" -v rss="$rss" 'BEGIN {
			printf "%-9s %8d %9.2f %8.2f %8.2f %8.1f\n", k, n, sz / 1048576, cpu, wall, rss / 1024 }'
		rm -f "$f"
	done
done
