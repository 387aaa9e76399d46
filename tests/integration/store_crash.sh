#!/bin/bash
# store_crash.sh: kills a replay that writes the DTC store with SIGKILL at
# random moments; after each kill the store must open, pass SQLite's
# integrity check and our invariants, and hold every event the replay had
# already written to stdout (events go out only after their commit).
#
#   store_crash.sh [-n KILLS] [-i INPUT] [-r RUNS_PER_STATE] [-s SEED] \
#                  CMD [ARGS...]
# runs `CMD ARGS --replay INPUT --json --state DIR` (dtcd, or the unit
# tests' store_driver with its text scripts). Without -i, a store_driver
# script of many days of driving is generated. The state directory is kept
# across RUNS_PER_STATE runs (default 25), so crashed stores are reopened and
# written on, as when a car's power is cut day after day.
set -euo pipefail

kills=200
input=
runs_per_state=25
seed=${STORE_CRASH_SEED:-$$}
while getopts "n:i:r:s:" opt; do
	case $opt in
	n) kills=$OPTARG ;;
	i) input=$OPTARG ;;
	r) runs_per_state=$OPTARG ;;
	s) seed=$OPTARG ;;
	*) echo "usage: $0 [-n KILLS] [-i INPUT] [-r RUNS] [-s SEED] CMD [ARGS...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
	echo "$0: no command to run" >&2
	exit 2
fi
py=/usr/bin/python3
work=$(mktemp -d /tmp/store_crash.XXXXXX)
# STORE_CRASH_KEEP=1 keeps the work directory to look into a failure
if [ -z "${STORE_CRASH_KEEP:-}" ]; then
	trap 'rm -rf "$work"' EXIT
fi
RANDOM=$seed

if [ -z "$input" ]; then
	input=$work/drive.txt
	# days of driving: reports for several DTCs, cycles, warm-ups,
	# clears, ECU states; enough batches that a kill lands mid-run
	"$py" - "$input" "$seed" <<'EOF'
import random, sys
rnd = random.Random(int(sys.argv[2]))
codes = [("P0301", "misfire"), ("P0302", "misfire"), ("P0011", "vanos"),
         ("P1D02", "fuel_heater"), ("P2600", "turbo_pump"),
         ("P1D04", "turbo_pump"), ("P2457", "egr"), ("P0171", "other")]
t = 1.0
out = ["signal 0.1 vin WBAPH5C55BA123456"]
for day in range(60):
    out.append(f"signal {t:.3f} coolant_temp_c {rnd.uniform(5, 30):.1f}")
    out.append(f"signal {t:.3f} odometer_km {1000 + day * 37}")
    out.append(f"start {t:.3f}")
    for _ in range(rnd.randint(2, 6)):
        t += rnd.uniform(0.5, 30)
        code, det = rnd.choice(codes)
        res = rnd.choices(["failed", "passed", "prefailed", "prepassed"],
                          [3, 5, 2, 2])[0]
        extra = " confirm_now" if rnd.random() < 0.05 else ""
        extra += " critical" if code == "P1D04" and rnd.random() < 0.3 else ""
        out.append(f"signal {t:.3f} engine_speed_rpm {rnd.uniform(700, 4000):.1f}")
        out.append(f"report {t:.3f} {code} {det} {res}{extra}")
        out.append(f"tick {t + 0.5:.3f}")
    if rnd.random() < 0.1:
        out.append(f"ecu {t:.3f} 7E8 {rnd.randint(0, 1)} {rnd.randint(0, 3)}")
        out.append(f"codes {t:.3f} 7E8 03 " +
                   " ".join(rnd.sample(["0301", "0420", "0171", "1D02"], 2)))
    if rnd.random() < 0.03:
        c = rnd.choice(codes + [(None, None)])[0]
        out.append(f"clear {t:.3f}" + (f" {c}" if c else ""))
    t += rnd.uniform(60, 600)
    warm = " warmup" if rnd.random() < 0.7 else ""
    out.append(f"end {t:.3f}{warm}")
    t += rnd.uniform(600, 40000)
open(sys.argv[1], "w").write("\n".join(out) + "\n")
EOF
fi

