# checks.py: one verdict per end-to-end test script: check() collects what
# failed and goes on (one run shows every failure, not the first), done()
# prints them and exits; skip_or_fail() for a tool or server that cannot
# start: skipped (77) at a desk, a failure under CI=true.
import json
import os
import subprocess
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def done(prefix="", limit=None, ok=None):
    """every failure, then exit 1; else say ok (if given) and exit 0"""
    for f in failures[:limit]:
        print("%sFAIL: %s" % (prefix, f))
    if not failures and ok:
        print(ok)
    sys.exit(1 if failures else 0)


def skip_or_fail(why):
    print(why)
    sys.exit(1 if os.environ.get("CI") == "true" else 77)


def ctl_json(dtcctl, sock, *args):
    """dtcctl -j ARGS against SOCK: the answer, None on a failure"""
    r = subprocess.run([dtcctl, "-s", sock, "-j"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout) if r.returncode == 0 else None
