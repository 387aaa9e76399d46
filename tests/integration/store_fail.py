#!/usr/bin/python3
# store_fail.py: when the store cannot commit, nothing is announced that was
# not stored. A multi-fault drive replayed with --state while (1) another
# process holds the database (BEGIN EXCLUSIVE) for a while: nothing printed
# while it holds it, dtcctl still answered (the loop runs), then every event
# printed and stored in order, as without the lock; (2) the file size limit
# (RLIMIT_FSIZE) stops the WAL growing: what is printed is exactly what is
# stored and the store's own error is named; (3) a store another process
# locks while it is created: the real reason, not "cannot rollback"; (4) a
# state directory dtcd may not write: a clear error, nothing printed; (5) a
# lock held with store_queue_max_events = 5: the oldest low-severity events
# dropped first, the critical ones kept, the drop reported as an event.
# usage: store_fail.py DTCD DTCCTL DTCD_SIM SCENARIO.ini
import os
import pwd
import resource
import select
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import json
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM, SCEN = sys.argv[1:5]


def stored(state):
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    rows = db.execute("SELECT type, code, status FROM event ORDER BY id")
    out = [tuple(r) for r in rows]
    db.close()
    return out


def printed(lines):
    return [(e["event"], e["code"], e["status"])
            for e in map(json.loads, lines)]


def create(state):
    os.makedirs(state)
    subprocess.run([DTCD, "--replay", "/dev/null", "--state", state],
                   check=True)


