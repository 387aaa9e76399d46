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
	libpq-dev libmicrohttpd-dev libcrypt-dev postgresql
	clang-14 libclang-rt-14-dev valgrind strace
	# the Debian package (scripts/build-deb.sh, the package test)
	debhelper dpkg-dev fakeroot lintian systemd
	# arm64: the cross toolchain, qemu-user for its tests (cross/), the
	# arm64 VM (tests/vm/run-in-vm.sh with DTCD_VM_ARCH=arm64)
	crossbuild-essential-arm64 qemu-user-static qemu-system-arm binutils
)
# the arm64 libraries to link against, through multiarch; pkgconf:arm64
# brings aarch64-linux-gnu-pkg-config (without it meson says "Pkg-config
# binary for machine 1 not found")
arm64=(
	libev-dev libinih-dev libjson-c-dev libsqlite3-dev libmosquitto-dev
	libsystemd-dev libcmocka-dev zlib1g-dev pkgconf
)
for p in "${arm64[@]}"; do
	pkgs+=("$p:arm64")
done
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
new_arch=
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "install-deps: dpkg --add-architecture arm64" >&2
	$SUDO dpkg --add-architecture arm64
	new_arch=1
fi
missing=()
for p in "${pkgs[@]}"; do
	case $p in \#*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ -n "$new_arch" ]; then
	echo "install-deps: installing ${missing[*]}" >&2
	$SUDO apt-get update -q
	[ ${#missing[@]} -eq 0 ] ||
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get \
			-o DPkg::Lock::Timeout=900 install -y -q \
			--no-install-recommends "${missing[@]}"
fi
