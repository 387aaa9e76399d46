#!/bin/bash
# bench/live_bus.sh: live mode on a real kernel (the VM of tests/vm), figures
#
#   bench/live_bus.sh [BUILD] [OLD_DTCD]
#
# One VM boot (tests/vm/run-in-vm.sh), then on the host it prints:
# 1. polling's bus load with each shipped profile: dtcd -c dtcd.conf with
#    poll = yes against dtcd-sim --live for 30 s; the bits on the wire of
#    dtcd's requests, their flow control and the ECUs' answers (worst-case
#    stuffing, as the poller counts them) over 500 kbit/s, from candump -L,
#    next to what dtcctl status says;
# 2. a bus flooded for 60 s (cangen -g 0: as fast as the VM sends, more than
#    a 500 kbit/s bus carries), once with random IDs (the kernel filter
#    drops most) and once all on 0x1D0 (every frame decoded): dtcd must
#    survive, exit 0 on SIGTERM and say its drop count; also at a full
#    500 kbit/s (8-byte frames every 250 us, cangen -g 0.25);
# 3. system calls per frame, strace -c -f of dtcd over 20000 frames on
#    0x1D0: this dtcd (recvmmsg) and OLD_DTCD (one recvmsg a frame, e.g.
#    main's before this change; skipped when not given);
# and on the host, 4. instructions per frame of the pipeline (callgrind,
#    pipeline_feed inclusive, over the frames the polling run recorded).
# Timings in the VM are TCG's and say little; the counts are the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
old=${2:-}
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/live_bus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
mkdir -p "$stage"
cp "$build/daemon/dtcd" "$build/daemon/dtcctl" "$build/sim/dtcd-sim" "$stage/"
[ -z "$old" ] || cp "$old" "$stage/dtcd-old"
cp "$(command -v strace)" "$stage/strace"
cp -r etc "$stage/etc"
cp tests/scenarios/live-vanos.ini tests/scenarios/live-misfire.ini "$stage/"
cat >"$stage/guest.sh" <<'GUEST'
export DTCD_ETC_DIR=/work/etc
ip link add dev vcan0 type vcan
ip link set vcan0 up
mkdir -p /tmp/o
conf() {
	printf '[dtcd]\nprofile = %s\npoll = %s\ncontrol_socket = /tmp/c\n' \
		"$1" "$2" >/tmp/dtcd.conf
}
# each figure's files at once on the console: a guest that runs out of
# time still says what it measured
show() { for f in "$@"; do echo "== $(basename $f)"; cat "$f"; done; }
for p in ${POLL_PROFILES:-bmw-reference obd2-generic}; do
	conf $p yes
	candump -L vcan0 >/tmp/o/poll-$p.candump &
	c=$!
	./dtcd -d -c /tmp/dtcd.conf -i vcan0 >/dev/null 2>/tmp/o/poll-$p.err &
	d=$!
	sleep 0.5
	s=live-vanos.ini
	[ $p = obd2-generic ] && s=live-misfire.ini
	./dtcd-sim --live vcan0 -s $s --duration 30 2>/dev/null &
	sim=$!
	sleep 28
	./dtcctl -s /tmp/c -j status >/tmp/o/poll-$p.status
	wait $sim
	kill -TERM $d; wait $d; echo "exit $?" >>/tmp/o/poll-$p.err
	kill $c
	show /tmp/o/poll-$p.*
done
conf bmw-reference no
flood() {
	name=$1
	shift
	./dtcd -d -v -c /tmp/dtcd.conf -i vcan0 >/dev/null 2>/tmp/o/$name.err &
	d=$!
	sleep 1
	timeout ${FLOOD_S:-60} cangen vcan0 -i "$@" 2>/dev/null
	./dtcctl -s /tmp/c -j status >/tmp/o/$name.status 2>&1
	kill -TERM $d; wait $d; echo "exit $?" >>/tmp/o/$name.err
	show /tmp/o/$name.*
}
for f in ${FLOODS:-random 1d0 500k}; do
	case $f in
	random) flood flood-random -g 0 -L 8 ;;
	1d0) flood flood-1d0 -g 0 -I 1D0 -L 8 ;;
	500k) flood flood-500k -g 0.25 -I 1D0 -L 8 ;;
	esac
done
# strace attached to the running daemon (-p), detached with SIGINT: it
# prints its table then, and dtcd goes on to its own SIGTERM
for b in dtcd dtcd-old; do
	[ -x ./$b ] || continue
	./$b -d -v -c /tmp/dtcd.conf -i vcan0 >/dev/null 2>/tmp/o/strace-$b.err &
	d=$!
	sleep 2
	./strace -c -f -p $d -o /tmp/o/strace-$b 2>/dev/null &
	st=$!
	sleep 2
	cangen vcan0 -i -n 20000 -g 0.2 -I 1D0 -L 8
	sleep 1
	kill -INT $st; wait $st
	kill -TERM $d; wait $d
	show /tmp/o/strace-$b /tmp/o/strace-$b.err
