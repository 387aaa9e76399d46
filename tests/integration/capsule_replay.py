#!/usr/bin/python3
# capsule_replay.py: evidence capsules. For a fault of each of the five
# detectors dtcd-sim writes a drive, dtcd --replay --state keeps a capsule
# per pending/confirmed event; dtcd --capture CODE writes it as a candump
# log that holds exactly the drive's lines of the window, and replaying it
# alone (a fresh dtcd, no state) gives the same code and event types inside
# the window. dtcctl capture over the control socket writes the same log.
# A capsule beyond [capsule] max_kb is cut and says so; all capsules stay
# within store_mb; SIGKILL at random moments leaves a consistent store whose
# capsules all read back whole.
# Args: dtcd dtcctl dtcd-sim
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM = sys.argv[1:4]
T0 = 1718000000

# detector, fault section, extra [capsule] keys, codes that must have one
CASES = [
    ("misfire", "type = misfire\ncylinder = 3\nrate = 0.05\nstart_s = 120\n",
     "", {"P0303"}),
    ("misfire (catalyst)",
     "type = misfire\ncylinder = 5\nrate = 0.25\nstart_s = 120\n", "",
     {"P0305"}),
    ("vanos", "type = vanos\ncamshaft = intake\nstart_s = 120\n", "",
     {"P0011", "P1D01"}),
    # P1D02: 60 s of heater with the engine off
    ("fuel_heater", "type = fuel_heater\n", "", {"P1D02"}),
    # P1D03 needs 120 s of drain: a capsule reaching back far enough
    ("fuel_heater (drain)", "type = fuel_heater\n", "before = 130s\n",
     {"P1D02", "P1D03"}),
    ("turbo_pump", "type = turbo_pump_dead\nstart_s = 100\n", "",
     {"P2600"}),
    ("egr", "type = egr_leak\n", "", {"P2457"}),
    ("egr (combustion)", "type = egr_combustion\nstart_s = 200\n", "",
     {"P1D05"}),
]


def ts_of(line):
    return float(line[1:line.index(")")])


def events_of(out):
    return [e for e in map(json.loads, out.splitlines())
            if e["detector"] != "ecu"]


def capsules(state):
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    rows = db.execute("SELECT code, events, event_ns, start_ns, end_ns, "
                      "frames, cut, ring_cut, complete FROM capsule "
                      "ORDER BY id").fetchall()
    db.close()
    return rows


def sim(tmp, name, fault, seed=1):
    ini = os.path.join(tmp, name + ".ini")
    log = os.path.join(tmp, name + ".log")
    with open(ini, "w") as f:
        f.write("[sim]\nseed = %d\nstart_time = %d\n\n[fault f]\n%s" %
                (seed, T0, fault))
    subprocess.run([SIM, "-s", ini, "-o", log], check=True)
    return log


def conf(tmp, name, keys):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write("[capsule]\n" + keys)
    return path


def replay(log, *extra):
    r = subprocess.run([DTCD, "--replay", log, "--json"] + list(extra),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "replay %s %s: rc %d %s" %
          (log, extra, r.returncode, r.stderr[-300:]))
    return events_of(r.stdout)


def capture(state, code, *extra):
    return subprocess.run([DTCD, "--capture", code, "--state", state] +
                          list(extra), capture_output=True, text=True,
                          timeout=60)


