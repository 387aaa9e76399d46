#!/usr/bin/python3
# lifecycle_state.py: replays in a row with --state act as days of driving.
# Day 1 and day 2 (two dtcd-sim drives, a day apart) have cylinder 2
# misfiring on 5 % of its firings: P0302 pending after day 1, confirmed on
# day 2 with its occurrences and freeze frame; a healthy day 3 adds nothing
# and clears pending; dtcd --clear P0302 gives a "cleared" event and the
# store forgets it (a healthy day 4 says nothing of P0302); dtcd --clear
# clears all. Last, the day-1 log as one file against its two halves replayed
# in a row with the same state.
# Usage: lifecycle_state.py DTCD DTCD_SIM
import json
import os
import subprocess
import sys
import tempfile

from simrun import (CDTC, PDTC, TF, TFSLC, TFTOC, TNCSLC, TNCTOC, WIR,
                    Checker, bits, brief, dtcd, ours, replay, sim, store,
                    store_counter, store_dtc, write_ini)

DTCD, SIM = sys.argv[1], sys.argv[2]
DAY = 86400
T1 = 1718000000  # day 1, 2024-06-10 06:13 UTC
VIN = "WBAPH5C55BA654321"
FIRST_FAILURE = TF | TFTOC | PDTC | TFSLC             # 0x27
CONFIRMED = TF | TFTOC | PDTC | CDTC | TFSLC | WIR    # 0xAF
NEVER_TESTED = TNCSLC | TNCTOC                        # 0x50
ck = Checker()


def day(tmp, n, seed, misfire):
    sections = [("sim", {"seed": seed, "start_time": T1 + (n - 1) * DAY,
                         "vin": VIN, "cycles": 1}),
                ("drive", {"ambient_c": 12, "profile": "city",
                           "drive_s": 300})]
    if misfire:
        sections.append(("fault coil2", {"type": "misfire", "cylinder": 2,
                                         "rate": 0.05}))
    ini = write_ini(os.path.join(tmp, "day%d.ini" % n), sections)
    log = os.path.join(tmp, "day%d.log" % n)
    sim(SIM, ini, log)
    return log


def only(events, what):
    """the one event of our detectors, else a failure naming them all"""
    o = ours(events)
    ck.check(len(o) == 1, "%s: one event expected, got %s" % (what, brief(o)))
    return o[0] if o else None


def check_freeze_frame(e, what):
    ff = e.get("freeze_frame", {})
    for sig in ("engine_speed_rpm", "coolant_temp_c"):
        ck.check(isinstance(ff.get(sig), (int, float)),
                 "%s: freeze frame without %s: %s" % (what, sig, ff))
    ck.check(ff.get("vin") == VIN, "%s: freeze frame vin %r, the car's is %s"
             % (what, ff.get("vin"), VIN))
    # a misfire this cycle: the engine turned and cylinder 2 counted
    ck.check(ff.get("engine_speed_rpm", 0) >= 400 and
             ff.get("misfire_count_cyl_2", 0) > 0,
             "%s: freeze frame not taken while misfiring: %s" % (what, ff))


