#!/usr/bin/python3
"""poll_vcan_check.py: what poll_vcan.sh's VM runs left, checked

    poll_vcan_check.py DIR REPLAY.json ETC

DIR holds per run NAME.candump (candump -L any), NAME.json (dtcd --json),
NAME.err (dtcd's messages), NAME.exit, NAME.mqtt and the dtcctl answers;
REPLAY.json is dtcd --replay of vanos.candump; ETC the source's etc/ (the
profile and DBC that say which IDs the kernel filter must pass).
"""
import configparser
import json
import os
import re
import sys

import canmatrix.formats
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

d, replay, etc = sys.argv[1], sys.argv[2], sys.argv[3]
ALLOWED = {0x01, 0x02, 0x03, 0x06, 0x07, 0x09, 0x0A, 0x22}
ALLOWED_19 = {0x01, 0x02, 0x04, 0x06}


def text(name):
    try:
        return open(f"{d}/{name}").read()
    except FileNotFoundError:
        checks.failures.append(f"{name} missing")
        return ""


def bus(name, iface="vcan0"):
    """(t, id, data) of every frame of the candump -L log on iface"""
    out = []
    for line in text(f"{name}.candump").splitlines():
        m = re.match(r"\((\d+\.\d+)\) (\S+) ([0-9A-F]+)#([0-9A-F]*)", line)
        if m and m[2] == iface:
            out.append((float(m[1]), int(m[3], 16), bytes.fromhex(m[4])))
    return out


OTHERS = (b"\x22\x12\x34", b"\x01\x33")


def requests(frames):
    """dtcd's requests: (t, id, payload); flow control and the other
    tester's requests (22 1234, 01 33) left out"""
    out = []
    for t, i, b in frames:
        if i == 0x6F1:
            b = b[1:]
        elif not (i == 0x7DF or 0x7E0 <= i <= 0x7E7):
            continue
        if not b or b[0] >> 4 != 0:
            continue
        pl = b[1:1 + (b[0] & 0xF)]
        if pl in OTHERS:
            continue
        out.append((t, i, pl))
    return out


def events(path):
    ev = []
    for line in open(path):
        e = json.loads(line)
        ev.append((e["ts"], e["event"], e["code"]))
    return ev


def codes(ev, until=1e99):
    return [(e, c) for t, e, c in ev if t < until]


def whitelisted(reqs, name):
    for t, i, pl in reqs:
        ok = pl[0] in ALLOWED or (pl[0] == 0x19 and len(pl) > 1 and
                                   pl[1] in ALLOWED_19)
        check(ok, f"{name}: {i:03X} {pl.hex()} is not whitelisted")


def status(name):
    try:
        return json.loads(text(name))
    except json.JSONDecodeError:
        checks.failures.append(f"{name}: not JSON: {text(name)!r}")
        return {}


def exited(name):
    ex = text(f"{name}.exit")
    check(ex.strip() == "exit 0", f"{name}: dtcd on SIGTERM: {ex!r}")


def rate(rq, payload, a, b):
    return len([1 for t, i, pl in rq
                if pl == bytes.fromhex(payload) and a <= t < b]) / (b - a)


mqtt = text("mqtt.state").strip() == "mqtt yes"

# --- vanos: bmw-reference, a second tester at 30.5 s, two SIGHUPs
fr = bus("vanos")
rq = requests(fr)
whitelisted(rq, "vanos")
marks = [t for t, i, b in fr if i == 0x555]
check(len(marks) == 2, f"vanos: the SIGHUP marks: {marks}")
t_hup = marks[0] if marks else 1e99
t_new = marks[1] if len(marks) > 1 else 1e99
live = events(f"{d}/vanos.json")
ev = codes(live, t_new)
check(("confirmed", "P1D01") in ev, f"vanos: no confirmed P1D01: {ev}")
check(("pending", "P0011") in ev, f"vanos: no pending P0011: {ev}")
check(ev == codes(events(replay), t_new),
      f"vanos: the replay of the candump differs: {ev} vs "
      f"{codes(events(replay), t_new)}")
other = [t for t, i, b in fr if i == 0x6F1 and b[2:5] == b"\x22\x12\x34"]
check(len(other) == 1, f"vanos: the second tester's request: {other}")
t0 = rq[0][0] if rq else 0
if other:
    to = other[0]
    quiet = [r for r in rq if to + 0.2 < r[0] < to + 9.9]
    check(not quiet, f"vanos: dtcd asked {len(quiet)} times within 10 s "
          "of another tester")
    check(rate(rq, "225A20", to + 10, to + 14) > 0,
          "vanos: no polling after the pause")
    span = (t0 + 2, to - 0.5)
