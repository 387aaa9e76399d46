#!/usr/bin/python3
# replay_signals.py: dtcd --replay --signals on the real BMW logs, against an
# independent decode (python3-canmatrix for the DBC broadcasts, the J1979
# formulas written out here for OBD-II), plus what a user expects to see.
import json
import os
import subprocess
import sys

import canmatrix.formats
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD = sys.argv[1]
SHARED = os.environ["DTCD_SHARED"]
SRC = os.environ["DTCD_SOURCE_ROOT"]
DBC = os.path.join(SHARED, "data/dbc/bmw_e9x_e8x.dbc")
E92 = os.path.join(SHARED, "data/real/bmw-e92-ptcan")
E90 = os.path.join(SHARED, "data/real/bmw-e90-obd")

# bmw-reference binds these broadcasts (etc/profiles/bmw-reference.ini)
DBC_BINDINGS = {
    "engine_speed_rpm": ("AccPedal", "EngineSpeed"),
    "coolant_temp_c": ("EngineData", "TEMP_ENG"),
    "oil_temp_c": ("EngineData", "TEMP_EOI"),
    "engine_run_state": ("EngineData", "ST_ENG_RUN"),
    "ignition_on": ("TerminalStatus", "ST_KL_15"),
    "battery_voltage_v": ("PowerBatteryVoltage", "BatteryVoltage"),
    "torque_max_available_nm": ("Torque2", "TORQ_AVL_MAX"),
}



def run_dtcd(log, profile):
    out = subprocess.run(
        [DTCD, "--replay", log, "--profile", profile, "--signals"],
        check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def frames(path):
    for line in open(path):
        parts = line.split()
        if len(parts) < 3 or "#" not in parts[2]:
            continue
        ident, data = parts[2].split("#", 1)
        yield float(parts[0].strip("()")), int(ident, 16), bytes.fromhex(data)


def changes(events):
    """(signal, src) -> value changes, as dtcd reports them"""
    last, out = {}, []
    for ts, sig, src, value in events:
        key = (sig, src)
        if key in last and last[key] == value:
            continue
        last[key] = value
        out.append((ts, sig, src, value))
    return out


def canmatrix_expected(log):
    db = canmatrix.formats.loadp_flat(DBC)
    by_id = {}
    for sig, (msg, name) in DBC_BINDINGS.items():
        frame = db.frame_by_name(msg)
        by_id.setdefault(frame.arbitration_id.id, (frame, []))[1].append(
            (sig, name))
    events = []
    for ts, ident, data in frames(log):
        if ident not in by_id:
            continue
        frame, sigs = by_id[ident]
        decoded = frame.decode(data)
        for sig, name in sigs:
            events.append((ts, sig, "%03X" % ident,
                           float(decoded[name].phys_value)))
    return changes(events)


def same(expected, got, what):
    got = [(e["ts"], e["signal"], e["src"], e["value"]) for e in got]
    check(len(expected) == len(got),
          "%s: %d changes expected, dtcd wrote %d" % (what, len(expected), len(got)))
    for i, (e, g) in enumerate(zip(expected, got)):
        if (abs(e[0] - g[0]) > 1e-6 or e[1] != g[1] or e[2] != g[2]
                or g[3] is None or abs(e[3] - g[3]) > 1e-9 * max(1, abs(e[3]))):
            check(False, "%s: change %d: expected %r, dtcd wrote %r" % (what, i, e, g))
            return


def series(evs, sig):
    return [(e["ts"], e["value"]) for e in evs if e["signal"] == sig]


# --- BMW E92 PT-CAN: broadcasts through the DBC -------------------------
for name in sorted(os.listdir(E92)):
    log = os.path.join(E92, name)
    got = run_dtcd(log, "bmw-reference")
    same(canmatrix_expected(log), got, name)
    if not name.startswith("engstart"):
        continue
    rpm = series(got, "engine_speed_rpm")
    check(rpm and rpm[0][1] == 0, name + ": engine speed starts at 0")
    idle = [t for t, v in rpm if v >= 600]
    check(idle, name + ": engine speed reaches idle (>= 600 rpm)")
    check(max(v for t, v in rpm) > 700, name + ": and above idle")
    cool = series(got, "coolant_temp_c")
    check(cool and cool[-1][1] > cool[0][1], name + ": coolant warms up")
    # the battery dips while the starter cranks (engine_run_state 1)
    state = series(got, "engine_run_state")
    crank = [t for t, v in state if v == 1]
    volts = series(got, "battery_voltage_v")
    if crank:
        before = [v for t, v in volts if t < crank[0]]
        during = [v for t, v in volts if crank[0] - 0.5 <= t <= crank[0] + 3]
        # 0x3B4 comes once a second: the deepest point is rarely sampled
        check(before and during and min(during) < before[-1] - 0.3,
              name + ": battery dips while cranking (%r -> %r)" %
              (before[-1:] , min(during) if during else None))
    else:
        check(False, name + ": no cranking seen")

# --- BMW E90 OBD-II polling: J1979 formulas written out here -------------
FORMULAS = {
    0x0C: ("engine_speed_rpm", lambda a, b: (256 * a + b) / 4),
    0x05: ("coolant_temp_c", lambda a, b: a - 40),
    0x42: ("battery_voltage_v", lambda a, b: (256 * a + b) / 1000),
    0x0D: ("vehicle_speed_kmh", lambda a, b: a),
    0x1F: ("engine_run_time_s", lambda a, b: 256 * a + b),
}
for name in sorted(os.listdir(E90)):
    log = os.path.join(E90, name)
    got = run_dtcd(log, "obd2-generic")
    events = []
    for ts, ident, data in frames(log):
        # these logs hold single frames only: PCI 0x0N, service 0x41
        if ident not in (0x7E8, 0x7EC) or data[0] > 7 or data[1] != 0x41:
            continue
        pid = data[2]
        if pid in FORMULAS:
            sig, f = FORMULAS[pid]
            events.append((ts, sig, "%03X" % ident,
                           float(f(data[3], data[4] if len(data) > 4 else 0))))
    expected = changes(events)
    ours = [e for e in got if e["signal"] in {v[0] for v in FORMULAS.values()}]
    same(expected, ours, name)
    # 7EC answers PIDs 0C, 0D, 42 and 01 in these logs, never 05
    for ecu, sigs in (("7E8", ("engine_speed_rpm", "coolant_temp_c",
                               "battery_voltage_v")),
                      ("7EC", ("engine_speed_rpm", "battery_voltage_v"))):
        for sig in sigs:
            check(any(e["signal"] == sig and e["src"] == ecu for e in got),
                  "%s: %s from %s" % (name, sig, ecu))
    mil = [e for e in got if e["signal"] == "ecu_mil_on" and e["src"] == "7E8"]
    cnt = [e for e in got if e["signal"] == "ecu_dtc_count" and e["src"] == "7E8"]
    check(mil and mil[-1]["value"] == 1, name + ": MIL on for 7E8")
    check(cnt and cnt[-1]["value"] == 3, name + ": 3 stored DTCs for 7E8")

checks.done()
