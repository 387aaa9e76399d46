#!/usr/bin/python3
# jitter_replay.py: detection must not hang on milliseconds (issue 9). Each
# fault scenario and a healthy drive from dtcd-sim, replayed by dtcd --json,
# then again with every message (a broadcast frame, a whole polled ISO-TP
# exchange) shifted by up to +-5 ms ([bus] sample_jitter_us, 20 seeds): the
# same events (code, kind, ECU) in the same order, each at the same time
# within TOL_S. The simulated testers ask what each shipped profile's [poll]
# lists, at its rates ([tester] poll_profile), and dtcd decodes with that
# profile: bmw-reference (0x5A20 at 5 Hz, the other DIDs at 1 Hz, PT-CAN
# broadcasts) for every fault; obd2-generic (engine speed 5 Hz, Mode 06
# every 2 s) for the faults it can see.
# Usage: jitter_replay.py DTCD_SIM DTCD SCENARIO_DIR [SEEDS]
import json
import os
import subprocess
import sys
import tempfile

SIM, DTCD, SCEN = sys.argv[1:4]
SEEDS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
JITTER_US = 5000
# A shifted sample may land on the other side of a hold timer's end or of a
# 100 ms tick; the slowest polled signals come at 1 Hz: an event may move by
# one sample of them, never more.
TOL_S = 1.1
RUNS = [
    ("bmw-reference",
     ["healthy-short", "misfire", "coil", "vanos", "vanos-exhaust",
      "fuel-heater", "turbo-pump-dead", "turbo-pump-weak", "egr-leak",
      "egr-combustion", "multi-fault", "egr-slow-burn"]),
    # only the misfire detector has all its signals in OBD-II
    ("obd2-generic", ["healthy-short", "misfire", "coil", "multi-fault"]),
]
# a burn below spike_c (400 °C): only the rise within 2 s finds it, as in
# the E92 recording of issue 9 (about 240 °C in 3 s, sampled at 1 Hz)
VARIANTS = {"egr-slow-burn": ("egr-combustion", [("peak_c = 450", "peak_c = 380"),
                                                 ("rise_s = 1", "rise_s = 3")])}


def events(ini, profile):
    sim = subprocess.Popen([SIM, "-s", ini], stdout=subprocess.PIPE)
    out = subprocess.run([DTCD, "--replay", "-", "--json", "--profile",
                          profile], stdin=sim.stdout,
                         capture_output=True, text=True)
    sim.stdout.close()
    if sim.wait() != 0 or out.returncode != 0:
        raise RuntimeError("dtcd-sim %d, dtcd %d: %s" %
                           (sim.returncode, out.returncode, out.stderr[-300:]))
    if "skipped" in out.stderr:
        raise RuntimeError("lines skipped: " + out.stderr[:300])
    return [(e["ts"], e["code"], e["event"], e.get("ecu"))
            for e in map(json.loads, out.stdout.splitlines())]


def compare(base, got):
    """what differs between two event lists, or None"""
    if [e[1:] for e in base] != [e[1:] for e in got]:
        return "events %s, unjittered %s" % ([e[1:3] for e in got],
                                            [e[1:3] for e in base])
    for b, g in zip(base, got):
        if abs(b[0] - g[0]) > TOL_S:
            return "%s %s at %+.3f s of the unjittered one" % (
                g[2], g[1], g[0] - b[0])
    return None


failures = []
worst = {}
with tempfile.TemporaryDirectory() as tmp:
    for profile, scenarios in RUNS:
        for name in scenarios:
            src, edits = VARIANTS.get(name, (name, []))
            with open(os.path.join(SCEN, src + ".ini")) as f:
                text = f.read()
            for old, new in edits:
                assert old in text, (src, old)
                text = text.replace(old, new)
            # inih: a second [tester] or [bus] section adds to the first
            text += "\n[tester]\npoll_profile = %s\n" % profile
            ini = os.path.join(tmp, name + ".ini")
            with open(ini, "w") as f:
                f.write(text)
            what = "%s %s" % (profile, name)
            try:
                base = events(ini, profile)
            except RuntimeError as e:
                failures.append("%s: %s" % (what, e))
                continue
            ours = sorted({e[1] for e in base if e[3] is None})
            if name.startswith("healthy") and ours:
                failures.append("%s: false alarms %s" % (what, ours))
            if not name.startswith("healthy") and not ours:
                failures.append("%s: no DTC at all: nothing to compare"
                                % what)
            bad = 0
            for seed in range(1, SEEDS + 1):
                ini = os.path.join(tmp, "%s-%d.ini" % (name, seed))
                with open(ini, "w") as f:
                    f.write(text + "\n[bus]\nsample_jitter_us = %d\n"
                            "jitter_seed = %d\n" % (JITTER_US, seed))
                try:
                    got = events(ini, profile)
                except RuntimeError as e:
                    failures.append("%s seed %d: %s" % (what, seed, e))
                    continue
                why = compare(base, got)
                if why:
                    failures.append("%s seed %d: %s" % (what, seed, why))
                    bad += 1
                    continue
                for b, g in zip(base, got):
                    worst[b[1]] = max(worst.get(b[1], 0), abs(b[0] - g[0]))
            print("%s %s: %d events (%s), %d of %d seeds differ" %
                  ("FAIL" if bad else "ok", what, len(base), ", ".join(ours),
                   bad, SEEDS), flush=True)
print("largest time difference per code (tolerance %.1f s): %s" %
      (TOL_S, ", ".join("%s %.3f" % kv for kv in sorted(worst.items()))))
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