else:
    span = (t0 + 2, t0 + 25)
for x, hz in [("5A20", 5), ("5A10", 1), ("5A21", 1), ("5A30", 1),
              ("5A31", 1), ("5A40", 1), ("5A50", 1)]:
    r = rate(rq, "22" + x, *span)
    print(f"vanos: 22 {x}: {r:.2f} Hz over {span[1] - span[0]:.1f} s "
          f"(configured {hz} Hz)")
    check(abs(r - hz) <= 0.1 * hz, f"vanos: 22 {x} at {r:.2f} Hz, "
          f"configured {hz}")


def answered(frames, rid, head):
    """times of the answers on rid (BMW: after the F1 address) whose
    payload starts with head"""
    out = []
    for t, i, b in frames:
        if i != rid:
            continue
        if rid & 0xF00 == 0x600:
            b = b[1:]
        if b and b[0] >> 4 == 0 and b[1:1 + len(head)] == head:
            out.append(t)
        elif b and b[0] >> 4 == 1 and b[2:2 + len(head)] == head:
            out.append(t)
    return out


# the VIN: once per operation cycle (dtcd starts before the engine: once
# before, once in the cycle), asked again only while unanswered
vin = [t for t, i, pl in rq if pl == bytes.fromhex("22F190") and t < t_new]
vin_ans = answered(fr, 0x612, bytes.fromhex("62F190"))
check(vin and 0 < len(vin_ans) <= 2 and
      not [t for t in vin if t > vin_ans[-1]],
      f"vanos: the VIN asked at {vin}, answered at {vin_ans[:3]}")
err = text("vanos.err")
check(err.count("another tester on 0x6F1") == 1, "vanos: the other tester "
      "not said once")
check("another tester on 0x7E" not in err and
      "another tester on 0x7DF" not in err,
      "vanos: dtcd took its own requests for another tester's")
check(err.count("polling resumes") == 1, "vanos: resuming not said once")
# dtcctl status while polling and while the other tester works
st = status("vanos.status1").get("poll") or {}
check(st.get("state") == "polling", f"vanos: status at 20 s: {st}")
reqs = {r["name"]: r for r in st.get("requests", [])}
v = reqs.get("vanos", {})
print(f"vanos: dtcctl status at 20 s: {v}")
check(v.get("configured_hz") == 5 and
      abs(v.get("achieved_hz", 0) - 5) <= 1.25 and v.get("answered", 0) > 0
      and v.get("last_answer_s_ago") is not None and
      v["last_answer_s_ago"] < 2 and v.get("last_nrc") is None,
      f"vanos: status of 22 5A20: {v}")
check(reqs.get("vin", {}).get("configured_hz") == "once per cycle",
      f"vanos: status of the VIN: {reqs.get('vin')}")
st = status("vanos.status2").get("poll") or {}
check(st.get("state") == "another tester", f"vanos: status while another "
      f"tester works: {st.get('state')}")
# SIGHUP: a bad file is refused with FILE:LINE, polling goes on
check(re.search(r"SIGHUP: /tmp/dtcd.conf:2: poll: expected .*, got "
                r"'maybe'; keeping the running configuration", err),
      "vanos: the bad configuration not refused with FILE:LINE")
check(status("vanos.status3").get("profile") == "bmw-reference",
      "vanos: the profile changed with a bad configuration")
r = rate(rq, "225A20", t_hup + 0.5, t_hup + 6.5)
print(f"vanos: 22 5A20 at {r:.2f} Hz in the 6 s after the refused SIGHUP")
check(abs(r - 5) <= 1, f"vanos: after the refused SIGHUP 22 5A20 at "
      f"{r:.2f} Hz")
check(not [t for t, i, pl in rq if pl == bytes.fromhex("22F190") and
           t > t_hup and t < t_new],
      "vanos: the refused SIGHUP restarted polling (the VIN asked again)")
# SIGHUP: the new profile asks its own plan; the DTCs stay
check("profile slow" in err, "vanos: the new profile not said")
st4 = status("vanos.status4")
check(st4.get("profile") == "slow", f"vanos: status after SIGHUP: "
      f"{st4.get('profile')}")
