#!/usr/bin/python3
# time_jumps.py: the rule for frame times that jump (can/timebase.h,
# docs/time.md), against what a user sees in dtcd --replay --json.
#
# usage: time_jumps.py DTCD DTCD_SIM SCENARIO_DIR
# - outliers: a fuel-heater log (P1D02 heater, P1D03 battery drain) whose
#   every 1000th frame says year 2262 gives the same DTC events as the clean
#   log, at the same times (within a second), none in 2262;
# - jumps by years, forwards and backwards, sustained: no DTC on a healthy
#   log, and no event or signal time beyond the log's real span;
# - the real E91 diesel logs, which restart their relative time (back up to
#   48 s): the signal times never go back by more than 1 s, span no more
#   than the log's segments together, and no DTC.
import json
import os
import subprocess
import sys
import tempfile

DTCD, SIM, SCEN = sys.argv[1:4]
REAL = os.path.join(os.environ["DTCD_SHARED"], "data/real/bmw-e91-n47-diesel")
Y2262 = 9214646400  # 2262-01-01, near the end of int64 nanoseconds
YEAR = 365 * 86400
failures = []


def replay(path, *args):
    out = subprocess.run([DTCD, "--replay", path, *args], capture_output=True,
                         text=True)
    if out.returncode != 0:
        failures.append(f"{path}: dtcd exited {out.returncode}: {out.stderr}")
    return [json.loads(l) for l in out.stdout.splitlines()], out.stderr


def rewrite(src, dst, fn):
    with open(src) as i, open(dst, "w") as o:
        for n, line in enumerate(i, 1):
            ts, rest = line.split(" ", 1)
            o.write("(%s) %s" % (fn(n, ts[1:-1]), rest))


def dtc_events(events):
    return [(e["event"], e["code"], e["ts"]) for e in events
            if e["detector"] != "ecu"]


with tempfile.TemporaryDirectory() as tmp:
    heater = os.path.join(tmp, "heater.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "fuel-heater.ini"), "-o",
                    heater], check=True)
    clean = dtc_events(replay(heater, "--json")[0])
    codes = {c for _, c, _ in clean}
    if not {"P1D02", "P1D03"} <= codes:
        failures.append(f"clean fuel-heater log: expected P1D02 and P1D03, "
                        f"got {clean}")
    bad = os.path.join(tmp, "outliers.log")
    rewrite(heater, bad, lambda n, ts:
            "%d.%s" % (Y2262, ts.split(".")[1]) if n % 1000 == 0 else ts)
    events, err = replay(bad, "--json")
    got = dtc_events(events)
    if [(a, c) for a, c, _ in got] != [(a, c) for a, c, _ in clean]:
        failures.append(f"outliers: expected the clean log's events "
                        f"{clean}, got {got}")
    for (a, c, t), (_, _, t0) in zip(got, clean):
        if abs(t - t0) > 1:
            failures.append(f"outliers: {a} {c} at {t}, the clean log "
                            f"has it at {t0}")
    if "time ignored" not in err:
        failures.append(f"outliers: expected a warning, got {err!r}")
    print(f"outliers: {len(got)} DTC events as in the clean log")

    healthy = os.path.join(tmp, "healthy.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "healthy-short.ini"), "-o",
                    healthy], check=True)
    lines = sum(1 for _ in open(healthy))
    first = float(open(healthy).readline().split()[0][1:-1])
    last = float(open(healthy).readlines()[-1].split()[0][1:-1])
    for name, shift in (("forward 10 years", 10 * YEAR),
                        ("back 10 years", -10 * YEAR)):
        log = os.path.join(tmp, "jump.log")
        rewrite(healthy, log, lambda n, ts: ts if n < lines // 2 else
                "%.6f" % (float(ts) + shift))
        events, err = replay(log, "--json")
        if dtc_events(events):
            failures.append(f"{name}: DTC events {dtc_events(events)[:3]}")
        sig, _ = replay(log, "--signals")
        hi = max(s["ts"] for s in sig)
        if hi > last + 6 or min(s["ts"] for s in sig) < first - 1:
            failures.append(f"{name}: signal times up to {hi}, the log spans "
                            f"{first}..{last}")
        if "new time base" not in err:
            failures.append(f"{name}: expected a warning, got {err!r}")
        print(f"{name}: no DTC, signal times within the log's span")

for name in sorted(os.listdir(REAL)):
    log = os.path.join(REAL, name)
    events, _ = replay(log, "--json")
    if dtc_events(events):
        failures.append(f"{name}: DTC events {dtc_events(events)[:3]}")
    sig, _ = replay(log, "--signals")
    prev = None
    for s in sig:
        if prev is not None and s["ts"] - prev < -1:
            failures.append(f"{name}: signal time steps back from {prev} "
                            f"to {s['ts']}")
            break
        prev = s["ts"]
    # the clock's span: the log's steps, each restart counted as none
    span, t0 = 0.0, None
    for line in open(log):
        t = float(line.split()[0][1:-1])
        if t > 1e13:
            t -= 2 ** 64 / 1e6  # the wrapped negative times, as candump.c
        if t0 is not None and -1 <= t - t0 <= 5:
            span += max(t - t0, 0)
        t0 = t
    if sig and sig[-1]["ts"] - sig[0]["ts"] > span + 0.001:
        failures.append(f"{name}: signals span "
                        f"{sig[-1]['ts'] - sig[0]['ts']} s, the log {span} s")
    print(f"{name}: {len(sig)} signal changes, clock steady, no DTC")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
