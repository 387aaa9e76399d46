#!/bin/bash
# fuzz.sh [SECONDS] [TARGET...]: every libFuzzer target of tests/fuzz for
# SECONDS each (default 60), two at a time, in build-fuzz (clang-14, ASan +
# UBSan, -Dfuzz=true). Seeds: tests/fuzz/corpus/T, tests/fuzz/regress/T and,
# for the log targets, the real logs of ../shared, for dbc its DBC files
# (read, never copied); what libFuzzer finds new goes to build-fuzz/corpus/T. A crash leaves its input
# in build-fuzz/crash/T/ and makes the script fail. Prints, per target:
# runs, exec/s, coverage (cov), corpus size.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
shared=${DTCD_SHARED:-$PWD/../shared}
if [ ! -f "$build/build.ninja" ]; then
	CC=clang-14 meson setup "$build" -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
		>/dev/null || exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		t=${t%.c}
		case $t in util | regress) ;; *) targets+=("$t") ;; esac
	done
fi
meson compile -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") \
	>/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run() {
	local t=$1 seeds=(tests/fuzz/corpus/$1) opts=(-max_len=4096)
	[ -d "tests/fuzz/regress/$t" ] && seeds+=("tests/fuzz/regress/$t")
	case $t in
	candump | pipeline)
		for d in "$shared"/data/real/* "$shared"/data/grammar; do
			[ -d "$d" ] && seeds+=("$d")
		done
		opts+=(-dict=tests/fuzz/candump.dict)
		;;
	dbc)
		# the shipped DBC and cantools' conformance files, whole
		for d in "$shared"/data/dbc "$shared"/data/dbc-conformance; do
			[ -d "$d" ] && seeds+=("$d")
		done
		opts=(-max_len=40000)
		;;
	esac
	# the pipeline and the loaders warn on stderr as dtcd does: keep
	# libFuzzer's own report, drop theirs
	case $t in candump | isotp | obd | uds) ;; *) opts+=(-close_fd_mask=2) ;; esac
	mkdir -p "$build/corpus/$t" "$build/crash/$t"
	"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$build/crash/$t/" "${opts[@]}" \
		"$build/corpus/$t" "${seeds[@]}" >"$build/fuzz-$t.log" 2>&1
	local rc=$?
	local done stats
	done=$(grep -a 'DONE\|#[0-9]*.*cov:' "$build/fuzz-$t.log" | tail -1)
	stats=$(awk '/stat::number_of_executed_units/ {n=$2}
		/stat::average_exec_per_sec/ {e=$2}
		END {printf "%s runs, %s exec/s", n, e}' "$build/fuzz-$t.log")
	printf '%-10s rc=%d %s | %s | corpus %s files\n' "$t" "$rc" "$stats" \
		"$(echo "$done" | grep -o 'cov: [0-9]*')" \
		"$(ls "$build/corpus/$t" | wc -l)"
	if [ $rc -ne 0 ]; then
		grep -a -m5 'ERROR\|runtime error\|expected\|SUMMARY' "$build/fuzz-$t.log"
		return 1
	fi
}

rc=0
pids=()
for t in "${targets[@]}"; do
	run "$t" &
	pids+=($!)
	if [ ${#pids[@]} -ge "$jobs" ]; then
		wait "${pids[0]}" || rc=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
