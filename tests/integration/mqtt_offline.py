#!/usr/bin/python3
# mqtt_offline.py: the car has no connection when dtcd starts. dtcd reads a
# log from a pipe (as a live bus through "candump -L can0 | dtcd"), DTC
# events happen while no broker runs, the broker comes up later: every event
# still reaches it, in order, and the retained status is the final list.
# The subscriber's persistent session (QoS 1) is made before, so the broker
# keeps for it what dtcd sends whenever it gets through.
# usage: mqtt_offline.py DTCD DTCD_SIM SCENARIOS_DIR
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_broker  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM, SCEN = sys.argv[1:4]
TOPIC = "fleet"


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "demo.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "demo.ini"), "-o", log],
                   check=True)
    with open(log) as f:
        frames = f.readlines()
    broker = mqtt_broker.Broker(tmp)
    broker.start()
    broker.subscribe_persistent("fleet-operator", TOPIC + "/#")
    broker.stop()
    conf = os.path.join(tmp, "dtcd.conf")
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n" %
                (broker.port, TOPIC))
    dtcd = subprocess.Popen([DTCD, "--replay", "-", "--json", "-c", conf],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=open(os.path.join(tmp, "dtcd.err"), "w"),
                            text=True)
    try:
        # the first part: dtcd writes the pending event, no broker runs
        half = len(frames) * 3 // 4
        dtcd.stdin.writelines(frames[:half])
        dtcd.stdin.flush()
        first = dtcd.stdout.readline()
        check(first and json.loads(first)["event"] == "pending",
              "no pending event from the first part: %r" % first)
        broker.start()
        dtcd.stdin.writelines(frames[half:])
        dtcd.stdin.close()
        rest = dtcd.stdout.read().splitlines()
        rc = dtcd.wait(120)
        with open(os.path.join(tmp, "dtcd.err")) as f:
            err = f.read()
        check(rc == 0, "dtcd rc %d: %s" % (rc, err[-500:]))
        check("unreachable" in err or "refused" in err.lower(),
              "dtcd did not notice the missing broker: %s" % err[-500:])
        lines = [first.rstrip("\n")] + rest
        check(len(lines) >= 2, "expected pending and confirmed: %s" % lines)
        got = broker.collect("fleet-operator", TOPIC + "/#")
        vin = json.loads(lines[0])["freeze_frame"].get("vin", "unknown")
        base = "%s/%s" % (TOPIC, vin)
        events = mqtt_broker.as_json_lines(
            [p for t, p in got if t == base + "/events"], vin)
        lines = mqtt_broker.normal(lines)
        check(events == lines, "events on %s/events %s, --json %s" %
              (base, events, lines))
        ret = broker.retained(base + "/#", 2)
        status = json.loads(ret.get(base + "/status", "null") or "null")
        last = json.loads(lines[-1])
        check(status and [(d["code"], d["status"]) for d in status["dtcs"]] ==
              [(last["code"], last["status"])],
              "retained status %s, last event %s" % (status, last))
        check(ret.get(base + "/online") == "offline",
              "retained online %r" % ret.get(base + "/online"))
        print("%d events while the broker was down or up, %d messages" %
              (len(lines), len(got)))
    finally:
        if dtcd.poll() is None:
            dtcd.kill()
            dtcd.wait()
        broker.stop()
checks.done()
