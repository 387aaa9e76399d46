#!/usr/bin/python3
# control_pipe.py: dtcd --replay - --control SOCKET reads frames from a pipe
# and answers dtcctl meanwhile: list (the DTC with the pending event's
# first failure and freeze frame), signals (the last value of each signal
# as --signals wrote it), clear (a "cleared" event, an empty list), status
# (every frame fed), errors; closing the pipe ends dtcd and removes the
# socket.
# usage: control_pipe.py DTCD DTCCTL DTCD_SIM SCENARIOS_DIR
import json
import os
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM, SCEN = sys.argv[1:5]


def ctl(sock, *args):
    return subprocess.run([DTCCTL, "-s", sock] + list(args),
                          capture_output=True, text=True, timeout=30)


def ctl_json(sock, *args):
    r = ctl(sock, "-j", *args)
    if not check(r.returncode == 0, "dtcctl -j %s: rc %d %s" %
                 (" ".join(args), r.returncode, r.stderr)):
        return {}
    return json.loads(r.stdout)


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "demo.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "demo.ini"), "-o", log],
                   check=True)
    with open(log) as f:
        frames = f.readlines()
    # up to the frame before the second event (P0303 confirmed)
    full = subprocess.run([DTCD, "--replay", log, "--json"],
                          capture_output=True, text=True, check=True)
    events = [json.loads(line) for line in full.stdout.splitlines()]
    check(len(events) >= 2, "the demo gives %d events" % len(events))
    cut = events[1]["ts"]
    part = [f for f in frames if float(f[1:f.index(")")]) < cut]
    part_log = os.path.join(tmp, "part.log")
    with open(part_log, "w") as f:
        f.writelines(part)
    sock = os.path.join(tmp, "control")
    r = ctl(sock, "status")
    check(r.returncode == 1 and sock in r.stderr,
          "dtcctl without dtcd: rc %d %r" % (r.returncode, r.stderr))

    dtcd = subprocess.Popen([DTCD, "--replay", "-", "--json", "--control",
                             sock], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        dtcd.stdin.writelines(part)
        dtcd.stdin.flush()
        pending = json.loads(dtcd.stdout.readline())
        check(pending["event"] == "pending", "first event %s" % pending)
        # dtcd reads the pipe at its own pace: wait until it has it all
        deadline = time.monotonic() + 60
        while True:
            st = ctl_json(sock, "status")
            if st.get("frames") == len(part) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        check(st.get("frames") == len(part), "status: %s frames, %d fed" %
              (st.get("frames"), len(part)))
        check(st.get("mode") == "replay" and st.get("source") == "-" and
              st.get("profile") == "bmw-reference" and st.get("dtcs") == 1,
              "status %s" % st)

        lst = ctl_json(sock, "list")
        dtcs = {d["code"]: d for d in lst.get("dtcs", [])}
        d = dtcs.get(pending["code"])
        if check(d is not None and len(dtcs) == 1,
                 "list %s, pending event %s" % (list(dtcs), pending["code"])):
            check(d["first_failure"] == pending["ts"] and
                  d["occurrences"] == pending["occurrences"] and
                  d["status"] & 0x04 and not d["status"] & 0x08 and
                  d["freeze_frame"] == pending["freeze_frame"],
                  "list entry %s vs pending event %s" % (d, pending))
        check(len(ctl_json(sock, "list", "all")["dtcs"]) > 1,
              "list all: only the current DTCs")
        r = ctl(sock, "list")
        check(r.returncode == 0 and pending["code"] in r.stdout and
              "pendingDTC" in r.stdout, "dtcctl list: %s" % r.stdout)

        # show CODE: that DTC whole, each status bit by name, the advice
        code = pending["code"]
        r = ctl(sock, "show", code.lower())
        st = d["status"] if d else 0
        check(r.returncode == 0 and r.stdout.startswith(code) and
              "bit 2 pendingDTC" in r.stdout and
              ("bit 3 confirmedDTC" in r.stdout) and
              all(("%s" % ("yes" if st & (1 << b) else "no")) in
                  [l.split()[-1] for l in r.stdout.splitlines()
                   if l.strip().startswith("bit %d " % b)]
                  for b in range(8)) and
              "driver: " in r.stdout and "action: " in r.stdout and
              "freeze frame:" in r.stdout,
              "dtcctl show %s: %s" % (code, r.stdout))
        shown = ctl_json(sock, "show", code)
        check(shown.get("code") == code and shown.get("advice") and
              shown.get("freeze_frame") == pending["freeze_frame"] and
              shown.get("first_failure") == pending["ts"],
              "dtcctl -j show %s: %s" % (code, shown))
        r = ctl(sock, "show", "P1234")
        check(r.returncode == 1 and "knows no DTC P1234" in r.stderr,
              "show of an unknown code: rc %d %r" % (r.returncode, r.stderr))

        # the last value of every signal, as --signals wrote its changes
        sig = subprocess.run([DTCD, "--replay", part_log, "--signals"],
                             capture_output=True, text=True, check=True)
        last = {}
        for line in sig.stdout.splitlines():
            s = json.loads(line)
            last[s["signal"]] = (s["value"], s["src"])
        have = {s["signal"]: (s["value"], s["src"])
                for s in ctl_json(sock, "signals")["signals"]}
        check(have == last, "signals differ from --signals: %s" %
              {k: (have.get(k), last.get(k)) for k in set(have) | set(last)
               if have.get(k) != last.get(k)})
        r = ctl(sock, "signals")
        check(r.returncode == 0 and "engine_speed_rpm" in r.stdout,
              "dtcctl signals: %s" % r.stdout[:300])

        r = ctl(sock, "clear", "P0999")
        check(r.returncode == 1 and "unknown DTC" in r.stderr,
              "clear P0999: rc %d %r" % (r.returncode, r.stderr))
        r = ctl(sock, "clear", pending["code"])
        check(r.returncode == 0 and r.stdout.strip() == "cleared " +
              pending["code"], "clear: rc %d %r %r" %
              (r.returncode, r.stdout, r.stderr))
        cleared = json.loads(dtcd.stdout.readline())
        check(cleared["event"] == "cleared" and
              cleared["code"] == pending["code"], "after clear: %s" % cleared)
        check(ctl_json(sock, "list")["dtcs"] == [], "list after clear")
        r = ctl(sock, "frobnicate")
        check(r.returncode == 2, "dtcctl frobnicate: rc %d" % r.returncode)

        dtcd.stdin.close()
        rest = dtcd.stdout.read()
        rc = dtcd.wait(60)
        err = dtcd.stderr.read()
        check(rc == 0, "dtcd rc %d: %s" % (rc, err[-500:]))
        check(not os.path.exists(sock), "socket left behind")
        print("control: %d frames, events %s, then %d bytes more" %
              (len(part), [pending["event"], cleared["event"]], len(rest)))
    finally:
        if dtcd.poll() is None:
            dtcd.kill()
            dtcd.wait()
checks.done()
