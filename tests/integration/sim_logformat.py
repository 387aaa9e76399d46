#!/usr/bin/python3
# sim_logformat.py: dtcd-sim -o FILE.asc / FILE.blf (or --format) against
# python-can, the independent reader and writer of both: python-can reads
# them back equal to dtcd-sim's candump log of the same drive; python-can's
# own ASCWriter writes the same text (but for the "date" line: its clock)
# and its BLFWriter the same objects (but for its float rounding of the
# times, under a microsecond); dtcd replays all three to the same events.
# Args: dtcd dtcd-sim
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import can
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM = sys.argv[1:3]


def msgs_key(msgs):
    t0 = msgs[0].timestamp if msgs else 0
    return [(round(m.timestamp - t0, 6), m.arbitration_id, m.is_extended_id,
             m.is_remote_frame, m.dlc, bytes(m.data)) for m in msgs]


def blf_objects(path):
    """the header fields and the inner objects (container-independent)"""
    with open(path, "rb") as f:
        d = f.read()
    head = struct.unpack_from("<4sLBBBBBBBBQQLL8H8H", d)
    pos, inner = 144, b""
    while pos < len(d):
        sig, _, _, size, typ = struct.unpack_from("<4sHHLL", d, pos)
        if sig != b"LOBJ" or typ != 10:
            return head, None
        method, _ = struct.unpack_from("<H6xL4x", d, pos + 16)
        body = d[pos + 32:pos + size]
        inner += zlib.decompress(body) if method == 2 else body
        pos += size + size % 4
    objs, p = [], 0
    while p < len(inner):
        _, hs, ver, size, typ = struct.unpack_from("<4sHHLL", inner, p)
        flags, client, over, ts = struct.unpack_from("<LHHQ", inner, p + 16)
        objs.append(((hs, ver, size, typ, flags, client, over,
                      inner[p + 32:p + size]), ts))
        p += size + (size - 32) % 4
    return head, objs


def events(path):
    r = subprocess.run([DTCD, "--replay", path, "--json"],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0 and not r.stderr, "dtcd --replay %s: rc %d %s" %
          (path, r.returncode, r.stderr[-300:]))
    return [json.loads(l) for l in r.stdout.splitlines()]


