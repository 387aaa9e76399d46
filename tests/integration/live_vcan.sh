#!/bin/bash
# live_vcan.sh: dtcd live on a vcan interface inside a VM vs dtcd --replay
#
#   live_vcan.sh DTCD DTCCTL
#
# In a VM (tests/vm/run-in-vm.sh: this kernel may have no AF_CAN), dtcd -d
# -i vcan0 --json starts before vcan0 exists, configured as dtcd.service
# runs it: a state directory, the control socket (dtcctl must answer) and
# MQTT to a mosquitto in the VM (every event must reach it, and dtcd's own
# "offline" at the end), the three logs of
# tests/fixtures/live are played into vcan0 with canplayer, with the
# interface taken down and up between the first two and deleted and made
# anew between the last two, then dtcd gets SIGTERM. Its DTC events must be
# those of dtcd --replay of the same logs here (all keys but ts: live frames
# carry kernel time), it must say each trouble once and exit 0.
#
# No VM to be had (no kernel package, no qemu): exit 77, meson's skip,
# except under CI=true, where that is a failure.
set -euo pipefail

dtcd=$(readlink -f "$1")
dtcctl=$(readlink -f "${2:-$(dirname "$dtcd")/dtcctl}")
src=${DTCD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
logs=("$src"/tests/fixtures/live/[0-9]-*.log)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/live_vcan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "live_vcan: FAIL: $*" >&2
	exit 1
}

# what replaying the same frames gives, ts dropped
cat "${logs[@]}" >"$tmp/all.log"
mkdir "$tmp/st"
"$dtcd" --replay "$tmp/all.log" --json --state "$tmp/st" >"$tmp/replay.json"
sed 's/^{"ts":[0-9.]*,/{/' "$tmp/replay.json" >"$tmp/expected"
[ "$(grep -c '"code":"MIL"' "$tmp/expected")" -eq 3 ] ||
	fail "the replay should give three MIL events:
$(cat "$tmp/replay.json")"

stage=$tmp/stage
mkdir -p "$stage"
cp "$dtcd" "$stage/dtcd"
cp "$dtcctl" "$stage/dtcctl"
# the broker runs in the VM too, if this host has one to copy
. "$src/tests/vm/broker.sh"
if ! broker_stage "$stage" "$src" && [ "${CI:-}" = true ]; then
	fail "mosquitto and mosquitto_sub are needed (scripts/install-deps.sh)"
fi
cp -r "$src/etc" "$stage/etc"
cp "${logs[@]}" "$stage/"
cat >"$stage/guest.sh" <<'EOF'
# runs in the VM, in /work
export DTCD_ETC_DIR=/work/etc
# waits up to $2 s for dtcd's messages to hold $1 ($3 times, default once)
await() {
	n=0
	while [ "$(grep -c "$1" /tmp/err)" -lt "${3:-1}" ]; do
		n=$((n + 1))
		[ $n -le $(($2 * 10)) ] || { echo "no '$1' after $2 s"; return 1; }
		sleep 0.1
	done
}
play() {
	canplayer -I "$1" vcan0=can0 || echo "canplayer $1 failed"
	sleep 0.3
}
# as dtcd.service and etc/dtcd.conf run it: control socket, state, MQTT
cat >/tmp/dtcd.conf <<EOC
[dtcd]
control_socket = /tmp/control
EOC
mqtt=no
if [ -x ./mosquitto ]; then
	. ./broker.sh
	if broker_start; then
		mqtt=yes
		printf '[mqtt]\nhost = 127.0.0.1\nqos = 1\n' >>/tmp/dtcd.conf
		./mosquitto_sub -h 127.0.0.1 -q 1 -t 'dtcd/#' -F '%t %p' \
			>/tmp/mqtt &
		sub=$!
	else
		echo "mosquitto did not start:"
		cat /tmp/mosquitto.log
	fi
fi
echo "== mqtt $mqtt"
# the interface is not there yet
mkdir -p /tmp/st
./dtcd -d -c /tmp/dtcd.conf -i vcan0 --json --state /tmp/st >/tmp/out \
	2>/tmp/err &
