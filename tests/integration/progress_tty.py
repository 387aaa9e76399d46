#!/usr/bin/python3
# progress_tty.py: a long replay of one log shows its progress when stderr
# is a terminal (a pty here): percent of the file rising to 100 %, frames
# per second, time left; nothing with -q, nothing when stderr is a pipe;
# stdout (the events) is the same either way.
# Args: dtcd dtcd-sim
import os
import re
import subprocess
import sys
import tempfile
import time

import simrun
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM = sys.argv[1:3]


def run_pty(args, out_path):
    """dtcd with stderr on a pty: exit code, the terminal's text, stdout"""
    rc, err = simrun.on_pty([DTCD] + args, out_path)
    with open(out_path) as f:
        return rc, err, f.read()


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "long.log")
    # --signals (a line per value change) and a log long enough that the
    # replay lasts over a second however fast this machine is: the first
    # update comes after 0.2 s, then one every 0.5 s
    frames = 1500000
    while True:
        subprocess.run([SIM, "-s",
                        os.path.join(os.environ["DTCD_SOURCE_ROOT"],
                                     "tests/scenarios/vanos.ini"),
                        "--frames", str(frames), "-o", log], check=True)
        t0 = time.monotonic()
        piped = subprocess.run([DTCD, "--replay", log, "--signals"],
                               capture_output=True, text=True)
        took = time.monotonic() - t0
        if took >= 1.2 or frames >= 12000000:
            break
        frames = min(12000000, int(frames * 1.5 / max(took, 0.05)))
    print("%d frames, %.2f s piped" % (frames, took))
    check(piped.returncode == 0 and piped.stderr == "",
          "into a pipe: rc %d, stderr %r" % (piped.returncode,
                                             piped.stderr[-200:]))
    rc, err, out = run_pty(["--replay", log, "--signals"],
                          os.path.join(tmp, "out1"))
    lines = re.findall(r"(\d+)% of 1 file, (\d+) frames/s, (\d+) s left",
                       err)
    check(rc == 0 and out == piped.stdout, "on a pty: rc %d, events "
          "differ from the piped run" % rc)
    check(len(lines) >= 2 and lines[-1][0] == "100" and
          all(int(fps) > 0 for _, fps, _ in lines[1:]) and
          [int(p) for p, _, _ in lines] == sorted(int(p) for p, _, _ in
                                                  lines) and
          err.endswith("\n"), "progress on a pty: %r" % err[-300:])
    print("on a terminal: %d progress updates, last %r" %
          (len(lines), lines[-1] if lines else None))
    rc, err, out = run_pty(["--replay", log, "--signals", "-q"],
                          os.path.join(tmp, "out2"))
    check(rc == 0 and err == "" and out == piped.stdout,
          "-q on a pty: rc %d, %r" % (rc, err[-200:]))
    print("-q: nothing; into a pipe: nothing")

checks.done()
