#!/usr/bin/python3
# loop_replay_formats.py: the replay inside the event loop (--control) reads
# Vector ASC and BLF as well as candump, chosen by content: the same drive
# from dtcd-sim as candump, ASC and BLF (and BLF on stdin redirected from
# the file, and under a name that says nothing) gives the events of the
# blocking replay of the candump log; dtcctl is answered while it reads.
# Args: dtcd dtcctl dtcd-sim
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM = sys.argv[1:4]


def key(out):
    return [(e["event"], e["code"], e["ts"])
            for e in map(json.loads, out.splitlines())]


def same(a, b):
    """ASC and BLF give the start to the ms: the times within 1 ms"""
    return len(a) == len(b) and all(
        x[:2] == y[:2] and abs(x[2] - y[2]) < 0.0011 for x, y in zip(a, b))


with tempfile.TemporaryDirectory() as tmp:
    ini = os.path.join(tmp, "s.ini")
    with open(ini, "w") as f:
        f.write("[sim]\nseed = 5\nstart_time = 1718000000\ncycles = 2\n"
                "\n[fault v]\ntype = vanos\ncamshaft = intake\n"
                "start_s = 120\n")
    logs = {}
    for ext in ("log", "asc", "blf"):
        logs[ext] = os.path.join(tmp, "drive." + ext)
        subprocess.run([SIM, "-s", ini, "-o", logs[ext]], check=True)
    # ASC and BLF are ms-exact in their start: compare to the ms
    ref = subprocess.run([DTCD, "--replay", logs["log"], "--json"],
                         capture_output=True, text=True, check=True)
    want = key(ref.stdout)
    check(any(c == "P0011" for _, c, _ in want), "no P0011: %s" % want)
    anon = os.path.join(tmp, "drive.bin")
    shutil.copy(logs["blf"], anon)
    runs = [(ext, logs[ext], None) for ext in logs]
    runs += [("blf as drive.bin", anon, None), ("blf on stdin", "-",
                                                logs["blf"])]
    for name, path, stdin in runs:
        sock = os.path.join(tmp, "ctl")
        inp = open(stdin, "rb") if stdin else subprocess.DEVNULL
        p = subprocess.Popen([DTCD, "--replay", path, "--json",
                              "--control", sock], stdin=inp,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        answered = 0
        while p.poll() is None:
            r = subprocess.run([DTCCTL, "-s", sock, "-j", "status"],
                               capture_output=True, text=True)
            if r.returncode == 0 and json.loads(r.stdout).get("frames"):
                answered += 1
            time.sleep(0.005)
        out, err = p.communicate()
        if stdin:
            inp.close()
        check(p.returncode == 0 and err == "", "%s: rc %d %s" %
              (name, p.returncode, err[-300:]))
        got = key(out)
        check(same(got, want), "%s in the loop: %s, candump blocking %s" %
              (name, got, want))
        check(answered > 0, "%s: dtcctl never answered during the replay" %
              name)
        print("%-18s %d events as the candump replay, %d answers from "
              "dtcctl meanwhile" % (name, len(got), answered))

checks.done()
