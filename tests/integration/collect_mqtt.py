#!/usr/bin/python3
# collect_mqtt.py: dtc-collect against a real mosquitto and real dtcd
# replays: every event of a multi-fault drive stored once in the SQLite
# file, as the --json line it extends; the DTC list and the online state per
# vehicle; a duplicate (same vehicle, event_id) stored once; a bad payload
# rejected with its reason; a burst of 8 cars with every event sent twice
# stored once each; killed mid-burst, at most one batch lost after the
# restart; a drive published while the collector is down
# (SIGKILL) is stored after its restart (persistent session, QoS 1).
# usage: collect_mqtt.py DTC_COLLECT DTCD DTCD_SIM SCENARIOS_DIR
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402
import mqtt_broker  # noqa: E402

COLLECT, DTCD, SIM, SCEN = sys.argv[1:5]
BATCH_MAX = 1024  # collect/batch.h
check = fleet.Checks()


def check_vehicle(db, vehicle, events, broker):
    stored = fleet.rows(db, "SELECT event_id, event, code, status, severity, "
                        "payload FROM events WHERE vehicle = ? "
                        "ORDER BY event_id", (vehicle,))
    check(len(stored) == len(events), "%s: %d events stored, dtcd wrote %d"
          % (vehicle, len(stored), len(events)))
    try:
        lines = fleet.payload_lines([r[5] for r in stored], vehicle)
    except ValueError as e:
        check(False, "%s: %s" % (vehicle, e))
        return
    want = mqtt_broker.normal([json.dumps(e) for e in events])
    check(lines == want, "%s: stored payloads differ from the --json lines; "
          "first: %s" % (vehicle, next(((a, b) for a, b in zip(lines, want)
                                        if a != b), None)))
    cols = [(r[1], r[2], r[3], r[4]) for r in stored]
    check(cols == [(e["event"], e["code"], e["status"], e["severity"])
                   for e in events],
          "%s: event/code/status/severity columns differ" % vehicle)
    have = {r[0]: (r[1], r[2], r[3]) for r in fleet.rows(
        db, "SELECT code, status, occurrences, severity FROM dtcs "
        "WHERE vehicle = ?", (vehicle,))}
    want = fleet.retained_dtcs(broker, vehicle)
    check(want and set(want) == set(fleet.expected_dtcs(events)),
          "%s: the car's status lists %s, its events %s" % (
              vehicle, want, fleet.expected_dtcs(events)))
    check(have == want, "%s: DTC list %s, the car's retained status %s"
          % (vehicle, have, want))
    ff = fleet.rows(db, "SELECT freeze_frame, action, first_failure, "
                    "last_failure FROM dtcs WHERE vehicle = ?", (vehicle,))
    for f, action, first, last in ff:
        check(f and json.loads(f), "%s: a DTC without freeze frame" % vehicle)
        check(action, "%s: a DTC without action" % vehicle)
        check(first and last and first <= last,
              "%s: first/last failure %s %s" % (vehicle, first, last))


