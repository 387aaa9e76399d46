#!/usr/bin/python3
# mqtt_replay.py: dtcd --replay LOG --json -c CONF-WITH-MQTT against a real
# mosquitto broker: every DTC event reaches TOPIC/VIN/events as the very
# line --json writes, in order; TOPIC/VIN/status keeps the DTC list
# (retained) and TOPIC/VIN/online ends "offline" after the clean stop.
# Logs: the real E90 OBD logs (MIL "ecu" events, no VIN) and, when dtcd-sim
# is built, the demo scenario (P0303 pending then confirmed, VIN known).
# usage: mqtt_replay.py DTCD [DTCD_SIM SCENARIOS_DIR]
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_broker  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD = sys.argv[1]
SIM = sys.argv[2] if len(sys.argv) > 2 else ""
SCEN = sys.argv[3] if len(sys.argv) > 3 else ""
SHARED = os.environ["DTCD_SHARED"]
TOPIC = "fleet"



def run_case(name, log, extra, tmp, broker, n):
    client = "sub-%d" % n
    sub = broker.live(TOPIC + "/#", client)
    conf = os.path.join(tmp, "dtcd-%d.conf" % n)
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                "client_id = dtcd-test-%d\nqos = 1\n" % (broker.port, TOPIC, n))
    try:
        r = subprocess.run([DTCD, "--replay", log, "--json", "-c", conf] +
                           extra, capture_output=True, text=True, timeout=120)
        got = sub.finish()
    except (subprocess.TimeoutExpired, TimeoutError) as e:
        sub.stop()
        check(False, "%s: %s" % (name, e))
        return
    if not check(r.returncode == 0, "%s: dtcd rc %d: %s" %
                 (name, r.returncode, r.stderr[-500:])):
        return
    check("not acknowledged" not in r.stderr,
          "%s: dtcd lost messages: %s" % (name, r.stderr[-500:]))
    lines = r.stdout.splitlines()
    check(lines, "%s: the log gives no DTC event" % name)
    vins = {e["freeze_frame"].get("vin") for e in map(json.loads, lines)}
    vin = next((v for v in vins if v), "unknown")
    base = "%s/%s" % (TOPIC, vin)
    events = [p for t, p in got if t == base + "/events"]
    # the --json object plus the ids, in the same order
    try:
        events = mqtt_broker.as_json_lines(events, vin)
    except ValueError as e:
        check(False, "%s: %s" % (name, e))
    lines = mqtt_broker.normal(lines)
    check(events == lines, "%s: %d events on %s/events, %d --json lines; "
          "first difference: %s" % (name, len(events), base, len(lines),
                                    next(((a, b) for a, b in
                                          zip(events, lines) if a != b),
                                         None)))
    others = {t for t, p in got} - {base + "/events", base + "/status",
                                    base + "/online", TOPIC + "/unknown/online",
                                    TOPIC + "/unknown/status"}
    check(not others, "%s: unexpected topics %s" % (name, others))
    # what was retained before the car named itself is cleared once it has
    if vin != "unknown":
        for t in ("/online", "/status"):
            left = [p for tt, p in got if tt == TOPIC + "/unknown" + t]
            check(not left or left[-1] in ("", None),
                  "%s: %s/unknown%s left retained: %r" %
                  (name, TOPIC, t, left[-1:] if left else None))
    # a status after the events (one per event while connected; one at the
    # connection for what happened before it), with the heartbeat counters
    statuses = [json.loads(p) for t, p in got if t == base + "/status"]
    check(statuses, "%s: no status message" % name)
    for k in ("frames", "dropped", "active_detectors", "open_dtcs",
              "outbox", "last_poll", "vehicle", "dtcd_version"):
        check(statuses and k in statuses[-1],
              "%s: status without %s: %s" % (name, k, statuses[-1:]))
    ret = broker.retained(base + "/#", 2)
    check(ret.get(base + "/online") == "offline",
          "%s: retained online is %r, expected offline" %
          (name, ret.get(base + "/online")))
    status = json.loads(ret.get(base + "/status", "null"))
    if not check(status is not None, "%s: no retained status" % name):
        return
    check(status["vin"] == vin, "%s: status vin %s" % (name, status["vin"]))
    # what the events say the DTCs are now: the last event per code
    last = {}
    for e in map(json.loads, lines):
        if e["event"] != "ecu":
            last[e["code"]] = e
    want = {c: (e["status"], e["occurrences"]) for c, e in last.items()
            if e["event"] in ("pending", "confirmed")}
    have = {d["code"]: (d["status"], d["occurrences"]) for d in status["dtcs"]}
    check(have == want, "%s: retained status lists %s, the events say %s" %
          (name, have, want))
    print("%s: %d events, %d messages" % (name, len(lines), len(got)))


def clear_case(tmp, broker, log):
    """dtcd --clear with MQTT configured: the broker hears the cleared code
    as the --json line, and only the code that had a fault"""
    state = os.path.join(tmp, "state-clear")
    subprocess.run([DTCD, "--replay", log, "--state", state], check=True,
                   capture_output=True, timeout=120)
    sub = broker.live(TOPIC + "/#", "sub-clear")
    conf = os.path.join(tmp, "dtcd-clear.conf")
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                "client_id = dtcd-test-clear\nqos = 1\n" % (broker.port, TOPIC))
    try:
        r = subprocess.run([DTCD, "--clear", "--state", state, "--json", "-c",
                            conf], capture_output=True, text=True, timeout=60)
        got = sub.finish()
    except (subprocess.TimeoutExpired, TimeoutError) as e:
        sub.stop()
        check(False, "clear: %s" % e)
        return
    lines = r.stdout.splitlines()
    events = [p for t, p in got if t.endswith("/events")]
    check(r.returncode == 0 and [(json.loads(l)["event"], json.loads(l)["code"])
                                 for l in lines] == [("cleared", "P0303")],
          "clear: dtcd rc %d wrote %s" % (r.returncode, lines))
    events = mqtt_broker.as_json_lines(events)
    lines = mqtt_broker.normal(lines)
    check(events == lines, "clear: the broker got %s, --json wrote %s" %
          (events, lines))
    print("clear: %d events, %d messages" % (len(lines), len(got)))


with tempfile.TemporaryDirectory() as tmp:
    broker = mqtt_broker.Broker(tmp)
    broker.start()
    try:
        n = 0
        for log in sorted(glob.glob(os.path.join(
                SHARED, "data/real/bmw-e90-obd/*.log"))):
            n += 1
            run_case(os.path.basename(log), log,
                     ["--profile", "obd2-generic"], tmp, broker, n)
        demo = os.path.join(SCEN, "demo.ini") if SCEN else ""
        if SIM and os.path.exists(demo):
            log = os.path.join(tmp, "demo.log")
            subprocess.run([SIM, "-s", demo, "-o", log], check=True)
            n += 1
            run_case("demo.ini", log, [], tmp, broker, n)
            clear_case(tmp, broker, log)
        else:
            print("no dtcd-sim or scenarios: demo case skipped")
    finally:
        broker.stop()
checks.done()
