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
# DTCD_VM_ARCH=arm64 boots Debian's arm64 kernel on qemu-system-aarch64 (-M
# virt -cpu max, TCG) instead; DIR must hold arm64 programs then, and the
# guest's busybox, dash, ip, can-utils and mosquitto (/usr/sbin/mosquitto,
# /usr/bin/mosquitto_sub) are Debian's arm64 ones, fetched once with
# apt-get download (multiarch: dpkg --add-architecture arm64) with the
# libraries they need. The virt board has one UART: the command's output
# and status come framed on the console.
#
# Exit status: COMMAND's; 124 the guest timed out; 125 no kernel or no boot.
# Environment: DTCD_VM_ARCH    amd64 or arm64 [amd64]
#              DTCD_VM_CACHE   [${XDG_CACHE_HOME:-~/.cache}/dtcd-vm]
#              DTCD_VM_TIMEOUT seconds before the guest is killed [120]
#              DTCD_VM_SMP     virtual CPUs [1]
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
varch=${DTCD_VM_ARCH:-amd64}
case $varch in
amd64 | x86_64) varch=amd64 qemu=qemu-system-x86_64 ;;
arm64 | aarch64)
	varch=arm64 qemu=qemu-system-aarch64
	# its own cache: kernels of both architectures are kept
	cache=$cache/arm64
	;;
*) die "DTCD_VM_ARCH: expected amd64 or arm64, got '$varch'" ;;
esac

for t in $qemu perl cpio depmod modprobe dpkg-deb xz ldd canplayer \
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
# apt's answer is kept for a day: without a pkgcache.bin (Docker's
# docker-clean turns it off) each apt-cache call reads all the lists, 3 to
# 6 s of every boot on a loaded host
pkg= looked_up=
if [ -n "$(find "$cache/kernel" -mmin -1440 2>/dev/null)" ]; then
	pkg=$(cat "$cache/kernel")
	[ -f "$cache/$pkg/ok" ] || pkg=
