# broker.sh: a mosquitto inside the test VM, for the live tests that run
# dtcd as its unit does (MQTT on). Sourced twice: on the host,
# broker_stage DIR SRC copies this host's mosquitto, mosquitto_sub and this file
# into the VM's stage (1: none to copy); in the guest (cwd /work),
# broker_start runs it on 127.0.0.1:1883 (1: it did not answer in 10 s).
broker_stage() {
	mosq=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null || true)
	msub=$(command -v mosquitto_sub || true)
	[ -n "$mosq" ] && [ -n "$msub" ] || return 1
	cp "$mosq" "$1/mosquitto"
	cp "$msub" "$1/mosquitto_sub"
	cp "$2/tests/vm/broker.sh" "$1/broker.sh"
}

broker_start() {
	[ -x ./mosquitto ] || return 1
	printf 'listener 1883 127.0.0.1\nallow_anonymous true\nuser root\n' \
		>/tmp/mosquitto.conf
	./mosquitto -c /tmp/mosquitto.conf >/tmp/mosquitto.log 2>&1 &
	n=0
	until ./mosquitto_sub -h 127.0.0.1 -t probe -C 1 -W 1 \
		-E >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -le 50 ] || return 1
		sleep 0.2
	done
}