with tempfile.TemporaryDirectory() as tmp:
    if mqtt_broker.need_tools():
        fleet.skip_or_fail("mosquitto missing: %s" % mqtt_broker.need_tools())
    broker = mqtt_broker.Broker(tmp, extra=fleet.BROKER_CONF)
    broker.start()
    db = os.path.join(tmp, "fleet.db")
    conf = fleet.write_collect_conf(os.path.join(tmp, "collect.conf"),
                                    broker.port, db, "collect-test")
    col = fleet.Collector(COLLECT, conf, os.path.join(tmp, "collect.log"))
    try:
        col.start()
        log = fleet.drive(DTCD, SIM, os.path.join(SCEN, "multi-fault.ini"),
                          os.path.join(tmp, "multi.log"))
        ev_a = fleet.publish_drive(DTCD, log, broker.port, "CARA", tmp)
        check(len(ev_a) >= 3, "multi-fault: only %d events" % len(ev_a))
        n = fleet.wait_rows(lambda: fleet.sqlite_count(db, "CARA"),
                            len(ev_a))
        check(n == len(ev_a), "CARA: %d of %d events stored in 60 s; log: %s"
              % (n, len(ev_a), col.text()[-1500:]))
        check_vehicle(db, "CARA", ev_a, broker)
        # dtcd's clean stop leaves "offline" retained
        fleet.wait_rows(lambda: fleet.rows(
            db, "SELECT COUNT(*) FROM vehicles WHERE vehicle = 'CARA' AND "
            "online = 0")[0][0], 1, 20)
        on = fleet.rows(db, "SELECT online FROM vehicles WHERE vehicle = "
                        "'CARA'")
        check(on == [(0,)], "CARA online state %s, expected offline" % on)

        # the same event again (a car resending after a lost PUBACK): once
        first = fleet.rows(db, "SELECT payload FROM events WHERE vehicle = "
                           "'CARA' ORDER BY event_id LIMIT 1")[0][0]
        for payload in (first, first, '{"vehicle":"CARA","event_id":"x"}',
                        "not json"):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                            str(broker.port), "-q", "1", "-t",
                            "fleet/CARA/events", "-m", payload], check=True)
        fleet.wait_rows(lambda: col.text().count("rejected"), 2, 20)
        check(fleet.sqlite_count(db, "CARA") == len(ev_a),
              "a duplicate event_id was stored again")
        text = col.text()
        check("duplicate, dropped" in text, "no duplicate said in the log")
        check("event_id: expected a whole number" in text and
              "not JSON" in text, "bad payloads not rejected with a reason: "
              + text[-800:])

        # a burst of 8 cars, each event twice: what arrives together is
        # one transaction; every event once, every resent one dropped
        burst = ["BURST%d" % i for i in range(8)]
        dropped = col.text().count("duplicate, dropped")
        nb = fleet.publish_burst(broker.port, burst, 250)
        n = fleet.wait_rows(lambda: fleet.sqlite_count(db) - len(ev_a), nb)
        check(n == nb, "burst: %d of %d events stored" % (n, nb))
        ids = fleet.rows(db, "SELECT vehicle, COUNT(*), MIN(event_id), "
                         "MAX(event_id) FROM events WHERE vehicle LIKE "
                         "'BURST%' GROUP BY vehicle ORDER BY vehicle")
        check(ids == [(v, 250, 1, 250) for v in burst],
              "burst: events per car %s" % ids)
        n = fleet.wait_rows(lambda: col.text().count("duplicate, dropped")
                            - dropped, nb, 30)
        check(n == nb, "burst: %d of %d resent events dropped as duplicates"
              % (n, nb))

        # the collector killed; a car publishes meanwhile; nothing lost
        col.stop(signal.SIGKILL)
        log_b = fleet.drive(DTCD, SIM, os.path.join(SCEN, "vanos.ini"),
                            os.path.join(tmp, "vanos.log"))
        ev_b = fleet.publish_drive(DTCD, log_b, broker.port, "CARB", tmp)
        check(ev_b, "vanos: no events")
        check(fleet.sqlite_count(db, "CARB") == 0, "stored while down?")
        col.start()
        n = fleet.wait_rows(lambda: fleet.sqlite_count(db, "CARB"),
                            len(ev_b))
        check(n == len(ev_b), "CARB: %d of %d events stored after the "
              "restart" % (n, len(ev_b)))
        check_vehicle(db, "CARB", ev_b, broker)
        check(fleet.sqlite_count(db) == len(ev_a) + len(ev_b) + nb,
              "events of all cars: %d, expected %d"
              % (fleet.sqlite_count(db), len(ev_a) + len(ev_b) + nb))

        # killed in the middle of a burst, restarted: what the broker
        # still held is stored; lost is at most what libmosquitto had
        # acknowledged and the collector not yet committed: one batch
        kill = ["KILL%d" % i for i in range(8)]
        before = fleet.sqlite_count(db)
        nk, procs = fleet.start_burst(broker.port, kill, 500)
        fleet.wait_rows(lambda: fleet.sqlite_count(db) - before, 500, 30)
        col.stop(signal.SIGKILL)
        at_kill = fleet.sqlite_count(db) - before
        fleet.end_burst(procs)
        col.start()
        n = fleet.wait_rows(lambda: fleet.sqlite_count(db) - before, nk, 20)
        check(nk - BATCH_MAX <= n <= nk, "killed mid-burst: %d of %d "
              "stored after the restart, more than one batch (%d) lost"
              % (n, nk, BATCH_MAX))
        print("killed mid-burst with %d of %d stored: %d lost after the "
              "restart (at most one batch, %d)" % (at_kill, nk, nk - n,
                                                  BATCH_MAX))
        ver = fleet.rows(db, "SELECT MAX(version) FROM schema_version")
        check(ver == [(1,)], "schema_version %s" % ver)
        check(col.stop() == 0, "dtc-collect did not stop cleanly on SIGTERM")
        # the shipped sample is accepted, a bad configuration says FILE:LINE
        sample = os.path.join(os.environ.get("DTCD_SOURCE_ROOT", "."), "etc",
                              "dtc-collect.conf")
        r = subprocess.run([COLLECT, "-n", "-c", sample, "serve"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "etc/dtc-collect.conf: %s" % r.stderr)
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("[mqtt]\nhost = 127.0.0.1\nqos = 7\n")
        r = subprocess.run([COLLECT, "-n", "-c", bad], capture_output=True,
                           text=True)
        check(r.returncode == 1 and bad + ":3: qos: expected" in r.stderr,
              "bad qos: rc %d %r" % (r.returncode, r.stderr))
        with open(bad, "w") as f:
            f.write("[mqtt]\nhost = broker.example.org\n")
        r = subprocess.run([COLLECT, "-n", "-c", bad], capture_output=True,
                           text=True)
        check(r.returncode == 1 and bad + ":2:" in r.stderr and
              "not a loopback" in r.stderr,
              "plain text to a remote broker: rc %d %r" % (r.returncode,
                                                           r.stderr))
        print("CARA: %d events, CARB: %d events (stored while the collector "
              "was down)" % (len(ev_a), len(ev_b)))
    finally:
        col.stop()
        broker.stop()

check.exit("collect_mqtt", "every event once, DTC lists, online, restart")
