#!/bin/bash
# arm64.sh: dtcd for the Pi's architecture, built and tested on this machine
#
#   scripts/arm64.sh [--vm] [--deb]
#
# Cross-builds dtcd, dtcctl, dtcd-sim and the tests for arm64 into
# build-arm64 (cross/aarch64-debian.ini: Debian's aarch64 toolchain and the
# :arm64 -dev packages of multiarch, scripts/install-deps.sh), runs the unit
# tests under qemu-user (meson's exe_wrapper), and compares the replays of
# the shipped sample and of the real logs with the native build's (build):
# byte-identical --json and --signals (tests/integration/arch_compare.sh).
# --vm (or DTCD_ARM64_VM=1) also runs the arm64 binaries live on vcan0 in
# an arm64 VM (tests/integration/live_arm64.sh, under a minute near idle;
# scripts/test.sh runs it too; exit 77, no VM, is a skip); --deb also builds
# the arm64 package, dtcd only (scripts/build-deb.sh -a arm64). Each step
# says how long it took and the load.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
vm=${DTCD_ARM64_VM:-} deb=
for a in "$@"; do
	case $a in
	--vm) vm=1 ;;
	--deb) deb=1 ;;
	*) echo "usage: $0 [--vm] [--deb]" >&2; exit 2 ;;
	esac
done
step() {
	local name=$1 t0 rc
	shift
	t0=$(date +%s)
	"$@"
	rc=$?
	echo "arm64.sh: $name: $(($(date +%s) - t0)) s, exit $rc," \
		"load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	return $rc
}
native() {
	[ -f build/build.ninja ] || meson setup build >/dev/null || return 1
	nice -n 10 meson compile -C build >/dev/null
}
cross() {
	[ -f build-arm64/build.ninja ] ||
		meson setup build-arm64 --cross-file cross/aarch64-debian.ini \
			-Dcollect=false \
			>/dev/null || return 1
	nice -n 10 meson compile -C build-arm64 >/dev/null
}
rc=0
step "native build" native || exit 1
step "arm64 cross build" cross || exit 1
step "arm64 unit tests (qemu-user)" \
	meson test -C build-arm64 --suite unit --print-errorlogs \
	--timeout-multiplier 3 || rc=1
step "arm64 vs amd64 replays" tests/integration/arch_compare.sh \
	build build-arm64 || rc=1
if [ -n "$vm" ]; then
	step "arm64 VM live" env DTCD_ARM64_VM=1 \
		tests/integration/live_arm64.sh build-arm64 build
	case $? in
	0 | 77) ;;
	*) rc=1 ;;
	esac
fi
if [ -n "$deb" ]; then
	step "arm64 package" scripts/build-deb.sh -a arm64 || rc=1
fi
exit $rc