pid=$!
await 'cannot open' 10
# past one more silent retry (every 5 s)
sleep 6
ip link add dev vcan0 type vcan
ip link set vcan0 up
await 'vcan0: listening' 15
play 1-*.log
echo "== status"
./dtcctl -s /tmp/control -j status
# down and up: the socket stays bound
ip link set vcan0 down
await 'interface down' 10
ip link set vcan0 up
play 2-*.log
await 'up again' 10
# unplugged and back: dtcd opens it anew (down first, as a deletion of an
# up interface says down and then gone in an order left to the scheduler)
ip link set vcan0 down
await 'interface down' 10 2
ip link del dev vcan0
await 'reopening every 5 s' 10
ip link add dev vcan0 type vcan
ip link set vcan0 up
await 'vcan0: listening' 15 2
play 3-*.log
kill -TERM $pid
wait $pid
echo "== exit $?"
[ -e /tmp/control ] && echo "/tmp/control left behind"
if [ $mqtt = yes ]; then
	sleep 0.5
	kill $sub
	echo "== broker"
	cat /tmp/mqtt
fi
echo "== stderr"
cat /tmp/err
echo "== stdout"
cat /tmp/out
EOF

set +e
"$src/tests/vm/run-in-vm.sh" "$stage" 'sh guest.sh' >"$tmp/vm.out"
rc=$?
set -e
if [ $rc -eq 125 ]; then
	if [ "${CI:-}" = true ]; then
		fail "the VM did not boot (see above)"
	fi
	echo "live_vcan: SKIP: no VM (see above)" >&2
	exit 77
fi
cat "$tmp/vm.out"
[ $rc -eq 0 ] || fail "the guest script exited $rc"

section() { sed -n "/^== $1/,/^== /p" "$tmp/vm.out" | sed '1d;/^== /d'; }
grep -qx '== exit 0' "$tmp/vm.out" || fail "dtcd did not exit 0 on SIGTERM"
section stderr >"$tmp/err"
section stdout >"$tmp/live.json"
# each trouble said once, however many retries: the counts are episodes
while read -r want msg; do
	n=$(grep -cxF "dtcd: vcan0: $msg" "$tmp/err" || true)
	[ "$n" -eq "$want" ] || fail "'$msg' said $n times, expected $want"
done <<'LIST'
1 cannot open; retrying every 5 s: No such device
2 interface down, waiting for it to come up
1 interface up again
1 read; reopening every 5 s: No such device
2 listening
LIST
grep -q 'left behind' "$tmp/vm.out" && fail "the control socket stayed"
section status >"$tmp/status"
grep -q '"mode":"live"' "$tmp/status" && grep -q '"interface":"vcan0"' \
	"$tmp/status" || fail "dtcctl status: $(cat "$tmp/status")"
if grep -qx '== mqtt yes' "$tmp/vm.out"; then
	grep -q '"mqtt":"connected"' "$tmp/status" ||
		fail "dtcctl status: MQTT not connected: $(cat "$tmp/status")"
	section broker >"$tmp/broker"
	# every event on TOPIC/VIN/events, as --json wrote it, in order
	# the payload is the --json line plus vehicle, event_id, dtcd_version
	sed -n 's|^dtcd/[^/ ]*/events ||p' "$tmp/broker" |
		sed 's/,"vehicle":"[^"]*","event_id":[0-9]*,"dtcd_version":"[^"]*"}$/}/' \
			>"$tmp/mqtt.json"
	diff -u "$tmp/live.json" "$tmp/mqtt.json" ||
		fail "the broker's events differ from dtcd's --json lines"
	[ "$(grep '^dtcd/[^/ ]*/online ' "$tmp/broker" | tail -n1 |
		cut -d' ' -f2)" = offline ] ||
		fail "dtcd did not say offline itself on SIGTERM"
	grep -q 'not acknowledged' "$tmp/err" && fail "MQTT messages lost"
elif [ "${CI:-}" = true ]; then
	fail "no mosquitto in the VM"
else
	echo "live_vcan: no MQTT in the VM (mosquitto did not start)" >&2
fi
grep -q '"ts":1700000' "$tmp/live.json" &&
	fail "live events carry the log's time, not the kernel's"
sed 's/^{"ts":[0-9.]*,/{/' "$tmp/live.json" >"$tmp/got"
diff -u "$tmp/expected" "$tmp/got" ||
	fail "live events differ from the replay of the same logs"
echo "live_vcan: $(wc -l <"$tmp/got") events, as the replay gives"