late = [r for r in rq if r[0] > t_new + 1.5]
r = rate(late, "225A20", t_new + 1.5, fr[-1][0] - 0.5)
print(f"vanos: after SIGHUP 22 5A20 at {r:.2f} Hz (configured 2 Hz); "
      f"others: {sorted({pl.hex() for t, i, pl in late} - {'225a20'})}")
check(abs(r - 2) <= 0.3, f"vanos: the new profile's 22 5A20 at {r:.2f} Hz")
check(all(pl == bytes.fromhex("225A20") for t, i, pl in late),
      "vanos: the new profile asked what it does not list")
l1 = {x["code"] for x in status("vanos.list1").get("dtcs", [])}
l2 = {x["code"] for x in status("vanos.list2").get("dtcs", [])}
check(l1 and l1 <= l2, f"vanos: DTCs before SIGHUP {l1}, after {l2}")
exited("vanos")
if mqtt:
    pub = [json.loads(m.split(" ", 1)[1]) for m in
           text("vanos.mqtt").splitlines() if "/events " in m]
    check([(e["event"], e["code"]) for e in pub] == codes(live),
          "vanos: the broker's events differ from --json's")
    online = [m for m in text("vanos.mqtt").splitlines() if "/online " in m]
    check(online and online[-1].endswith(" offline"),
          f"vanos: not offline at the end: {online[-1:]}")

# --- misfire: obd2-generic, Mode 06; another tester on 0x7DF at 25 s
fr = bus("misfire")
rq = requests(fr)
whitelisted(rq, "misfire")
ev = codes(events(f"{d}/misfire.json"))
check(("confirmed", "P0302") in ev, f"misfire: no confirmed P0302: {ev}")
a3 = [t for t, i, pl in rq if pl == b"\x06\xa3"]
check(a3 and all(i == 0x7DF for t, i, pl in rq), "misfire: functional")
fc = {i for t, i, b in fr
      if b and b[0] >> 4 == 3 and 0x7DF <= i <= 0x7EF}
check(fc == {0x7E0}, f"misfire: flow control on {sorted(map(hex, fc))}")
check(not [1 for t, i, pl in rq if pl[:2] == b"\x06\xa8"],
      "misfire: MID A8 (not listed by the ECU) asked")
other = [t for t, i, b in fr if i == 0x7DF and b[1:3] == b"\x01\x33"]
check(len(other) == 1, f"misfire: the other tester on 0x7DF: {other}")
if other:
    to = other[0]
    quiet = [r for r in rq if to + 0.2 < r[0] < to + 9.9]
    check(not quiet, f"misfire: {len(quiet)} requests within 10 s of "
          "another tester on 0x7DF")
    check([r for r in rq if to + 10 <= r[0] < to + 14],
          "misfire: no polling after the pause")
    before = [t for t in a3 if t < to - 0.5]
    if len(before) > 2:
        hz = (len(before) - 1) / (before[-1] - before[0])
        print(f"misfire: 06 A3 at {hz:.3f} Hz (configured 0.5 Hz)")
        check(abs(hz - 0.5) <= 0.05, f"misfire: 06 A3 at {hz:.3f} Hz")
err = text("misfire.err")
check(err.count("another tester on 0x7DF") == 1,
      "misfire: the other tester not said once")
exited("misfire")

# --- updown: vcan0 down 5..8 s
fr = bus("updown")
rq = requests(fr)
err = text("updown.err")
check(err.count("vcan0: interface down") == 1, "updown: down not said once")
check(err.count("vcan0: interface up again") == 1,
      "updown: up again not said once")
gap = max(((b[0] - a[0], a[0]) for a, b in zip(rq, rq[1:])), default=(0, 0))
print(f"updown: longest silence {gap[0]:.1f} s; "
      f"{len([r for r in rq if r[0] > gap[1] + gap[0]])} requests after")
# down 3 s, then the back-off of an ECU that did not answer (at most
# doubling past the down time)
check(2.5 < gap[0] < 10, f"updown: the longest silence {gap[0]:.1f} s")
check(rate(rq, "225A20", gap[1] + gap[0] + 1, fr[-1][0] - 0.5) > 3,
      "updown: polling at 5 Hz not back after the interface came up")
exited("updown")

# --- nrc: refusals and silence
rq = requests(bus("nrc"))
whitelisted(rq, "nrc")
err = text("nrc.err")
# 22 5A30 asked until the ECU says NRC 0x31, then not again in that
# operation cycle (dtcd starts before the engine: one before, one in it)
n5a30 = [r[0] for r in rq if r[2] == bytes.fromhex("225A30")]
nrc31 = answered(bus("nrc"), 0x612, bytes.fromhex("7F2231"))
check(n5a30 and 0 < len(nrc31) <= 2 and
      not [t for t in n5a30 if t > nrc31[-1]],
      f"nrc: 22 5A30 asked at {n5a30}, NRC 0x31 at {nrc31[:3]}")
