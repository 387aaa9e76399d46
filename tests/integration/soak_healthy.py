#!/usr/bin/python3
# soak_healthy.py: about a hundred hours of healthy simulated driving, piped
# from dtcd-sim into dtcd --replay - --json: cold and hot starts, idling in
# heat, motorway and hill at full load, after-run, a winter start with the
# fuel heater, short hops, parking; many seeds each. Not one DTC event of our
# detectors, no line skipped. Prints the simulated hours (bus awake, and the
# whole span with parking) and frames.
# Usage: soak_healthy.py DTCD DTCD_SIM SCENARIO_DIR
import os
import subprocess
import sys
import tempfile
import time

from simrun import Checker, brief, ours, parse_events

DTCD, SIM, SCEN = sys.argv[1:4]
# scenario, seeds
RUNS = [
    ("healthy-multi", range(1, 17)),
    ("healthy-short", range(1, 21)),
    ("soak-highway", range(1, 7)),
    ("soak-idle-heat", range(1, 6)),
    ("soak-winter", range(1, 9)),
    ("soak-hops", range(1, 9)),
]
SLEEP_GAP_S = 5  # the bus sends at 100 Hz while awake: a longer gap is sleep
CHUNK = 1 << 16
ck = Checker()


def ts_of(line):
    return float(line[1:line.index(b")")])


class Meter:
    """counts frames and the time the bus was awake while passing the log
    through; parses only the first and last line of each chunk, and every
    line of the few chunks that hold a sleep"""

    def __init__(self):
        self.frames = 0
        self.awake_s = 0.0
        self.first = self.last = None
        self.rest = b""

    def lines_ts(self, lines):
        for line in lines:
            t = ts_of(line)
            if self.last is not None and t - self.last < SLEEP_GAP_S:
                self.awake_s += t - self.last
            if self.first is None:
                self.first = t
            self.last = t

    def feed(self, data):
        self.frames += data.count(b"\n")
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        whole = data[:cut]
        if not whole:
            return
        head = whole[:whole.index(b"\n")]
        tail = whole[whole.rfind(b"\n", 0, len(whole) - 1) + 1:]
        t0, t1 = ts_of(head), ts_of(tail)
        if t1 - t0 < SLEEP_GAP_S:
            # frames inside a chunk are never further apart than its span
            self.lines_ts([head])
            self.awake_s += t1 - t0
            self.last = t1
        else:
            self.lines_ts(whole.splitlines())


def soak(name, seed, meter):
    path = os.path.join(SCEN, name + ".ini")
    sim = subprocess.Popen([SIM, "-s", path, "--seed", str(seed)],
                           stdout=subprocess.PIPE)
    # dtcd's output goes to files: many false alarms must not block it
    fout, ferr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    d = subprocess.Popen([DTCD, "--replay", "-", "--json"],
                         stdin=subprocess.PIPE, stdout=fout, stderr=ferr)
    m = Meter()
    while True:
        data = sim.stdout.read1(CHUNK)
        if not data:
            break
        m.feed(data)
        d.stdin.write(data)
    d.stdin.close()
    d.wait()
    fout.seek(0)
    ferr.seek(0)
    out, err = fout.read(), ferr.read()
    sim.stdout.close()
    if sim.wait() != 0 or d.returncode != 0:
        ck.check(False, "%s seed %d: dtcd-sim rc %d, dtcd rc %d: %s" %
                 (name, seed, sim.returncode, d.returncode, err[:300]))
        return
    events = ours(parse_events(out.decode()))
    ck.check(not events, "%s seed %d: false alarms: %s" %
             (name, seed, brief(events, m.first or 0)))
    ck.check(b"skipped" not in err, "%s seed %d: %s" %
             (name, seed, err[:300].decode(errors="replace")))
    meter.frames += m.frames
    meter.awake_s += m.awake_s
    meter.span_s += m.last - m.first


class Total:
    frames = 0
    awake_s = 0.0
    span_s = 0.0


t0 = time.monotonic()
grand = Total()
print("%-16s %5s %11s %9s %9s" % ("scenario", "seeds", "frames", "awake h",
                                  "span h"))
for name, seeds in RUNS:
    tot = Total()
    for seed in seeds:
        soak(name, seed, tot)
    print("%-16s %5d %11d %9.1f %9.1f" % (name, len(seeds), tot.frames,
                                         tot.awake_s / 3600,
                                         tot.span_s / 3600))
    grand.frames += tot.frames
    grand.awake_s += tot.awake_s
    grand.span_s += tot.span_s
print("%-16s %5d %11d %9.1f %9.1f" % ("total", sum(len(s) for _, s in RUNS),
                                     grand.frames, grand.awake_s / 3600,
                                     grand.span_s / 3600))
print("soak: %.1f simulated hours of healthy driving (bus awake), %.1f with "
      "parking, %d frames, %.0f s: %s" %
      (grand.awake_s / 3600, grand.span_s / 3600, grand.frames,
       time.monotonic() - t0,
       "no DTC event" if not ck.failures else "FALSE ALARMS"))
sys.exit(ck.done())
