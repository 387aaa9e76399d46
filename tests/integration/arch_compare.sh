#!/bin/bash
# arch_compare.sh: the same replays on two architectures give the same bytes
#
#   arch_compare.sh NATIVE_BUILD FOREIGN_BUILD [WRAPPER...]
#
# NATIVE_BUILD and FOREIGN_BUILD are meson build directories (e.g. build and
# build-arm64); the foreign programs run through WRAPPER (default: qemu-user
# for aarch64, with the multiarch libraries). dtcd-sim writes the shipped
# sample drive (tests/scenarios/demo.ini, as scripts/demo.sh does) on both:
# the logs must be the same bytes. Then dtcd replays that sample and every
# real log of ../shared/data/real/ with --json and with --signals on both;
# every output must be the same bytes (endianness, char signedness, alignment
# and floating-point differences show up here), else the first difference
# is shown and the test fails.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 NATIVE_BUILD FOREIGN_BUILD [WRAPPER...]" >&2; exit 2; }
nat=$(readlink -f "$1")
for=$(readlink -f "$2")
shift 2
wrap=("$@")
[ ${#wrap[@]} -gt 0 ] || wrap=(qemu-aarch64-static)
src=${DTCD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
real=${DTCD_SHARED:-$src/../shared}/data/real
tmp=$(mktemp -d "${TMPDIR:-/tmp}/arch_compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "arch_compare: FAIL: $*" >&2
	exit 1
}
for b in "$nat" "$for"; do
	for p in daemon/dtcd sim/dtcd-sim; do
		[ -x "$b/$p" ] || fail "$b/$p missing: build it first"
	done
done
command -v "${wrap[0]}" >/dev/null ||
	fail "${wrap[0]} missing (qemu-user-static: scripts/install-deps.sh)"
# the two must really be two architectures, or this compares nothing
march() { od -An -tx2 -j18 -N2 "$1" | tr -d ' '; }
[ "$(march "$nat/daemon/dtcd")" != "$(march "$for/daemon/dtcd")" ] ||
	fail "$nat and $for hold programs of the same architecture"
"${wrap[@]}" "$for/daemon/dtcd" --version >/dev/null 2>&1 ||
	"${wrap[@]}" "$for/daemon/dtcd" -h >/dev/null 2>&1 ||
	fail "${wrap[*]} cannot run $for/daemon/dtcd"

# both sides read the same data files: the source tree's etc/
export DTCD_ETC_DIR=$src/etc

# same: shows where A and B part and fails
same() {
	local what=$1 a=$2 b=$3 line
	cmp -s "$a" "$b" && return 0
	echo "arch_compare: $what differs:" >&2
	cmp "$a" "$b" >&2 || true
	line=$({ cmp "$a" "$b" 2>/dev/null || true; } |
		sed -n 's/.* line \([0-9]*\)$/\1/p')
	if [ -n "$line" ]; then
		echo "native  line $line: $(sed -n "${line}p" "$a" | cut -c1-400)" >&2
		echo "foreign line $line: $(sed -n "${line}p" "$b" | cut -c1-400)" >&2
	fi
	fail "$what: not the same bytes on both architectures"
}

# the shipped sample, made on both
"$nat/sim/dtcd-sim" -s "$src/tests/scenarios/demo.ini" -o "$tmp/demo.n.log"
"${wrap[@]}" "$for/sim/dtcd-sim" -s "$src/tests/scenarios/demo.ini" \
	-o "$tmp/demo.f.log"
[ -s "$tmp/demo.n.log" ] || fail "dtcd-sim wrote nothing"
same "dtcd-sim -s demo.ini" "$tmp/demo.n.log" "$tmp/demo.f.log"

# LOG PROFILE lines: the sample, then every real log with the profile that
# fits it (as real_no_alarms.py; other cars: the generic OBD-II one)
{
	echo "$tmp/demo.n.log bmw-reference"
	if [ -d "$real" ]; then
		find "$real" -type f -name '*.log' | LC_ALL=C sort |
			while read -r log; do
				case $log in
				*/bmw-e90-obd/* | */other-vehicles/*) p=obd2-generic ;;
				*) p=bmw-reference ;;
				esac
				echo "$log $p"
			done
	elif [ "${CI:-}" = true ]; then
		fail "no real logs in $real"
	else
		echo "arch_compare: no real logs in $real: the sample only" >&2
	fi
} >"$tmp/list"

n=0
events=0
signals=0
while read -r log profile; do
	for mode in --json --signals; do
		rn=0 rf=0
		[ -z "${ARCH_COMPARE_VERBOSE:-}" ] || echo "$(date +%T) $log $mode" >&2
		"$nat/daemon/dtcd" --replay "$log" --profile "$profile" $mode \
			>"$tmp/n.out" 2>"$tmp/n.err" || rn=$?
		"${wrap[@]}" "$for/daemon/dtcd" --replay "$log" \
			--profile "$profile" $mode >"$tmp/f.out" 2>"$tmp/f.err" ||
			rf=$?
		name="dtcd --replay ${log#"$real"/} --profile $profile $mode"
		[ "$rn" -eq "$rf" ] ||
			fail "$name: exit $rn native, $rf foreign: $(head -c 300 "$tmp/f.err")"
		same "$name (stdout)" "$tmp/n.out" "$tmp/f.out"
		same "$name (stderr)" "$tmp/n.err" "$tmp/f.err"
		if [ "$mode" = --json ]; then
			events=$((events + $(wc -l <"$tmp/n.out")))
		else
			signals=$((signals + $(wc -l <"$tmp/n.out")))
		fi
		n=$((n + 1))
	done
done <"$tmp/list"
[ "$(head -n1 "$tmp/list" | cut -d' ' -f1)" = "$tmp/demo.n.log" ] &&
	[ "$events" -gt 0 ] && [ "$signals" -gt 0 ] ||
	fail "$events events and $signals signal lines in all: nothing compared"
echo "arch_compare: $n replays ($(($(wc -l <"$tmp/list") - 1)) real logs and the sample," \
	"--json and --signals), $events events, $signals signal lines: the same" \
	"bytes on both"
