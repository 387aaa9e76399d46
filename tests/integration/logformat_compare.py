#!/usr/bin/python3
# logformat_compare.py: Vector ASC and BLF read by our log reader against
# python-can, which writes and reads both formats.
#
# usage: logformat_compare.py CANDUMP_DUMP DTCD
# Every candump log of $DTCD_SHARED/data/grammar and data/real is read by
# python-can's CanutilsLogReader and written by its ASCWriter and BLFWriter.
# Our reader must read each written file as python-can's own ASCReader and
# BLFReader do (every field, timestamps to the microsecond), and as the
# candump original (every field the format holds; times relative to the
# first frame exactly, the start to the millisecond the formats keep).
# dtcd --replay of the ASC and BLF copies gives the original's events.
import os
import subprocess
import sys
import tempfile

os.environ["TZ"] = "UTC"  # ASC and BLF keep local time: one zone for both
import time  # noqa: E402

time.tzset()
import can  # noqa: E402

dump, dtcd = sys.argv[1], sys.argv[2]
shared = os.environ.get("DTCD_SHARED") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def ours(path):
    r = subprocess.run([dump, path], capture_output=True, text=True)
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
                    "data": "" if data == "-" else data,
                    "dir": "" if d == "-" else d})
    return out, r.stderr


def theirs(msgs):
    return [{"ts_us": round(m.timestamp * 1e6),
             "iface": "can%d" % m.channel if isinstance(m.channel, int)
             else str(m.channel),
             "id": m.arbitration_id, "ext": m.is_extended_id,
             "rtr": m.is_remote_frame, "err": m.is_error_frame,
             "fd": m.is_fd, "brs": m.bitrate_switch,
             "esi": m.error_state_indicator, "len": m.dlc,
             "data": "" if m.is_remote_frame
             else bytes(m.data).hex().upper(),
             "dir": "R" if m.is_rx else "T"} for m in msgs]


def same(name, a, b, keys, what):
    if not check(len(a) == len(b), "%s: %d frames, %s has %d" %
                 (name, len(a), what, len(b))):
        return
    for i, (x, y) in enumerate(zip(a, b)):
        diff = [k for k in keys if x[k] != y[k]]
        if diff:
            check(False, "%s frame %d: %s differ from %s: ours %s, %s" %
                  (name, i + 1, diff, what, {k: x[k] for k in diff},
                   {k: y[k] for k in diff}))
            return


def logs():
    for sub in ("grammar", "real"):
        for root, _, files in os.walk(os.path.join(shared, "data", sub)):
            for f in sorted(files):
                if f.endswith(".log"):
                    yield os.path.join(root, f)


ALL = ["ts_us", "iface", "id", "ext", "rtr", "err", "fd", "brs", "esi",
       "len", "data", "dir"]
n_files = n_frames = 0
with tempfile.TemporaryDirectory() as tmp:
    for path in logs():
        name = os.path.relpath(path, shared)
        msgs = list(can.CanutilsLogReader(path))
        if not msgs:
            continue
        asc, blf = os.path.join(tmp, "x.asc"), os.path.join(tmp, "x.blf")
        with can.ASCWriter(asc) as w:
            for m in msgs:
                w.on_message_received(m)
        formats = [("asc", asc, lambda p: can.ASCReader(
            p, relative_timestamp=False))]
        try:
            with can.BLFWriter(blf) as w:
                for m in msgs:
                    w.on_message_received(m)
            formats.append(("blf", blf, can.BLFReader))
        except ValueError as e:
            # python-can's BLFWriter cannot date a start past year 9999
            print("%s: python-can writes no BLF of it (%s)" % (name, e))
        orig, _ = ours(path)
        for fmt, fpath, reader in formats:
            got, err = ours(fpath)
            check(not err, "%s as %s: errors %s" % (name, fmt, err[:300]))
            # 1. as python-can reads the same file, every field
            try:
                th = theirs(list(reader(fpath)))
            except ValueError as e:
                print("%s: python-can cannot read back its %s (%s)" %
                      (name, fmt.upper(), e))
                continue
            for x in got + th:
                if x["err"]:
                    # python-can calls every error frame extended and
                    # received; ours have the class in the ID, no direction
                    x.update(ext=False, dir="")
            same("%s as %s" % (name, fmt), got, th,
                 ALL, "python-can's " + fmt.upper() + "Reader")
            # 2. as the candump original: what the format holds
            keys = ["iface", "id", "ext", "rtr", "err", "fd", "brs", "esi",
                    "len", "data"]
            o = [dict(f) for f in orig]
            g = [dict(f) for f in got]
            for f in o + g:
                # the formats number channels: candump's vcan0 is can0 again
                f["iface"] = "can" + f["iface"].lstrip("vcan")
                if f["err"]:
                    # python-can's candump reader drops an error frame's
                    # class, data and interface, so the files it writes
                    # cannot hold them (an ASC "ErrorFrame" line never can)
                    f.update(id=0, data="", len=0, ext=False, fd=False,
                             iface="")
            if got and orig:
                t0o, t0g = orig[0]["ts_us"], got[0]["ts_us"]
                # a relative log (seconds since boot) has no date to keep
                check(t0o < 631152000 * 10**6 or abs(t0g - t0o) <= 1000,
                      "%s as %s: starts at %d us, the original at %d" %
                      (name, fmt, t0g, t0o))
                for f, b in ((o, t0o), (g, t0g)):
                    for x in f:
                        x["rel"] = x["ts_us"] - b
                # time that goes back before the first frame (the E91
                # logs) is more than python-can's writers can hold
                for x, y in zip(o, g):
                    if x["rel"] < 0:
                        x["rel"] = y["rel"] = None
            same("%s as %s" % (name, fmt), g, o, keys + ["rel"],
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
    want = events(log)
    check(any(c.startswith("P030") for _, c in want),
          "the misfire drive has no misfire event: %s" % want)
    for fmt in ("asc", "blf"):
        # renamed: the content, not the name, says the format
        p = os.path.join(tmp, "drive-%s.log" % fmt)
        os.rename(os.path.join(tmp, "drive." + fmt), p)
        check(events(p) == want, "dtcd --replay of the %s copy: %s, the "
              "candump original: %s" % (fmt, events(p), want))

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

if failures:
    print("%d failed" % len(failures))
    sys.exit(1)
print("logformat_compare: %d logs, %d frames, ASC and BLF as python-can and "
      "the originals" % (n_files, n_frames))
