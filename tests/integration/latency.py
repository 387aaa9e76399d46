#!/usr/bin/python3
# latency.py: every simulated recall fault, three seeds each, through
# dtcd --replay --json: the right code (cylinder, camshaft), nothing else of
# our detectors, the right event sequence (pending, then confirmed in the
# next failing cycle; pending and confirmed at once for the at-once codes),
# and the detection latency from the fault's real onset: the moment the
# sim's --truth shows the faulty quantity across the spec's threshold (not
# the fault's start_s), within a bound derived from the spec's hold times
# and window lengths. Prints a table: detector, fault, code, latency
# (median / max over the seeds), bound.
# Usage: latency.py DTCD DTCD_SIM
import math
import os
import statistics
import subprocess
import sys
import tempfile

from simrun import Checker, brief, ours, replay, sim, write_ini

DTCD, SIM = sys.argv[1], sys.argv[2]
SEEDS = (1, 2, 3)
T0 = 1718000000
ck = Checker()

# spec section 2 and 3 defaults (etc/dtc.ini, docs/detectors.md)
STOP_S = 2            # a cycle ends 2 s after the engine stood still
WINDOW_REVS = 1000    # misfire rate window
CAT_REVS = 200        # catalyst window
SLACK_S = 1.5         # polling (DIDs at 1 Hz, VANOS at 5 Hz) and the tick


# ---- onsets from the truth: {signal: [(ts, value)]} ----

def first(series, pred, after=0.0):
    for t, v in series:
        if t >= after and pred(v):
            return t
    return None


def held(samples, hold_s, after=0.0):
    """start of the first run of True samples [(ts, bool)] lasting hold_s"""
    start = None
    for t, ok in samples:
        if t < after:
            continue
        if ok:
            if start is None:
                start = t
            if t - start >= hold_s:
                return start
        else:
            start = None
    return None


def zip_latest(tr, names, clock):
    """samples at each ts of tr[clock] with the latest value of every name"""
    idx = {n: 0 for n in names}
    cur = {}
    out = []
    for t, _ in tr[clock]:
        for n in names:
            s = tr[n]
            while idx[n] < len(s) and s[idx[n]][0] <= t:
                cur[n] = s[idx[n]][1]
                idx[n] += 1
        if len(cur) == len(names):
            out.append((t, dict(cur)))
    return out


def revs_between(tr, a, b):
    """crank revolutions from the truth engine speed between a and b"""
    revs, last = 0.0, None
    for t, v in tr["engine_speed_rpm"]:
        if t > b:
            break
        if last and t >= a:
            revs += (t - last[0]) * (v + last[1]) / 120.0
        last = (t, v)
    return revs


def misfire_onset(cyl):
    def f(tr, fault):
        s = tr["misfire_count_cyl_%d" % cyl]
        # the first misfire counted after the fault switched on
        start = T0 + fault.get("start_s", 0)
        prev = None
        for t, v in s:
            if prev is not None and t >= start and v > prev:
                return t
            prev = v
        return None
    return f


def burst_onset(cyl):
    """the first counter update showing over 10 % of the firings since
    the one before misfiring (catalyst-damaging while it lasts)"""
    def f(tr, fault):
        s = tr["misfire_count_cyl_%d" % cyl]
        for (t1, c1), (t2, c2) in zip(s, s[1:]):
            firings = revs_between(tr, t1, t2) / 2
            if c2 > c1 and firings > 0 and (c2 - c1) / firings > 0.10:
                return t2
        return None
    return f


def vanos_onset(cam):
    def f(tr, fault):
        samples = [(t, abs(v["a"] - v["t"]) > 10) for t, v in zip_latest(
            {"a": tr["vanos_%s_actual_deg" % cam],
             "t": tr["vanos_%s_target_deg" % cam]}, ["a", "t"], "a")]
        return held(samples, 2.0)
    return f


def emergency_onset(tr, fault):
    return first(tr["engine_emergency_mode"], lambda v: v >= 1)


def engine_off_with_heater(tr, fault):
    """the engine stopped (after running) while the heater was on"""
    z = zip_latest(tr, ["engine_speed_rpm", "fuel_heater_on"],
                   "engine_speed_rpm")
    ran = False
    for t, v in z:
        if v["engine_speed_rpm"] >= 400:
            ran = True
        elif ran and v["engine_speed_rpm"] < 50 and v["fuel_heater_on"]:
            return t
    return None