class Lock:
    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self):
        self.db.execute("COMMIT")
        self.db.close()


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "drive.log")
    subprocess.run([SIM, "-s", SCEN, "-o", log], check=True)
    base = os.path.join(tmp, "base")
    create(base)
    r = subprocess.run([DTCD, "--replay", log, "--json", "--state", base],
                       capture_output=True, text=True, check=True)
    want = printed(r.stdout.splitlines())
    r_want = [json.loads(line) for line in r.stdout.splitlines()]
    check(len(want) >= 3, "the drive gives too few events: %s" % want)

    # (1) a lock held while the whole drive goes through a pipe
    st = os.path.join(tmp, "locked")
    create(st)
    lock = Lock(os.path.join(st, "dtcd.db"))
    sock = os.path.join(tmp, "ctl")
    err = open(os.path.join(tmp, "locked.err"), "w+")
    d = subprocess.Popen([DTCD, "--replay", "-", "--json", "--state", st,
                          "--control", sock], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=err, text=True)
    with open(log) as f:
        frames = f.read()
    # the writer runs alone: dtcd reads while we wait for its answers
    w = threading.Thread(target=lambda: (d.stdin.write(frames),
                                         d.stdin.flush()))
    w.start()
    w.join(120)
    ready, _, _ = select.select([d.stdout], [], [], 2.0)
    check(not ready, "dtcd printed while the store was locked: %r" %
          (d.stdout.readline() if ready else ""))
    s = subprocess.run([DTCCTL, "-s", sock, "-j", "status"],
                       capture_output=True, text=True, timeout=20)
    check(s.returncode == 0 and '"frames"' in s.stdout,
          "dtcctl status while the store was locked: %s %s" %
          (s.stdout, s.stderr))
    lock.release()
    d.stdin.close()
    out = d.stdout.read().splitlines()
    rc = d.wait(60)
    err.seek(0)
    etext = err.read()
    check(rc == 0, "locked: dtcd rc %d: %s" % (rc, etext[-500:]))
    check(printed(out) == want, "locked: printed %s, without lock %s" %
          (printed(out), want))
    check(stored(st) == want, "locked: stored %s, printed %s" %
          (stored(st), printed(out)))
    check("database is locked" in etext, "locked: no reason in: %s" % etext)
    print("held lock: %d events, printed after the release; %s" %
          (len(out), etext.strip().splitlines()[0] if etext else ""))

    # (2) the file size limit: writes fail with EFBIG part way
    st = os.path.join(tmp, "full")
    create(st)
    limit = max(os.path.getsize(os.path.join(st, "dtcd.db")), 32768) + 8192

    def small():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = subprocess.run([DTCD, "--replay", log, "--json", "--state", st],
                       capture_output=True, text=True, preexec_fn=small,
                       timeout=120)
    got = printed(r.stdout.splitlines())
    check(got == stored(st), "full: printed %s, stored %s" %
          (got, stored(st)))
    check(got == want[:len(got)] and len(got) < len(want),
          "full: printed %s, a prefix of %s expected" % (got, want))
    check(r.returncode == 1 and "disk I/O error" in r.stderr and
          "never stored nor announced" in r.stderr,
          "full: rc %d, stderr %s" % (r.returncode, r.stderr[-600:]))
    print("file size limit %d: %d of %d events stored and printed" %
          (limit, len(got), len(want)))

    # (3) a new store locked by another process while dtcd creates it
    st = os.path.join(tmp, "new")
    os.makedirs(st)
    lock = Lock(os.path.join(st, "dtcd.db"))
    r = subprocess.run([DTCD, "--replay", log, "--json", "--state", st],
                       capture_output=True, text=True, timeout=60)
    lock.release()
    check(r.returncode == 1 and "database is locked" in r.stderr and
          "cannot rollback" not in r.stderr and not r.stdout,
          "locked at creation: rc %d, stdout %r, stderr %s" %
          (r.returncode, r.stdout[:200], r.stderr))

    # (4) a state directory it may not write (as root: run as nobody)
    st = os.path.join(tmp, "ro")
    create(st)
    os.chmod(tmp, 0o755)
    nobody = pwd.getpwnam("nobody")

    def drop():
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    r = subprocess.run([DTCD, "--replay", log, "--json", "--state", st],
                       capture_output=True, text=True, timeout=60,
                       preexec_fn=drop if os.getuid() == 0 else None)
    check(r.returncode == 1 and st in r.stderr and not r.stdout,
          "read-only: rc %d, stdout %r, stderr %s" %
          (r.returncode, r.stdout[:200], r.stderr))
    print("read-only state: %s" % r.stderr.strip())

    # (5) a lock held with a bound of 5 events waiting in memory: the
    # oldest low-severity ones go first, never a critical one, and a
    # "dropped" event (code QUEUE) says how many
    st = os.path.join(tmp, "bounded")
    create(st)
    cfg = os.path.join(tmp, "bounded.conf")
    with open(cfg, "w") as f:
        f.write("[dtcd]\nstore_queue_max_events = 5\n")
    lock = Lock(os.path.join(st, "dtcd.db"))
    err = open(os.path.join(tmp, "bounded.err"), "w+")
    d = subprocess.Popen([DTCD, "--replay", "-", "--json", "--state", st,
                          "-c", cfg], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=err, text=True)
    w = threading.Thread(target=lambda: (d.stdin.write(frames),
                                         d.stdin.flush()))
    w.start()
    w.join(120)
    time.sleep(2)
    lock.release()
    d.stdin.close()
    out = [json.loads(line) for line in d.stdout.read().splitlines()]
    rc = d.wait(60)
    err.seek(0)
    etext = err.read()
    drops = [e for e in out if e["event"] == "dropped"]
    kept = [(e["event"], e["code"], e["status"]) for e in out
            if e["event"] != "dropped"]
    n = sum(e["dropped"] for e in drops)
    crit = [k for k, e in zip(want, r_want) if e["severity"] == "critical"]
    low = [k for k, e in zip(want, r_want) if e["severity"] == "low"]
    check(rc == 0 and len(drops) == 1 and drops[0]["code"] == "QUEUE" and
          n == len(want) - len(kept) and n > 0,
          "bounded: rc %d, dropped %s, kept %d of %d" %
          (rc, drops, len(kept), len(want)))
    check(all(c in kept for c in crit) and not any(lo in kept for lo in low)
          and [k for k in want if k in kept] == kept,
          "bounded: kept %s of %s (critical %s, low %s)" %
          (kept, want, crit, low))
    check(stored(st) == printed(json.dumps(e) for e in out),
          "bounded: stored %s, printed %s" % (stored(st), out))
    check("reached their bound" in etext, "bounded: stderr %s" % etext)
    print("store locked, 5 events may wait: %d of %d kept (%d critical), "
          "%d dropped, reported as one event" %
          (len(kept), len(want), len(crit), n))
checks.done()
