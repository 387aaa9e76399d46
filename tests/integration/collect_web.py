#!/usr/bin/python3
# collect_web.py: dtc-collect serve over what two cars published through
# dtcd and a real mosquitto (the collector still running), opened in
# headless Chromium (Debian's chromium): the overview shows both vehicles
# with their open DTCs by severity, each vehicle page every DTC with its
# status bits by name, occurrences, first/last failure, freeze frame and the
# workshop action (English and German, against etc/actions.*.ini), the
# timeline one mark per stored event; /api/vehicles[/ID]; a listener on
# 0.0.0.0 refuses to start without a login and answers 401 without, 200
# with basic auth (openssl passwd -6 hash) or the token; bodies, methods and
# connections per address are bounded.
# usage: collect_web.py DTC_COLLECT DTCD DTCD_SIM SCENARIOS_DIR [SHOT_DIR]
import base64
import html.parser
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402
import mqtt_broker  # noqa: E402

COLLECT, DTCD, SIM, SCEN = sys.argv[1:5]
SHOTS = sys.argv[5] if len(sys.argv) > 5 else None
ETC = os.path.join(os.environ.get("DTCD_SOURCE_ROOT", "."), "etc")
CHROMIUM = shutil.which("chromium")
check = fleet.Checks()
BITS = ["testFailed", "testFailedThisOperationCycle", "pendingDTC",
        "confirmedDTC", "testNotCompletedSinceLastClear",
        "testFailedSinceLastClear", "testNotCompletedThisOperationCycle",
        "warningIndicatorRequested"]


class Dom(html.parser.HTMLParser):
    """the elements the checks look at, and each DTC section's text"""

    def __init__(self):
        super().__init__()
        self.body, self.vehicles, self.marks = {}, [], []
        self.dtcs, self.counts, self.text = {}, [], []
        self.cur, self.depth = None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.body = a
        if tag == "tr" and "vehicle" in cls:
            self.vehicles.append(a.get("data-vehicle"))
        if tag == "circle" and "ev" in cls:
            self.marks.append((a.get("data-code"), a.get("data-event")))
        if tag == "span" and "count" in cls:
            self.counts.append(a.get("data-severity"))
        if tag == "section" and "dtc" in cls:
            self.cur = a.get("data-code")
            self.dtcs[self.cur] = []
            self.depth = 1
        elif self.cur and tag == "section":
            self.depth += 1

    def handle_endtag(self, tag):
        if self.cur and tag == "section":
            self.depth -= 1
            if not self.depth:
                self.cur = None

    def handle_data(self, data):
        self.text.append(data)
        if self.cur:
            self.dtcs[self.cur].append(data)