done
echo "== end"
GUEST
DTCD_VM_TIMEOUT=${DTCD_VM_TIMEOUT:-1500} tests/vm/run-in-vm.sh "$stage" 'sh guest.sh' \
	>"$tmp/vm.out" || echo "live_bus: the VM said $? (124: out of time)"
mkdir "$tmp/o"
awk -v d="$tmp/o" '/^== end$/ { exit } /^== / { f = d "/" $2; printf "" > f; next }
	{ print > f }' "$tmp/vm.out"
echo "uptime: $(uptime)"
"$py" - "$tmp/o" <<'PY'
import json, os, re, sys
d = sys.argv[1]

def bits(n):
    # as poller_frame_bits: an 11-bit classic frame, worst-case stuffing
    return 47 + 8 * n + (34 + 8 * n - 1) // 4

print("1. polling's bus load at 500 kbit/s (30 s drives)")
for p in ("bmw-reference", "obd2-generic"):
    if not os.path.exists(f"{d}/poll-{p}.candump"):
        continue
    fr = []
    for line in open(f"{d}/poll-{p}.candump"):
        m = re.match(r"\((\d+\.\d+)\) \S+ ([0-9A-F]+)#([0-9A-F]*)", line)
        if m:
            fr.append((float(m[1]), int(m[2], 16), len(m[3]) // 2))
    diag = [f for f in fr if f[1] == 0x6F1 or 0x600 <= f[1] <= 0x6FF or
            0x7DF <= f[1] <= 0x7EF]
    t = fr[-1][0] - fr[0][0]
    load = sum(bits(n) for _, _, n in diag) / t / 500000 * 100
    allb = sum(bits(n) for _, _, n in fr) / t / 500000 * 100
    st = json.load(open(f"{d}/poll-{p}.status")).get("poll") or {}
    print(f"   {p:14s} {len(diag):5d} diagnostic frames in {t:.1f} s: "
          f"{load:.2f} % of the bus (dtcctl status: "
          f"{st.get('bus_load_pct', 0):.2f} %, budget "
          f"{st.get('budget_pct')} %); the whole simulated bus {allb:.1f} %")
print("2. a flooded bus, 60 s")
for n in ("flood-random", "flood-1d0", "flood-500k"):
    if not os.path.exists(f"{d}/{n}.err"):
        continue
    err = open(f"{d}/{n}.err").read()
    m = re.search(r"vcan0: (\d+) frames, (\d+) dropped", err)
    said = len(re.findall("frames dropped by the kernel", err))
    st = open(f"{d}/{n}.status").read()
    ok = '"mode":"live"' in st or '"mode": "live"' in st
    print(f"   {n:13s} read {m[1] if m else '?'} frames, {m[2] if m else '?'}"
          f" dropped by the kernel (said {said} times); dtcctl answered: "
          f"{ok}; {err.strip().splitlines()[-1]}")
print("3. system calls per frame (strace -c -f, 20000 frames on 0x1D0)")
for b in ("dtcd", "dtcd-old"):
    if not os.path.exists(f"{d}/strace-{b}"):
        continue
    err = open(f"{d}/strace-{b}.err").read()
    m = re.search(r"vcan0: (\d+) frames", err)
    frames = int(m[1]) if m else 0
    calls = {}
    for line in open(f"{d}/strace-{b}"):
        f = line.split()
        if len(f) >= 5 and f[-1] not in ("syscall", "total") and \
           f[3].isdigit():
            calls[f[-1]] = int(f[3])
    tot = sum(calls.values())
    top = sorted(calls.items(), key=lambda x: -x[1])[:4]
    print(f"   {b:8s} {frames} frames, {tot} system calls: "
          f"{tot / max(frames, 1):.3f} per frame; {top}")
PY
# 4. instructions per frame of the pipeline, on the host
log=${CALLGRIND_LOG:-$tmp/o/poll-bmw-reference.candump}
n=$(wc -l <"$log")
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
	--toggle-collect=pipeline_feed "$build/daemon/dtcd" --replay "$log" \
	>/dev/null 2>"$tmp/cg.err"
# awk reads to the end: an early exit would SIGPIPE callgrind_annotate and
# pipefail would end the script without a word
ir=$(callgrind_annotate "$tmp/cg" 2>/dev/null |
	awk '/PROGRAM TOTALS/ && !n++ { gsub(",", "", $1); print $1 }')
echo "4. pipeline_feed (decode, detectors, DTC manager) over $n frames of a"
echo "   polling run: $ir instructions, $((ir / n)) per frame (callgrind)"