def lifecycle(tmp):
    state = os.path.join(tmp, "car")
    os.mkdir(state)
    logs = {1: day(tmp, 1, 41, True), 2: day(tmp, 2, 42, True),
            3: day(tmp, 3, 43, False), 4: day(tmp, 4, 44, False),
            5: day(tmp, 5, 45, True)}

    # day 1: first failing operation cycle -> pending
    e = only(replay(DTCD, logs[1], state), "day 1")
    if e:
        print("day 1:", brief([e], T1))
        ck.check((e["event"], e["code"]) == ("pending", "P0302"),
                 "day 1: expected pending P0302, got %s" % brief([e]))
        ck.check(e["status"] == FIRST_FAILURE, "day 1: status %s, expected %s"
                 % (bits(e["status"]), bits(FIRST_FAILURE)))
        ck.check(e.get("occurrences") == 1, "day 1: occurrences %s, "
                 "expected 1" % e.get("occurrences"))
        check_freeze_frame(e, "day 1 pending")
        day1_ts = e["ts"]
    row = store_dtc(state, "P0302")
    ck.check(row and row["status"] & PDTC and not row["status"] & CDTC,
             "day 1: store has P0302 %s, expected pending, not confirmed"
             % (row and bits(row["status"])))

    # day 2: the second failing cycle -> confirmed; first failure kept
    e = only(replay(DTCD, logs[2], state), "day 2")
    if e:
        print("day 2:", brief([e], T1), "occurrences", e.get("occurrences"))
        ck.check((e["event"], e["code"]) == ("confirmed", "P0302"),
                 "day 2: expected confirmed P0302, got %s" % brief([e]))
        ck.check(e["status"] == CONFIRMED, "day 2: status %s, expected %s"
                 % (bits(e["status"]), bits(CONFIRMED)))
        ck.check(e["ts"] >= T1 + DAY, "day 2: confirmed at %.1f, before the"
                 " day-2 drive" % (e["ts"] - T1))
        # one episode per testFailed 0 -> 1: the fault never went away, so
        # day 2 continues day 1's episode (docs/dtc.md, occurrences)
        ck.check(isinstance(e.get("occurrences"), int) and
                 e["occurrences"] >= 1,
                 "day 2: occurrences %r" % e.get("occurrences"))
        check_freeze_frame(e, "day 2 confirmed")
        ck.check(e["freeze_frame"] != {}, "day 2: empty freeze frame")
    row = store_dtc(state, "P0302")
    if ck.check(row is not None, "day 2: P0302 not in the store"):
        ck.check(row["failed_cycles"] == 2 and row["stored"] == 1,
                 "day 2: store: failed_cycles %d, stored %d; expected 2, 1"
                 % (row["failed_cycles"], row["stored"]))
        ck.check(abs(row["first_failure_ns"] / 1e9 - day1_ts) < 1e-3,
                 "day 2: first failure %.3f, day 1's pending was at %.3f"
                 % (row["first_failure_ns"] / 1e9, day1_ts))
        ck.check(row["last_failure_ns"] / 1e9 >= T1 + DAY,
                 "day 2: last failure not on day 2")
    ck.check(store_counter(state, "operation_cycles") == 2,
             "day 2: %s operation cycles in the store, expected 2"
             % store_counter(state, "operation_cycles"))
    with store(state) as con:
        ff = dict(con.execute("SELECT signal, coalesce(text, value) FROM "
                              "freeze_frame WHERE code = 'P0302'").fetchall())
    ck.check("engine_speed_rpm" in ff and ff.get("vin") == VIN,
             "day 2: stored freeze frame %s" % ff)

    # day 3, healthy: no new pending/confirmed; the passing cycle ends
    # pending, confirmed stays (it heals only after 40 warm-up cycles)
    o = ours(replay(DTCD, logs[3], state))
    print("day 3 (healthy):", brief(o, T1))
    ck.check(not [x for x in o if x["event"] in ("pending", "confirmed")],
             "day 3 (healthy): %s" % brief(o, T1))
    row = store_dtc(state, "P0302")
    ck.check(row and row["status"] & CDTC and
             not row["status"] & (PDTC | TF),
             "day 3: store has P0302 %s, expected confirmed, no longer "
             "pending nor failed" % (row and bits(row["status"])))

    # dtcd --list reads the store as dtcctl list would: P0302 confirmed
    lst = json.loads(subprocess.run([DTCD, "--list", "--state", state],
                                    capture_output=True, text=True,
                                    check=True).stdout)
    ck.check([(d["code"], d["status"] & (CDTC | PDTC)) for d in lst] ==
             [("P0302", CDTC)] and lst[0].get("freeze_frame"),
             "day 3: dtcd --list says %s" % [(d["code"], bits(d["status"]))
                                             for d in lst])

    # clear P0302 (UDS 0x14): a cleared event, the store forgets it
    ev = dtcd(DTCD, ["--clear", "P0302", "--state", state, "--json"])
    print("clear P0302:", brief(ev))
    ck.check([(x["event"], x["code"]) for x in ev] == [("cleared", "P0302")],
             "clear P0302: %s" % brief(ev))
    ck.check(all(x["status"] == NEVER_TESTED for x in ev),
             "clear P0302: status %s" % [bits(x["status"]) for x in ev])
    row = store_dtc(state, "P0302")
    ck.check(row and row["status"] == NEVER_TESTED and row["stored"] == 0
             and row["occurrences"] == 0,
             "after clear: store has P0302 %s" % row)
    with store(state) as con:
        n = con.execute("SELECT count(*) FROM freeze_frame WHERE code = "
                        "'P0302'").fetchone()[0]
    ck.check(n == 0, "after clear: %d freeze-frame rows of P0302" % n)
    lst = json.loads(subprocess.run([DTCD, "--list", "--state", state],
                                    capture_output=True, text=True,
                                    check=True).stdout)
    ck.check(lst == [], "after clear: dtcd --list says %s" % lst)
    # the text form says it too
    txt = subprocess.run([DTCD, "--clear", "P0302", "--state", state],
                         capture_output=True, text=True)
    ck.check(txt.returncode == 0 and "cleared" in txt.stdout and
             "P0302" in txt.stdout, "clear P0302 (text): rc %d, %r"
             % (txt.returncode, txt.stdout))

    # day 4, healthy: nothing at all of P0302
    o = ours(replay(DTCD, logs[4], state))
    print("day 4 (healthy):", brief(o, T1))
    ck.check(not [x for x in o if x["code"] == "P0302"],
             "day 4: events of P0302 after the clear: %s" % brief(o, T1))
    ck.check(not [x for x in o if x["event"] in ("pending", "confirmed")],
             "day 4 (healthy): %s" % brief(o, T1))

    # day 5 misfires again: pending anew (a new first failure), then
    # --clear without a code clears every DTC
    e = only(replay(DTCD, logs[5], state), "day 5")
    if e:
        ck.check((e["event"], e["code"], e["status"]) ==
                 ("pending", "P0302", FIRST_FAILURE),
                 "day 5: expected pending P0302 %s, got %s" %
                 (bits(FIRST_FAILURE), brief([e])))
    ev = dtcd(DTCD, ["--clear", "--state", state, "--json"])
    print("clear all:", ", ".join(x["code"] for x in ev))
    ck.check(ev and all(x["event"] == "cleared" and
                        x["status"] == NEVER_TESTED for x in ev),
             "clear all: %s" % brief(ev))
    ck.check("P0302" in [x["code"] for x in ev],
             "clear all: P0302 not cleared: %s" % brief(ev))
    with store(state) as con:
        left = con.execute("SELECT code, status FROM dtc WHERE status != ?"
                           " OR stored != 0", (NEVER_TESTED,)).fetchall()
    ck.check(not left, "after clear all: %s" %
             [(c, bits(s)) for c, s in left])
    return logs[1]