def drain_onset(tr, fault):
    z = zip_latest(tr, ["battery_current_a", "ignition_on",
                        "engine_speed_rpm"], "battery_current_a")
    return held([(t, v["battery_current_a"] < -5 and not v["ignition_on"]
                  and v["engine_speed_rpm"] < 50) for t, v in z], 120)


def pump_onset(tr, fault):
    z = zip_latest(tr, ["turbo_pump_duty_pct", "turbo_pump_speed_rpm"],
                   "turbo_pump_speed_rpm")
    return held([(t, v["turbo_pump_duty_pct"] >= 30 and
                  v["turbo_pump_speed_rpm"] <
                  0.1 * v["turbo_pump_duty_pct"] * 30) for t, v in z], 5)


def turbo_onset(limit, hold):
    def f(tr, fault):
        return held([(t, v >= limit) for t, v in
                     tr["turbo_coolant_temp_c"]], hold)
    return f


def egr_hot_onset(tr, fault):
    z = zip_latest(tr, ["egr_temp_c", "coolant_temp_c", "egr_valve_pct"],
                   "egr_temp_c")
    return held([(t, v["egr_temp_c"] > 250 and v["coolant_temp_c"] >= 70
                  and v["egr_valve_pct"] >= 20) for t, v in z], 30)


def level_low_onset(tr, fault):
    return first(tr["coolant_level_low"], lambda v: v >= 1)


def spike_onset(tr, fault):
    """the first sample >= 400 °C or 100 °C above one within 2 s before"""
    s = tr["egr_temp_c"]
    for i, (t, v) in enumerate(s):
        if v >= 400:
            return t
        for t2, v2 in reversed(s[max(0, i - 10):i]):
            if t - t2 > 2:
                break
            if v - v2 >= 100:
                return t
    return None


def onset_of_both(a, b):
    def f(tr, fault):
        ta, tb = a(tr, fault), b(tr, fault)
        return None if ta is None or tb is None else max(ta, tb)
    return f


# ---- the faults ----
# Each: detector, fault name, scenario sections, fault section, expected
# {code: sequence}, latencies, extra checks. Sequences:
# "cycles": pending in the fault's first failing cycle, confirmed in the
# next; "at_once": pending and confirmed with the same report;
# "same_cycle": pending, then confirmed later in the same cycle (a
# confirm_now report after a plain failure).
# A latency: (code, event, onset from the truth, lo, hi, unit, why): the
# event must come lo..hi after the onset, in seconds or crank revolutions.
# Holds are timed on the values' frame times, so a value polled every P s
# makes a hold of H s take H..H+P s; the truth is the model's value before
# the bus rounds it, so a sample at the threshold may count one period
# early: lo = H - P.
MISFIRE_DRIVE = {"ambient_c": 15, "profile": "mixed", "drive_s": 300,
                 "park_s": 3600}
VANOS_DRIVE = {"ambient_c": 10, "profile": "mixed", "drive_s": 420,
               "park_s": 3600}
EGR_DRIVE = {"ambient_c": 12, "profile": "city", "drive_s": 900,
             "park_s": 3600}
HILL = {"ambient_c": 25, "profile": "hill", "drive_s": 900, "park_s": 7200}
DID_S = 1.0    # DIDs 0x5A10, 0x5A21..0x5A50 are polled at 1 Hz
VANOS_S = 0.2  # DID 0x5A20 at 5 Hz
TICK_S = 0.1   # dtcd's tick: a hold may end at the next tick


def misfire_case(cyl, rate, how, windows=2):
    code = "P030%d" % cyl
    fault = {"type": "misfire", "cylinder": cyl, "rate": rate,
             "start_s": 120}
    # near the threshold a window can pass by chance (3 %: one in nine
    # windows of 500 firings has 10 misfires or fewer): one more window
    win = CAT_REVS if how == "at_once" else WINDOW_REVS
    return dict(
        det="misfire", name="misfire cyl %d %g %%" % (cyl, rate * 100),
        cycles=2, drive=MISFIRE_DRIVE, fault=fault, expect={code: how},
        latency=[(code, "pending", misfire_onset(cyl), 0, windows * win,
                  "revs", "%d windows of %d revs" % (windows, win))])


