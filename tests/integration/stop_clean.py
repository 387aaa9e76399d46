#!/usr/bin/python3
"""stop_clean.py: SIGTERM stops dtcd cleanly, as systemctl stop does.

    stop_clean.py DTCD DTCCTL DTCD_SIM SCENARIOS_DIR

1. dtcd --replay - --json --control SOCKET reading a pipe that stays open:
   SIGTERM ends it with exit 0, the events so far written, the socket
   removed.
2. dtcd live as dtcd.service runs it: a configuration with the control
   socket and MQTT (a real mosquitto on 127.0.0.1), --state DIR holding
   DTCs from an earlier replay, on an interface that does not exist (a CAN
   HAT not up yet: the loop runs all the same, and this host may have no
   AF_CAN). dtcctl clears the DTCs while the broker is down, so the
   "cleared" events wait in dtcd's memory; SIGTERM comes, the broker is back
   a second later: dtcd must drain them to it, say "offline" itself, and
   exit 0. Before the fix it aborted in libev (the loop was
   destroyed under the control socket and MQTT).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mqtt_broker import Broker, need_tools  # noqa: E402
import mqtt_broker  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, DTCCTL, SIM, SCEN = sys.argv[1:5]
TOPIC = "dtcd-stop"



def ctl_json(sock, *args):
    return checks.ctl_json(DTCCTL, sock, *args)


def await_status(sock, proc, want, seconds=20):
    """dtcctl status until want(status) or seconds pass; None on timeout"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        st = ctl_json(sock, "status")
        if st and want(st):
            return st
        time.sleep(0.1)
    return None


def stop(proc, seconds=30):
    """SIGTERM; (rc, stdout, stderr), rc None when it did not end"""
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=seconds)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err


def replay_pipe(tmp, log):
    sock = os.path.join(tmp, "replay.sock")
    with open(log) as f:
        frames = f.readlines()
    proc = subprocess.Popen([DTCD, "--replay", "-", "--json", "--control",
                             sock], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    # all the frames, the pipe left open: dtcd waits for more
    proc.stdin.writelines(frames)
    proc.stdin.flush()
    st = await_status(sock, proc, lambda s: s.get("frames") == len(frames))
    check(st is not None, "replay: dtcd never read the %d frames" %
          len(frames))
    rc, out, err = stop(proc)
    proc.stdin.close()
    check(rc == 0, "replay: SIGTERM: exit %s: %s" % (rc, err[-800:]))
    check(any('"event":"pending"' in line for line in out.splitlines()),
          "replay: the events so far are missing: %s" % out[:500])
    check(not os.path.exists(sock), "replay: %s left behind" % sock)


def live_mqtt(tmp, log):
    state = os.path.join(tmp, "state")
    seed = subprocess.run([DTCD, "--replay", log, "--json", "--state",
                           state], capture_output=True, text=True)
    codes = {json.loads(line)["code"] for line in seed.stdout.splitlines()}
    if not check(seed.returncode == 0 and codes,
                 "seeding the state: %s" % seed.stderr[-500:]):
        return
    broker = Broker(tmp)
    try:
        broker.start()
    except RuntimeError as e:
        if os.environ.get("CI") == "true":
            check(False, "mosquitto: %s" % e)
        else:
            print("stop_clean: live part skipped: %s" % e)
        return
    sock = os.path.join(tmp, "control")
    conf = os.path.join(tmp, "dtcd.conf")
    with open(conf, "w") as f:
        f.write("[dtcd]\ncontrol_socket = %s\ninterface = dtcdnone0\n"
                "[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                % (sock, broker.port, TOPIC))
    proc = subprocess.Popen([DTCD, "-d", "-c", conf, "--state", state,
                             "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    down = False
    try:
        st = await_status(sock, proc, lambda s: s.get("mqtt") == "connected")
        if not check(st is not None and st["mode"] == "live",
                     "live: no control socket with MQTT connected: %s" %
                     st):
            return
        broker.subscribe_persistent("stop-clean", TOPIC + "/#")
        # the broker goes away: what dtcd publishes now waits in its memory
        broker.stop()
        down = True
        r = subprocess.run([DTCCTL, "-s", sock, "clear"], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "live: dtcctl clear: %s" % r.stderr)
        proc.send_signal(signal.SIGTERM)
        # back within the drain's 10 s
        time.sleep(1)
        broker.start()
        down = False
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            check(False, "live: dtcd did not end after SIGTERM: %s" % err)
            return
        check(proc.returncode == 0, "live: SIGTERM: exit %d: %s" %
              (proc.returncode, err[-800:]))
        check("not acknowledged" not in err, "live: MQTT lost: %s" % err)
        check(not os.path.exists(sock), "live: %s left behind" % sock)
        cleared = [line for line in out.splitlines()
                   if json.loads(line)["event"] == "cleared"]
        check({json.loads(c)["code"] for c in cleared} == codes,
              "live: cleared %s, the state held %s" % (cleared, codes))
        got = broker.collect("stop-clean", TOPIC + "/#")
        events = mqtt_broker.as_json_lines(
            [p for t, p in got if t.endswith("/events")])
        cleared = mqtt_broker.normal(cleared)
        check(events == cleared, "live: the broker got %s, --json said %s"
              % (events, cleared))
        online = [p for t, p in got if t.endswith("/online")]
        check(online[-1:] == ["offline"], "live: online messages %s" %
              online)
        if not checks.failures:
            print("stop_clean: live: %d cleared events drained to the broker "
                  "after SIGTERM, exit 0" % len(events))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if not down:
            broker.stop()


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "demo.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "demo.ini"), "-o", log],
                   check=True)
    replay_pipe(tmp, log)
    missing = need_tools()
    if missing and os.environ.get("CI") == "true":
        check(False, "missing %s" % missing)
    elif missing:
        print("stop_clean: live part skipped: no %s" % missing)
    else:
        live_mqtt(tmp, log)
checks.done()
