# replay_many.py: dtcd --replay a.log b.log dir/ -j N, --compare-config, the
# summary table, --state joining days in order, progress on a terminal only.
#
#   replay_many.py DTCD DTCD_SIM SCENARIOS_DIR
import json
import os
import shutil
import subprocess
import sys
import tempfile

import simrun
from simrun import sim
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

dtcd, dtcd_sim, scen = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
real = os.path.join(here, "..", "..", "..", "shared", "data", "real",
                    "bmw-e92-ptcan", "gotosleep.candump.log")


def run(*args, **kw):
    return subprocess.run([dtcd] + list(args), capture_output=True,
                          text=True, **kw)


def events(out):
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


with tempfile.TemporaryDirectory() as tmp:
    logs = os.path.join(tmp, "logs")
    os.mkdir(logs)
    for name in ("misfire", "vanos", "healthy-short"):
        sim(dtcd_sim, os.path.join(scen, name + ".ini"),
            os.path.join(logs, name + ".log"))
    shutil.copy(real, os.path.join(logs, "real.log"))
    files = sorted(os.path.join(logs, f) for f in os.listdir(logs))

    # 1. a directory, two jobs: per file what a single replay says, in order
    single = {}
    for f in files:
        r = run("--replay", f, "--json")
        check(r.returncode == 0, "single %s: %s" % (f, r.stderr[-300:]))
        single[f] = events(r.stdout)
    outs = {}
    for j in ("1", "2"):
        r = run("--replay", logs, "-j", j, "--json")
        check(r.returncode == 0, "-j %s: rc %d %s" % (j, r.returncode,
                                                      r.stderr[-300:]))
        outs[j] = r.stdout
        got = events(r.stdout)
        want = [dict(e, file=f) for f in files for e in single[f]]
        check(got == want, "-j %s: %d events, %d from single replays" %
              (j, len(got), len(want)))
        # the table: every file with its frame count
        for f in files:
            frames = sum(1 for l in open(f) if l.strip())
            row = [l for l in r.stderr.splitlines() if l.startswith(f)]
            check(row and row[0].split()[1] == str(frames),
                  "-j %s: summary row for %s: %s (want %d frames)" %
                  (j, f, row, frames))
            # DTCs by severity: a code pending then confirmed is one DTC
            sev = {}
            for e in single[f]:
                if e["event"] in ("pending", "confirmed"):
                    sev[e["code"]] = e["severity"]
            want_sev = [str(list(sev.values()).count(s))
                        for s in ("low", "medium", "high", "critical")]
            check(row and row[0].split()[3:7] == want_sev,
                  "-j %s: %s: DTCs by severity %s, want %s" %
                  (j, f, row[0].split()[3:7] if row else None, want_sev))
    check(outs["1"] == outs["2"], "-j 1 and -j 2 print different things")
    check(any(e["code"].startswith("P030") for e in events(outs["2"])),
          "no misfire event in the fault logs")

    # text: a header per file, the table on stdout
    r = run("--replay", files[0], files[1])
    check("== " + files[0] in r.stdout and "== " + files[1] in r.stdout
          and "frames" in r.stdout, "text mode: headers or table missing")

    # 2. --compare-config: only what differs
    other = os.path.join(tmp, "other.conf")
    with open(other, "w") as f:
        f.write("[detector.misfire]\nrate_pct = 99\ncat_rate_pct = 99\n")
    r = run("--replay", logs, "-j", "2", "--compare-config", other)
    lines = [l for l in r.stdout.splitlines() if ": - " in l or ": + " in l]
    mis = [e for e in single[os.path.join(logs, "misfire.log")]
           if e["code"].startswith("P030")]
    check(r.returncode == 0 and len(lines) == len(mis) and
          all("misfire.log: - " in l and "P030" in l for l in lines),
          "--compare-config: %s, want the %d misfire events with '-'" %
          (lines, len(mis)))
    same = os.path.join(tmp, "same.conf")
    open(same, "w").close()
    r = run("--replay", logs, "--compare-config", same)
    check("0 event(s) differ" in r.stdout and ": - " not in r.stdout,
          "--compare-config of an equal config: %r" % r.stdout[-300:])

    # 3. --state joins the logs as days in a row, in the order given
    s1, s2 = os.path.join(tmp, "s1"), os.path.join(tmp, "s2")
    os.mkdir(s1)
    os.mkdir(s2)
    order = [files[1], files[0], files[2]]
    r = run("--replay", *order, "--state", s1, "--json", "-j", "2")
    joined = [dict(e) for e in events(r.stdout)]
    seq = []
    for f in order:
        seq += [dict(e, file=f) for e in
                events(run("--replay", f, "--state", s2, "--json").stdout)]
    check(joined == seq, "--state: %d events, one at a time %d" %
          (len(joined), len(seq)))
    l1 = run("--list", "--state", s1).stdout
    l2 = run("--list", "--state", s2).stdout
    check(l1 == l2 and l1.strip() not in ("", "[]"),
          "--state: stored DTCs differ: %r / %r" % (l1[:200], l2[:200]))

    # 4. bad input: named, nothing printed as if it had been read
    r = run("--replay", files[0], os.path.join(tmp, "nope.log"))
    check(r.returncode != 0 and "nope.log" in r.stderr,
          "a missing log: rc %d, %r" % (r.returncode, r.stderr[-200:]))
    r = run("--replay", logs, "-j", "0")
    check(r.returncode != 0 and "-j" in r.stderr, "-j 0 accepted")

    # 5. progress: on a terminal only, never with -q or into a pipe
    check("% of" not in run("--replay", logs).stderr,
          "progress written to a pipe")
    for quiet in (False, True):
        _, out = simrun.on_pty([dtcd, "--replay", logs] +
                               (["-q"] if quiet else []))
        shown = "% of 4 files" in out and "frames/s" in out
        check(shown != quiet, "progress on a terminal%s: %r" %
              (" with -q" if quiet else "", out[-200:]))

checks.done(ok="replay_many: files in order, -j 1 = -j 2, compare, state, progress")
