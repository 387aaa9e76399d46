#!/bin/bash
# run-in-vm.sh: runs a command inside a throw-away Debian kernel with SocketCAN
#
#   tests/vm/run-in-vm.sh DIR COMMAND
#
# Boots Debian's stock kernel under QEMU (TCG: no KVM needed) with an
# initramfs only: static busybox, dash, iproute2's ip, candump, canplayer,
# cansend and cangen, the can, can-raw, can-isotp and vcan modules (loaded by
# tests/vm/init, no interface created), and a copy of DIR at /work with the
# shared libraries of every ELF file in it. COMMAND runs there with /bin/sh; what it writes (stdout and stderr)
# comes out on stdout here, and its exit status is ours.
#
# Exit status: COMMAND's; 124 the guest timed out; 125 no kernel or no boot.
# Environment: DTCD_VM_CACHE   [${XDG_CACHE_HOME:-~/.cache}/dtcd-vm]
#              DTCD_VM_TIMEOUT seconds before the guest is killed [120]
#              DTCD_VM_ACCEL   tcg or kvm [tcg]
#              DTCD_VM_VERBOSE 1: guest console to stderr when done
# Host packages: qemu-system-x86 busybox-static cpio kmod can-utils iproute2
# (scripts/install-deps.sh); the kernel package comes once from apt-get
# download and is cached.
set -euo pipefail

die() { echo "run-in-vm: $*" >&2; exit 125; }

[ $# -eq 2 ] && [ -d "$1" ] || { echo "usage: $0 DIR COMMAND" >&2; exit 125; }
dir=$1
cmd=$2
here=$(cd "$(dirname "$0")" && pwd)
cache=${DTCD_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dtcd-vm}
accel=${DTCD_VM_ACCEL:-tcg}

for t in qemu-system-x86_64 cpio depmod modprobe dpkg-deb xz ldd canplayer \
	 /usr/sbin/ip /bin/dash; do
	command -v "$t" >/dev/null ||
		die "$t missing: run scripts/install-deps.sh"
done
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	die "no static /bin/busybox: apt-get install busybox-static"

# --- the kernel: a Debian package, unpacked once into the cache ------------
mkdir -p "$cache"
exec 8>"$cache/lock"
flock 8
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' ||
	true)
if [ -z "$pkg" ] || { [ ! -f "$cache/$pkg/ok" ] &&
		      ! apt-cache show "$pkg" >/dev/null 2>&1; }; then
	# no apt lists, or lists naming a kernel the archive dropped
	pkg=$(cd "$cache" && ls -d linux-image-*/ok 2>/dev/null |
		sort -V | tail -n1 | cut -d/ -f1)
	[ -n "$pkg" ] ||
		die "no kernel package known to apt (apt-get update) nor cached"
