#!/usr/bin/python3
# bounds.py: hostile input costs bounded memory and the frames around it
# are still read (docs/bounds.md); peak RSS (/usr/bin/time) of each
# dtcd run, against a run of the same healthy log alone.
#
# usage: bounds.py DTCD DTCD_SIM SCENARIO_DIR
# - a 1 MB log line: reported once (FILE:LINE), every other frame decoded;
# - 2,000 senders of ISO-TP first frames announcing 4095 bytes, never
#   completed;
# - 10 million distinct CAN IDs (29-bit), streamed on stdin;
# - a 10 MB dtcd.conf, and a 10 MB vehicle profile;
# - frame times that jump forwards and backwards by years and carry
#   outliers in the year 2262: every frame still decoded, the same values
#   in the same order as the clean log, no more memory;
# - a DBC of 100,000 signals in one message, 100,000 value descriptions in
#   descending order: dtcd -n accepts it, and a replay decodes the bound
#   signals of its frames as the DBC says.
# (200 control-socket clients at once: control_flood.py.)
import json
import os
import subprocess
import sys
import tempfile
import threading

DTCD, SIM, SCEN = sys.argv[1:4]
failures = []
MIB = 1024 * 1024


def run(args, stdin=None, feed=None):
    """(stdout, stderr, peak RSS in bytes) of one dtcd run."""
    p = subprocess.Popen(["/usr/bin/time", "-f", "peak_rss_kib %M", DTCD,
                          *args], stdin=stdin or subprocess.PIPE
                         if feed else stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if feed:
        # fed from a thread: dtcd's output must be read meanwhile
        def writer():
            feed(p.stdin)
            p.stdin.close()
        th = threading.Thread(target=writer)
        th.start()
        out, err = p.stdout.read(), p.stderr.read()
        th.join()
        p.wait()
    else:
        out, err = p.communicate()
    err = err.decode().rstrip("\n")
    err, _, last = err.rpartition("\n")
    rss = int(last.split()[1]) * 1024
    if p.returncode != 0:
        failures.append(f"{args}: exited {p.returncode}")
    return out.decode(), err, rss


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "healthy.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "healthy-short.ini"), "-o",
                    log], check=True)
    lines = open(log).read().splitlines(True)
    base_sig, _, base_rss = run(["--replay", log, "--signals"])
    print(f"healthy log alone: peak RSS {base_rss / MIB:.1f} MiB")
    limit = base_rss + 2 * MIB

    # a 1 MB line in the middle
    long = os.path.join(tmp, "long.log")
    mid = len(lines) // 2
    with open(long, "w") as f:
        f.writelines(lines[:mid])
        f.write("(1718000000.000000) can0 123#" + "A" * MIB + "\n")
        f.writelines(lines[mid:])
    sig, err, rss = run(["--replay", long, "--signals"])
    want = f"{long}:{mid + 1}: line of at most 64 KiB"
    if want not in err or err.count("line of at most") != 1:
        failures.append(f"1 MB line: expected one '{want}', got {err[:300]}")
    if sig != base_sig:
        failures.append("1 MB line: the other frames did not decode as "
                        "without it")
    print(f"1 MB line: reported once, peak RSS {rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"1 MB line: peak RSS {rss / MIB:.1f} MiB")

    # 2,000 ISO-TP senders: extended addressing, 0x6xx with an address byte
    def isotp(out):
        t = 1718000000
        for i in range(2000):
            cid = 0x600 + (i % 256)
            addr = 0xF1 if i < 256 else (i // 256)
            out.write(b"(%d.%06d) can0 %03X#%02X1FFF0102030405\n" %
                      (t, i, cid, addr))
        out.writelines(l.encode() for l in lines)
    sig, err, rss = run(["--replay", "-", "--signals"], feed=isotp)
    if sig != base_sig.replace(log, "-"):
        failures.append("ISO-TP senders: the log after them did not decode "
                        "as alone")
    print(f"2,000 ISO-TP senders: peak RSS {rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"ISO-TP senders: peak RSS {rss / MIB:.1f} MiB")

    # 10 million distinct 29-bit IDs
    def ids(out):
        chunk = []
        for i in range(10000000):
            chunk.append(b"(1718000000.%06d) can0 %08X#00\n" %
                         (i % 1000000, i))
            if len(chunk) == 100000:
                out.write(b"".join(chunk))
                chunk = []
        out.write(b"".join(chunk))
    _, err, rss = run(["--replay", "-", "--json"], feed=ids)
    print(f"10 million CAN IDs: peak RSS {rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"10 million IDs: peak RSS {rss / MIB:.1f} MiB, "
                        f"the healthy log alone {base_rss / MIB:.1f} MiB")

    # a 10 MB configuration file: comments and one key, read and accepted
    conf = os.path.join(tmp, "big.conf")
    with open(conf, "w") as f:
        f.write("[dtcd]\n")
        for i in range(10 * MIB // 64):
            f.write("; %-60d\n" % i)
        f.write("tick_ms = 100\n")
    _, err, rss = run(["-n", "-c", conf])
    print(f"10 MB dtcd.conf: accepted, peak RSS {rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"10 MB config: peak RSS {rss / MIB:.1f} MiB")

    # a 10 MB vehicle profile: comments around the reference profile's keys
    ref = os.path.join(os.environ.get("DTCD_SOURCE_ROOT", ""), "etc",
                       "profiles", "bmw-reference.ini")
    prof = os.path.join(tmp, "big-profile.ini")
    with open(prof, "w") as f:
        body = open(ref).read().replace(
            "file = ../dbc/", "file = " +
            os.path.join(os.path.dirname(ref), "..", "dbc") + "/")
        f.write(body)
        for i in range(10 * MIB // 64):
            f.write("; %-60d\n" % i)
    out, err, rss = run(["-n", "--profile", prof])
    print(f"10 MB profile: accepted, peak RSS {rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"10 MB profile: peak RSS {rss / MIB:.1f} MiB")

    # frame times: outliers in 2262, then years forwards, then backwards
    def values(sig):
        """the decoded values in order, without their times"""
        keep = []
        for line in sig.splitlines():
            e = json.loads(line)
            keep.append((e.get("signal"), e.get("value"), e.get("src")))
        return keep
    jumpy = os.path.join(tmp, "jumpy.log")
    third = len(lines) // 3
    with open(jumpy, "w") as f:
        for i, line in enumerate(lines):
            ts, rest = line.split(")", 1)
            t = float(ts[1:])
            if i % 1000 == 999:
                t = 9214646400 + i  # an outlier: 2262
            elif i >= 2 * third:
                t -= 5 * 365 * 86400  # five years back, sustained
            elif i >= third:
                t += 3 * 365 * 86400  # three years on, sustained
            f.write("(%.6f)%s" % (t, rest))
    sig, err, rss = run(["--replay", jumpy, "--signals"])
    if values(sig) != values(base_sig):
        failures.append("time jumps: the values decoded differ from the "
                        "clean log's")
    print(f"time jumps by years and outliers: every value decoded, peak RSS "
          f"{rss / MIB:.1f} MiB")
    if rss > limit:
        failures.append(f"time jumps: peak RSS {rss / MIB:.1f} MiB")

    # a DBC of 100,000 signals, bound by a profile
    big = os.path.join(tmp, "big.dbc")
    n = 100000
    with open(big, "w") as f:
        f.write('VERSION ""\n\nBS_:\n\nBU_: ECU\n\nBO_ 256 Big: 8 ECU\n')
        for i in range(n):
            f.write(' SG_ S%d : %d|%d@1+ (1,0) [0|255] "" ECU\n' %
                    (i, 8 * (i % 8), 8))
        f.write("\nVAL_ 256 S0")
        for i in range(n - 1, -1, -1):
            f.write(' %d "v%d"' % (i, i))
        f.write(" ;\n")
    bigprof = os.path.join(tmp, "big-dbc.ini")
    with open(bigprof, "w") as f:
        f.write("[profile]\nname = big-dbc\n[dbc]\nfile = %s\n"
                "coolant_temp_c = Big.S99994\n"
                "engine_speed_rpm = Big.S99999\n" % big)
    out, err, rss = run(["-n", "--profile", bigprof])
    print(f"DBC of 100,000 signals: accepted, peak RSS {rss / MIB:.1f} MiB")
    # about 200 bytes a signal, names and value descriptions included
    if rss > base_rss + 64 * MIB:
        failures.append(f"DBC of 100,000 signals: peak RSS "
                        f"{rss / MIB:.1f} MiB")
    frames = os.path.join(tmp, "big-dbc.log")
    with open(frames, "w") as f:
        f.write("(1718000000.000000) can0 100#0102030405060778\n"
                "(1718000000.100000) can0 100#1112131415161788\n")
    sig, err, _ = run(["--replay", frames, "--profile", bigprof,
                       "--signals"])
    got = [(s, v) for s, v, _ in values(sig)]
    # S99994: bits 16..23 (byte 2); S99999: bits 56..63 (byte 7)
    want = [("coolant_temp_c", 3), ("engine_speed_rpm", 0x78),
            ("coolant_temp_c", 0x13), ("engine_speed_rpm", 0x88)]
    if got != want:
        failures.append(f"DBC of 100,000 signals: decoded {got}, expected "
                        f"{want}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
