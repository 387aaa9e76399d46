#!/bin/bash
# deb_install.sh: the dtcd .deb installed into a throw-away root works
#
#   deb_install.sh [DEB]
#
# DEB: the package ($DTCD_DEB; default: scripts/build-deb.sh builds it,
# DEB_BUILD_OPTIONS=nocheck, into a temporary directory). It is installed
# with dpkg --root into an empty directory, its maintainer scripts run as
# dpkg runs them there (--force-script-chrootless: DPKG_ROOT set, as
# debhelper's and deb-systemd-helper's scripts expect). Checked:
# - the files: programs, profiles, DBC with its licence, catalogue, policy,
#   docs, man pages, the networkd example, the unit under /lib/systemd/system
#   (where bookworm's dh_installsystemd looks), /etc/dtcd/dtcd.conf a
#   conffile, no /var/lib/dtcd in the package (the unit's StateDirectory);
# - dh_installsystemd enabled the unit (multi-user.target.wants);
# - in a chroot of that root (the installed programs with their libraries):
#   dtcd -n -c /etc/dtcd/dtcd.conf accepts the installed configuration with
#   the installed data, and names FILE:LINE of a broken one; dtcd-sim and
#   dtcd --replay of the shipped demo drive find the misfire;
# - systemd-analyze verify of the installed unit; its security score
#   (systemd-analyze security --offline) printed, at most 1.2 (IP to
#   unicast addresses only), and at most 1.0 with the shipped no-network
#   drop-in (a car without MQTT), which blocks all IP addresses;
# - a changed dtcd.conf survives reinstalling; purge removes the files, the
#   conffile, the enablement and the kept state.
set -euo pipefail

src=${DTCD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deb_install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "deb_install: FAIL: $*" >&2
	exit 1
}
skip() {
	[ "${CI:-}" = true ] && fail "$*"
	echo "deb_install: SKIP: $*" >&2
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg --root, chroot)"
for t in dpkg dpkg-deb chroot systemd-analyze ldd; do
	command -v "$t" >/dev/null || skip "$t missing (scripts/install-deps.sh)"
done

deb=${1:-${DTCD_DEB:-}}
if [ -z "$deb" ]; then
	t0=$(date +%s)
	DEB_BUILD_OPTIONS=nocheck "$src/scripts/build-deb.sh" "$tmp/out" \
		>"$tmp/build.out" 2>&1 || {
		cat "$tmp/build.out"
		fail "scripts/build-deb.sh failed"
	}
	echo "deb_install: built the package in $(($(date +%s) - t0)) s"
	grep -E '^[EWI]: ' "$tmp/build.out" || true
	deb=$(ls "$tmp"/out/dtcd_*.deb)
fi
[ -f "$deb" ] || fail "no package $deb"
echo "deb_install: $deb"

# --- the files ------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$tmp/files"
for f in /usr/sbin/dtcd /usr/bin/dtcctl /usr/bin/dtcd-sim \
	/usr/share/dtcd/profiles/bmw-reference.ini \
	/usr/share/dtcd/profiles/obd2-generic.ini \
	/usr/share/dtcd/dbc/bmw_e9x_e8x.dbc \
	/usr/share/dtcd/dbc/LICENSE.bmw_e9x_e8x \
	/usr/share/dtcd/dtc.ini /usr/share/dtcd/actions.en.ini \
	/usr/share/dtcd/actions.de.ini /etc/dtcd/dtcd.conf \
	/lib/systemd/system/dtcd.service \
	/usr/share/doc/dtcd/copyright /usr/share/doc/dtcd/live.md \
	/usr/share/doc/dtcd/examples/80-can0.network \
	/usr/share/doc/dtcd/examples/no-network.conf \
	/usr/share/doc/dtcd/examples/demo.ini \
	/usr/share/man/man8/dtcd.8.gz /usr/share/man/man1/dtcctl.1.gz \
	/usr/share/man/man1/dtcd-sim.1.gz; do
	grep -qx "$f" "$tmp/files" || fail "$f not in the package"
done
grep -q '^/usr/lib/systemd' "$tmp/files" &&
	fail "a unit under /usr/lib/systemd: bookworm's dh_installsystemd misses it"
grep -q '^/var/lib/dtcd' "$tmp/files" &&
	fail "/var/lib/dtcd is the unit's StateDirectory, not the package's"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$tmp/conffiles"
