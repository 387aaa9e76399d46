# fleet.py: what the dtc-collect tests share: a collector against a real
# mosquitto (mqtt_broker.Broker), dtcd replays publishing as named vehicles,
# waits on rows in the collector's database.
import json
import os
import signal
import sqlite3
import subprocess
import time

import checks
import mqtt_broker
from simrun import sim

TOPIC = "fleet"


# the broker as docs/fleet.md configures it: it must not drop what a
# collector has not taken yet (mosquitto's default queue is 1,000 a client)
BROKER_CONF = "max_queued_messages 0\nmax_queued_bytes 0\n"


def write_collect_conf(path, broker_port, db, client_id, extra=""):
    with open(path, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                "client_id = %s\n%s\n[collect]\ndb = %s\n"
                % (broker_port, TOPIC, client_id, extra, db))
    return path


class Collector:
    """dtc-collect -v -v (every message received in its log), stopped
    with SIGTERM or killed"""

    def __init__(self, binary, conf, logpath, args=(), verbose=2):
        self.binary, self.conf, self.logpath = binary, conf, logpath
        self.args = ["-v"] * verbose + list(args)
        self.proc = None

    def start(self, timeout=30):
        self.log = open(self.logpath, "a")
        start = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen([self.binary, "-c", self.conf] +
                                     self.args,
                                     stdout=self.log, stderr=self.log)
        # subscribed before any car publishes: SUBACK in the log
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dtc-collect exited %d: %s" %
                                   (self.proc.returncode, self.text()))
            if self.text(start).count("subscribed (mid") >= 3:
                return
            time.sleep(0.05)
        raise RuntimeError("dtc-collect not subscribed in %d s: %s" %
                           (timeout, self.text()[-2000:]))

    def text(self, start=0):
        with open(self.logpath, errors="replace") as f:
            f.seek(start)
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc


def drive(dtcd_bin, sim_bin, scenario, log, seed=None):
    """a dtcd-sim drive of scenario (an .ini path) into log"""
    sim(sim_bin, scenario, log, extra=["--seed", str(seed)] if seed else ())
    return log


