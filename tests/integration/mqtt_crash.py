#!/usr/bin/python3
# mqtt_crash.py: a power cut, simulated: dtcd replays dtcd-sim logs with
# --state and MQTT to a real mosquitto and is SIGKILLed at a random moment,
# KILLS times (a fresh state directory every RUNS_PER_STATE kills, each
# ended by a run that is not killed). One subscriber stays connected the
# whole time; after each kill a marker published through the broker closes
# what that run sent, and the store is read:
# - nothing sent twice after its PUBACK was recorded: an event whose outbox
#   row was gone from the store at a kill never reaches the broker again;
# - nothing lost: every event in the store's event table reached the
#   subscriber, the outbox is empty after the last run;
# - order kept: each run sends in event_id order, and the first arrivals of
#   all events are in event_id order.
# QoS 1 is at least once: an event whose PUBACK had not been recorded when
# dtcd died is sent again (the collector drops it by (vehicle, event_id)).
# Those resends are counted by cause from the broker's own log: the broker
# had sent its PUBACK (dtcd died before it committed the deletion), or it
# had not.
# usage: mqtt_crash.py DTCD DTCD_SIM SCENARIOS_DIR KILLS [RUNS_PER_STATE]
# MQTT_CRASH_SEED=N repeats a run's kill times.
import json
import os
import random
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
KILLS = int(sys.argv[4])
PER_STATE = int(sys.argv[5]) if len(sys.argv) > 5 else 10
SEED = int(os.environ.get("MQTT_CRASH_SEED", os.getpid()))
SCENARIOS = ("multi-fault", "misfire", "vanos", "turbo-pump-dead",
             "fuel-heater", "egr-leak", "coil")
TOPIC = "crash"


def snapshot(state):
    """(event_ids of the event table, event_ids in the outbox), as the
    store holds them after the kill"""
    path = os.path.join(state, "dtcd.db")
    if not os.path.exists(path):
        return set(), set()
    db = sqlite3.connect(path)
    try:
        ev = {r[0] for r in db.execute("SELECT event_id FROM event")}
        ob = {r[0] for r in db.execute("SELECT event_id FROM outbox")}
    except sqlite3.OperationalError:
        ev, ob = set(), set()  # killed before the schema was written
    db.close()
    return ev, ob


RECV = re.compile(r"Received PUBLISH from (\S+) \(d\d, q\d, r\d, m(\d+), "
                  r"'([^']*)'")
ACK = re.compile(r"Sending PUBACK to (\S+) \(m(\d+),")


class BrokerLog:
    """the broker's debug log: per client, the events topic's PUBLISHes
    received (their mids, in order) and the PUBACKs it sent"""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.publishes = {}
        self.acks = {}

    def read(self):
        with open(self.path, errors="replace") as f:
            f.seek(self.pos)
            text = f.read()
            # a line still being written is read next time
            end = text.rfind("\n") + 1
            self.pos += len(text[:end].encode())
        for line in text[:end].splitlines():
            m = RECV.search(line)
            if m and m.group(3).endswith("/events"):
                self.publishes.setdefault(m.group(1), []).append(
                    int(m.group(2)))
            m = ACK.search(line)
            if m:
                self.acks.setdefault(m.group(1), set()).add(int(m.group(2)))


def conf(tmp, port):
    path = os.path.join(tmp, "dtcd.conf")
    with open(path, "w") as f:
        f.write("[mqtt]\nhost = 127.0.0.1\nport = %d\ntopic = %s\n" %
                (port, TOPIC))
    return path


