#!/usr/bin/python3
# collect_pg.py: two dtc-collect instances in one shared subscription
# ($share/GROUP/fleet/+/events, MQTT v5) writing to one real PostgreSQL
# (started here as an unprivileged user): four cars' drives through dtcd and
# a real mosquitto, every event stored exactly once (rows read with psql),
# both collectors took a share, a duplicate sent to the group stored once,
# a payload that is not UTF-8 rejected, a burst of 8 cars with every
# event sent twice stored once each,
# the report reads PostgreSQL as it reads SQLite. Skips (77) when the
# server cannot start, fails instead under CI=true.
# usage: collect_pg.py DTC_COLLECT DTCD DTCD_SIM SCENARIOS_DIR
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402
import mqtt_broker  # noqa: E402
import pg_server  # noqa: E402

COLLECT, DTCD, SIM, SCEN = sys.argv[1:5]
check = fleet.Checks()
CARS = (("CARA", "multi-fault.ini"), ("CARB", "vanos.ini"),
        ("CARC", "misfire.ini"), ("CARD", "turbo-pump-dead.ini"))


def pg_count(pg, vehicle=None):
    try:
        q = "SELECT COUNT(*) FROM events"
        if vehicle:
            q += " WHERE vehicle = '%s'" % vehicle
        return int(pg.sql(q)[0][0])
    except RuntimeError:
        return 0  # the schema is not there yet


