#!/usr/bin/python3
# logformat_compare.py: Vector ASC and BLF, our log reader and writer,
# against python-can, which writes and reads both formats.
#
# usage: logformat_compare.py CANDUMP_DUMP DTCD
# Every candump log of $DTCD_SHARED/data/grammar and data/real, and one
# holding every kind of frame the candump grammar has (29-bit IDs, remote
# frames with and without a length, raw DLCs 9..F, CAN FD of every length
# with BRS and ESI, error frames of several classes, directions), is
#  1. written by python-can's ASCWriter and BLFWriter: our reader must read
#     each written file as python-can's own ASCReader and BLFReader do
#     (every field, timestamps to the microsecond), and as the candump
#     original (every field the format holds; times relative to the first
#     frame exactly, the start to the millisecond python-can keeps);
#  2. written by our writer (candump_dump -o): python-can's readers and ours
#     must read it as the candump original, times exactly.
# What a format cannot hold is listed in docs/desk.md and left out of the
# comparison here by name; python-can's own misreadings likewise.
# dtcd --replay of the ASC and BLF copies gives the original's events, and
# --report the same report (our copies: to the byte of its data).
import os
import re
import subprocess
import sys
import tempfile

os.environ["TZ"] = "UTC"  # ASC and BLF keep local time: one zone for both
import time  # noqa: E402

time.tzset()
import can  # noqa: E402
from can.util import len2dlc  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

dump, dtcd = sys.argv[1], sys.argv[2]
shared = os.environ.get("DTCD_SHARED") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")


def ours(path, out=None):
    """our reader's frames of path; with out, our writer's copy's errors"""
    r = subprocess.run([dump, path] if out is None else [dump, "-o", out,
                                                          path],
                       capture_output=True, text=True)
    check(r.returncode == 0, "%s: candump_dump rc %d: %s" %
          (path, r.returncode, r.stderr[:300]))
    out = []
    for line in r.stdout.splitlines():
        ts, iface, fid, flags, dlen, len8, data, d = line.split()
        flags = "" if flags == "-" else flags
        out.append({"ts_us": (int(ts) + 500) // 1000, "iface": iface,
                    "id": int(fid, 16), "ext": "E" in flags,
                    "rtr": "R" in flags, "err": "X" in flags,
                    "fd": "F" in flags, "brs": "B" in flags,
                    "esi": "S" in flags, "len": int(dlen),
                    "len8": int(len8),
                    "data": "" if data == "-" else data,
                    "dir": "" if d == "-" else d})
    return out, r.stderr


def messages(path):
    """A candump log as python-can Messages, every field kept: python-can's
    CanutilsLogReader drops an error frame's class, data and channel (and
    reads one of another class than bus error as a data frame), and cannot
    read a raw DLC ("_F"); where it can read the file, it must agree."""
    msgs = []
    with open(path) as f:
        for line in f:
            t = line.split()
            if not t:
                continue
            fid, rest = t[2].split("#", 1)
            cid = int(fid, 16)
            m = dict(timestamp=float(t[0][1:-1]), channel=t[1],
                     is_rx=not (len(t) > 3 and t[3] == "T"),
                     is_extended_id=len(fid) > 3, arbitration_id=cid)
            raw = None
            if "_" in rest:
                rest, raw = rest.split("_")
                raw = int(raw, 16)
            if rest.startswith("#"):
                m.update(is_fd=True, bitrate_switch=bool(int(rest[1], 16) & 1),
                         error_state_indicator=bool(int(rest[1], 16) & 2))
                rest = rest[2:]
            if rest[:1] in ("R", "r"):
                m.update(is_remote_frame=True, dlc=int(rest[1:] or "0"))
                data = b""
            else:
                data = bytes.fromhex(rest)
                m["dlc"] = len(data)
            if raw:
                m["dlc"] = raw
            if cid & 0x20000000:
                # the kernel's error frames carry 8 bytes, the class in
                # the ID
                data = data.ljust(8, b"\0")
                m.update(is_error_frame=True, is_extended_id=False,
                         arbitration_id=cid & 0x1FFFFFFF, dlc=8)
            msgs.append(can.Message(data=data, **m))
    try:
        theirs_ = list(can.CanutilsLogReader(path))
    except ValueError:
        theirs_ = None  # a raw DLC
    if theirs_ is not None and check(
            len(theirs_) == len(msgs), "%s: %d frames, python-can's "
            "CanutilsLogReader %d" % (path, len(msgs), len(theirs_))):
        for i, (a, b) in enumerate(zip(msgs, theirs_)):
            if a.is_error_frame or b.is_error_frame:
                continue
            if not check(a.equals(b, timestamp_delta=1e-6), "%s frame %d: "
                         "ours %s, python-can's %s" % (path, i + 1, a, b)):
                break
    return msgs


