#!/usr/bin/python3
# det_replay.py: dtcd-sim writes a log of the reference vehicle with one
# recall fault (or none), dtcd --replay --json reads it: each fault gives its
# detector's codes and nothing else; a healthy car, several seeds, gives none.
# Args: dtcd dtcd-sim
import json
import os
import subprocess
import sys
import tempfile

DTCD, SIM = sys.argv[1], sys.argv[2]
T0 = 1718000000  # the scenarios' start_time

# name, fault section (None: healthy), seed, codes expected (pending or
# confirmed), {code: latest first event, s after the fault's start_s}
CASES = [
    ("healthy", None, 1, set(), {}),
    ("healthy seed 7", None, 7, set(), {}),
    ("healthy seed 42", None, 42, set(), {}),
    ("misfire 5 % in cylinder 3",
     "type = misfire\ncylinder = 3\nrate = 0.05\nstart_s = 120\n", 1,
     {"P0303"}, {"P0303": 90}),
    ("catalyst-damaging misfire in cylinder 5",
     "type = misfire\ncylinder = 5\nrate = 0.25\nstart_s = 120\n", 1,
     {"P0305"}, {"P0305": 20}),
    ("VANOS intake",
     "type = vanos\ncamshaft = intake\nstart_s = 120\n", 1,
     {"P0011", "P1D01"}, {}),
    ("fuel-filter heater stuck on", "type = fuel_heater\n", 1,
     {"P1D02", "P1D03"}, {}),
    ("turbo coolant pump dead",
     "type = turbo_pump_dead\nstart_s = 100\n", 1, {"P2600"}, {}),
    ("EGR cooler leak", "type = egr_leak\n", 1, {"P2457"}, {}),
    ("EGR deposits burning",
     "type = egr_combustion\nstart_s = 200\n", 1, {"P1D05"},
     {"P1D05": 90}),
]

failures = []
with tempfile.TemporaryDirectory() as tmp:
    for name, fault, seed, codes, latency in CASES:
        ini = os.path.join(tmp, "scenario.ini")
        log = os.path.join(tmp, "sim.log")
        with open(ini, "w") as f:
            f.write("[sim]\nseed = %d\nstart_time = %d\n" % (seed, T0))
            if fault:
                f.write("\n[fault f]\n" + fault)
        sim = subprocess.run([SIM, "-s", ini, "-o", log],
                             capture_output=True, text=True)
        if sim.returncode != 0:
            failures.append("%s: dtcd-sim rc %d: %s" %
                            (name, sim.returncode, sim.stderr[:300]))
            continue
        out = subprocess.run([DTCD, "--replay", log, "--json"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            failures.append("%s: dtcd rc %d: %s" %
                            (name, out.returncode, out.stderr[:300]))
            continue
        events = [json.loads(l) for l in out.stdout.splitlines()]
        ours = [e for e in events if e["detector"] != "ecu"
                and e["event"] in ("pending", "confirmed")]
        seen = {e["code"] for e in ours}
        if seen != codes:
            failures.append("%s: codes %s, expected %s" %
                            (name, sorted(seen), sorted(codes)))
        start = 0.0
        for line in (fault or "").splitlines():
            if line.startswith("start_s"):
                start = float(line.split("=")[1])
        for code, bound in latency.items():
            first = [e["ts"] - T0 for e in ours if e["code"] == code]
            if first and not 0 <= first[0] - start <= bound:
                failures.append("%s: %s after %.1f s, bound %d s" %
                                (name, code, first[0] - start, bound))
        print("%-40s %s" % (name, ", ".join(
            "%s %s %.1f" % (e["event"], e["code"], e["ts"] - T0)
            for e in ours) or "no events"))

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
