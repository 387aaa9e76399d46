# report_html.py: dtcd --replay LOG --report FILE, read back in headless
# Chromium (Debian's chromium): the page renders without a script error, one
# chart per DTC event with its threshold and failing span, the workshop action;
# a healthy real drive says so and still shows its signals.
#
#   report_html.py DTCD DTCD_SIM SCENARIOS_DIR [SCREENSHOT_DIR]
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from simrun import sim
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

dtcd, dtcd_sim, scen_dir = sys.argv[1:4]
shots = sys.argv[4] if len(sys.argv) > 4 else None
here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "..", "..", "..", "shared", "data", "real")
chromium = shutil.which("chromium")
if not chromium:
    checks.skip_or_fail("chromium not installed (scripts/install-deps.sh installs it)")



def browser(args, page, tmp):
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--user-data-dir=" + tempfile.mkdtemp(dir=tmp),
           "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=10000"] + args + ["file://" + page]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


class Dom(html.parser.HTMLParser):
    """figure.chart elements with what they hold; the body's data set"""

    def __init__(self):
        super().__init__()
        self.charts = []
        self.body = {}
        self.depth = 0
        self.text = []
        self.panels_with_signal = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        if tag == "figure" and "chart" in cls:
            self.charts.append({"code": a.get("data-code"),
                                "type": a.get("data-type"),
                                "fail": 0, "threshold": 0, "lines": 0,
                                "band": 0, "ticks": set()})
            self.depth = 1
        elif self.depth and tag == "figure":
            self.depth += 1
        if tag == "path" and "line" in cls and a.get("d", "").count("H") > 2:
            self.panels_with_signal += 1
        if self.depth and self.charts:
            c = self.charts[-1]
            for k in ("fail", "threshold", "band"):
                if k in cls:
                    c[k] += 1
            if tag == "path" and "line" in cls and len(a.get("d", "")) > 20:
                c["lines"] += 1
        self.tick = self.depth and self.charts and tag == "text" and \
            "tick" in cls

    def handle_endtag(self, tag):
        if self.depth and tag == "figure":
            self.depth -= 1

    def handle_data(self, data):
        self.text.append(data)
        if getattr(self, "tick", False):
            self.charts[-1]["ticks"].add(data.strip())


def render(page, tmp):
    # self-contained: nothing in the file loads another (no CDN); the
    # only URL it names is the SVG namespace
    with open(page) as f:
        src = f.read()
    loads = re.findall(r'(?:\bsrc|\bhref)\s*=|@import|url\(', src)
    urls = set(re.findall(r'[a-z]+://[^"\'\s)]*', src)) - {
        "http://www.w3.org/2000/svg"}
    check(not loads and not urls, "%s loads %s, names %s" %
          (page, loads[:3], sorted(urls)[:3]))
    r = browser(["--dump-dom"], page, tmp)
    check(r.returncode == 0, "chromium --dump-dom %s: rc %d: %s" %
          (page, r.returncode, r.stderr[-500:]))
    errors = [l for l in r.stderr.splitlines()
              if "CONSOLE" in l and ("Uncaught" in l or "Error" in l)]
    check(not errors, "console errors on %s: %s" % (page, errors[:3]))
    d = Dom()
    d.feed(r.stdout)
    check(d.body.get("data-rendered") == "1",
          "%s: the page did not finish drawing" % page)
    check("data-js-errors" not in d.body, "%s: script errors %s" %
          (page, d.body.get("data-js-errors")))
    return d, "".join(d.text)