with tempfile.TemporaryDirectory() as tmp:
    ini = os.path.join(tmp, "s.ini")
    with open(ini, "w") as f:
        f.write("[sim]\nseed = 3\nstart_time = 1718000000\n\n[fault m]\n"
                "type = misfire\ncylinder = 5\nrate = 0.25\nstart_s = 120\n")
    out = {}
    for ext in ("log", "asc", "blf"):
        out[ext] = os.path.join(tmp, "drive." + ext)
        subprocess.run([SIM, "-s", ini, "--duration", "240", "-o",
                        out[ext]], check=True)
    # --format wins over the name; BLF needs a file it can seek in
    r = subprocess.run([SIM, "-s", ini, "--duration", "240", "--format",
                        "asc"], capture_output=True)
    with open(out["asc"], "rb") as f:
        check(r.returncode == 0 and r.stdout == f.read(),
              "--format asc to stdout differs from -o drive.asc")
    named = os.path.join(tmp, "really_asc.log")
    subprocess.run([SIM, "-s", ini, "--duration", "240", "--format", "asc",
                    "-o", named], check=True)
    with open(named, "rb") as f, open(out["asc"], "rb") as g:
        check(f.read() == g.read(), "--format asc -o x.log is not ASC")
    r = subprocess.run([SIM, "-s", ini, "--format", "blf"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "BLF needs a file" in r.stderr,
          "BLF to stdout: rc %d %r" % (r.returncode, r.stderr))
    r = subprocess.run([SIM, "-s", ini, "--format", "mf4"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "candump, asc or blf" in r.stderr,
          "--format mf4: rc %d %r" % (r.returncode, r.stderr))

    # python-can reads ASC and BLF back as the candump log
    ref = list(can.CanutilsLogReader(out["log"]))
    asc = list(can.ASCReader(out["asc"]))
    blf = list(can.BLFReader(out["blf"]))
    check(len(ref) > 10000, "only %d frames" % len(ref))
    k = msgs_key(ref)
    check(msgs_key(asc) == k, "python-can reads the ASC as %d frames, "
          "not the %d of the candump log" % (len(asc), len(ref)))
    check(msgs_key(blf) == k, "python-can reads the BLF as %d frames, "
          "not the %d of the candump log" % (len(blf), len(ref)))
    # every frame its own time: the start to the microsecond too
    asc_abs = list(can.ASCReader(out["asc"], relative_timestamp=False))
    for fmt, got in (("BLF", blf), ("ASC", asc_abs)):
        check(abs(got[0].timestamp - ref[0].timestamp) < 1e-6,
              "%s start %.6f, candump %.6f" % (fmt, got[0].timestamp,
                                               ref[0].timestamp))
    print("python-can: %d frames of candump, ASC and BLF alike" % len(ref))

    # python-can writes the same
    for m in ref:
        m.channel = 0  # "can0": channel 1 in Vector's count
    py_asc = os.path.join(tmp, "py.asc")
    py_blf = os.path.join(tmp, "py.blf")
    w = can.ASCWriter(py_asc)
    for m in ref:
        w.on_message_received(m)
    w.stop()
    w = can.BLFWriter(py_blf)
    for m in ref:
        w.on_message_received(m)
    w.stop()
    # ours count time from the first frame's millisecond (the date keeps
    # no more), so every frame keeps its own time; python-can's from the
    # first frame itself, which moves every frame by the part under a
    # millisecond when read back: ours are later by that part
    frac = ref[0].timestamp * 1000 % 1
    frac_ns = round(frac * 1e6)

    def timed(line):
        t, _, rest = line.partition(" ")
        return round(float(t) * 1e6), rest

    with open(py_asc) as f, open(out["asc"]) as g:
        a, b = f.read().splitlines(), g.read().splitlines()
    check(a[0].startswith("date ") and b[0].startswith("date ") and
          len(a) == len(b) and a[1:4] == b[1:4] and a[-1] == b[-1],
          "ASC header differs from python-can's ASCWriter: %s" %
          (next(((x, y) for x, y in zip(a[1:4], b[1:4]) if x != y),
                (len(a), len(b))),))
    diff = [(x, y) for x, y in zip(a[4:-1], b[4:-1])
            if timed(x.strip())[1] != timed(y.strip())[1] or
            abs(timed(y.strip())[0] - timed(x.strip())[0] -
                frac_ns // 1000) > 1]
    check(not diff, "ASC lines differ from python-can's ASCWriter's (but "
          "for the %d us): %s" % (frac_ns // 1000, diff[:1]))
    ha, oa = blf_objects(py_blf)
    hb, ob = blf_objects(out["blf"])
    check(oa is not None and ob is not None and len(oa) == len(ob) and
          all(x[0] == y[0] for x, y in zip(oa, ob)),
          "BLF objects differ from python-can's BLFWriter")
    if oa and ob:
        worst = max(abs(y[1] - x[1] - frac_ns) for x, y in zip(oa, ob))
        check(worst < 1000, "BLF times differ by %d ns" % worst)
        print("BLF: %d objects as python-can's, times within %d ns "
              "(but for the %d ns)" % (len(ob), worst, frac_ns))
    # the header: all but the file size (the compression differs with
    # python-can's float times) and the start's milliseconds (python-can
    # rounds them, ours are the first frame's, down)
    check(ha[:10] == hb[:10] and ha[11:21] == hb[11:21] and
          ha[22:] == hb[22:] and
          hb[21] == int(ref[0].timestamp * 1000) % 1000,
          "BLF header %s, python-can's %s" % (hb, ha))

    # dtcd reads all three to the same events
    ev = {ext: events(p) for ext, p in out.items()}
    ours = [(e["event"], e["code"]) for e in ev["log"]]
    check(any(c == "P0305" for _, c in ours), "no P0305: %s" % ours)
    for ext in ("asc", "blf"):
        got = [(e["event"], e["code"]) for e in ev[ext]]
        dt = max((abs(x["ts"] - y["ts"]) for x, y in zip(ev["log"],
                                                          ev[ext])),
                 default=0)
        check(got == ours and dt < 0.001, "dtcd on %s: %s (%.6f s off), "
              "on candump %s" % (ext, got, dt, ours))
    print("dtcd: %s from each" % ours)

checks.done()