def browser(url, tmp, extra):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--user-data-dir=" + tempfile.mkdtemp(dir=tmp),
           "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=8000"] + extra + [url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def render(url, tmp):
    r = browser(url, tmp, ["--dump-dom"])
    check(r.returncode == 0, "chromium %s: rc %d: %s" % (url, r.returncode,
                                                        r.stderr[-500:]))
    d = Dom()
    d.feed(r.stdout)
    check(d.body.get("data-rendered") == "1",
          "%s: not drawn (%s): %s" % (url, d.body, " ".join(d.text)[-300:]))
    check("data-js-errors" not in d.body, "%s: script errors %s" %
          (url, d.body.get("data-js-errors")))
    return d, " ".join(" ".join(d.text).split())


def fold(s):
    return " ".join((s or "").split())


def serve(db, listen, tmp, extra=""):
    conf = os.path.join(tmp, "serve-%d.conf" % abs(hash(listen + extra)))
    with open(conf, "w") as f:
        f.write("[collect]\ndb = %s\n[http]\nlisten = %s\n%s" %
                (db, listen, extra))
    return subprocess.Popen([COLLECT, "-c", conf, "-v", "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def wait_port(port, proc):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("serve exited: %s" % proc.stdout.read())
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("serve does not listen on %d" % port)


def get(url, headers=None, method="GET", data=None):
    req = urllib.request.Request(url, headers=headers or {}, method=method,
                                 data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.returncode


def check_pages(base, events, want, cat, tmp):
    d, text = render(base + "/", tmp)
    check(sorted(d.vehicles) == ["CARA", "CARB"],
          "overview shows %s" % d.vehicles)
    check(d.counts.count("critical") == 2, "overview: severity counts %s" %
          d.counts)
    for v, evs in events.items():
        for lang in ("en", "de"):
            d, text = render("%s/vehicle/%s?lang=%s" % (base, v, lang), tmp)
            check(set(d.dtcs) == set(want[v]), "%s %s: DTCs %s, expected %s"
                  % (v, lang, sorted(d.dtcs), sorted(want[v])))
            for code, (status, occ, sev) in want[v].items():
                sec = fold(" ".join(d.dtcs.get(code, [])))
                check(cat[lang][code][1] in sec,
                      "%s %s %s: workshop action not shown" % (v, lang, code))
                for i, name in enumerate(BITS):
                    if status >> i & 1:
                        check("bit %d %s" % (i, name) in sec,
                              "%s %s: bit %s not spelled out" % (v, code,
                                                                 name))
                check("engine_speed_rpm" in sec, "%s %s: no freeze frame"
                      % (v, code))
                check(sev in sec, "%s %s: no severity" % (v, code))
            marks = [(c, e) for c, e in d.marks]
            check(marks == [(e["code"], e["event"]) for e in evs],
                  "%s: timeline %s, events %s" % (v, marks[:4], [
                      (e["code"], e["event"]) for e in evs][:4]))
    if SHOTS:
        for name, url, h in (("fleet-overview", "/", 300),
                             ("fleet-vehicle", "/vehicle/CARA", 1500),
                             ("fleet-vehicle-de", "/vehicle/CARB?lang=de",
                              1500)):
            browser(base + url, tmp, ["--hide-scrollbars",
                                      "--window-size=1100,%d" % h,
                                      "--screenshot=" +
                                      os.path.join(SHOTS, name + ".png")])


def check_api(base, events, want):
    st, body, _ = get(base + "/api/vehicles")
    js = json.loads(body)
    check(st == 200 and sorted(v["vehicle"] for v in js["vehicles"]) ==
          ["CARA", "CARB"], "/api/vehicles: %d %s" % (st, body[:200]))
    for v, evs in events.items():
        st, body, _ = get(base + "/api/vehicles/" + v)
        js = json.loads(body)
        check(st == 200 and len(js["events"]) == len(evs) and
              [e["event_id"] for e in js["events"]] ==
              sorted(e["event_id"] for e in js["events"]),
              "/api/vehicles/%s: %d events, expected %d" %
              (v, len(js.get("events", [])), len(evs)))
        check({d["code"]: (d["status"], d["occurrences"], d["severity"])
               for d in js["dtcs"]} == want[v], "/api/vehicles/%s dtcs" % v)
    st, body, _ = get(base + "/api/vehicles/NOSUCH")
    check(st == 404, "unknown vehicle: %d" % st)
    st, _, _ = get(base + "/nosuch")
    check(st == 404, "unknown page: %d" % st)
    st, _, _ = get(base + "/api/vehicles", method="POST", data=b"x" * 10)
    check(st == 405, "POST: %d" % st)
    st, _, h = get(base + "/")
    check(st == 200 and "default-src 'self'" in h.get(
        "Content-Security-Policy", ""), "CSP header: %s" % h)


def check_auth(db, tmp):
    # no login on a listener others can reach: refused at start
    port = mqtt_broker.free_port()
    p = serve(db, "0.0.0.0:%d" % port, tmp)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        stop(p)
        out = "still running"
    check(p.returncode == 1 and "not a loopback address" in out,
          "0.0.0.0 without users_file: rc %s %r" % (p.returncode, out))
    # with a users file (crypt hash made by openssl) and a token
    h = subprocess.run(["openssl", "passwd", "-6", "s3cret-pw"],
                       capture_output=True, text=True, check=True).stdout
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write("# fleet operators\nops:%s" % h)
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("tok-0123456789abcdef\n")
    p = serve(db, "0.0.0.0:%d" % port, tmp,
              "users_file = %s\ntoken_file = %s\nmax_per_ip = 4\n" %
              (users, token))
    try:
        wait_port(port, p)
        base = "http://127.0.0.1:%d" % port

        def basic(u, pw):
            return {"Authorization": "Basic " + base64.b64encode(
                ("%s:%s" % (u, pw)).encode()).decode()}
        st, _, hd = get(base + "/api/vehicles")
        check(st == 401 and "Basic" in hd.get("WWW-Authenticate", ""),
              "no credentials: %d %s" % (st, hd))
        st, _, _ = get(base + "/", basic("ops", "wrong"))
        check(st == 401, "wrong password: %d" % st)
        st, _, _ = get(base + "/", basic("nobody", "s3cret-pw"))
        check(st == 401, "unknown user: %d" % st)
        st, body, _ = get(base + "/api/vehicles", basic("ops", "s3cret-pw"))
        check(st == 200 and b"CARA" in body, "basic auth: %d" % st)
        st, _, _ = get(base + "/api/vehicles",
                       {"Authorization": "Bearer tok-0123456789abcdef"})
        check(st == 200, "token: %d" % st)
        st, _, _ = get(base + "/api/vehicles",
                       {"Authorization": "Bearer tok-0123456789abcdeX"})
        check(st == 401, "wrong token: %d" % st)
        # a header larger than the bound: not served
        st, _, _ = get(base + "/api/vehicles?" + "a" * 40000,
                       basic("ops", "s3cret-pw"))
        check(st in (400, 413, 414, 431), "40 KB request line: %d" % st)
        # 4 idle connections from one address: a fifth is not served
        idle = [socket.create_connection(("127.0.0.1", port), 2)
                for _ in range(4)]
        time.sleep(0.3)
        try:
            st, _, _ = get(base + "/api/vehicles", basic("ops", "s3cret-pw"))
        except (OSError, urllib.error.URLError):
            st = "refused"
        check(st != 200, "a fifth connection from one address served")
        for s in idle:
            s.close()
        time.sleep(0.5)
        st, _, _ = get(base + "/api/vehicles", basic("ops", "s3cret-pw"))
        check(st == 200, "after the idle ones closed: %s" % st)
    finally:
        stop(p)


with tempfile.TemporaryDirectory() as tmp:
    if not CHROMIUM:
        fleet.skip_or_fail("chromium not installed "
                           "(scripts/install-deps.sh installs it)")
    if mqtt_broker.need_tools():
        fleet.skip_or_fail("mosquitto missing: %s" % mqtt_broker.need_tools())
    cat = {"en": fleet.catalogue(os.path.join(ETC, "actions.en.ini")),
           "de": fleet.catalogue(os.path.join(ETC, "actions.de.ini"))}
    broker = mqtt_broker.Broker(tmp)
    broker.start()
    col = srv = None
    try:
        col, db, events, want = fleet.two_cars(tmp, COLLECT, DTCD, SIM,
                                               SCEN, broker)
        port = mqtt_broker.free_port()
        srv = serve(db, "127.0.0.1:%d" % port, tmp)
        wait_port(port, srv)
        base = "http://127.0.0.1:%d" % port
        check_api(base, events, want)
        check_pages(base, events, want, cat, tmp)
        check(stop(srv) == 0, "serve did not stop cleanly on SIGTERM")
        srv = None
        check_auth(db, tmp)
    finally:
        if srv:
            stop(srv)
        if col:
            col.stop()
        broker.stop()

check.exit("collect_web", "both vehicles, every DTC with its action, "
           "timeline, API, login")
