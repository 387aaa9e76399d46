# simrun.py: what the end-to-end tests share: write a scenario, run
# dtcd-sim and dtcd --replay, read JSON events, the store and the truth CSV.
import json
import os
import sqlite3
import subprocess

# the UDS status bits of ISO 14229-1 (spec section 3), by name
TF = 0x01      # testFailed
TFTOC = 0x02   # testFailedThisOperationCycle
PDTC = 0x04    # pendingDTC
CDTC = 0x08    # confirmedDTC
TNCSLC = 0x10  # testNotCompletedSinceLastClear
TFSLC = 0x20   # testFailedSinceLastClear
TNCTOC = 0x40  # testNotCompletedThisOperationCycle
WIR = 0x80     # warningIndicatorRequested

BIT_NAMES = [(TF, "TF"), (TFTOC, "TFTOC"), (PDTC, "PDTC"), (CDTC, "CDTC"),
             (TNCSLC, "TNCSLC"), (TFSLC, "TFSLC"), (TNCTOC, "TNCTOC"),
             (WIR, "WIR")]


def bits(status):
    """0x27 -> '0x27 (TF|TFTOC|PDTC|TFSLC)', for messages"""
    return "0x%02X (%s)" % (status, "|".join(
        n for b, n in BIT_NAMES if status & b) or "-")


def write_ini(path, sections):
    """sections: list of (name, {key: value}) in order"""
    with open(path, "w") as f:
        for name, keys in sections:
            f.write("[%s]\n" % name)
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    return path


def sim(sim_bin, ini, log, truth=None, extra=()):
    args = [sim_bin, "-s", ini, "-o", log] + list(extra)
    if truth:
        args += ["--truth", truth]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("dtcd-sim %s: rc %d: %s" %
                           (ini, r.returncode, r.stderr[:500]))


def parse_events(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def dtcd(dtcd_bin, args, stdin=None):
    """runs dtcd ARGS; returns its JSON events (raises on a failure)"""
    r = subprocess.run([dtcd_bin] + list(args), capture_output=True,
                       text=True, stdin=stdin)
    if r.returncode != 0:
        raise RuntimeError("dtcd %s: rc %d: %s" %
                           (" ".join(args), r.returncode, r.stderr[:500]))
    return parse_events(r.stdout)


def replay(dtcd_bin, log, state=None, extra=()):
    args = ["--replay", log, "--json"] + list(extra)
    if state:
        args += ["--state", state]
    return dtcd(dtcd_bin, args)


def ours(events):
    """events of our own detectors (not what ECUs say themselves)"""
    return [e for e in events if e["detector"] != "ecu"]


def brief(events, t0=0.0):
    return ", ".join("%s %s %s @%.1f" % (e["event"], e["code"],
                                        bits(e["status"]), e["ts"] - t0)
                     for e in events) or "no events"


def store(state):
    path = os.path.join(state, "dtcd.db")
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    return con


def store_dtc(state, code):
    with store(state) as con:
        row = con.execute("SELECT * FROM dtc WHERE code = ?",
                          (code,)).fetchone()
        return dict(row) if row else None


def store_counter(state, name):
    with store(state) as con:
        row = con.execute("SELECT value FROM counter WHERE name = ?",
                          (name,)).fetchone()
        return row[0] if row else None


def read_truth(path, wanted):
    """{signal: [(ts, value), ...]} of the truth CSV for the wanted signals"""
    out = {s: [] for s in wanted}
    with open(path) as f:
        next(f)
        for line in f:
            ts, _, sig, val = line.rstrip("\n").split(",", 3)
            if sig in out:
                out[sig].append((float(ts), float(val)))
    return out


class Checker:
    """collects failures; every check says what it saw"""

    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
            print("FAIL:", what)
        return ok

    def done(self):
        if self.failures:
            print("%d check(s) failed" % len(self.failures))
            return 1
        print("all checks passed")
        return 0


def on_pty(argv, stdout_path=os.devnull):
    """runs argv with stderr (and stdin) on a pseudo-terminal, stdout to
    stdout_path: (exit code, what the terminal got)"""
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                1)
        os.execv(argv[0], argv)
    got = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), got.decode(errors="replace")