with tempfile.TemporaryDirectory() as tmp:
    # ---- every detector: the capsule replays to the same event ----
    for name, fault, keys, codes in CASES:
        tag = name.replace(" ", "_").replace("(", "").replace(")", "")
        log = sim(tmp, tag, fault)
        with open(log) as f:
            lines = f.readlines()
        state = os.path.join(tmp, "st_" + tag)
        extra = ["-c", conf(tmp, tag, keys)] if keys else []
        events = replay(log, "--state", state, *extra)
        rows = capsules(state)
        seen = {r[0] for r in rows}
        check(codes <= seen, "%s: capsules of %s, expected %s" %
              (name, sorted(seen), sorted(codes)))
        want = {e["code"] for e in events
                if e["event"] in ("pending", "confirmed")}
        check(want == seen, "%s: events of %s, capsules of %s" %
              (name, sorted(want), sorted(seen)))
        for code in sorted(codes & seen):
            # --capture writes the latest capsule of the code
            row = [r for r in rows if r[0] == code][-1]
            _, types, ev_ns, start_ns, end_ns, frames, cut, ring_cut, \
                complete = row
            r = capture(state, code)
            if not check(r.returncode == 0, "%s: --capture %s rc %d %s" %
                         (name, code, r.returncode, r.stderr)):
                continue
            got = r.stdout.splitlines(keepends=True)
            # exactly the drive's lines of the window, as written
            window = [l for l in lines
                      if start_ns / 1e9 - 1e-6 <= ts_of(l) <=
                      end_ns / 1e9 + 1e-6]
            check(got == window and len(got) == frames,
                  "%s %s: capture has %d lines, the window %d (%d "
                  "frames stored)" % (name, code, len(got), len(window),
                                      frames))
            check(not cut and not ring_cut and complete and
                  r.stderr == "", "%s %s: cut %d ring_cut %d complete %d "
                  "%r" % (name, code, cut, ring_cut, complete, r.stderr))
            ev_log = os.path.join(tmp, "%s.%s.log" % (tag, code))
            with open(ev_log, "w") as f:
                f.write(r.stdout)
            again = replay(ev_log)
            span = (start_ns / 1e9, end_ns / 1e9)
            for t in types.split():
                hit = [e for e in again if e["code"] == code and
                       e["event"] == t and span[0] <= e["ts"] <= span[1]]
                if check(hit, "%s %s: the capsule replayed gives no %s in "
                         "%.1f..%.1f: %s" % (name, code, t, span[0] - T0,
                                             span[1] - T0,
                                             [(e["event"], e["code"],
                                               round(e["ts"] - T0, 1))
                                              for e in again])):
                    print("%-22s %s %-9s at %8.3f, replayed at %8.3f "
                          "(%+.3f s), %d frames" %
                          (name, code, t, ev_ns / 1e9 - T0,
                           hit[0]["ts"] - T0,
                           hit[0]["ts"] - ev_ns / 1e9, frames))

    # ---- dtcctl capture over the control socket ----
    log = os.path.join(tmp, "vanos.log")
    with open(log) as f:
        lines = f.readlines()
    state = os.path.join(tmp, "st_ctl")
    sock = os.path.join(tmp, "control")
    dtcd = subprocess.Popen([DTCD, "--replay", "-", "--json", "--control",
                             sock, "--state", state],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        dtcd.stdin.writelines(lines)
        dtcd.stdin.flush()
        deadline = time.monotonic() + 120
        st = {}
        while time.monotonic() < deadline:
            r = subprocess.run([DTCCTL, "-s", sock, "-j", "status"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                st = json.loads(r.stdout)
                if st.get("frames") == len(lines):
                    break
            time.sleep(0.1)
        check(st.get("frames") == len(lines), "status: %s" % st)
        r = subprocess.run([DTCCTL, "-s", sock, "capture", "P0011"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "dtcctl capture P0011: rc %d %s" %
              (r.returncode, r.stderr))
        via_ctl = r.stdout
        r = subprocess.run([DTCCTL, "-s", sock, "-j", "capture", "P0011"],
                           capture_output=True, text=True, timeout=60)
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        check(j.get("log") == via_ctl and j.get("events") == "pending" and
              j.get("frames") == len(via_ctl.splitlines()) and
              j.get("truncated") is False,
              "dtcctl -j capture: %s" %
              {k: v for k, v in j.items() if k != "log"})
        r = subprocess.run([DTCCTL, "-s", sock, "capture", "P0300"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "no evidence of P0300" in r.stderr,
              "dtcctl capture P0300: rc %d %r" % (r.returncode, r.stderr))
    finally:
        dtcd.stdin.close()
        dtcd.wait(timeout=60)
    r = capture(state, "P0011")
    check(r.returncode == 0 and r.stdout == via_ctl and via_ctl,
          "dtcctl capture and dtcd --capture differ (%d, %d lines)" %
          (len(via_ctl.splitlines()), len(r.stdout.splitlines())))
    r = capture(state, "P0301")
    check(r.returncode == 1 and "no evidence" in r.stderr,
          "--capture P0301: rc %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([DTCD, "--capture", "P0011"], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "--state" in r.stderr,
          "--capture without --state: rc %d %r" % (r.returncode, r.stderr))

    # ---- bounds: one capsule, all capsules ----
    state = os.path.join(tmp, "st_cut")
    replay(log, "--state", state, "-c", conf(tmp, "cut", "max_kb = 64\n"))
    r = capture(state, "P0011")
    got = r.stdout.splitlines(keepends=True)
    check(r.returncode == 0 and "truncated" in r.stderr and
          "max_kb" in r.stderr, "cut capsule: rc %d %r" %
          (r.returncode, r.stderr))
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    size, = db.execute("SELECT length(data) FROM capsule WHERE code = "
                       "'P0011'").fetchone()
    db.close()
    check(0 < len(got) and size <= 64 * 1024 and
          via_ctl.endswith("".join(got)),
          "cut capsule: %d lines (%d bytes), not the last of the window" %
          (len(got), size))
    print("max_kb = 64: %d of %d frames kept; %s" %
          (len(got), len(via_ctl.splitlines()), r.stderr.strip()))
    state = os.path.join(tmp, "st_small")
    mf = sim(tmp, "multi", "type = misfire\ncylinder = 2\nrate = 0.08\n"
             "\n[fault p]\ntype = turbo_pump_dead\nstart_s = 100\n"
             "\n[fault e]\ntype = egr_leak\n")
    replay(mf, "--state", state, "-c", conf(tmp, "small", "store_mb = 1\n"))
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    n, size = db.execute("SELECT count(*), sum(length(data)) "
                         "FROM capsule").fetchone()
    db.close()
    check(n >= 1 and size <= 1 << 20, "store_mb = 1: %d capsules, %d "
          "bytes" % (n, size or 0))
    print("store_mb = 1: %d capsules, %d bytes kept" % (n, size))

    # ---- SIGKILL at random moments: the store stays whole ----
    random.seed(12)
    state = os.path.join(tmp, "st_kill")
    start = time.monotonic()
    replay(mf, "--state", os.path.join(tmp, "st_time"))
    span = time.monotonic() - start
    for i in range(12):
        p = subprocess.Popen([DTCD, "--replay", mf, "--state", state],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0.02, span))
        p.kill()
        p.wait()
        db = sqlite3.connect(os.path.join(state, "dtcd.db"))
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT id, code, frames FROM capsule").fetchall()
        latest = {}
        for cid, code, frames in rows:
            latest[code] = frames
        db.close()
        check(ok == "ok", "kill %d: integrity_check %s" % (i, ok))
        for code, frames in latest.items():
            r = capture(state, code)
            check(r.returncode == 0 and
                  len(r.stdout.splitlines()) == frames,
                  "kill %d: %s: rc %d, %d lines of %d frames" %
                  (i, code, r.returncode, len(r.stdout.splitlines()),
                   frames))
    print("12 kills: %d capsules, every one reads back whole" % len(rows))

checks.done()
