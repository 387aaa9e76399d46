#!/usr/bin/python3
# collect_report.py: dtc-collect report over what two cars published through
# dtcd and a real mosquitto: per vehicle the open DTCs (those the events
# leave pending or confirmed), severity, the workshop action (checked against
# etc/actions.*.ini read with configparser, English and German) and last
# seen, as text, --csv (read back with the csv module) and --json; the
# --severity and --vehicle filters; bad options rejected.
# usage: collect_report.py DTC_COLLECT DTCD DTCD_SIM SCENARIOS_DIR
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402
import mqtt_broker  # noqa: E402

COLLECT, DTCD, SIM, SCEN = sys.argv[1:5]
ETC = os.path.join(os.environ.get("DTCD_SOURCE_ROOT", "."), "etc")
check = fleet.Checks()
RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def report(db, *args):
    r = subprocess.run([COLLECT, "--db", db, "report"] + list(args),
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "report %s: rc %d: %s" % (args, r.returncode,
                                                       r.stderr[-500:]))
    return r.stdout


def fold(s):
    return " ".join((s or "").split())


with tempfile.TemporaryDirectory() as tmp:
    if mqtt_broker.need_tools():
        fleet.skip_or_fail("mosquitto missing: %s" % mqtt_broker.need_tools())
    broker = mqtt_broker.Broker(tmp)
    broker.start()
    col = None
    try:
        col, db, events, want = fleet.two_cars(tmp, COLLECT, DTCD, SIM,
                                               SCEN, broker)
    finally:
        if col:
            col.stop()
        broker.stop()
    cat = {"en": fleet.catalogue(os.path.join(ETC, "actions.en.ini")),
           "de": fleet.catalogue(os.path.join(ETC, "actions.de.ini"))}
    check(all(want.values()), "a car has no open DTC: %s" % want)

    # --json: the whole structure
    js = json.loads(report(db, "--json"))
    got = {v["vehicle"]: {d["code"]: (d["status"], d["occurrences"],
                                      d["severity"]) for d in v["dtcs"]}
           for v in js}
    check(got == want, "--json lists %s, the cars' status %s" % (got, want))
    for v in js:
        check(v["online"] is False, "%s: online %r" % (v["vehicle"],
                                                      v["online"]))
        check(v["last_seen"] > 1e9, "%s: last_seen %r" % (v["vehicle"],
                                                         v["last_seen"]))
        for d in v["dtcs"]:
            check(fold(d["action"]) == cat["en"][d["code"]][1],
                  "%s %s: action %r" % (v["vehicle"], d["code"], d["action"]))
            n = sum(d["severity"] == s for s in ("critical", "high", "medium",
                                                 "low"))
            check(n == 1, "severity %r" % d["severity"])
        opened = {s: sum(1 for d in v["dtcs"] if d["severity"] == s)
                  for s in RANK}
        check(v["open"] == opened, "%s: open counts %s, DTCs say %s"
              % (v["vehicle"], v["open"], opened))
    # the most critical vehicle first
    worst = [max(RANK[d["severity"]] for d in v["dtcs"]) for v in js]
    check(worst == sorted(worst, reverse=True), "order %s" % worst)

    # --csv: one row per DTC
    rows = list(csv.DictReader(io.StringIO(report(db, "--csv"))))
    got = {}
    for r in rows:
        got.setdefault(r["vehicle"], {})[r["code"]] = (
            int(r["status"]), int(r["occurrences"]), r["severity"])
        check(fold(r["action"]) == cat["en"][r["code"]][1],
              "csv %s: action" % r["code"])
        check(r["online"] == "offline" and r["last_seen"].endswith("UTC"),
              "csv: online/last_seen %r %r" % (r["online"], r["last_seen"]))
    check(got == want, "--csv lists %s, the cars' status %s" % (got, want))

    # text, in German
    text = report(db, "--lang", "de")
    for v, codes in want.items():
        check(v in text, "text: no %s" % v)
        for c in codes:
            check(c in text and cat["de"][c][1][:50] in fold(text),
                  "text --lang de: %s without its German action" % c)

    # filters
    for sev in RANK:
        js = json.loads(report(db, "--json", "--severity", sev))
        got = {(v["vehicle"], d["code"]) for v in js for d in v["dtcs"]}
        exp = {(v, c) for v, cs in want.items() for c, x in cs.items()
               if RANK[x[2]] >= RANK[sev]}
        check(got == exp, "--severity %s: %s, expected %s" % (sev, got, exp))
        check(all(v["dtcs"] for v in js), "--severity %s lists a vehicle "
              "without such a DTC" % sev)
    js = json.loads(report(db, "--json", "--vehicle", "CARB"))
    check([v["vehicle"] for v in js] == ["CARB"] and
          {d["code"] for d in js[0]["dtcs"]} == set(want["CARB"]),
          "--vehicle CARB: %s" % js)
    check("no vehicle matches" in report(db, "--vehicle", "NOSUCH"),
          "--vehicle NOSUCH: not said")
    r = subprocess.run([COLLECT, "--db", db, "report", "--severity", "bad"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "--severity: expected" in r.stderr,
          "--severity bad: rc %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([COLLECT, "--db", os.path.join(tmp, "no", "x.db"),
                        "report"], capture_output=True, text=True)
    check(r.returncode == 1 and "x.db" in r.stderr,
          "a database that cannot be opened: rc %d %r" % (r.returncode,
                                                          r.stderr))
    print(report(db))

check.exit("collect_report", "text, CSV and JSON as the events say")