grep -qx /etc/dtcd/dtcd.conf "$tmp/conffiles" ||
	fail "/etc/dtcd/dtcd.conf is no conffile: $(cat "$tmp/conffiles")"
grep -q 'Expat' "$(dpkg-deb -x "$deb" "$tmp/x" && echo "$tmp/x/usr/share/doc/dtcd/copyright")" ||
	fail "debian/copyright does not name the DBC's licence"

# --- installed into an empty root -----------------------------------------
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" \
	"$root/var/log" "$root/tmp"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
inst() {
	# the base system is not there: only dtcd's own dependencies are forced
	dpkg --root="$root" --log=/dev/null --force-script-chrootless \
		--force-depends --force-confold "$@" >>"$tmp/dpkg.out" 2>&1 || {
		cat "$tmp/dpkg.out"
		fail "dpkg $*"
	}
}
inst -i "$deb"
dpkg-query --root="$root" -W -f='${Status}\n' dtcd | grep -qx 'install ok installed' ||
	fail "dtcd not installed: $(dpkg-query --root="$root" -W dtcd 2>&1)"
wants=$root/etc/systemd/system/multi-user.target.wants/dtcd.service
[ -L "$wants" ] || fail "the unit is not enabled (no $wants): $(cat "$tmp/dpkg.out")"
[ "$(readlink "$wants")" = /lib/systemd/system/dtcd.service ] ||
	fail "the unit's enablement points to $(readlink "$wants")"
echo "deb_install: installed and enabled (multi-user.target.wants/dtcd.service)"

# --- the installed programs, configuration and data, chrooted --------------
# their shared libraries from this machine, at the same paths
for b in "$root"/usr/sbin/dtcd "$root"/usr/bin/dtcctl "$root"/usr/bin/dtcd-sim \
	/bin/sh /bin/kill; do
	ldd "$b" | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
[ -e "$root/bin/sh" ] || { mkdir -p "$root/bin"; cp -L /bin/sh "$root/bin/sh"; }
# the unit's ExecReload= (procps, a dependency of the package)
[ -e "$root/bin/kill" ] || cp -L /bin/kill "$root/bin/kill"
set +e
chroot "$root" /usr/sbin/dtcd -n -c /etc/dtcd/dtcd.conf >"$tmp/n.out" 2>&1
rc=$?
set -e
cat "$tmp/n.out"
[ $rc -eq 0 ] || fail "dtcd -n -c /etc/dtcd/dtcd.conf exited $rc"
grep -q 'bmw-reference' "$tmp/n.out" ||
	fail "dtcd -n did not name the installed profile"
# a broken copy is refused with FILE:LINE (so the check above checks)
sed 's/^;tick_ms = 100$/tick_ms = 5/' "$root/etc/dtcd/dtcd.conf" >"$root/tmp/bad.conf"
line=$(grep -n '^tick_ms = 5$' "$root/tmp/bad.conf" | cut -d: -f1)
[ -n "$line" ] || fail "etc/dtcd.conf has no ';tick_ms = 100' line"
if chroot "$root" /usr/sbin/dtcd -n -c /tmp/bad.conf >"$tmp/bad.out" 2>&1; then
	fail "dtcd -n accepted tick_ms = 5"
fi
grep -q "^dtcd: /tmp/bad.conf:$line: tick_ms: expected" "$tmp/bad.out" ||
	fail "dtcd -n on tick_ms = 5: $(cat "$tmp/bad.out")"
# the installed data at work: the demo drive (README quick start)
chroot "$root" /usr/bin/dtcd-sim -s /usr/share/doc/dtcd/examples/demo.ini \
	-o /tmp/demo.log
chroot "$root" /usr/sbin/dtcd --replay /tmp/demo.log --json >"$tmp/demo.json" ||
	fail "dtcd --replay of the demo drive failed"
grep -q '"code":"P030' "$tmp/demo.json" ||
	fail "the installed dtcd found no misfire in the demo drive: $(head -c 500 "$tmp/demo.json")"
echo "deb_install: dtcd -n accepts the installed dtcd.conf; the demo drive gives" \
	"$(grep -o '"code":"[A-Z0-9]*"' "$tmp/demo.json" | sort -u | cut -d'"' -f4 | tr '\n' ' ')"