check(err.count("NRC 0x31") == 1, "nrc: the refusal not said once")
# the mute DME: said (perhaps also once before, when a loaded host made
# answers late), and not taken back
bmw = [x for x in err.splitlines() if "ECU bmw:12" in x]
check(bmw and "no answer to 3 requests" in bmw[-1],
      f"nrc: the silent DME not said last: {bmw}")
t_mute = rq[0][0] + 12 if rq else 0
late = [r for r in rq if r[0] > t_mute + 3 and r[1] == 0x6F1]
print(f"nrc: {len(late)} requests to the mute DME in its last "
      f"{(rq[-1][0] if rq else 0) - t_mute - 3:.1f} s")
check(len(late) <= 6, f"nrc: the mute DME asked {len(late)} times")
# while the DME answers 0x78 and the real answer 0.3 s later, 5A20 is not
# asked again meanwhile: at most 3.5 Hz from its first 0x78 to its last
# (not from dtcd's start: before the simulator runs, requests time out)
p78 = answered(bus("nrc"), 0x612, bytes.fromhex("7F2278"))
span = p78[-1] - p78[0] if p78 else 0
v = [r for r in rq if r[2] == bytes.fromhex("225A20") and p78 and
     p78[0] - 0.1 <= r[0] <= p78[-1]]
print(f"nrc: 22 5A20 asked {len(v)} times in the {span:.1f} s of its "
      f"{len(p78)} NRC 0x78")
check(len(p78) > 10 and len(v) <= span * 3.5 + 1,
      f"nrc: 22 5A20 asked {len(v)} times in the {span:.1f} s of its "
      f"{len(p78)} NRC 0x78")
reqs = {r["name"]: r for r in
        (status("nrc.status").get("poll") or {}).get("requests", [])}
fh = reqs.get("fuel_heater", {})
check(fh.get("last_nrc") == 0x31 and fh.get("dropped") is True,
      f"nrc: status of 22 5A30: {fh}")
check(reqs.get("misfire", {}).get("last_nrc") == 0x21,
      f"nrc: status of 22 5A10: {reqs.get('misfire')}")
exited("nrc")

# --- quiet: two interfaces, listen only, the kernel filter
both = bus("quiet", "vcan0") + bus("quiet", "vcan1")
check(not requests(bus("quiet", "vcan0")) and
      not requests(bus("quiet", "vcan1")),
      "quiet: --listen-only sent requests")
check(len(bus("quiet", "vcan1")) > 100, "quiet: the car was not on vcan1")
prof = configparser.ConfigParser(inline_comment_prefixes=(";",))
prof.read(f"{etc}/profiles/bmw-reference.ini")
db = canmatrix.formats.loadp_flat(f"{etc}/dbc/bmw_e9x_e8x.dbc")
bound = {db.frame_by_name(v.split(".")[0]).arbitration_id.id
         for k, v in prof["dbc"].items() if k != "file"}


def passes(i):
    return i in bound or 0x600 <= i <= 0x6FF or 0x7DF <= i <= 0x7EF


err = text("quiet.err")
for iface in ("vcan0", "vcan1"):
    fr = bus("quiet", iface)
    want = len([1 for t, i, b in fr if passes(i)])
    m = re.search(rf"{iface}: (\d+) frames, (\d+) dropped", err)
    got = (int(m[1]), int(m[2])) if m else None
    print(f"quiet: {iface}: {len(fr)} frames on the bus, {want} the profile "
          f"decodes; dtcd read {got}")
    # candump may lose a frame or two on a loaded host; dtcd says its own
    check(got and abs(got[0] + got[1] - want) <= 2 and
          (iface == "vcan1" or got[0] < len(fr) / 10),
          f"quiet: {iface}: dtcd read {got}, the filter should pass {want}")
check(len(bus("quiet", "vcan0")) >= 300, "quiet: cangen did not run")
sig = {s["signal"]: s for s in status("quiet.signals").get("signals", [])}
check(sig.get("engine_speed_rpm", {}).get("src") is not None,
      f"quiet: no engine speed from vcan1: {sig.get('engine_speed_rpm')}")
exited("quiet")

checks.done("poll_vcan: ")