def publish_drive(dtcd_bin, log, broker_port, vehicle, tmp, state=None):
    """dtcd --replay LOG --json with [mqtt] to the broker as vehicle;
    returns the --json events (dtcd waits for every PUBACK before it
    exits)"""
    conf = os.path.join(tmp, "dtcd-%s.conf" % vehicle)
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n"
                "client_id = car-%s\nvehicle = %s\nqos = 1\n"
                % (broker_port, TOPIC, vehicle, vehicle))
    args = [dtcd_bin, "--replay", log, "--json", "-c", conf]
    if state:
        args += ["--state", state]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or "not acknowledged" in r.stderr:
        raise RuntimeError("dtcd as %s: rc %d: %s" %
                           (vehicle, r.returncode, r.stderr[-800:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def rows(db, sql, args=()):
    c = sqlite3.connect(db, timeout=30)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def wait_rows(count_fn, want, timeout=60):
    """polls count_fn() until it is want (or more); returns the last"""
    deadline = time.monotonic() + timeout
    n = count_fn()
    while n < want and time.monotonic() < deadline:
        time.sleep(0.1)
        n = count_fn()
    return n


def sqlite_count(db, vehicle=None):
    if not os.path.exists(db):
        return 0
    try:
        if vehicle:
            return rows(db, "SELECT COUNT(*) FROM events WHERE vehicle = ?",
                        (vehicle,))[0][0]
        return rows(db, "SELECT COUNT(*) FROM events")[0][0]
    except sqlite3.OperationalError:
        return 0  # not created yet


def retained_dtcs(broker, vehicle):
    """the car's own current DTC list, its retained TOPIC/VEHICLE/status
    read from the broker by mosquitto_sub: {code: (status, occurrences,
    severity)}"""
    got = broker.retained("%s/%s/status" % (TOPIC, vehicle), 1)
    st = json.loads(got.get("%s/%s/status" % (TOPIC, vehicle), "null"))
    if st is None:
        raise RuntimeError("no retained status of %s" % vehicle)
    return {d["code"]: (d["status"], d["occurrences"], d["severity"])
            for d in st["dtcs"]}


def stored_events(text):
    """how many events a collector's -v -v log says it stored"""
    import re
    return len(re.findall(r": event \d+ \S+ \S+: stored", text))


def publish_burst(broker_port, vehicles, n):
    """n events of each vehicle, each sent twice in a row (a car resending
    after a lost PUBACK), all vehicles at once (a mosquitto_pub -l each):
    what arrives together is stored in one transaction. Returns the number
    of distinct events once all are published."""
    total, procs = start_burst(broker_port, vehicles, n)
    end_burst(procs)
    return total


def start_burst(broker_port, vehicles, n):
    """publish_burst() under way: (distinct events, the publishers)"""
    procs = []
    for v in vehicles:
        lines = []
        for k in range(1, n + 1):
            e = json.dumps({"ts": 1767225600.0 + k, "event": "pending",
                            "code": "P0303", "detector": "misfire",
                            "severity": "high", "status": 39,
                            "occurrences": 1, "vehicle": v, "event_id": k,
                            "dtcd_version": "test"})
            lines += [e, e]
        p = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                              str(broker_port), "-q", "1", "-t",
                              "fleet/%s/events" % v, "-l"],
                             stdin=subprocess.PIPE, text=True)
        procs.append((p, "\n".join(lines) + "\n"))
    for p, data in procs:
        p.stdin.write(data)
        p.stdin.close()
    return len(vehicles) * n, [p for p, _ in procs]


def end_burst(procs):
    for p in procs:
        if p.wait(120) != 0:
            raise RuntimeError("mosquitto_pub -l exited %d" % p.returncode)


def expected_dtcs(events):
    """what the events say the current DTC list is: the last event per code,
    pending or confirmed -> (status, occurrences, severity)"""
    last = {}
    for e in events:
        if e["event"] != "ecu":
            last[e["code"]] = e
    return {c: (e["status"], e["occurrences"], e["severity"])
            for c, e in last.items() if e["event"] in ("pending", "confirmed")}


def payload_lines(payloads, vehicle):
    """stored payloads as the --json lines (mqtt_broker's check: the ids
    there, event_id growing by one)"""
    return mqtt_broker.as_json_lines(payloads, vehicle)


def skip_or_fail(why):
    checks.skip_or_fail(why)


def two_cars(tmp, collect_bin, dtcd_bin, sim_bin, scen_dir, broker,
             db=None, client_id="collect-test"):
    """CARA drives the multi-fault scenario, CARB the VANOS one, both
    through dtcd to the broker, a collector storing them in db (default
    tmp/fleet.db). Returns (collector, db, {vehicle: --json events}); the
    collector is still running."""
    db = db or os.path.join(tmp, "fleet.db")
    conf = write_collect_conf(os.path.join(tmp, client_id + ".conf"),
                              broker.port, db, client_id)
    col = Collector(collect_bin, conf, os.path.join(tmp, client_id + ".log"))
    col.start()
    events = {}
    for vehicle, ini in (("CARA", "multi-fault.ini"), ("CARB", "vanos.ini")):
        log = drive(dtcd_bin, sim_bin, os.path.join(scen_dir, ini),
                    os.path.join(tmp, ini + ".log"))
        events[vehicle] = publish_drive(dtcd_bin, log, broker.port, vehicle,
                                        tmp)
    for vehicle, evs in events.items():
        n = wait_rows(lambda: sqlite_count(db, vehicle), len(evs))
        if n != len(evs):
            raise RuntimeError("%s: %d of %d events stored: %s" %
                               (vehicle, n, len(evs), col.text()[-1500:]))
    # the retained offline of each clean stop
    wait_rows(lambda: rows(db, "SELECT COUNT(*) FROM vehicles WHERE "
                           "online = 0")[0][0], 2, 20)
    return col, db, events, {v: retained_dtcs(broker, v) for v in events}


def catalogue(path):
    """etc/actions.LANG.ini read with configparser: {code: (title, action)}
    with white space folded, for comparing with what a page or report says"""
    import configparser
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    cp.read(path, encoding="utf-8")
    return {s: (" ".join(cp[s].get("title", "").split()),
                " ".join(cp[s].get("action", "").split()))
            for s in cp.sections()}


class Checks:
    """failures collected, printed as they come, exit status at the end"""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, what):
        if not cond:
            self.failures.append(what)
            print("FAIL:", what)
        return cond

    def exit(self, name, ok_text):
        if self.failures:
            print("%d failed" % len(self.failures))
            raise SystemExit(1)
        print("%s: %s" % (name, ok_text))
