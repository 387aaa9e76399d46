#!/bin/bash
# test.sh: installs what is missing, builds, and runs the whole test suite,
# once plainly and once under AddressSanitizer + UndefinedBehaviorSanitizer.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

build() {
	local dir=$1; shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" || return 1
	fi
	meson compile -C "$dir"
}

rc=0
build build || exit 1
meson test -C build --print-errorlogs --no-suite package || rc=1
# the .deb built and installed into a throw-away root: alone, as its
# package build would compete for the cores with timing-sensitive tests
meson test -C build --print-errorlogs --suite package --logbase package || rc=1
build build-san -Db_sanitize=address,undefined -Db_lundef=false || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-san --print-errorlogs --timeout-multiplier 3 \
		--no-suite soak --no-suite slow --no-suite package || rc=1

# arm64: the cross build, its unit tests under qemu-user and the replays
# byte-identical to amd64's (the arm64 package: scripts/arm64.sh --deb, by
# hand). The amd64 package and its install test ran above (suite package,
# logged in build/meson-logs/package.json).
./scripts/arm64.sh || rc=1

# arm64 live: the shortest live case once on an arm64 kernel
# (qemu-system-aarch64, TCG; under a minute near idle: the drive stops once
# dtcd confirmed the VANOS fault), tests/integration/live_arm64.sh. Without
# a VM (no qemu, no kernel package) it skips with a message, except under
# CI=true, where it fails.
t0=$(date +%s)
DTCD_ARM64_VM=1 DTCD_VM_TIMEOUT=${DTCD_VM_TIMEOUT:-300} \
	tests/integration/live_arm64.sh build-arm64 build
arm64_live=$?
echo "test.sh: arm64 live VM: exit $arm64_live, $(($(date +%s) - t0)) s," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
case $arm64_live in
0) ;;
77) echo "test.sh: arm64 live VM: SKIPPED (see above)" ;;
*) rc=1 ;;
esac

# every libFuzzer target for a short while on top of its corpus and the
# regression inputs (the regression runs themselves are suite fuzz above):
# FUZZ_SECONDS each, two at a time (20 s: about a minute, plus the build)
./scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || rc=1

# one closing line over all runs, counted from meson's own logs (and the
# arm64 live VM's exit status)
ARM64_LIVE=$arm64_live /usr/bin/python3 - build/meson-logs/testlog.json build/meson-logs/package.json \
	build-san/meson-logs/testlog.json build-arm64/meson-logs/testlog.json <<'PY'
import json, os, sys
ok = bad = skip = 0
for path in sys.argv[1:]:
    if not os.path.exists(path):
        bad += 1
        print("no %s: its tests did not run" % path)
        continue
    for line in open(path):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:
            bad += 1
live = int(os.environ["ARM64_LIVE"])
if live == 0:
    ok += 1
elif live == 77:
    skip += 1
else:
    bad += 1
print("%d passed, %d failed, %d skipped" % (ok, bad, skip))
PY
exit $rc
