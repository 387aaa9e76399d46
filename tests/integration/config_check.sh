#!/bin/bash
# config_check.sh: dtcd -n accepts etc/dtcd.conf and names FILE:LINE of errors
#
#   config_check.sh DTCD
#
# The sample must pass as shipped and with every commented key turned on
# (so its defaults are values dtcd takes), and the sample with one broken
# line added must fail with that line's FILE:LINE on stderr.
set -euo pipefail

dtcd=$1
src=${DTCD_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
sample=$src/etc/dtcd.conf
tmp=$(mktemp -d "${TMPDIR:-/tmp}/config_check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
	echo "config_check: FAIL: $*" >&2
	failed=1
}

# as shipped
if out=$("$dtcd" -n -c "$sample" 2>"$tmp/err"); then
	grep -q '^configuration OK' <<<"$out" ||
		fail "the sample: no 'configuration OK' in: $out"
else
	fail "the sample is rejected: $(cat "$tmp/err")"
fi

# that the sample names every key of the parser's tables and no other is
# tests/test_config.c's job

# every commented key on, with directories that exist here
mkdir "$tmp/state"
sed -E -e 's/^;([a-z_]+ = )/\1/' \
	-e "s|^state_dir = .*|state_dir = $tmp/state|" \
	-e "s|^etc_dir = .*|etc_dir = $src/etc|" \
	-e "s|^control_socket = .*|control_socket = $tmp/control.sock|" \
	"$sample" >"$tmp/all.conf"
[ "$(grep -cE '^[a-z_]+ = ' "$tmp/all.conf")" -gt 50 ] ||
	fail "turning the commented keys on found too few"
"$dtcd" -n -c "$tmp/all.conf" >/dev/null 2>"$tmp/err" ||
	fail "the sample with every key on is rejected: $(cat "$tmp/err")"

# the sample plus a broken tail: LINES added, what stderr must say, and
# optionally how many lines before the last one it names
n=$(wc -l <"$sample")
while IFS='|' read -r add want back; do
	printf '%s\n' "$(cat "$sample")" >"$tmp/bad.conf"
	printf "$add\n" >>"$tmp/bad.conf"
	line=$((n + $(printf "$add\n" | wc -l) - ${back:-0}))
	if "$dtcd" -n -c "$tmp/bad.conf" >/dev/null 2>"$tmp/err"; then
		fail "accepted: $add"
	elif ! grep -qF "$tmp/bad.conf:$line: $want" "$tmp/err"; then
		fail "for '$add' expected '$tmp/bad.conf:$line: $want' in:
$(cat "$tmp/err")"
	fi
done <<'EOF'
[dtcd]\ntick_ms = 5|tick_ms: expected a whole number 10..10000, got '5'
[dtcd]\nbogus = 1|unknown key 'bogus' in [dtcd]
[dtcd]\nlang = fr|lang: expected en or de
[dtcd]\njson = maybe|json: expected yes or no
[mqtt]\nport = 0|port: expected a whole number 1..65535
[mqtt]\ntopic = cars/#|topic: expected a topic without the wildcards # and +
[nonsense]\nkey = 1|unknown section [nonsense]|1
just words|expected [section], key = value or a comment, got 'just words'
[detector.misfire]\ncylinders = 13|cylinders: expected a whole number 1..12, got '13'
[detector.misfire]\nrate = 2|unknown key 'rate' in [detector.misfire] (expected enabled, max_age_s, cylinders,
[detector.nosuch]\nenabled = yes|unknown section [detector.nosuch] (expected detector.NAME with NAME misfire, vanos,
EOF

# a missing file is named too
"$dtcd" -n -c "$tmp/none.conf" >/dev/null 2>"$tmp/err" &&
	fail "a missing file is accepted"
grep -qF "$tmp/none.conf: No such file or directory" "$tmp/err" ||
	fail "a missing file: $(cat "$tmp/err")"

[ $failed -eq 0 ] || exit 1
echo "config_check: the sample passes, every key on too," \
	"11 broken lines rejected with FILE:LINE"