def vanos_case(cam, emergency):
    code = "P0011" if cam == "intake" else "P0014"
    fault = {"type": "vanos", "camshaft": cam, "start_s": 60,
             "growth_deg_s": 0.2, "max_deg": 25 if emergency else 14,
             "emergency_deg": 18 if emergency else 30}
    expect = {code: "cycles"}
    lat = [(code, "pending", vanos_onset(cam), 2 - VANOS_S,
            2 + VANOS_S + TICK_S, "s", "> 10 °CRK for 2 s")]
    if emergency:
        expect["P1D01"] = "at_once"
        lat.append(("P1D01", "pending", emergency_onset, 0,
                    DID_S + TICK_S, "s", "emergency bit seen"))
    return dict(det="vanos", name="VANOS %s%s" % (
        cam, ", emergency" if emergency else ""), cycles=2,
        drive=VANOS_DRIVE, fault=fault, expect=expect, latency=lat,
        never=[] if emergency else ["P1D01"])


CASES = [
    misfire_case(2, 0.03, "cycles", 3),
    # 5 %: a 200-revolution window above 10 % by chance (binomial: 1.4 %
    # of the windows) confirms it at once in many drives
    misfire_case(5, 0.05, "cycle_or_at_once", 2),
    misfire_case(4, 0.25, "at_once"),
    misfire_case(1, 0.5, "at_once"),
    dict(det="misfire", name="coil cyl 6 intermittent", cycles=2,
         drive=MISFIRE_DRIVE,
         fault={"type": "coil", "cylinder": 6, "rate": 0.4, "burst_s": 4,
                "gap_s": 25, "min_load": 0.25},
         # a burst misfires on 40 % of the firings: catalyst-damaging
         # if it lasts; the rate window may fail first
         expect={"P0306": "cycle_or_at_once"},
         # a short burst may not fail its window: the next one
         latency=[("P0306", "pending", burst_onset(6), 0, 3 * WINDOW_REVS,
                   "revs", "3 windows of 1000 revs")]),
    vanos_case("intake", True),
    vanos_case("intake", False),
    vanos_case("exhaust", True),
    vanos_case("exhaust", False),
    dict(det="fuel_heater", name="fuel heater stuck", cycles=1,
         drive={"ambient_c": 1, "profile": "city", "drive_s": 300,
                "awake_s": 400},
         fault={"type": "fuel_heater", "start_s": 200, "current_a": 12},
         expect={"P1D02": "at_once", "P1D03": "at_once"},
         latency=[("P1D02", "pending", engine_off_with_heater,
                   STOP_S + 60 - DID_S, STOP_S + 60 + DID_S + TICK_S, "s",
                   "cycle end 2 s, then 60 s"),
                  ("P1D03", "pending", drain_onset, 120 - DID_S,
                   120 + DID_S + TICK_S, "s", "< -5 A for 120 s")]),
    dict(det="turbo_pump", name="turbo pump dead", cycles=2, drive=HILL,
         fault={"type": "turbo_pump_dead", "start_s": 100},
         expect={"P2600": "cycles", "P1D04": "same_cycle"},
         latency=[("P2600", "pending", pump_onset, 5 - DID_S,
                   5 + DID_S + TICK_S, "s", "stalled for 5 s"),
                  ("P1D04", "pending", turbo_onset(115, 10), 10 - DID_S,
                   10 + DID_S + TICK_S, "s", ">= 115 °C for 10 s"),
                  ("P1D04", "confirmed", turbo_onset(125, 2), 2 - DID_S,
                   2 + DID_S + TICK_S, "s", ">= 125 °C for 2 s")],
         severity={"P1D04": "critical"}),
    dict(det="turbo_pump", name="turbo pump weak (overtemp high)",
         cycles=2, drive=HILL,
         fault={"type": "turbo_pump_weak", "efficiency": 0.2},
         expect={"P1D04": "cycles"}, never=["P2600"],
         latency=[("P1D04", "pending", turbo_onset(115, 10), 10 - DID_S,
                   10 + DID_S + TICK_S, "s", ">= 115 °C for 10 s")],
         severity={"P1D04": "high"}),
    dict(det="egr", name="EGR leak", cycles=2, drive=EGR_DRIVE,
         fault={"type": "egr_leak", "efficiency": 0.25, "loss_l_h": 2,
                "low_after_l": 20},
         expect={"P2457": "cycles"}, never=["P1D05"],
         latency=[("P2457", "pending", egr_hot_onset, 30 - DID_S,
                   30 + DID_S + TICK_S, "s", "> 250 °C for 30 s")]),
    dict(det="egr", name="EGR leak, coolant low", cycles=1, drive=EGR_DRIVE,
         fault={"type": "egr_leak", "efficiency": 0.25, "loss_l_h": 2,
                "low_after_l": 0.2},
         expect={"P2457": "same_cycle"}, never=["P1D05"],
         latency=[("P2457", "pending", egr_hot_onset, 30 - DID_S,
                   30 + DID_S + TICK_S, "s", "> 250 °C for 30 s"),
                  ("P2457", "confirmed", level_low_onset, 0,
                   DID_S + TICK_S, "s", "level low seen")]),
    dict(det="egr", name="EGR combustion spike", cycles=1, drive=EGR_DRIVE,
         fault={"type": "egr_combustion", "start_s": 400, "peak_c": 450,
                "rise_s": 1},
         expect={"P1D05": "at_once"}, never=["P2457"],
         latency=[("P1D05", "pending", spike_onset, 0, DID_S + TICK_S, "s",
                   "2 samples of the spike")]),
]