def engine_stop_ts(log):
    """frame time at which the engine stopped (engine_run_state -> 0)"""
    sig = subprocess.run([DTCD, "--replay", log, "--signals"],
                         capture_output=True, text=True, check=True)
    stop = None
    for line in sig.stdout.splitlines():
        if '"engine_run_state"' in line and '"value":0' in \
                line.replace(" ", ""):
            stop = float(line.split('"ts":')[1].split(",")[0])
    return stop


def split_log(log, at_ts, a, b):
    """splits a candump log at the first frame at or after at_ts"""
    with open(log) as f, open(a, "w") as fa, open(b, "w") as fb:
        out = fa
        for line in f:
            if out is fa and float(line[1:line.index(")")]) >= at_ts:
                out = fb
            out.write(line)


def key(e):
    return (e["ts"], e["event"], e["code"], e["status"],
            e.get("occurrences"), sorted(e["freeze_frame"].items()))


def split(tmp, log):
    """one file vs its halves in a row with --state"""
    whole_state = os.path.join(tmp, "whole")
    os.mkdir(whole_state)
    whole = replay(DTCD, log, whole_state)
    stop = engine_stop_ts(log)
    ck.check(stop is not None, "split: no engine stop in day 1")
    pend = [x for x in ours(whole) if x["event"] == "pending"]
    if stop is None or not pend:
        return
    cases = [
        # after the engine stopped (the cycle ended 2 s later): the bus
        # is still awake (ignition, after-run), no cycle is cut
        ("after the engine stop", stop + 5, False),
        # mid-drive, after the pending: dtcd ends the operation cycle at
        # the end of input, and the second half starts a new one when it
        # sees the engine run: two failing cycles, so P0302 is confirmed
        ("mid-drive", (pend[0]["ts"] + stop) / 2, True),
    ]
    for name, at, cut in cases:
        a, b = os.path.join(tmp, "a.log"), os.path.join(tmp, "b.log")
        split_log(log, at, a, b)
        st = os.path.join(tmp, "split-%d" % int(at))
        os.mkdir(st)
        ea, eb = replay(DTCD, a, st), replay(DTCD, b, st)
        halves = ours(ea) + ours(eb)
        print("split %s (%.1f s): whole %s | halves %s" % (
            name, at - T1, brief(ours(whole), T1), brief(halves, T1)))
        # ECU state is kept in memory only: a process that sees the OBD
        # answers (ignition on) reports the MIL once again (docs/dtc.md)
        if cut:
            mil = [len([x for x in h if x["event"] == "ecu"])
                   for h in (ea, eb)]
            ck.check(mil == [1, 1], "split %s: MIL events per half %s, "
                     "expected one per process" % (name, mil))
        cycles = store_counter(st, "operation_cycles")
        if not cut:
            ck.check([key(x) for x in halves] ==
                     [key(x) for x in ours(whole)],
                     "split %s: halves %s, whole %s" %
                     (name, brief(halves, T1), brief(ours(whole), T1)))
            ck.check(cycles == 1, "split %s: %s operation cycles, "
                     "expected 1" % (name, cycles))
        else:
            ck.check([key(x) for x in ours(ea)] ==
                     [key(x) for x in ours(whole)],
                     "split %s: first half %s, whole %s" %
                     (name, brief(ours(ea), T1), brief(ours(whole), T1)))
            ck.check([(x["event"], x["code"]) for x in ours(eb)] ==
                     [("confirmed", "P0302")] and
                     all(x["ts"] >= at for x in ours(eb)),
                     "split %s: second half %s, expected the cut cycle's "
                     "second half to confirm P0302" %
                     (name, brief(ours(eb), T1)))
            ck.check(cycles == 2, "split %s: %s operation cycles, "
                     "expected 2 (the cut makes two)" % (name, cycles))


with tempfile.TemporaryDirectory() as tmp:
    try:
        day1 = lifecycle(tmp)
        split(tmp, day1)
    except (RuntimeError, subprocess.CalledProcessError) as err:
        ck.check(False, str(err))
sys.exit(ck.done())