fi
kdir=$cache/$pkg
# the modules the VM loads; a cache made for another list is made anew
mods="can can-raw can-isotp vcan"
[ "$(cat "$kdir/modlist" 2>/dev/null)" = "$mods" ] || rm -f "$kdir/ok"
if [ ! -f "$kdir/ok" ]; then
	rm -rf "$kdir" "$cache/fetch"
	mkdir -p "$cache/fetch/x" "$kdir/mods"
	echo "run-in-vm: fetching $pkg (once)" >&2
	(cd "$cache/fetch" &&
	 apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	x=$cache/fetch/x
	# the kernel, its config and the CAN modules, not all 400 MB of it
	dpkg-deb --fsys-tarfile "$cache"/fetch/*.deb |
		tar -x -C "$x" --wildcards './boot/vmlinuz-*' './boot/config-*' \
			'./*lib/modules/*/modules.builtin*' \
			'./*lib/modules/*/modules.order' \
			'./*lib/modules/*/kernel/net/can/*' \
			'./*lib/modules/*/kernel/drivers/net/can/*'
	[ -d "$x/lib/modules" ] || ln -s usr/lib "$x/lib"
	kver=$(ls "$x/lib/modules")
	depmod -b "$x" "$kver"
	# the modules in load order, dependencies first
	for m in $mods; do
		modprobe -d "$x" -S "$kver" --show-depends "$m" ||
			die "module $m not in $pkg"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
		while read -r ko; do
			case $ko in
			*.xz) xz -dc "$ko" >"$kdir/mods/$(basename "$ko" .xz)" ;;
			*) cp "$ko" "$kdir/mods/" ;;
			esac
			basename "${ko%.xz}" >>"$kdir/mods/order"
		done
	cp "$x/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	# Under TCG the kernel's own xz decompression takes seconds a boot;
	# a PVH kernel boots from its uncompressed ELF image, so unpack it once.
	if grep -qx CONFIG_PVH=y "$x/boot/config-$kver"; then
		off=$(LC_ALL=C grep -abo -m1 $'\xfd7zXZ' "$kdir/vmlinuz" |
			cut -d: -f1 | head -n1)
		if [ -n "$off" ]; then
			tail -c +$((off + 1)) "$kdir/vmlinuz" |
				xz -dc >"$kdir/vmlinux" 2>/dev/null || true
			[ "$(head -c4 "$kdir/vmlinux")" = $'\x7fELF' ] ||
				rm -f "$kdir/vmlinux"
		fi
	fi
	echo "$kver" >"$kdir/release"
	echo "$mods" >"$kdir/modlist"
	rm -rf "$cache/fetch"
	touch "$kdir/ok"
	# an older kernel (before a security update) is no use any more
	for old in "$cache"/linux-image-*; do
		[ "$old" = "$kdir" ] || rm -rf "$old"
	done
fi
flock -u 8

# --- the initramfs ---------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtcd-vm.XXXXXX")
qpid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,work,vm}
# the shared libraries a program loads, at the same paths as here
libs() {
	local lib
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
add() {
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
	libs "$1"
}
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
# dash, not busybox, as /bin/sh: busybox sh prefers its own applets to
# PATH, and its ip cannot make a vcan link
rm -f "$root/bin/sh" "$root/bin/ip"
add /bin/dash /bin/sh
add /usr/sbin/ip /usr/sbin/ip
for b in candump canplayer cansend cangen; do
	add "/usr/bin/$b" "/usr/bin/$b"
done
cp "$kdir"/mods/* "$root/vm/"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
printf '%s\n' "$cmd" >"$root/vm/cmd"
cp -a "$dir/." "$root/work/"
while IFS= read -r -d '' f; do
	[ "$(head -c4 "$f")" != $'\x7fELF' ] || libs "$f"
done < <(find "$root/work" -type f -print0)
# Uncompressed: gunzip under TCG costs more than reading the extra bytes.
(cd "$root" && find . | cpio -o -H newc --quiet --owner 0:0) >"$tmp/initrd"

# --- boot ------------------------------------------------------------------
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check fails and it panics at boot ("IO-APIC + timer doesn't work")
kimg=$kdir/vmlinuz
[ -s "$kdir/vmlinux" ] && kimg=$kdir/vmlinux
case $accel in
tcg) accel_args=(-accel tcg) ;;
kvm) accel_args=(-accel kvm -cpu host) ;;
*) die "DTCD_VM_ACCEL: expected tcg or kvm" ;;
esac
: >"$tmp/out"
: >"$tmp/status"
set +e
timeout -k 5 "${DTCD_VM_TIMEOUT:-120}" qemu-system-x86_64 \
	-nodefaults -no-user-config -display none -no-reboot \
	"${accel_args[@]}" -m 256 -smp 1 \
	-kernel "$kimg" -initrd "$tmp/initrd" \
	-append "console=ttyS0 quiet panic=-1 oops=panic no_timer_check" \
	-serial "file:$tmp/console" -serial "file:$tmp/out" \
	-serial "file:$tmp/status" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
set -e

# ttyS1: the command's output; ttyS2: its exit status (tests/vm/init)
tr -d '\r' <"$tmp/out"
rc=$(tr -dc 0-9 <"$tmp/status")
if [ -z "$rc" ] || [ "${DTCD_VM_VERBOSE:-0}" = 1 ]; then
	{
		[ -n "$rc" ] || echo "run-in-vm: no exit status from the" \
			"guest (qemu exit $qrc)"
		cat "$tmp/qemu.log"
		echo "--- guest console:"
		tr -d '\r' <"$tmp/console" | tail -n 30
	} >&2
fi
if [ -z "$rc" ]; then
	[ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ] && exit 124
	exit 125
fi
exit "$rc"
