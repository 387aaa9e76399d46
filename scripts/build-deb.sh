#!/bin/bash
# build-deb.sh: builds the Debian package of dtcd for this machine or arm64
#
#   scripts/build-deb.sh [-a ARCH] [OUTDIR]
#
# Builds from a copy of the work tree (the tracked files and the new ones
# git does not ignore), so neither build dirs nor the .debs land beside the
# source, and leaves the .deb, .buildinfo and .changes in OUTDIR
# [build-deb/HOSTARCH]. -a arm64 cross-builds with Debian's aarch64
# toolchain (scripts/install-deps.sh installs it and the :arm64 -dev
# packages). Then lintian checks the package: errors fail, warnings are
# printed. DEB_BUILD_OPTIONS is passed on; without it the host build runs
# the unit tests and a cross build sets nocheck (its programs cannot run
# here without qemu: scripts/arm64.sh runs them). A cross build makes the
# dtcd package only (build profile pkg.dtcd.nocollect, added to
# DEB_BUILD_PROFILES): dtc-collect needs libpq-dev for the target, and
# bookworm's cannot be installed beside the host's.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
if [ "${1:-}" = -a ]; then
	arch=$2
	shift 2
fi
out=$(mkdir -p "${1:-build-deb/$arch}" && cd "${1:-build-deb/$arch}" && pwd)
args=(-b -us -uc)
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
	args+=(-a "$arch")
	export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck}
	export DEB_BUILD_PROFILES="${DEB_BUILD_PROFILES:+$DEB_BUILD_PROFILES }pkg.dtcd.nocollect"
fi
version=$(dpkg-parsechangelog -S Version)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/build-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dtcd-$version"
# (a tracked file deleted in the work tree is left out)
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp -P --parents -t "$tmp/dtcd-$version"
# the unit tests read the shared DBC files at SOURCE/../shared
[ ! -d ../shared ] || ln -s "$(cd ../shared && pwd)" "$tmp/shared"
(cd "$tmp/dtcd-$version" &&
 nice -n 10 dpkg-buildpackage "${args[@]}" >"$tmp/build.log" 2>&1) || {
	tail -n 60 "$tmp/build.log" >&2
	echo "build-deb: dpkg-buildpackage ${args[*]} failed" >&2
	exit 1
}
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mv "$tmp"/*.deb "$tmp"/*.buildinfo "$tmp"/*.changes "$out/"
cp "$tmp/build.log" "$out/build.log"
changes=$(ls "$out"/*.changes)
# lintian: errors fail the build, the rest is said
lintian --tag-display-limit 0 "$changes" >"$out/lintian.txt" 2>&1 || true
cat "$out/lintian.txt"
if grep -q '^E: ' "$out/lintian.txt"; then
	echo "build-deb: lintian found errors" >&2
	exit 1
fi
ls "$out"/*.deb
