#!/usr/bin/python3
# sim_replay.py: every shipped scenario through dtcd --replay --json: the
# healthy ones give no DTC of our detectors, each fault gives its codes
# (and not the ones it must not), the demo goes pending then confirmed.
# Usage: sim_replay.py DTCD_SIM DTCD SCENARIO_DIR
import json
import os
import subprocess
import sys

SIM, DTCD, SCEN = sys.argv[1:4]

# scenario -> (codes that must appear, codes that must not)
EXPECT = {
    "healthy-short": ((), "any"),
    "healthy-multi": ((), "any"),
    "realism": ((), "any"),
    "demo": (("P0303",), ("P0300",)),
    "misfire": (("P0303",), ("P0300", "P0301", "P0302")),
    "coil": (("P0305",), ("P0303",)),
    "vanos": (("P0011", "P1D01"), ("P0014",)),
    "vanos-exhaust": (("P0014",), ("P1D01", "P0011")),
    "fuel-heater": (("P1D02", "P1D03"), ("P0300",)),
    "turbo-pump-dead": (("P2600", "P1D04"), ()),
    "turbo-pump-weak": (("P1D04",), ("P2600",)),
    "egr-leak": (("P2457",), ("P1D05",)),
    "egr-combustion": (("P1D05",), ("P2457",)),
    "multi-fault": (("P0302", "P2600", "P1D02"), ("P0303",)),
}
failures = 0
for name, (want, never) in sorted(EXPECT.items()):
    sim = subprocess.Popen([SIM, "-s", os.path.join(SCEN, name + ".ini")],
                           stdout=subprocess.PIPE)
    out = subprocess.run([DTCD, "--replay", "-", "--json"], stdin=sim.stdout,
                         capture_output=True, text=True)
    sim.stdout.close()
    if sim.wait() != 0 or out.returncode != 0:
        print("FAIL %s: dtcd-sim %d, dtcd %d: %s"
              % (name, sim.returncode, out.returncode, out.stderr[-500:]))
        failures += 1
        continue
    events = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    ours = [e for e in events if e["detector"] != "ecu"]
    codes = {e["code"] for e in ours}
    bad = []
    if never == "any" and codes:
        bad.append("false alarms %s" % sorted(codes))
    for c in want:
        if c not in codes:
            bad.append("no %s" % c)
    if never != "any":
        bad += ["unexpected %s" % c for c in never if c in codes]
    if name == "demo":
        seq = [(e["event"], e["code"]) for e in ours]
        if seq[:2] != [("pending", "P0303"), ("confirmed", "P0303")] or \
                ours[1]["ts"] - ours[0]["ts"] < 600:
            bad.append("demo: not pending in one cycle then confirmed in "
                       "the next: %s" % seq)
    print("%s %s: %s" % ("FAIL" if bad else "ok", name,
                         "; ".join(bad) if bad else sorted(codes)))
    failures += bool(bad)
sys.exit(1 if failures else 0)
