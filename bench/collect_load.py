#!/usr/bin/python3
# collect_load.py: N simulated cars (collect_load, one event per second each
# by default) through one local mosquitto to one dtc-collect, or two in a
# shared subscription, storing in SQLite or PostgreSQL. Prints per run:
# events published and stored per second, end-to-end latency p50/p99 (the
# collector's received time, taken when it stores a batch, minus the
# event's ts, both this machine's clock), losses, drain (how long after the
# last PUBACK to the cars the last event was in the database, by this
# script's clock: it includes the last commit), events per commit (from
# the collectors' log), the share of the time a collector spent in the
# database (BEGIN to COMMIT, over the run), and the CPU per event of the collector, the
# broker, PostgreSQL (SQLite works inside the collector) and the cars.
# SQLite with synchronous = FULL, PostgreSQL with fsync on, as they run in
# production. A benchmark, not a test: run it under nice -n 19 and say the
# load (uptime) with the figures.
#
#   bench/collect_load.py BUILD_DIR [--n 1000,2000] [--rate 1] [--seconds 30]
#                         [--db sqlite,pg] [--collectors 1,2]
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import fleet  # noqa: E402
import mqtt_broker  # noqa: E402
import pg_server  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("--n", default="1000")
ap.add_argument("--rate", type=float, default=1.0)
ap.add_argument("--seconds", type=float, default=30)
ap.add_argument("--db", default="sqlite,pg")
ap.add_argument("--collectors", default="1")
a = ap.parse_args()
COLLECT = os.path.join(a.build, "collect", "dtc-collect")
LOAD = os.path.join(a.build, "bench", "collect_load")
# the broker must not drop what a slow collector has not taken yet
BROKER_CONF = "max_queued_messages 0\nmax_queued_bytes 0\n"


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def pg_cpu(pg):
    """CPU s of each PostgreSQL process: the postmaster and its children
    (the collectors' backends, the WAL writer, the checkpointer)"""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        pm = int(f.readline())
    out = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % d) as f:
                v = f.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        if int(d) == pm or int(v[1]) == pm:
            out[int(d)] = (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    return out


def stats(engine, db, pg):
    q = ("SELECT COUNT(*), MIN(received), MAX(received) FROM events",
         "SELECT received - ts FROM events")
    if engine == "sqlite":
        n, t0, t1 = fleet.rows(db, q[0])[0]
        lat = sorted(r[0] for r in fleet.rows(db, q[1]))
    else:
        n, t0, t1 = pg.sql(q[0])[0]
        n, t0, t1 = int(n), float(t0 or 0), float(t1 or 0)
        lat = sorted(float(r[0]) for r in pg.sql(q[1]))
    return n, t0, t1, lat


def count(engine, db, pg):
    try:
        if engine == "sqlite":
            return fleet.sqlite_count(db)
        return int(pg.sql("SELECT COUNT(*) FROM events")[0][0])
    except RuntimeError:
        return 0


def run(engine, n, ncol):
    with tempfile.TemporaryDirectory() as tmp:
        pg = None
        target = os.path.join(tmp, "fleet.db")
        if engine == "pg":
            pg = pg_server.PgServer(tmp, fsync=True)
            pg.start()
            target = pg.uri()
        broker = mqtt_broker.Broker(tmp, extra=BROKER_CONF)
        broker.start()
        cols = []
        try:
            for i in range(ncol):
                conf = fleet.write_collect_conf(
                    os.path.join(tmp, "c%d.conf" % i), broker.port, target,
                    "collect-%d" % i,
                    "group = load" if ncol > 1 else "")
                c = fleet.Collector(COLLECT, conf,
                                    os.path.join(tmp, "c%d.log" % i),
                                    verbose=1)
                c.start()
                cols.append(c)
            cpu0 = [cpu_s(c.proc.pid) for c in cols]
            broker0 = cpu_s(broker.proc.pid)
            db0 = pg_cpu(pg) if pg else {}
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([LOAD, "-p", str(broker.port), "-n", str(n),
                                "-r", str(a.rate), "-d", str(a.seconds)],
                               capture_output=True, text=True)
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            load_cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime -
                        ru0.ru_stime)
            out = r.stdout.split()
            published = int(out[1])
            t_pub = time.monotonic()
            # until all are stored, or nothing more comes for 10 s
            last, since = -1, time.monotonic()
            while True:
                got = count(engine, target, pg)
                if got >= published:
                    break
                if got != last:
                    last, since = got, time.monotonic()
                elif time.monotonic() - since > 10:
                    break
                time.sleep(0.2)
            drain = time.monotonic() - t_pub
            cpu = sum(cpu_s(c.proc.pid) - c0 for c, c0 in zip(cols, cpu0))
            broker_cpu = cpu_s(broker.proc.pid) - broker0
            db_cpu = (sum(t - db0.get(pid, 0)
                          for pid, t in pg_cpu(pg).items()) if pg else 0)
            stored, t0, t1, lat = stats(engine, target, pg)
            for c in cols:
                c.stop()
            # "... in N commits (S s in the database)" at the stop
            ends = [m.groups() for c in cols for m in re.finditer(
                r"in (\d+) commits \(([\d.]+) s in the database\)",
                c.text())]
            commits = sum(int(e[0]) for e in ends)
            db_s = sum(float(e[1]) for e in ends)
            p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
                 if lat else float("nan"))
            print("%-6s N=%-6d collectors=%d published=%d (%.0f/s) "
                  "stored=%d (%.0f/s) lost=%d p50=%.3fs p99=%.3fs "
                  "max=%.3fs drain=%.1fs %.1f events/commit, %.0f%% of "
                  "the time in the database; CPU ms/event: "
                  "collector %.3f broker %.3f postgresql %.3f cars %.3f"
                  % (engine, n, ncol, published, published / a.seconds,
                     stored, stored / max(t1 - t0, 1e-9), published - stored,
                     p(0.5), p(0.99), lat[-1] if lat else float("nan"),
                     drain, stored / max(commits, 1),
                     100 * db_s / ncol / (a.seconds + drain),
                     1000 * cpu / max(stored, 1),
                     1000 * broker_cpu / max(stored, 1),
                     1000 * db_cpu / max(stored, 1),
                     1000 * load_cpu / max(published, 1)),
                  flush=True)
        finally:
            for c in cols:
                c.stop()
            broker.stop()
            if pg:
                pg.stop()


print("load before: %s" % open("/proc/loadavg").read().strip(), flush=True)
for engine in a.db.split(","):
    for ncol in map(int, a.collectors.split(",")):
        for n in map(int, a.n.split(",")):
            run(engine, n, ncol)
print("load after: %s" % open("/proc/loadavg").read().strip())
