#!/bin/bash
# install-deps.sh: installs what a fresh Debian 12 lacks to build and test dtcd
set -euo pipefail
pkgs=(
	gcc meson ninja-build pkg-config
	libev-dev libinih-dev libjson-c-dev libsqlite3-dev sqlite3
	libmosquitto-dev libsystemd-dev libcmocka-dev
	can-utils python3 python3-can python3-canmatrix clang-format git
	qemu-system-x86 busybox-static cpio kmod iproute2 xz-utils
	mosquitto mosquitto-clients time openssl
	zlib1g-dev chromium
	clang-14 libclang-rt-14-dev valgrind strace
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "install-deps: installing ${missing[*]}" >&2
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
