#!/usr/bin/python3
# mqtt_outbox.py: the persistent outbox against a real mosquitto.
# (1) The broker is down; dtcd --state reads a multi-fault drive from a
#     pipe, prints its events (committed) and is SIGKILLed: every event is
#     in the store's outbox. Restarted on the same --state with the broker
#     up and a second drive: the subscriber gets the old events first, then
#     the new ones, each once, event_id growing by one, as the store has
#     them. Home Assistant discovery is on: the retained config topics are
#     checked against HA's MQTT discovery schema.
# (2) The broker is stopped mid-run and started again: every event once,
#     in order.
# (3) An outbox bounded at 4 events while the broker is down: the critical
#     events stay, the low-severity one goes first, a "dropped" event says so.
# usage: mqtt_outbox.py DTCD DTCD_SIM SCENARIO.ini
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_broker  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM, SCEN = sys.argv[1:4]
TOPIC = "fleet"


def outbox(state):
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    rows = [(i, json.loads(p)) for i, p in
            db.execute("SELECT event_id, payload FROM outbox ORDER BY 1")]
    db.close()
    return rows


def stored_ids(state):
    db = sqlite3.connect(os.path.join(state, "dtcd.db"))
    ids = [r[0] for r in db.execute("SELECT event_id FROM event ORDER BY id")]
    db.close()
    return ids


def conf(tmp, name, port, extra=""):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                "client_id = dtcd-%s\nheartbeat_s = 1\n%s" %
                (port, TOPIC, name, extra))
    return path


def start(state, cfg, name, tmp):
    return subprocess.Popen([DTCD, "--replay", "-", "--json", "--state",
                             state, "-c", cfg], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE,
                            stderr=open(os.path.join(tmp, name + ".err"),
                                        "w"), text=True)


def read_events(d, n):
    return [json.loads(d.stdout.readline()) for _ in range(n)]


def ids_of(got):
    return [json.loads(p)["event_id"] for t, p in got
            if t.endswith("/events")]


# Home Assistant's MQTT discovery (home-assistant.io/integrations/mqtt):
# <prefix>/<component>/[<node_id>/]<object_id>/config, ids of
# [a-zA-Z0-9_-]; the keys each component takes (the ones dtcd uses)
HA_TOPIC = re.compile(r"^homeassistant/(sensor|binary_sensor)/"
                      r"([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/config$")
HA_KEYS = {"name", "unique_id", "state_topic", "value_template",
           "availability_topic", "payload_available", "payload_not_available",
           "device", "json_attributes_topic", "device_class", "payload_on",
           "payload_off"}
HA_DEVICE = {"identifiers", "name", "manufacturer", "model", "sw_version"}
HA_REQUIRED = {"sensor": {"state_topic"},
               "binary_sensor": {"state_topic"}}


def check_ha(broker, vin):
    ret = broker.retained("homeassistant/#", 7)
    comps = {}
    for t, p in ret.items():
        m = HA_TOPIC.match(t)
        if not check(m, "HA: topic %s is not a discovery topic" % t):
            continue
        c = json.loads(p)
        comps.setdefault(m.group(1), []).append(c)
        check(set(c) <= HA_KEYS, "HA %s: keys not in the schema: %s" %
              (t, set(c) - HA_KEYS))
        check(HA_REQUIRED[m.group(1)] <= set(c), "HA %s: lacks %s" %
              (t, HA_REQUIRED[m.group(1)] - set(c)))
        check(c.get("unique_id") and set(c.get("device", {})) <= HA_DEVICE
              and c["device"].get("identifiers"),
              "HA %s: unique_id/device %s" % (t, c))
        check(c.get("availability_topic") == "%s/%s/online" % (TOPIC, vin),
              "HA %s: availability %s" % (t, c.get("availability_topic")))
        if m.group(1) == "binary_sensor":
            check(c.get("device_class") == "problem",
                  "HA %s: device_class %s" % (t, c.get("device_class")))
            st = broker.retained(c["state_topic"], 1).get(c["state_topic"])
            s = json.loads(st) if st else {}
            check(s.get("state") in ("ON", "OFF") and
                  c.get("json_attributes_topic") == c["state_topic"],
                  "HA %s: state %s" % (t, st))
            if c["unique_id"].endswith("_misfire"):
                check(s.get("state") == "ON" and s.get("code") == "P0302" and
                      s.get("severity") == "high" and s.get("action"),
                      "HA misfire: %s" % st)
    uids = [c["unique_id"] for cs in comps.values() for c in cs]
    check(len(uids) == len(set(uids)) == 7,
          "HA: %d entities, unique ids %s" % (len(uids), uids))
    check(len(comps.get("sensor", [])) == 1 and
          len(comps.get("binary_sensor", [])) == 6,
          "HA: components %s" % {k: len(v) for k, v in comps.items()})
    return len(uids)