def replay(log, page, extra=()):
    r = subprocess.run([dtcd, "--replay", log, "--json", "--report", page]
                       + list(extra), capture_output=True, text=True)
    check(r.returncode == 0, "dtcd --replay %s: rc %d: %s" %
          (log, r.returncode, r.stderr[-500:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


with tempfile.TemporaryDirectory() as tmp:
    # every detector: a fault drive each, charts against its events
    want = {"misfire.ini": "P030", "vanos.ini": "P001",
            "turbo-pump-dead.ini": "P2600", "egr-combustion.ini": "P1D05",
            "fuel-heater.ini": "P1D02"}
    for ini, prefix in want.items():
        log = os.path.join(tmp, ini + ".log")
        page = os.path.join(tmp, ini + ".html")
        sim(dtcd_sim, os.path.join(scen_dir, ini), log)
        events = replay(log, page)
        dom, text = render(page, tmp)
        check(len(dom.charts) == len(events),
              "%s: %d charts for %d events" % (ini, len(dom.charts),
                                               len(events)))
        for ev, ch in zip(events, dom.charts):
            check(ch["code"] == ev["code"] and ch["type"] == ev["event"],
                  "%s: chart %s/%s for event %s/%s" %
                  (ini, ch["code"], ch["type"], ev["code"], ev["event"]))
        ours = [(ev, ch) for ev, ch in zip(events, dom.charts)
                if ev["code"].startswith(prefix)
                and ev["event"] in ("pending", "confirmed")]
        check(ours, "%s: no pending/confirmed %s event" % (ini, prefix))
        for ev, ch in ours:
            check(ch["lines"] >= 1, "%s %s: no signal drawn" %
                  (ini, ev["code"]))
            check(ch["fail"] >= 1, "%s %s %s: no failing span shaded" %
                  (ini, ev["event"], ev["code"]))
            check(ch["threshold"] + ch["band"] >= 1,
                  "%s %s: no threshold drawn" % (ini, ev["code"]))
            # the time axis: from 60 s before the event to 30 s after
            check({"-60 s", "+30 s"} <= ch["ticks"],
                  "%s %s: time axis %s, not -60 s to +30 s" %
                  (ini, ev["code"], sorted(ch["ticks"])))
            if ev.get("action"):
                check(ev["action"][:60] in text,
                      "%s %s: workshop action not on the page" %
                      (ini, ev["code"]))
        check("pendingDTC" in text and "confirmedDTC" in text,
              "%s: status bits not spelled out" % ini)
        if shots and ini == "vanos.ini":
            shutil.copy(page, os.path.join(tmp, "report-fault.html"))

    # German labels and texts
    log = os.path.join(tmp, "misfire.ini.log")
    page = os.path.join(tmp, "de.html")
    events = replay(log, page, ["--lang", "de"])
    dom, text = render(page, tmp)
    check("Werkstatt" in text and "Für den Fahrer" in text,
          "--lang de: German labels missing")
    check(len(dom.charts) == len(events), "--lang de: charts != events")

    # a healthy real drive: says so, still shows the signals
    real = os.path.join(shared, "bmw-e92-ptcan")
    logs = sorted(os.path.join(real, f) for f in os.listdir(real)
                  if f.endswith(".log"))[:1] if os.path.isdir(real) else []
    check(logs, "no real E92 log in %s" % real)
    for log in logs:
        page = os.path.join(tmp, "healthy.html")
        events = replay(log, page)
        ours = [e for e in events if e["event"] != "ecu"]
        check(not ours, "healthy %s: events %s" % (log, ours[:2]))
        dom, text = render(page, tmp)
        check("looks healthy" in text, "healthy drive not said so")
        check(dom.panels_with_signal >= 3,
              "healthy drive: only %d signal lines drawn" %
              dom.panels_with_signal)
        if shots:
            shutil.copy(page, os.path.join(tmp, "report-healthy.html"))

    # a report that cannot be written fails at once, before the replay
    r = subprocess.run([dtcd, "--replay", log, "--report",
                        os.path.join(tmp, "no", "such", "dir", "r.html")],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "--report" in r.stderr and not r.stdout,
          "unwritable --report: rc %d, stderr %r" % (r.returncode,
                                                     r.stderr[-200:]))
    r = subprocess.run([dtcd, "--report", os.path.join(tmp, "x.html")],
                       capture_output=True, text=True)
    check(r.returncode != 0 and "--replay" in r.stderr,
          "--report without --replay accepted")

    if shots:
        for name in ("report-fault", "report-healthy"):
            page = os.path.join(tmp, name + ".html")
            if os.path.exists(page):
                browser(["--hide-scrollbars", "--window-size=1000,2200",
                         "--screenshot=" + os.path.join(shots, name + ".png")],
                        page, tmp)

checks.done(ok="report_html: every chart, threshold, span and text as expected")
