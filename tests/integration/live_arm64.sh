#!/bin/bash
# live_arm64.sh: the arm64 dtcd live on vcan0 in an arm64 VM vs the replay
#
#   live_arm64.sh ARM64_BUILD NATIVE_BUILD
#
# The shortest live case on the Pi's architecture: Debian's arm64 kernel on
# qemu-system-aarch64 (tests/vm/run-in-vm.sh with DTCD_VM_ARCH=arm64: TCG,
# its vcan and can-isotp modules), the arm64 dtcd, dtcctl and dtcd-sim of
# ARM64_BUILD (scripts/arm64.sh makes it). dtcd runs as the shipped
# etc/dtcd.conf and dtcd.service run it (bmw-reference, poll = yes, a
# control socket, a state directory, MQTT to a mosquitto in the VM) on
# vcan0, as an unprivileged user in a user namespace of its own (as the
# unit's DynamicUser= and PrivateUsers= run it), where dtcd-sim --live
# drives live-vanos.ini: the intake VANOS
# drifting into the emergency program, the DME answering dtcd's UDS
# requests. candump -L records the bus. Checked: dtcd says P0011 pending
# and P1D01 confirmed, exits 0 on SIGTERM, dtcctl status answers, the
# broker got every event as --json wrote it, and the native dtcd replaying
# the recorded bus reports the same events (all keys but ts).
#
# Real time: the drive stops 2 s after dtcd confirmed P1D01 (at the latest
# after 40 s), about 25 s of guest time after a 3 to 9 s boot; 50 to 75 s
# in all on the 2-core host at load 8 to 10. scripts/test.sh runs it once
# (DTCD_ARM64_VM=1; by hand scripts/arm64.sh --vm), exit 77 otherwise or
# without a VM (except under CI=true: then it fails).
set -euo pipefail

if [ "${DTCD_ARM64_VM:-}" != 1 ]; then
	echo "live_arm64: SKIP: set DTCD_ARM64_VM=1 to run it" >&2
	exit 77
fi
[ $# -eq 2 ] || { echo "usage: $0 ARM64_BUILD NATIVE_BUILD" >&2; exit 2; }
arm=$(readlink -f "$1")
nat=$(readlink -f "$2")
src=${DTCD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/live_arm64.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "live_arm64: FAIL: $*" >&2
	exit 1
}
for p in daemon/dtcd daemon/dtcctl sim/dtcd-sim; do
	[ -x "$arm/$p" ] || fail "$arm/$p missing (scripts/arm64.sh builds it)"
done
[ "$(od -An -tx2 -j18 -N2 "$arm/daemon/dtcd" | tr -d ' ')" = 00b7 ] ||
	fail "$arm/daemon/dtcd is not an aarch64 program"

stage=$tmp/stage
mkdir -p "$stage"
cp "$arm/daemon/dtcd" "$arm/daemon/dtcctl" "$arm/sim/dtcd-sim" "$stage/"
cp -r "$src/etc" "$stage/etc"
cp "$src/tests/scenarios/live-vanos.ini" "$stage/"
# the one change to the shipped profile: under TCG on a loaded 2-core host
# the emulated DME answers in tens of ms, not 3-8, so P2 is 500 ms, not 50
sed -i 's/^\[poll\]$/[poll]\np2_ms = 500/' "$stage/etc/profiles/bmw-reference.ini"
grep -qx 'p2_ms = 500' "$stage/etc/profiles/bmw-reference.ini" ||
	fail "etc/profiles/bmw-reference.ini has no [poll] section"
# the shipped configuration, on vcan0, with a control socket and a broker
sed -e 's/^interface = can0$/interface = vcan0/' \
	-e 's|^;control_socket = .*|control_socket = /tmp/control|' \
	-e 's/^;host = .*/host = 127.0.0.1/' \
	"$src/etc/dtcd.conf" >"$stage/dtcd.conf"
for k in 'interface = vcan0' 'control_socket = /tmp/control' \
	'host = 127.0.0.1' 'poll = yes' 'profile = bmw-reference'; do
	grep -qx "$k" "$stage/dtcd.conf" ||
		fail "etc/dtcd.conf changed: no '$k' made from it"
done
cat >"$stage/guest.sh" <<'EOF'
# runs in the arm64 VM, in /work
cut -d' ' -f1 /proc/uptime >/tmp/booted
export DTCD_ETC_DIR=/work/etc
uname -m >/tmp/arch
ip link add dev vcan0 type vcan
ip link set vcan0 up
printf 'listener 1883 127.0.0.1\nallow_anonymous true\nuser root\n' \
	>/tmp/mosquitto.conf
mosquitto -c /tmp/mosquitto.conf >/tmp/mosquitto.log 2>&1 &
n=0
until mosquitto_sub -h 127.0.0.1 -t probe -C 1 -W 1 -E >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -le 100 ] || { echo "mosquitto did not start"; break; }
	sleep 0.2
done
mosquitto_sub -h 127.0.0.1 -q 1 -t 'dtcd/#' -F '%t %p' >/tmp/mqtt &
sub=$!
# the car is on the bus before the box starts (as when the Pi boots in a
# running car): dtcd's first requests find the DME answering
./dtcd-sim --live vcan0 -s live-vanos.ini --duration 40 2>/tmp/sim &
sim=$!
candump -n 20 vcan0 >/dev/null
candump -L vcan0 >/tmp/bus &
cd_pid=$!
# as the unit runs it: a user of its own, no capabilities, a user
# namespace of its own (DynamicUser=, CapabilityBoundingSet=, PrivateUsers=)
mkdir -p /etc /tmp/st
echo 'dtcd:x:61000:61000:dtcd:/tmp:/bin/sh' >>/etc/passwd
echo 'dtcd:x:61000:' >>/etc/group
chown 61000:61000 /tmp/st
su -s /bin/sh dtcd -c \
	'exec unshare -U ./dtcd -d -c dtcd.conf --json --state /tmp/st' \
	>/tmp/out 2>/tmp/err &