# --- dtc-collect, the fleet side, in its own package ------------------------
cdeb=$(ls "$(dirname "$deb")"/dtc-collect_*.deb 2>/dev/null | head -n 1)
[ -f "$cdeb" ] || fail "no dtc-collect package beside $deb"
dpkg-deb -c "$cdeb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$tmp/cfiles"
for f in /usr/bin/dtc-collect /etc/dtcd/dtc-collect.conf \
	/usr/share/man/man1/dtc-collect.1.gz; do
	grep -qx "$f" "$tmp/cfiles" || fail "$f not in the dtc-collect package"
done
grep dtc-collect "$tmp/files" &&
	fail "dtc-collect's files are in the dtcd package too"
dpkg-deb --ctrl-tarfile "$cdeb" | tar -xO ./conffiles | grep -qx /etc/dtcd/dtc-collect.conf ||
	fail "/etc/dtcd/dtc-collect.conf is no conffile"
inst -i "$cdeb"
ldd "$root/usr/bin/dtc-collect" | grep -o '/[^ ]*' | while read -r lib; do
	[ -e "$root$lib" ] && continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
chroot "$root" /usr/bin/dtc-collect -n -c /etc/dtcd/dtc-collect.conf \
	--db /tmp/fleet.db >"$tmp/cn.out" 2>&1 ||
	{ cat "$tmp/cn.out"; fail "dtc-collect -n with the installed configuration"; }
echo "deb_install: dtc-collect installed, -n accepts /etc/dtcd/dtc-collect.conf"
inst --purge dtc-collect

# --- the unit ---------------------------------------------------------------
# the root has no systemd: the units the service depends on (sysinit.target,
# network.target ...) come from this machine's systemd, as on any Debian
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
set +e
systemd-analyze verify --root="$root" dtcd.service >"$tmp/verify" 2>&1
rc=$?
set -e
cat "$tmp/verify"
[ $rc -eq 0 ] && ! grep -qi 'dtcd.service' "$tmp/verify" ||
	fail "systemd-analyze verify of the installed unit"
# score NAME MAX: the exposure of the unit as installed now, at most MAX
score() {
	local s
	systemd-analyze security --offline=true --root="$root" dtcd.service \
		>"$tmp/security" 2>&1 || true
	s=$(sed -n 's/.*Overall exposure level for dtcd.service: \([0-9.]*\).*/\1/p' \
		"$tmp/security")
	[ -n "$s" ] || { cat "$tmp/security"; fail "no security score"; }
	echo "deb_install: systemd-analyze security, $1: $s"
	awk -v s="$s" -v m="$2" 'BEGIN { exit !(s <= m) }' ||
		{ cat "$tmp/security"; fail "$1: exposure $s, more than $2"; }
}
score "the unit" 1.2
grep -q 'IPAddressDeny=.*allow list with non-localhost entries' "$tmp/security" ||
	{ cat "$tmp/security"; fail "the unit has no IP address allow list"; }
dropin=$root/etc/systemd/system/dtcd.service.d
mkdir -p "$dropin"
cp "$root/usr/share/doc/dtcd/examples/no-network.conf" "$dropin/"
systemd-analyze verify --root="$root" dtcd.service >"$tmp/verify" 2>&1 ||
	{ cat "$tmp/verify"; fail "systemd-analyze verify with no-network.conf"; }
score "with no-network.conf" 1.0
grep -q 'IPAddressDeny=.*blocks all IP address ranges' "$tmp/security" ||
	{ cat "$tmp/security"; fail "no-network.conf leaves IP addresses allowed"; }
rm -r "$dropin"

# --- conffile kept, purge -----------------------------------------------------
find "$root/lib/systemd/system" -mindepth 1 ! -name dtcd.service -delete
echo '; changed by the user' >>"$root/etc/dtcd/dtcd.conf"
inst -i "$deb"
grep -qx '; changed by the user' "$root/etc/dtcd/dtcd.conf" ||
	fail "reinstalling lost the change to /etc/dtcd/dtcd.conf"
mkdir -p "$root/var/lib/private/dtcd"
: >"$root/var/lib/private/dtcd/dtcd.db"
ln -s private/dtcd "$root/var/lib/dtcd"
inst --purge dtcd
for f in /usr/sbin/dtcd /etc/dtcd/dtcd.conf /lib/systemd/system/dtcd.service \
	/etc/systemd/system/multi-user.target.wants/dtcd.service \
	/var/lib/private/dtcd /var/lib/dtcd /usr/share/dtcd; do
	[ ! -e "$root$f" ] && [ ! -L "$root$f" ] || fail "$f left after purge"
done
echo "deb_install: a changed dtcd.conf kept; purge removes all, the state too"
echo "deb_install: OK"
