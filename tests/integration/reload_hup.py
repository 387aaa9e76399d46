#!/usr/bin/python3
"""reload_hup.py: SIGHUP reads dtcd.conf and the profile again, keeps DTCs.

    reload_hup.py DTCD DTCCTL DTCD_SIM SCENARIOS_DIR

dtcd --state DIR holding DTCs from a replay of the demo scenario runs live as
dtcd.service does (-c dtcd.conf with the control socket, on two
interfaces that do not exist: this host may have no AF_CAN, the loop runs
all the same). Then:
1. a dtcd.conf with a bad value, SIGHUP: refused with FILE:LINE, the
   running profile kept (dtcctl status);
2. a profile with a bad [poll] entry, SIGHUP: refused with FILE:LINE;
3. a good dtcd.conf naming another profile, SIGHUP: dtcctl status shows
   it, dtcctl list the same DTCs as before;
4. SIGTERM: exit 0.
(The same on a real bus, with polling, is in poll_vcan.sh.)
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM, SCEN = sys.argv[1:5]



def ctl(sock, *args):
    return checks.ctl_json(DTCCTL, sock, *args)


def conf(path, sock, profile, extra=""):
    with open(path, "w") as f:
        f.write(f"[dtcd]\nprofile = {profile}\ncontrol_socket = {sock}\n"
                f"poll = yes\n{extra}")


def await_err(errpath, pattern, n, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(re.findall(pattern, open(errpath).read())) >= n:
            return True
        time.sleep(0.1)
    return False


with tempfile.TemporaryDirectory() as tmp:
    st = os.path.join(tmp, "st")
    sock = os.path.join(tmp, "control")
    cfg = os.path.join(tmp, "dtcd.conf")
    errpath = os.path.join(tmp, "err")
    etc = os.environ.get("DTCD_ETC_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "etc")
    log = os.path.join(tmp, "demo.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "demo.ini"), "-o", log],
                   check=True)
    r = subprocess.run([DTCD, "--replay", log, "--state", st],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"the replay: {r.stderr}")
    prof = os.path.join(tmp, "other.ini")
    with open(os.path.join(etc, "profiles", "bmw-reference.ini")) as f:
        text = f.read()
    text = text.replace("name = bmw-reference", "name = other")
    text = text.replace("file = ../dbc/",
                        "file = " + os.path.abspath(etc) + "/dbc/")
    with open(prof, "w") as f:
        f.write(text)
    conf(cfg, sock, "bmw-reference")
    with open(errpath, "w") as err:
        proc = subprocess.Popen([DTCD, "-d", "-c", cfg, "--state", st,
                                 "-i", "nocan0", "-i", "nocan1", "--json"],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        ok = await_err(errpath, r"nocan1: cannot open", 1)
        check(ok, "dtcd did not try both interfaces")
        s0 = ctl(sock, "status")
        before = {d["code"] for d in (ctl(sock, "list") or {}).get(
            "dtcs", [])}
        check(s0 and s0["profile"] == "bmw-reference" and
              s0["interface"] == "nocan0,nocan1", f"status: {s0}")
        check(before, "no DTCs from the replay in the store")

        # 1. a bad value in dtcd.conf
        conf(cfg, sock, "bmw-reference", "tick_ms = fast\n")
        proc.send_signal(signal.SIGHUP)
        check(await_err(errpath, re.escape(cfg) +
                        r":5: tick_ms: expected .*got 'fast'; keeping the "
                        "running configuration", 1),
              "a bad dtcd.conf not refused with FILE:LINE")
        check((ctl(sock, "status") or {}).get("profile") == "bmw-reference",
              "the profile changed on a bad dtcd.conf")

        # 2. a profile asking for a write
        bad = os.path.join(tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write(text.replace("[poll]\n", "[poll]\nwrite = bmw:12 2E "
                                 "5A20 00 @ 1Hz\n"))
        n = text.split("[poll]\n")[0].count("\n") + 2
        conf(cfg, sock, bad)
        proc.send_signal(signal.SIGHUP)
        check(await_err(errpath, re.escape(bad) + f":{n}: .*2E", 1),
              f"the profile asking 2E not refused with {bad}:{n}")
        check(await_err(errpath, "keeping the running configuration and "
                        "profile", 1), "the bad profile: not kept")
        check((ctl(sock, "status") or {}).get("profile") == "bmw-reference",
              "the profile changed on a bad profile")

        # 3. a good one
        conf(cfg, sock, prof)
        proc.send_signal(signal.SIGHUP)
        check(await_err(errpath, "profile other .* loaded; DTC state kept",
                        1), "the new profile not said")
        s1 = ctl(sock, "status")
        after = {d["code"] for d in (ctl(sock, "list") or {}).get(
            "dtcs", [])}
        check(s1 and s1["profile"] == "other", f"status after: {s1}")
        check(after == before, f"DTCs before {before}, after {after}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
    check(rc == 0, f"exit {rc} on SIGTERM")
    if checks.failures:
        print(open(errpath).read())

print("reload_hup:", "FAIL" if checks.failures else "OK")
checks.done("reload_hup: ")