pid=$!
# the drive stops 2 s after dtcd said P1D01 confirmed (about 18 s into it
# when the guest keeps up), at the latest after 40 s: the VM's time is
# mostly the drive's
while kill -0 $sim 2>/dev/null; do
	if grep -q '"event":"confirmed","code":"P1D01"' /tmp/out; then
		sleep 2
		kill $sim 2>/dev/null
		break
	fi
	sleep 0.5
done
wait $sim
sleep 1
./dtcctl -s /tmp/control -j status >/tmp/status 2>&1
# dtcd's uid while it runs (61000; 65534, unmapped, inside its namespace)
awk '$1 == "Uid:" { print $2 }' /proc/$pid/status >/tmp/uid
kill -TERM $pid
wait $pid
echo "exit $?" >/tmp/exit
touch /tmp/out
sleep 0.5
kill $sub $cd_pid
cd /tmp
echo "$(cat booted) $(cut -d' ' -f1 /proc/uptime)" >times
for f in times arch uid exit status sim err mqtt out bus; do echo "== $f"; cat "$f"; done
echo "== end"
EOF

t0=$(date +%s)
set +e
DTCD_VM_ARCH=arm64 DTCD_VM_TIMEOUT=${DTCD_VM_TIMEOUT:-900} \
	"$src/tests/vm/run-in-vm.sh" "$stage" 'sh guest.sh' >"$tmp/vm.out"
rc=$?
set -e
vm_s=$(($(date +%s) - t0))
[ $rc -eq 0 ] || echo "live_arm64: the VM ran $vm_s s, exit $rc" >&2
if [ $rc -eq 125 ]; then
	[ "${CI:-}" = true ] && fail "the arm64 VM did not boot"
	echo "live_arm64: SKIP: no arm64 VM (see above)" >&2
	exit 77
fi
[ $rc -eq 0 ] || { cat "$tmp/vm.out"; fail "the guest script exited $rc"; }
mkdir "$tmp/o"
awk -v d="$tmp/o" '/^== end$/ { exit } /^== / { f = d "/" $2; printf "" > f; next }
	f != "" { print > f }' "$tmp/vm.out"
o=$tmp/o
for f in times arch uid exit status sim err mqtt out bus; do
	[ -f "$o/$f" ] || { cat "$tmp/vm.out"; fail "the guest wrote no $f"; }
done
read -r booted ended <"$o/times"
echo "live_arm64: the VM ran $vm_s s: the guest booted in $booted s, the" \
	"test in it ended at $ended s (guest uptime), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "--- dtcd said (arm64):"
cat "$o/err"
echo "--- dtcd-sim said:"
tail -n 3 "$o/sim"
grep -qx aarch64 "$o/arch" || fail "the guest is $(cat "$o/arch"), not aarch64"
grep -qx 61000 "$o/uid" || fail "dtcd ran as uid $(cat "$o/uid"), not 61000"
grep -qx 'exit 0' "$o/exit" || fail "dtcd did not exit 0 on SIGTERM: $(cat "$o/exit")"
grep -q '"mode":"live"' "$o/status" && grep -q '"interface":"vcan0"' \
	"$o/status" && grep -q '"mqtt":"connected"' "$o/status" ||
	fail "dtcctl status: $(cat "$o/status")"
events() { sed 's/^{"ts":[0-9.]*,/{/' "$1"; }
codes() { sed -n 's/.*"event":"\([a-z]*\)".*"code":"\([A-Z0-9]*\)".*/\1 \2/p' "$1"; }
codes "$o/out" >"$tmp/live.codes"
for want in 'pending P0011' 'confirmed P1D01'; do
	grep -qx "$want" "$tmp/live.codes" ||
		fail "no '$want' from the arm64 dtcd live: $(cat "$o/out")"
done
# every event on TOPIC/VIN/events, as --json wrote it, in order
sed -n 's|^dtcd/[^/ ]*/events ||p' "$o/mqtt" |
	sed 's/,"vehicle":"[^"]*","event_id":[0-9]*,"dtcd_version":"[^"]*"}$/}/' \
		>"$tmp/mqtt.json"
diff -u "$o/out" "$tmp/mqtt.json" ||
	fail "the broker's events differ from dtcd's --json lines"
# the recorded bus replayed by the native dtcd: the same events
[ "$(wc -l <"$o/bus")" -gt 1000 ] || fail "candump recorded $(wc -l <"$o/bus") frames"
DTCD_ETC_DIR=$stage/etc "$nat/daemon/dtcd" --replay "$o/bus" --json \
	--profile bmw-reference >"$tmp/replay.json"
events "$tmp/replay.json" >"$tmp/expected"
events "$o/out" >"$tmp/got"
codes "$tmp/replay.json" >"$tmp/replay.codes"
diff -u "$tmp/replay.codes" "$tmp/live.codes" ||
	fail "the arm64 live events differ from the native replay of the bus"
if diff -u "$tmp/expected" "$tmp/got" >"$tmp/lines.diff"; then
	same="line for line (all keys but ts)"
else
	# the recording starts a few frames before dtcd does: a value
	# sampled in a freeze frame may differ
	same="event for event (the lines differ: $(grep -c '^[-+]{' "$tmp/lines.diff") changed)"
	cat "$tmp/lines.diff"
fi
echo "live_arm64: $(wc -l <"$tmp/got") events ($(tr '\n' ',' <"$tmp/live.codes"))" \
	"live on arm64, as the native replay of the recorded bus gives, $same"