TRUTH_SIGNALS = [
    "engine_speed_rpm", "engine_run_state", "ignition_on",
    "battery_current_a", "fuel_heater_on", "engine_emergency_mode",
    "turbo_pump_duty_pct", "turbo_pump_speed_rpm", "turbo_coolant_temp_c",
    "egr_temp_c", "egr_valve_pct", "coolant_temp_c", "coolant_level_low",
] + ["misfire_count_cyl_%d" % i for i in range(1, 7)] + [
    "vanos_%s_%s_deg" % (c, k) for c in ("intake", "exhaust")
    for k in ("target", "actual")]


# the resolution each value has on the bus (DBC and DID scalings of the
# bmw-reference profile): the truth is rounded as dtcd-sim rounds it
RESOLUTION = {"vanos_intake_target_deg": 0.1, "vanos_intake_actual_deg": 0.1,
              "vanos_exhaust_target_deg": 0.1,
              "vanos_exhaust_actual_deg": 0.1, "turbo_coolant_temp_c": 0.1,
              "egr_temp_c": 0.1, "battery_current_a": 0.01,
              "fuel_heater_current_a": 0.01, "turbo_pump_duty_pct": 1,
              "turbo_pump_speed_rpm": 1, "coolant_temp_c": 1,
              "engine_speed_rpm": 0.25}


def on_bus(sig, v):
    """lround(v / resolution) * resolution, as the sim encodes it"""
    r = RESOLUTION.get(sig)
    if not r:
        return v
    return math.copysign(math.floor(abs(v) / r + 0.5), v) * r


def read_truth(path):
    """the truth CSV, filtered by grep first (it has a line per frame)"""
    g = subprocess.run(["grep", "-E", ",(%s)," % "|".join(TRUTH_SIGNALS),
                        path], capture_output=True, text=True, check=True)
    tr = {s: [] for s in TRUTH_SIGNALS}
    for line in g.stdout.splitlines():
        ts, src, sig, val = line.split(",", 3)
        # the profile reads these from the broadcasts and the DME's DIDs
        # (0x612); the OBD answers (7E8) carry other scalings and
        # meanings (PID 6B saturates, Mode 06 counts per cycle)
        if src != "7E8":
            tr[sig].append((float(ts), on_bus(sig, float(val))))
    return tr


def cycles_of(tr):
    """operation cycles [(start, end)] from the truth engine_run_state"""
    out, start = [], None
    for t, v in tr["engine_run_state"]:
        if v == 2 and start is None:
            start = t
        elif v == 0 and start is not None:
            out.append((start, t + STOP_S))
            start = None
    if start is not None:
        out.append((start, float("inf")))
    return out


def cycle_of(cycles, ts):
    for i, (a, b) in enumerate(cycles):
        if a <= ts <= b + 1:
            return i + 1
    return 0  # between cycles (engine off)


