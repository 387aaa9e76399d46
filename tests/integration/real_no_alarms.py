#!/usr/bin/python3
# real_no_alarms.py: the healthy real BMW logs, replayed with the profile that
# fits them, give no DTC of our own detectors; the E90's own MIL and stored
# codes come out as "ecu" events, once per change.
import json
import os
import subprocess
import sys

DTCD = sys.argv[1]
REAL = os.path.join(os.environ["DTCD_SHARED"], "data/real")
PROFILES = {
    "bmw-e92-ptcan": "bmw-reference",
    "bmw-e91-n47-diesel": "bmw-reference",  # same PT-CAN broadcasts
    "bmw-e90-obd": "obd2-generic",
}
failures = []
n = 0
for sub, profile in sorted(PROFILES.items()):
    for name in sorted(os.listdir(os.path.join(REAL, sub))):
        log = os.path.join(REAL, sub, name)
        out = subprocess.run([DTCD, "--replay", log, "--profile", profile,
                              "--json"], capture_output=True, text=True)
        events = [json.loads(l) for l in out.stdout.splitlines()]
        n += 1
        ours = [e for e in events if e["detector"] != "ecu"]
        if out.returncode != 0 or ours:
            failures.append("%s: rc %d, %d DTC events: %s" %
                            (name, out.returncode, len(ours), ours[:3]))
        if "line skipped" in out.stderr:
            failures.append("%s: lines skipped: %s" % (name, out.stderr[:300]))
        if sub == "bmw-e90-obd":
            mil = [e for e in events if e["event"] == "ecu" and e["code"] == "MIL"
                   and e["ecu"] == "7E8"]
            # polled over and over, reported once: the state never changes
            if len(mil) != 1 or mil[0]["mil_on"] is not True or mil[0]["dtc_count"] != 3:
                failures.append("%s: expected one MIL event for 7E8 with 3 "
                                "codes, got %s" % (name, mil))
for f in failures:
    print("FAIL:", f)
print("%d passed, %d failed" % (n - len(failures), len(failures)))
sys.exit(1 if failures else 0)
