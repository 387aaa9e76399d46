#!/usr/bin/python3
# bounds.py: hostile input costs bounded memory and the frames around it
# are still read (docs/time.md, "Bounds"); peak RSS (/usr/bin/time) of each
# dtcd run, against a run of the same healthy log alone.
#
# usage: bounds.py DTCD DTCD_SIM SCENARIO_DIR
# - a 1 MB log line: reported once (FILE:LINE), every other frame decoded;
# - 2,000 senders of ISO-TP first frames announcing 4095 bytes, never
#   completed;
# - 10 million distinct CAN IDs (29-bit), streamed on stdin;
# - a 10 MB dtcd.conf.
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

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