fi
if [ -z "$pkg" ]; then
	pkg=$(apt-cache depends "linux-image-$varch:$varch" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }' ||
		true)
	pkg=${pkg%%:*}
	looked_up=$pkg
	if [ -z "$pkg" ] || { [ ! -f "$cache/$pkg/ok" ] &&
			      ! apt-cache show "$pkg" >/dev/null 2>&1; }; then
		# no apt lists, or lists naming a kernel the archive dropped
		looked_up=
		pkg=$(cd "$cache" && ls -d linux-image-*/ok 2>/dev/null |
			sort -V | tail -n1 | cut -d/ -f1)
		[ -n "$pkg" ] ||
			die "no kernel package known to apt (apt-get update) nor cached"
	fi
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
	 apt-get download -q -o APT::Sandbox::User=root "${pkg%%:*}:$varch" >&2) ||
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
[ -z "$looked_up" ] || echo "$looked_up" >"$cache/kernel"
# the guest's tools for arm64: Debian's arm64 packages and the libraries
# they need (the closure of their lib* dependencies), unpacked once
tools=$cache/tools
toolpkgs="busybox-static dash iproute2 can-utils mosquitto mosquitto-clients"
if [ $varch = arm64 ] && [ "$(cat "$tools/pkglist" 2>/dev/null)" != "$toolpkgs" ]; then
	rm -rf "$tools" "$cache/fetch"
	mkdir -p "$cache/fetch" "$tools/root"
	echo "run-in-vm: fetching the arm64 tools (once)" >&2
	want=$(for p in $toolpkgs; do echo "$p:arm64"; done)
	deps=$(apt-cache depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances $want \
		2>/dev/null | grep -x 'lib[^ ]*:arm64' | sort -u)
	(cd "$cache/fetch" &&
	 apt-get download -q -o APT::Sandbox::User=root $want $deps >&2) ||
		die "apt-get download of the arm64 tools failed (dpkg --add-architecture arm64; apt-get update)"
	for d in "$cache"/fetch/*.deb; do
		dpkg-deb -x "$d" "$tools/root"
	done
	rm -rf "$cache/fetch"
	echo "$toolpkgs" >"$tools/pkglist"
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
# an arm64 program's libraries (no ldd for another architecture): its
# interpreter and each NEEDED library, from the tools or multiarch, put in
# /lib/aarch64-linux-gnu of the guest
alibdirs="$tools/root/lib/aarch64-linux-gnu $tools/root/usr/lib/aarch64-linux-gnu
	/lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu"
alibs() {
	local f=$1 n d interp
	interp=$(readelf -l "$f" 2>/dev/null |
		sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
	if [ -n "$interp" ] && [ ! -e "$root$interp" ]; then
		mkdir -p "$root$(dirname "$interp")"
		cp -L "$interp" "$root$interp" ||
			die "no $interp (libc6:arm64)"
	fi
	for n in $(readelf -d "$f" 2>/dev/null |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		[ -e "$root/lib/aarch64-linux-gnu/$n" ] && continue
		for d in $alibdirs; do
			[ -e "$d/$n" ] || continue
			mkdir -p "$root/lib/aarch64-linux-gnu"
			cp -L "$d/$n" "$root/lib/aarch64-linux-gnu/$n"
			alibs "$d/$n"
			continue 2
		done
		die "$n (needed by $f) not found for arm64"
	done
}
# the shared libraries a program loads, at the same paths as here
libs() {
	local lib
	if [ $varch = arm64 ]; then
		alibs "$1"
		return
	fi
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
# the programs of the guest: this machine's, or the arm64 packages'
t=
[ $varch = amd64 ] || t=$tools/root
cp "$t/bin/busybox" "$root/bin/busybox"
# one process for the 270 links (an ln each took 2 s on a loaded host)
perl -e 'chdir shift or die; -l or -e or symlink "busybox", $_ or die "$_: $!" for @ARGV' \
	"$root/bin" $(/bin/busybox --list)
# dash, not busybox, as /bin/sh: busybox sh prefers its own applets to
# PATH, and its ip cannot make a vcan link
rm -f "$root/bin/sh" "$root/bin/ip"
add "$t/bin/dash" /bin/sh
# (the package's /sbin/ip is an absolute link to /bin/ip)
if [ $varch = amd64 ]; then
	add /usr/sbin/ip /usr/sbin/ip
else
	add "$t/bin/ip" /usr/sbin/ip
fi
for b in candump canplayer cansend cangen; do
	add "$t/usr/bin/$b" "/usr/bin/$b"
done
if [ $varch = arm64 ]; then
	add "$t/usr/sbin/mosquitto" /usr/sbin/mosquitto
	add "$t/usr/bin/mosquitto_sub" /usr/bin/mosquitto_sub
fi
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
case $varch in
amd64)
	machine=(-m 256)
	serials=(-serial "file:$tmp/console" -serial "file:$tmp/out"
		-serial "file:$tmp/status")
	append="console=ttyS0 quiet panic=-1 oops=panic no_timer_check"
	;;
arm64)
	# pauth-impdef: TCG's architected pointer authentication is slow
	[ $accel = kvm ] || accel_args+=(-cpu "max,pauth-impdef=on")
	machine=(-M virt -m 256)
	serials=(-serial "file:$tmp/console")
	append="console=ttyAMA0 quiet panic=-1 oops=panic dtcd_vm_console=ttyAMA0"
	;;
esac
# (made here: a qemu that cannot start writes none of them)
: >"$tmp/console"
: >"$tmp/out"
: >"$tmp/status"
set +e
timeout -k 5 "${DTCD_VM_TIMEOUT:-120}" $qemu \
	-nodefaults -no-user-config -display none -no-reboot \
	"${accel_args[@]}" "${machine[@]}" -smp "${DTCD_VM_SMP:-1}" \
	-kernel "$kimg" -initrd "$tmp/initrd" \
	-append "$append" \
	"${serials[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
set -e
if [ $varch = arm64 ]; then
	# one UART: tests/vm/init frames the output and the status on it
	tr -d '\r' <"$tmp/console" | awk -v out="$tmp/out" -v st="$tmp/status" '
		$0 == "@@dtcd-vm-out-end@@" { on = 0; next }
		on { print > out; next }
		$0 == "@@dtcd-vm-out-begin@@" { on = 1; next }
		/^@@dtcd-vm-status [0-9]+@@$/ { gsub(/[^0-9]/, ""); print > st }'
fi

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