def theirs(msgs, fmt):
    out = []
    for m in msgs:
        n, len8 = m.dlc, 0
        if not m.is_fd and n > 8:
            # a raw DLC 9..F: python-can keeps it as the DLC (BLF) or as
            # the length it would mean in CAN FD (its ASCReader)
            n, len8 = 8, n if fmt == "blf" else len2dlc(n)
        out.append({"ts_us": round(m.timestamp * 1e6),
                    "iface": "can%d" % m.channel
                    if isinstance(m.channel, int) else str(m.channel),
                    "id": m.arbitration_id, "ext": m.is_extended_id,
                    "rtr": m.is_remote_frame, "err": m.is_error_frame,
                    "fd": m.is_fd, "brs": m.bitrate_switch,
                    "esi": m.error_state_indicator, "len": n, "len8": len8,
                    "data": "" if m.is_remote_frame
                    else bytes(m.data).hex().upper(),
                    "dir": "R" if m.is_rx else "T"})
    return out


def same(name, a, b, keys, what):
    if not check(len(a) == len(b), "%s: %d frames, %s has %d" %
                 (name, len(a), what, len(b))):
        return
    for i, (x, y) in enumerate(zip(a, b)):
        # None: a field one side cannot hold (held(), quirks())
        diff = [k for k in keys if x[k] != y[k] and
                x[k] is not None and y[k] is not None]
        if diff:
            check(False, "%s frame %d: %s differ from %s: ours %s, %s" %
                  (name, i + 1, diff, what, {k: x[k] for k in diff},
                   {k: y[k] for k in diff}))
            return


# every kind of frame the candump grammar (can/candump.c) has
KINDS = """\
(1718000000.123456) can0 123#
(1718000000.123500) can0 7FF#11 R
(1718000000.123600) vcan1 000#1122334455667788 T
(1718000000.124000) can0 00000000#00
(1718000000.124100) can1 1FFFFFFF#AABBCCDDEEFF0011 T
(1718000000.124200) can0 123#1122334455667788_9
(1718000000.124300) can0 12345678#1122334455667788_F R
(1718000000.125000) can0 100#R
(1718000000.125100) can0 200#R0 T
(1718000000.125200) can1 300#R3
(1718000000.125300) can0 1ABCDEF0#R8 T
(1718000000.125400) can0 400#R8_C
(1718000000.126000) can0 7DF##0
(1718000000.126100) can0 7DF##1AA
(1718000000.126200) can2 7E8##200112233445566778899AABB
(1718000000.126300) can0 1ABCDEF0##3""" + "5A" * 64 + """ T
(1718000000.126400) can0 123##0""" + "00112233" * 4 + """
(1718000000.126500) can0 123##1""" + "01" * 20 + """
(1718000000.126600) can0 123##2""" + "02" * 24 + """
(1718000000.126700) can0 123##3""" + "03" * 32 + """
(1718000000.126800) can0 123##0""" + "04" * 48 + """
(1718000000.126900) can0 123##0""" + "10" * 8 + """
(1718000000.127000) can0 20000080#0000000000000000
(1718000000.127100) can1 20000004#0004000000000000
(1718000000.127200) can0 20000020#
(1718000000.127300) can0 20000100#00000000000000FF
"""


def logs(tmp):
    kinds = os.path.join(tmp, "every-kind.log")
    with open(kinds, "w") as f:
        f.write(KINDS)
    yield kinds
    for sub in ("grammar", "real"):
        for root, _, files in os.walk(os.path.join(shared, "data", sub)):
            for f in sorted(files):
                if f.endswith(".log"):
                    yield os.path.join(root, f)


ALL = ["ts_us", "iface", "id", "ext", "rtr", "err", "fd", "brs", "esi",
       "len", "len8", "data", "dir"]
HELD = ALL[1:] + ["rel"]
DATED = 631152000 * 10**6  # 1990: before it, a relative log (since boot)


def channel(iface):
    """the formats number channels: candump's vcan1 is can1 again, a name
    without a number channel 1, can0"""
    m = re.search(r"(\d{1,5})$", iface)
    return "can%d" % int(m.group(1)) if m else "can0"


def held(orig, fmt, by_python_can):
    """the original as the format holds it (docs/desk.md)"""
    o = [dict(f) for f in orig]
    for f in o:
        f["iface"] = channel(f["iface"])
        # a frame without a direction is written as received
        f["dir"] = f["dir"] or "R"
        if f["err"]:
            # neither has an error frame's direction or an FD flag on it
            f.update(dir=None, fd=None, brs=None, esi=None)
            if fmt == "asc":
                # the ErrorFrame line holds no class and no data; python-
                # can's ASCWriter puts its own channel 1 on it
                f.update(id=0, len=0, len8=0, data="")
                if by_python_can:
                    f["iface"] = None
    return o