# The checks: integrity, invariants, and stdout (all runs into this state)
# contained in the event history.
check() {
	"$py" - "$1" "$2" <<'EOF'
import collections, json, sqlite3, sys
db, outs = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
def fail(msg):
    print("store_crash: " + msg, file=sys.stderr)
    sys.exit(1)
ic = con.execute("PRAGMA integrity_check").fetchall()
if ic != [("ok",)]:
    fail(f"integrity_check: {ic}")
def not_set_up(what):
    # killed while a new store was set up (before WAL mode or the schema
    # was committed): the next open sets it up again; nothing can have been
    # committed, so nothing may be on stdout
    if any(l.strip() for l in open(outs)):
        fail(f"{what}, yet events on stdout")
    print(0)
    sys.exit(0)
if con.execute("PRAGMA page_count").fetchone()[0] == 0:
    not_set_up("empty database")
if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
    fail("journal mode is not WAL")
tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
if not tables:
    not_set_up("no schema")
if not {"counter", "dtc", "freeze_frame", "event"} <= tables:
    # the schema is written in one transaction: all tables or none
    fail(f"partial schema {sorted(tables)}")
last_reset = {}
for code, eid in con.execute("SELECT code, max(id) FROM event WHERE type IN"
                             " ('cleared', 'healed') GROUP BY code"):
    last_reset[code] = eid
for (code, status, stored, occ, first, last, fc) in con.execute(
        "SELECT code, status, stored, occurrences, first_failure_ns,"
        " last_failure_ns, failed_cycles FROM dtc"):
    where = f"{code} status 0x{status:02X}"
    if status & 0x01 and not stored:
        fail(f"{where}: testFailed but not stored")
    if status & 0x0C and not stored:
        fail(f"{where}: pending/confirmed but not stored")
    # (no order of first and last: replays in a row reuse the log's times)
    if stored and (occ < 1 or first <= 0 or last <= 0):
        fail(f"{where}: stored with occurrences {occ}, first {first}, last {last}")
    if status & 0x10 and status & 0x2D:
        fail(f"{where}: not completed since clear, yet failed/pending/confirmed")
    if status & 0x08:
        n = con.execute("SELECT count(*) FROM event WHERE code = ? AND type IN"
                        " ('pending', 'confirmed') AND id > ?",
                        (code, last_reset.get(code, 0))).fetchone()[0]
        if n < 1:
            fail(f"{where}: confirmed without a pending/confirmed event since"
                 " the last clear/heal")
orphans = con.execute("SELECT count(*) FROM event WHERE type != 'ecu' AND"
                      " code NOT IN (SELECT code FROM dtc)").fetchone()[0]
if orphans:
    fail(f"{orphans} event rows name no DTC")
ff = con.execute("SELECT count(*) FROM freeze_frame WHERE code NOT IN"
                 " (SELECT code FROM dtc WHERE stored = 1)").fetchone()[0]
if ff:
    fail(f"{ff} freeze-frame rows of DTCs not stored")
have = collections.Counter(
    (round(ts / 1e6), typ, code) for ts, typ, code in
    con.execute("SELECT ts_ns, type, code FROM event"))
want = collections.Counter()
lines = 0
for line in open(outs):
    try:
        ev = json.loads(line)
    except ValueError:
        continue  # the line being written when the kill came
    # milliseconds: the daemon may print fewer decimals than we store
    want[(round(ev["ts"] * 1e3), ev["event"], ev["code"])] += 1
    lines += 1
missing = want - have
if missing:
    # everything a later look needs: what is missing, what the store has
    # around it, the counters
    for k, n in sorted(missing.items())[:20]:
        near = con.execute("SELECT id, ts_ns, type, code, status FROM event"
                           " WHERE ts_ns BETWEEN ? AND ? ORDER BY id",
                           ((k[0] - 1000) * 1000000,
                            (k[0] + 1000) * 1000000)).fetchall()
        print(f"store_crash: missing {n}x {k}; the store near it: {near}",
              file=sys.stderr)
    print("store_crash: counters", con.execute("SELECT * FROM counter")
          .fetchall(), "events", con.execute("SELECT count(*), max(id) FROM"
                                             " event").fetchone(),
          file=sys.stderr)
    fail(f"{sum(missing.values())} of {lines} events on stdout are not in"
         f" the store, e.g. {next(iter(missing))}")
print(lines)
EOF
}

# whole runs first: they must succeed, and tell how long a run takes (the
# shortest of three replays in a row, so that most kills land inside a run)
state=$work/state0
mkdir -p "$state"
full_ns=
: >"$work/all.out"
for k in 1 2 3; do
	t0=$(date +%s%N)
	"$@" --replay "$input" --json --state "$state" >"$work/run.out" \
		2>"$work/err"
	t1=$(date +%s%N)
	cat "$work/run.out" >>"$work/all.out"
	if [ -z "$full_ns" ] || [ $((t1 - t0)) -lt "$full_ns" ]; then
		full_ns=$((t1 - t0))
	fi
done
full_events=$(check "$state/dtcd.db" "$work/all.out")
echo "store_crash: whole runs: shortest $((full_ns / 1000000)) ms," \
	"$full_events events in three"
if [ "$full_events" -lt 10 ]; then
	echo "store_crash: too few events to test anything" >&2
	exit 1
fi

killed=0 completed=0 run=0 start=$(date +%s)
for ((i = 0; i < kills; i++)); do
	if ((run % runs_per_state == 0)); then
		rm -rf "$state"
		state=$work/state$i
		mkdir -p "$state"
		: >"$work/all.out"
	fi
	run=$((run + 1))
	# anywhere from startup to the end of a whole run
	delay_us=$(( (RANDOM * 32768 + RANDOM) % (full_ns / 1000 + 1) ))
	# emptied here, by this shell: a kill that lands after the fork but
	# before the child's own redirections would otherwise leave the last
	# run's events in run.out, appended to all.out a second time
	: >"$work/run.out"
	: >"$work/err"
	# a simple command, not a function: $! must be the replay itself,
	# not a subshell whose child would outlive the kill
	"$@" --replay "$input" --json --state "$state" >"$work/run.out" \
		2>"$work/err" &
	pid=$!
	sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
	kill -KILL "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" -eq 137 ]; then
		killed=$((killed + 1))
	elif [ "$rc" -eq 0 ]; then
		completed=$((completed + 1))
	else
		echo "store_crash: run $i exited $rc (not killed):" >&2
		cat "$work/err" >&2
		exit 1
	fi
	cat "$work/run.out" >>"$work/all.out"
	if [ ! -f "$state/dtcd.db" ]; then
		continue # killed before the store was created
	fi
	if ! check "$state/dtcd.db" "$work/all.out" >/dev/null; then
		echo "store_crash: after kill $i (delay ${delay_us} us, seed $seed)," \
			"work directory $work" >&2
		cat "$work/err" >&2
		exit 1
	fi
done
echo "store_crash: $killed kills, $completed runs finished before the kill," \
	"$(( $(date +%s) - start )) s, seed $seed: every check passed"