def dtcd(log, state, cfg, client):
    # each run its own client id: the broker's log tells the runs apart
    with open(cfg) as f:
        text = f.read()
    run_cfg = cfg + "." + client
    with open(run_cfg, "w") as f:
        f.write(text + "client_id = %s\n" % client)
    return subprocess.Popen([DTCD, "--replay", log, "--json", "--state",
                             state, "-c", run_cfg],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


if mqtt_broker.need_tools():
    checks.skip_or_fail("SKIP: missing %s" % mqtt_broker.need_tools())

rnd = random.Random(SEED)
t_start = time.monotonic()
with tempfile.TemporaryDirectory() as tmp:
    broker = mqtt_broker.Broker(tmp)
    with open(broker.conf, "a") as f:
        f.write("log_type all\nlog_dest file %s/broker.log\n" % tmp)
        # the test's subscriber must never hold a message back
        f.write("max_queued_messages 0\n")
    blog = BrokerLog(os.path.join(tmp, "broker.log"))
    cfg = conf(tmp, broker.port)
    logs, length = [], {}
    for s in SCENARIOS:
        path = os.path.join(tmp, s + ".log")
        subprocess.run([SIM, "-s", os.path.join(SCEN, s + ".ini"), "-o",
                        path], check=True)
        logs.append(path)
    broker.start()
    open(blog.path, "a").close()
    sub = broker.live(TOPIC + "/+/events", "collector")
    marker = broker.sentinel("collector")

    def segment(tag):
        """what the subscriber got up to a marker published now"""
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(broker.port), "-q", "1", "-t", marker, "-m",
                        tag], check=True, timeout=20)
        got = sub.until_sentinel(marker, 60, payload=tag)
        blog.read()
        return [json.loads(p)["event_id"] for t, p in got
                if t.endswith("/events")]

    # how long a whole run takes, per log: the kills land anywhere in it
    for log in logs:
        st = os.path.join(tmp, "calibrate")
        t0 = time.monotonic()
        d = dtcd(log, st, cfg, "calibrate")
        d.communicate(timeout=120)
        length[log] = time.monotonic() - t0
        check(d.returncode == 0, "calibration run of %s: rc %d" %
              (log, d.returncode))
    segment("calibrated")
    print("one run lasts %.2f to %.2f s (uptime: %s)" %
          (min(length.values()), max(length.values()),
           os.getloadavg()))

    seen = {}          # event_id -> the run that sent it first
    last_sent = {}     # event_id -> (client, mid) of its latest sending
    stored = set()     # every event_id the event tables ever held
    recorded = set()   # event_ids whose PUBACK the store recorded
    first_order = []
    stats = {"kills": 0, "events": 0, "sent": 0, "resent_acked": 0,
             "resent_unacked": 0, "after_puback": 0, "lost": 0,
             "kills_with_inflight": 0, "aimed": 0}
    run_no = 0
    state_no = 0

    def wait_publish(client, d, nth, timeout):
        """until the broker logged the nth event PUBLISH of client (or
        dtcd ended, or timeout s)"""
        pat = "Received PUBLISH from %s " % client
        deadline = time.monotonic() + timeout
        with open(blog.path, errors="replace") as f:
            f.seek(blog.pos)
            seen_n, buf = 0, ""
            while time.monotonic() < deadline and d.poll() is None:
                buf += f.read()
                lines = buf.split("\n")
                buf = lines.pop()
                seen_n += sum(1 for line in lines
                              if pat in line and "/events'" in line)
                if seen_n >= nth:
                    return
                time.sleep(0.001)

    def account(client, ids, state):
        """one run's sendings against the store before it"""
        mids = blog.publishes.get(client, [])
        check(len(mids) == len(ids),
              "%s: the broker logged %d event PUBLISHes, the subscriber "
              "got %d" % (client, len(mids), len(ids)))
        check(ids == sorted(ids) and len(set(ids)) == len(ids),
              "%s: sent out of event_id order: %s" % (client, ids))
        for i, eid in enumerate(ids):
            stats["sent"] += 1
            if eid in recorded:
                stats["after_puback"] += 1
                checks.failures.append("%s: event %d sent again after its PUBACK "
                                "was recorded" % (client, eid))
            elif eid in seen:
                prev = last_sent.get(eid)
                if prev and prev[1] in blog.acks.get(prev[0], set()):
                    stats["resent_acked"] += 1
                else:
                    stats["resent_unacked"] += 1
            else:
                seen[eid] = client
                first_order.append(eid)
            if i < len(mids):
                last_sent[eid] = (client, mids[i])

    while stats["kills"] < KILLS:
        state_no += 1
        st = os.path.join(tmp, "state%d" % state_no)
        n = min(PER_STATE, KILLS - stats["kills"])
        for k in range(n + 1):
            run_no += 1
            client = "dtcd-crash-%d" % run_no
            log = logs[rnd.randrange(len(logs))]
            d = dtcd(log, st, cfg, client)
            if k < n:
                if rnd.random() < 0.5:
                    # anywhere in the run
                    time.sleep(rnd.uniform(0, length[log] * 1.1))
                else:
                    # aimed: just after the broker got one of its events,
                    # while PUBACKs and their deletions are under way
                    stats["aimed"] += 1
                    wait_publish(client, d, rnd.randint(1, 4),
                                 length[log] * 2)
                    time.sleep(rnd.uniform(0, 0.01))
                d.kill()
                d.communicate()
                stats["kills"] += 1
            else:
                # the last run of a state is not killed: it sends the rest
                _, err = d.communicate(timeout=120)
                check(d.returncode == 0, "%s: rc %d: %s" %
                      (client, d.returncode, err[-400:]))
            ids = segment("run%d" % run_no)
            ev, ob = snapshot(st)
            stored |= ev
            account(client, ids, st)
            # in flight at the kill: sent, not recorded as acknowledged
            if k < n and ob & set(ids):
                stats["kills_with_inflight"] += 1
            recorded |= ev - ob
            check(ob <= ev, "%s: outbox rows without an event: %s" %
                  (client, sorted(ob - ev)))
        check(not ob, "state %d: outbox not empty after its last run: %s" %
              (state_no, sorted(ob)))
    lost = stored - set(seen)
    stats["lost"] = len(lost)
    stats["events"] = len(stored)
    check(not lost, "lost: %d events never reached the broker: %s" %
          (len(lost), sorted(lost)[:20]))
    check(first_order == sorted(first_order),
          "the first arrivals are not in event_id order")
    sub.stop()
    broker.stop()
runtime = time.monotonic() - t_start
print("mqtt_crash (seed %d): %d kills on %d state directories, %d events "
      "stored, %d sendings: %d resent after a PUBACK the broker sent but "
      "dtcd had not recorded, %d resent without a PUBACK; %d sent after "
      "their PUBACK was recorded; %d lost; %d kills with events in flight; "
      "%d of the kills aimed just after a PUBLISH; %.0f s (load %.2f)" %
      (SEED, stats["kills"], state_no, stats["events"], stats["sent"],
       stats["resent_acked"], stats["resent_unacked"], stats["after_puback"],
       stats["lost"], stats["kills_with_inflight"], stats["aimed"], runtime,
       os.getloadavg()[0]))
checks.done(limit=30)