def quirks(th, o, fmt):
    """python-can's ASCReader misreads two kinds of line: a remote frame's
    hex DLC of 9..F ("r c") is 0 to it, and a CAN FD line of length 0 is a
    remote frame; it calls every error frame extended and received"""
    for x in th:
        if x["err"]:
            x.update(ext=False, dir=None, fd=None, brs=None, esi=None)
    if fmt != "asc":
        return
    for x, y in zip(th, o):
        if y["rtr"] and y["len8"]:
            x.update(len=y["len"], len8=y["len8"])
        if y["fd"] and not y["len"] and not y["err"]:
            x.update(rtr=y["rtr"])


def same_times(name, g, o, first):
    """times relative to the first frame exactly; the start to what first
    says (0: exactly, us); a relative log has no date to keep"""
    if not g or not o:
        return
    t0o, t0g = o[0]["ts_us"], g[0]["ts_us"]
    check(t0o < DATED or abs(t0g - t0o) <= first,
          "%s: starts at %d us, the original at %d" % (name, t0g, t0o))
    for f, b in ((o, t0o), (g, t0g)):
        for x in f:
            x["rel"] = x["ts_us"] - b


n_files = n_frames = 0
with tempfile.TemporaryDirectory() as tmp:
    for path in logs(tmp):
        name = os.path.relpath(path, shared) if path.startswith(shared) \
            else os.path.basename(path)
        msgs = messages(path)
        if not msgs:
            continue
        orig, _ = ours(path)
        asc, blf = os.path.join(tmp, "x.asc"), os.path.join(tmp, "x.blf")
        asc_reader = (lambda p: can.ASCReader(p, relative_timestamp=False))
        # 1. python-can writes, we read
        with can.ASCWriter(asc) as w:
            for m in msgs:
                w.on_message_received(m)
        formats = [("asc", asc, asc_reader)]
        try:
            with can.BLFWriter(blf) as w:
                for m in msgs:
                    w.on_message_received(m)
            formats.append(("blf", blf, can.BLFReader))
        except ValueError as e:
            # python-can's BLFWriter cannot date a start past year 9999
            print("%s: python-can writes no BLF of it (%s)" % (name, e))
        for fmt, fpath, reader in formats:
            what = "%s as python-can's %s" % (name, fmt.upper())
            got, err = ours(fpath)
            check(not err, "%s: errors %s" % (what, err[:300]))
            try:
                th = theirs(list(reader(fpath)), fmt)
            except ValueError as e:
                print("%s: python-can cannot read back its %s (%s)" %
                      (name, fmt.upper(), e))
                continue
            o = held(orig, fmt, True)
            g = [dict(f) for f in got]
            quirks(th, o, fmt)
            for x in g:
                if x["err"]:
                    x.update(ext=False, dir=None, fd=None, brs=None,
                             esi=None)
            same(what, g, th, ALL, "python-can's " + fmt.upper() + "Reader")
            same_times(what, g, o, 1000)
            # time that goes back before the first frame (the E91 logs) is
            # more than python-can's writers can hold
            for x, y in zip(o, g):
                if x["rel"] < 0:
                    x["rel"] = y["rel"] = None
            same(what, g, o, HELD, "the candump original")
        # 2. we write, python-can and we read
        for fmt, reader in (("asc", asc_reader), ("blf", can.BLFReader)):
            what = "%s as our %s" % (name, fmt.upper())
            out = os.path.join(tmp, "ours." + fmt)
            r = subprocess.run([dump, "-o", out, path], capture_output=True,
                               text=True)
            # a frame before the first one is left out, and said so
            o = held(orig, fmt, False)
            # the start: the first frame's time down to the millisecond
            t0 = o[0]["ts_us"] - o[0]["ts_us"] % 1000
            early = [x for x in o if x["ts_us"] < t0]
            o = [x for x in o if x["ts_us"] >= t0]
            lines = r.stderr.splitlines()
            check(r.returncode == 0 and len(lines) == len(early) and
                  all(path + ":" in x and "left out" in x for x in lines),
                  "%s: candump_dump -o rc %d, %d frames before the first, "
                  "errors %r" % (what, r.returncode, len(early),
                                 r.stderr[:300]))
            got, err = ours(out)
            check(not err, "%s: errors %s" % (what, err[:300]))
            try:
                th = theirs(list(reader(out)), fmt)
            except ValueError as e:
                check(False, "%s: python-can cannot read it (%s)" % (what, e))
                continue
            th_o = [dict(x) for x in o]
            quirks(th, th_o, fmt)
            for x in got:
                if x["err"]:
                    x.update(dir=None, fd=None, brs=None, esi=None)
            for g, oo, by in ((got, o, "our reader"),
                              (th, th_o, "python-can's " + fmt.upper() +
                               "Reader")):
                # every frame's own time, to the microsecond
                keys = ALL if t0 >= DATED else HELD
                same_times(what, g, oo, 0)
                same("%s read by %s" % (what, by), g, oo, keys,
                     "the candump original")
        # 3. our candump writer (dtcd --capture, dtcd-sim) keeps it all
        out = os.path.join(tmp, "ours.log")
        r = subprocess.run([dump, "-o", out, path], capture_output=True,
                           text=True)
        check(r.returncode == 0 and not r.stderr, "%s as our candump: rc "
              "%d %r" % (name, r.returncode, r.stderr[:300]))
        got, err = ours(out)
        check(not err, "%s as our candump: errors %s" % (name, err[:300]))
        same("%s as our candump" % name, got, orig, ALL,
             "the candump original")
        n_files += 1
        n_frames += len(orig)

    # the whole daemon: a fault drive's events from the ASC and BLF copies
    sim = os.path.join(os.path.dirname(dtcd), "..", "sim", "dtcd-sim")
    scen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "scenarios", "misfire.ini")
    log = os.path.join(tmp, "drive.log")
    subprocess.run([sim, "-s", scen, "-o", log], check=True)
    msgs = list(can.CanutilsLogReader(log))
    for fmt, writer in (("asc", can.ASCWriter), ("blf", can.BLFWriter)):
        with writer(os.path.join(tmp, "drive." + fmt)) as w:
            for m in msgs:
                w.on_message_received(m)

    def events(p):
        r = subprocess.run([dtcd, "--replay", p, "--json"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "dtcd --replay %s: %s" % (p, r.stderr[:300]))
        import json
        return [(e["event"], e["code"]) for e in
                map(json.loads, r.stdout.splitlines())]

    def report(p):
        import json
        page = os.path.join(tmp, "report.html")
        r = subprocess.run([dtcd, "--replay", p, "--report", page],
                           capture_output=True, text=True)
        check(r.returncode == 0, "dtcd --report %s: %s" % (p, r.stderr[:300]))
        with open(page) as f:
            m = re.search(r'id="dtcd-data">(.*?)</script>', f.read(), re.S)
        d = json.loads(m.group(1)) if m else {}
        d.pop("source", None)  # the log's name
        return d
    want = events(log)
    check(any(c.startswith("P030") for _, c in want),
          "the misfire drive has no misfire event: %s" % want)
    for fmt in ("asc", "blf"):
        # renamed: the content, not the name, says the format
        p = os.path.join(tmp, "drive-%s.log" % fmt)
        os.rename(os.path.join(tmp, "drive." + fmt), p)
        check(events(p) == want, "dtcd --replay of the %s copy: %s, the "
              "candump original: %s" % (fmt, events(p), want))
        # the report of python-can's copy: the same events and samples
        # (python-can moves the times by the start's part under a ms)
        a, b = report(p), report(log)
        check([(e["type"], e["code"]) for e in a.get("events", [])] ==
              [(e["type"], e["code"]) for e in b.get("events", [])] and
              {k: len(v["t"]) for k, v in a.get("signals", {}).items()} ==
              {k: len(v["t"]) for k, v in b.get("signals", {}).items()},
              "dtcd --report of python-can's %s copy differs from the "
              "candump original's" % fmt)
        # of our writer's copy: the very same report
        ourp = os.path.join(tmp, "ours-drive." + fmt)
        subprocess.run([dump, "-o", ourp, log], check=True)
        check(report(ourp) == b and b.get("events"), "dtcd --report of our "
              "%s copy differs from the candump original's" % fmt)

    # bad input: named by file and line (ASC) or object (BLF), the rest read
    bad = os.path.join(tmp, "bad.asc")
    with open(bad, "w") as f:
        f.write("date Mon Jun 10 06:13:20.000 am 2024\n"
                "base hex  timestamps absolute\n"
                "Begin Triggerblock Mon Jun 10 06:13:20.000 am 2024\n"
                "   0.001000 1  123  Rx   d 8 00 11 22\n"
                "   0.002000 1  124  Rx   d 2 AA BB\n"
                "   0.003000 1  Q12  Rx   d 1 00\n")
    got, err = ours(bad)
    check(len(got) == 1 and got[0]["data"] == "AABB",
          "bad.asc: read %s" % got)
    check(bad + ":4: expected ASC CAN event: expected as many data bytes "
          "as the DLC says" in err and bad + ":6:" in err,
          "bad.asc: errors %r" % err)
    blf = os.path.join(tmp, "x.blf")
    data = open(blf, "rb").read()
    cut = os.path.join(tmp, "cut.blf")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    got, err = ours(cut)
    check("cut.blf:" in err and "cut short" in err,
          "a BLF cut in half: errors %r" % err)

checks.done(ok="logformat_compare: %d logs, %d frames, ASC and BLF as python-can and "
      "the originals" % (n_files, n_frames))