with tempfile.TemporaryDirectory() as tmp:
    log1, log2 = os.path.join(tmp, "d1.log"), os.path.join(tmp, "d2.log")
    subprocess.run([SIM, "-s", SCEN, "-o", log1], check=True)
    subprocess.run([SIM, "-s", SCEN, "-o", log2], check=True)
    frames1 = open(log1).read()
    n1 = len(subprocess.run([DTCD, "--replay", log1, "--json"],
                            capture_output=True, text=True,
                            check=True).stdout.splitlines())
    broker = mqtt_broker.Broker(tmp)

    # (1) killed with events waiting, the broker down
    st = os.path.join(tmp, "state1")
    d = start(st, conf(tmp, "kill", broker.port,
                       "homeassistant = yes\n"), "kill", tmp)
    d.stdin.write(frames1)
    d.stdin.flush()
    first = read_events(d, n1)
    d.kill()
    d.wait()
    ob = outbox(st)
    check([i for i, _ in ob] == stored_ids(st) and len(ob) == n1,
          "after SIGKILL: outbox %s, events %s" % ([i for i, _ in ob],
                                                   stored_ids(st)))
    broker.start()
    sub = broker.live(TOPIC + "/#", "operator1")
    r = subprocess.run([DTCD, "--replay", log2, "--json", "--state", st,
                        "-c", conf(tmp, "kill", broker.port,
                                   "homeassistant = yes\n")],
                       capture_output=True, text=True, timeout=120)
    got = sub.finish()
    ids = ids_of(got)
    check(r.returncode == 0, "restart: rc %d %s" % (r.returncode, r.stderr))
    check(ids == stored_ids(st) and len(ids) > n1 and
          ids == list(range(ids[0], ids[0] + len(ids))),
          "restart: the broker got event_ids %s, the store has %s" %
          (ids, stored_ids(st)))
    sent = [(json.loads(p)["event"], json.loads(p)["code"]) for t, p in got
            if t.endswith("/events")]
    check(sent[:n1] == [(e["event"], e["code"]) for e in first],
          "restart: first %s, before the kill %s" % (sent[:n1], first))
    check(outbox(st) == [], "restart: outbox left %s" % outbox(st))
    print("SIGKILL with %d events waiting, restart: %d events, each once, "
          "in event_id order" % (n1, len(ids)))
    vin = next((e["freeze_frame"]["vin"] for e in first
                if e.get("freeze_frame", {}).get("vin")), "unknown")
    nha = check_ha(broker, vin)
    print("Home Assistant: %d retained discovery configs" % nha)

    # (2) the broker restarted mid-run
    st = os.path.join(tmp, "state2")
    # a persistent session: the broker keeps for it across its restart
    broker.subscribe_persistent("operator2", TOPIC + "/+/events")
    d = start(st, conf(tmp, "restart", broker.port), "restart", tmp)
    half = len(frames1) // 2
    half = frames1.rfind("\n", 0, half) + 1
    d.stdin.write(frames1[:half])
    d.stdin.flush()
    time.sleep(1)
    broker.stop()
    d.stdin.write(frames1[half:])
    d.stdin.flush()
    time.sleep(1)
    broker.start()
    d.stdin.close()
    out = d.stdout.read().splitlines()
    rc = d.wait(60)
    got = broker.collect("operator2", TOPIC + "/+/events")
    ids = ids_of(got)
    dedup = sorted(set(ids))
    check(rc == 0 and dedup == stored_ids(st) and len(out) == len(dedup),
          "broker restart: rc %d, got %s, stored %s, printed %d" %
          (rc, ids, stored_ids(st), len(out)))
    print("broker restarted mid-run: %d events, %d duplicates" %
          (len(dedup), len(ids) - len(dedup)))

    # (3) a bounded outbox while the broker is down
    broker.stop()
    st = os.path.join(tmp, "state3")
    r = subprocess.run([DTCD, "--replay", log1, "--json", "--state", st,
                        "-c", conf(tmp, "bound", broker.port,
                                   "outbox_max_events = 4\n")],
                       capture_output=True, text=True, timeout=120)
    ev = [json.loads(line) for line in r.stdout.splitlines()]
    ob = [p for _, p in outbox(st)]
    crit = [(e["event"], e["code"]) for e in ev
            if e["severity"] == "critical"]
    check(crit and all((p["event"], p["code"]) in
                       [(o["event"], o["code"]) for o in ob] for p in
                       [{"event": a, "code": b} for a, b in crit]),
          "bound: critical %s not all kept in %s" % (crit, ob))
    check(not [p for p in ob if p["severity"] == "low"],
          "bound: a low-severity event kept: %s" % ob)
    drops = [e for e in ev if e["event"] == "dropped"]
    check(drops and sum(e["dropped"] for e in drops) > 0 and
          "outbox full" in r.stderr,
          "bound: no dropped event: %s %s" % (ev, r.stderr[-300:]))
    print("outbox bounded at 4: %d events, %d dropped in %d reports, "
          "%d kept (%d critical)" % (len(ev) - len(drops),
                                     sum(e["dropped"] for e in drops),
                                     len(drops), len(ob), len(crit)))
checks.done()