with tempfile.TemporaryDirectory() as tmp:
    if mqtt_broker.need_tools():
        fleet.skip_or_fail("mosquitto missing: %s" % mqtt_broker.need_tools())
    pg = pg_server.PgServer(tmp)
    try:
        pg.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        pg.stop()
        fleet.skip_or_fail("PostgreSQL cannot start here: %s" % e)
    broker = mqtt_broker.Broker(tmp, extra=fleet.BROKER_CONF)
    broker.start()
    cols = []
    try:
        # both at once: the migration lock lets one create the schema
        for i in (1, 2):
            conf = fleet.write_collect_conf(
                os.path.join(tmp, "c%d.conf" % i), broker.port, pg.uri(),
                "collect-%d" % i, "group = fleet-writers")
            cols.append(fleet.Collector(COLLECT, conf,
                                        os.path.join(tmp, "c%d.log" % i)))
        for c in cols:
            c.log = open(c.logpath, "a")
        procs = [subprocess.Popen([COLLECT, "-c", c.conf, "-v", "-v"],
                                  stdout=c.log, stderr=c.log) for c in cols]
        for c, p in zip(cols, procs):
            c.proc = p
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(
                c.text().count("subscribed (mid") >= 3 for c in cols):
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.1)
        for c in cols:
            check(c.text().count("subscribed (mid") >= 3,
                  "%s not subscribed: %s" % (c.logpath, c.text()[-800:]))
            check("$share/fleet-writers/fleet/+/events" in c.text(),
                  "no shared subscription in %s" % c.logpath)
        events = {}
        for vehicle, ini in CARS:
            log = fleet.drive(DTCD, SIM, os.path.join(SCEN, ini),
                              os.path.join(tmp, ini + ".log"))
            events[vehicle] = fleet.publish_drive(DTCD, log, broker.port,
                                                  vehicle, tmp)
        total = sum(len(e) for e in events.values())
        n = fleet.wait_rows(lambda: pg_count(pg), total)
        check(n == total, "%d of %d events in PostgreSQL: %s" % (
            n, total, cols[0].text()[-800:]))
        for vehicle, evs in events.items():
            got = pg.sql("SELECT event_id, event, code, status, payload "
                         "FROM events WHERE vehicle = '%s' ORDER BY "
                         "event_id" % vehicle)
            lines = fleet.payload_lines([r[4] for r in got], vehicle)
            want = mqtt_broker.normal([json.dumps(e) for e in evs])
            check(lines == want, "%s: stored payloads differ from --json"
                  % vehicle)
            have = {r[0]: (int(r[1]), int(r[2]), r[3]) for r in pg.sql(
                "SELECT code, status, occurrences, severity FROM dtcs WHERE "
                "vehicle = '%s'" % vehicle)}
            want = fleet.retained_dtcs(broker, vehicle)
            check(have == want, "%s: DTC list %s, the car's retained "
                  "status %s" % (vehicle, have, want))
        dup = pg.sql("SELECT COUNT(*) - COUNT(DISTINCT (vehicle, event_id)) "
                     "FROM events")
        check(dup == [["0"]], "duplicates in PostgreSQL: %s" % dup)
        shares = [fleet.stored_events(c.text()) for c in cols]
        check(all(s > 0 for s in shares) and sum(shares) == total,
              "the shared subscription split %s of %d events" % (shares,
                                                                 total))
        # a car resending its first event twice: whichever collector
        # gets each, PostgreSQL keeps one
        first = pg.sql("SELECT payload FROM events WHERE vehicle = 'CARA' "
                       "ORDER BY event_id LIMIT 1")[0][0]
        for _ in range(4):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                            str(broker.port), "-q", "1", "-t",
                            "fleet/CARA/events", "-m", first], check=True)
        fleet.wait_rows(lambda: sum(c.text().count("duplicate, dropped")
                                    for c in cols), 4, 20)
        check(sum(c.text().count("duplicate, dropped") for c in cols) == 4,
              "4 resent events not all dropped as duplicates")
        check(pg_count(pg) == total, "a resent event stored again")
        # a payload that is not UTF-8 (PostgreSQL would refuse its text):
        # rejected with the reason, the burst after it stored
        bad = json.dumps({"ts": 1767225600.0, "event": "pending",
                          "code": "P0303", "severity": "high",
                          "vehicle": "CARA", "event_id": 10 ** 6,
                          "dtcd_version": "test"}).encode()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(broker.port), "-q", "1", "-t",
                        "fleet/CARA/events", "-m",
                        bad.replace(b"P0303", b"P\xff303")], check=True)
        n = fleet.wait_rows(lambda: sum(c.text().count("invalid utf-8")
                                        for c in cols), 1, 20)
        check(n == 1, "a payload that is not UTF-8 not rejected: %s"
              % cols[0].text()[-500:])
        # a burst of 8 cars, each event twice: the batches of both
        # collectors share vehicles and hold duplicates; each stored once
        burst = ["BURST%d" % i for i in range(8)]
        dropped = sum(c.text().count("duplicate, dropped") for c in cols)
        nb = fleet.publish_burst(broker.port, burst, 250)
        n = fleet.wait_rows(lambda: pg_count(pg), total + nb)
        check(n == total + nb, "burst: %d of %d events in PostgreSQL: %s"
              % (n - total, nb, cols[0].text()[-800:]))
        ids = pg.sql("SELECT vehicle, COUNT(*), MIN(event_id), "
                     "MAX(event_id) FROM events WHERE vehicle LIKE 'BURST%' "
                     "GROUP BY vehicle ORDER BY vehicle")
        check(ids == [[v, "250", "1", "250"] for v in burst],
              "burst: events per car %s" % ids)
        n = fleet.wait_rows(lambda: sum(c.text().count("duplicate, dropped")
                                        for c in cols) - dropped, nb, 30)
        check(n == nb, "burst: %d of %d resent events dropped as duplicates"
              % (n, nb))
        check(pg.sql("SELECT MAX(version), COUNT(*) FROM schema_version") ==
              [["1", "1"]], "schema_version after two concurrent starts")
        r = subprocess.run([COLLECT, "--db", pg.uri(), "report", "--json"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "report on PostgreSQL: %s" % r.stderr)
        if r.returncode == 0:
            got = {v["vehicle"]: {d["code"] for d in v["dtcs"]}
                   for v in json.loads(r.stdout)}
            # the burst's cars sent events but no DTC list
            check(got == dict({v: set(fleet.retained_dtcs(broker, v))
                               for v in events}, **{v: set() for v in burst}),
                  "report on PostgreSQL: %s" % got)
        for c in cols:
            check(c.stop() == 0, "%s did not stop cleanly" % c.logpath)
        print("%d events of %d cars, split %s between two collectors"
              % (total, len(CARS), shares))
    finally:
        for c in cols:
            c.stop()
        broker.stop()
        pg.stop()

check.exit("collect_pg", "one PostgreSQL, two collectors, no duplicates, "
           "nothing missing")