def run_case(tmp, case, seed, lat):
    ini = write_ini(os.path.join(tmp, "f.ini"), [
        ("sim", {"seed": seed, "start_time": T0, "cycles": case["cycles"]}),
        ("drive", case["drive"]),
        ("fault f", case["fault"])])
    log, truth = os.path.join(tmp, "f.log"), os.path.join(tmp, "f.csv")
    sim(SIM, ini, log, truth)
    ev = ours(replay(DTCD, log))
    tr = read_truth(truth)
    cycles = cycles_of(tr)
    what = "%s seed %d" % (case["name"], seed)
    ck.check({e["code"] for e in ev} == set(case["expect"]),
             "%s: codes %s, expected %s: %s" % (
                 what, sorted({e["code"] for e in ev}),
                 sorted(case["expect"]), brief(ev, T0)))
    for code in case.get("never", []):
        ck.check(code not in {e["code"] for e in ev},
                 "%s: %s must not come" % (what, code))
    for code, how in case["expect"].items():
        mine = [e for e in ev if e["code"] == code]
        seq = [e["event"] for e in mine]
        if not ck.check(seq[:2] == ["pending", "confirmed"],
                        "%s: %s events %s" % (what, code, seq)):
            continue
        p, c = mine[0], mine[1]
        cp, cc = cycle_of(cycles, p["ts"]), cycle_of(cycles, c["ts"])
        at_once = p["ts"] == c["ts"]
        if how == "cycles":
            ok = cc == cp + 1 and cp >= 1
        elif how == "at_once":
            ok = at_once
        elif how == "same_cycle":
            ok = cc == cp and c["ts"] > p["ts"]
        else:  # cycle_or_at_once: a catalyst window may come first
            ok = at_once or cc in (cp, cp + 1)
        ck.check(ok, "%s: %s pending in cycle %d at %.1f, confirmed in "
                 "cycle %d at %.1f: not %s" % (what, code, cp, p["ts"] - T0,
                                               cc, c["ts"] - T0, how))
        sev = case.get("severity", {}).get(code)
        if sev:
            ck.check(c["severity"] == sev, "%s: %s confirmed as %s, "
                     "expected %s" % (what, code, c["severity"], sev))
    for code, event, onset_fn, lo, hi, unit, why in case["latency"]:
        e = [x for x in ev if x["code"] == code and x["event"] == event]
        onset = onset_fn(tr, case["fault"])
        if not ck.check(onset is not None, "%s: the truth never shows the "
                        "fault of %s" % (what, code)):
            continue
        if not e:
            continue  # reported above
        late = e[0]["ts"] - onset
        key = (case["det"], case["name"], code, event)
        v = lat.setdefault(key, {"s": [], "lo": lo, "hi": hi, "unit": unit,
                                 "why": why, "x": []})
        v["s"].append(late)
        x = revs_between(tr, onset, e[0]["ts"]) if unit == "revs" else late
        v["x"].append(x)
        ck.check(lo - 0.05 <= x <= hi + 0.05,
                 "%s: %s %s %.1f %s after the onset at %.1f, expected "
                 "%g..%g (%s)" % (what, code, event, x, unit, onset - T0,
                                  lo, hi, why))
    print("%-32s seed %d: %s" % (case["name"], seed, brief(ev, T0)))


def table(lat):
    rows = [("detector", "fault", "code", "event", "median s", "max s",
             "bound")]
    for (det, name, code, event), v in lat.items():
        if v["unit"] == "revs":
            bound = "<= %d revs (max %.0f)" % (v["hi"], max(v["x"]))
        else:
            bound = "%.1f..%.1f s" % (v["lo"], v["hi"])
        rows.append((det, name, code, event,
                     "%.1f" % statistics.median(v["s"]),
                     "%.1f" % max(v["s"]), bound + ": " + v["why"]))
    w = [max(len(r[i]) for r in rows) for i in range(6)]
    print()
    print("Detection latency from the fault's onset in the truth "
          "(%d seeds each)" % len(SEEDS))
    for i, r in enumerate(rows):
        print("  ".join(r[j].ljust(w[j]) if j < 4 else r[j].rjust(w[j])
                        for j in range(6)) + "  " + r[6])
        if i == 0:
            print("  ".join("-" * x for x in w) + "  " + "-" * 5)


lat = {}
with tempfile.TemporaryDirectory() as tmp:
    for case in CASES:
        for seed in SEEDS:
            try:
                run_case(tmp, case, seed, lat)
            except (RuntimeError, subprocess.CalledProcessError) as err:
                ck.check(False, "%s seed %d: %s" % (case["name"], seed, err))
table(lat)
sys.exit(ck.done())
