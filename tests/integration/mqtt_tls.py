#!/usr/bin/python3
# mqtt_tls.py: dtcd to a real mosquitto over TLS with certificates made
# here by the openssl CLI (a CA, the broker's certificates, a client
# certificate) and a password file made by mosquitto_passwd. Events arrive
# over TLS with a client certificate and a login; a wrong CA, an expired
# broker certificate, a certificate for another host name, a wrong password
# and plain text to the TLS listener are refused (no event arrives, dtcd
# says why and keeps the events in the outbox).
# usage: mqtt_tls.py DTCD DTCD_SIM SCENARIOS_DIR
import os
import pwd
import queue
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqtt_broker  # noqa: E402
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM, SCEN = sys.argv[1:4]
CA_CNF = """[ca]
default_ca = d
[d]
dir = %s
database = %s/index.txt
new_certs_dir = %s
serial = %s/serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
"""


def ossl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   capture_output=True)


class Pki:
    def __init__(self, d):
        self.d = d
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(CA_CNF % (d, d, d, d))
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("01\n")

    def p(self, name):
        return os.path.join(self.d, name)

    def ca(self, name):
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             self.p(name + ".key"), "-out", self.p(name + ".crt"), "-days",
             "2", "-subj", "/CN=" + name)

    def cert(self, name, ca, cn, san, start=None, end=None):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout",
             self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj",
             "/CN=" + cn, "-addext", "subjectAltName=" + san)
        dates = ["-startdate", start, "-enddate", end] if start else \
            ["-days", "2"]
        ossl("ca", "-batch", "-config", self.p("ca.cnf"), "-cert",
             self.p(ca + ".crt"), "-keyfile", self.p(ca + ".key"), "-in",
             self.p(name + ".csr"), "-out", self.p(name + ".crt"), *dates)


class TlsBroker(mqtt_broker.Broker):
    """a TLS listener with the given broker certificate; client
    certificates and a login required"""

    def __init__(self, tmpdir, pki, cert):
        super().__init__(tmpdir)
        with open(self.conf, "w") as f:
            f.write("per_listener_settings false\n")
            f.write("listener %d 127.0.0.1\n" % self.port)
            f.write("cafile %s\ncertfile %s\nkeyfile %s\n" %
                    (pki.p("ca.crt"), pki.p(cert + ".crt"),
                     pki.p(cert + ".key")))
            f.write("require_certificate true\n")
            f.write("allow_anonymous false\n")
            f.write("password_file %s\n" % pki.p("passwd"))
            f.write("user %s\n" % pwd.getpwuid(os.getuid()).pw_name)


INSECURE_SUB = []


def sub_args(broker, pki):
    return ["mosquitto_sub"] + INSECURE_SUB + [ "-h", "localhost", "-p", str(broker.port),
            "--cafile", pki.p("ca.crt"), "--cert", pki.p("client.crt"),
            "--key", pki.p("client.key"), "-u", "car", "-P", "s3cret",
            "-q", "1", "-F", "%t\t%p"]


def pub(broker, pki, topic, msg):
    a = sub_args(broker, pki)
    a[0] = "mosquitto_pub"
    a = a[:a.index("-F")]
    subprocess.run(a + ["-t", topic, "-m", msg], check=True, timeout=20)


def live_sub(broker, pki):
    """a TLS subscriber that is subscribed when this returns"""
    p = subprocess.Popen(sub_args(broker, pki) + ["-t", "fleet/#", "-t",
                                                  "probe"],
                         stdout=subprocess.PIPE, text=True)
    q = queue.Queue()
    threading.Thread(target=lambda: [q.put(line) for line in p.stdout],
                     daemon=True).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pub(broker, pki, "probe", "ready")
        try:
            while True:
                if q.get(timeout=0.5).startswith("probe\t"):
                    return p, q
        except queue.Empty:
            pass
    p.kill()
    raise RuntimeError("the TLS subscriber never got its probe")


def run(tmp, pki, broker, name, extra, want_events):
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = localhost\nport = %d\ntopic = fleet\n"
                "client_id = dtcd-%s\n%s" % (broker.port, name, extra))
    p, q = live_sub(broker, pki)
    try:
        r = subprocess.run([DTCD, "--replay", LOG, "--json", "-c", conf],
                           capture_output=True, text=True, timeout=120)
        if want_events:
            pub(broker, pki, "probe", "end")
        else:
            time.sleep(0.5)
            pub(broker, pki, "probe", "end")
        got = []
        while True:
            line = q.get(timeout=30)
            if line.startswith("probe\tend"):
                break
            got.append(line.rstrip("\n").split("\t", 1))
    finally:
        p.terminate()
        p.wait()
    events = [pl for t, pl in got if t.endswith("/events")]
    lines = r.stdout.splitlines()
    return r, lines, events


with tempfile.TemporaryDirectory() as tmp:
    if mqtt_broker.need_tools():
        checks.skip_or_fail("SKIP: missing %s" % mqtt_broker.need_tools())
    os.chmod(tmp, 0o755)
    LOG = os.path.join(tmp, "demo.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "demo.ini"), "-o", LOG],
                   check=True)
    pki = Pki(tmp)
    pki.ca("ca")
    pki.ca("otherca")
    san = "DNS:localhost,IP:127.0.0.1"
    pki.cert("good", "ca", "localhost", san)
    pki.cert("expired", "ca", "localhost", san, "20200101000000Z",
             "20200102000000Z")
    pki.cert("wronghost", "ca", "broker.example.org",
             "DNS:broker.example.org")
    pki.cert("client", "ca", "car", "DNS:car")
    subprocess.run(["mosquitto_passwd", "-c", "-b", pki.p("passwd"), "car",
                    "s3cret"], check=True)
    with open(pki.p("car.password"), "w") as f:
        f.write("s3cret\n")
    with open(pki.p("wrong.password"), "w") as f:
        f.write("guess\n")
    good = ("cafile = %s\ncertfile = %s\nkeyfile = %s\nusername = car\n"
            "password_file = %s\n" % (pki.p("ca.crt"), pki.p("client.crt"),
                                      pki.p("client.key"),
                                      pki.p("car.password")))

    broker = TlsBroker(os.path.join(tmp), pki, "good")
    broker.start()
    try:
        r, lines, events = run(tmp, pki, broker, "good", good, True)
        check(r.returncode == 0 and len(lines) >= 2,
              "good: rc %d, %d events: %s" % (r.returncode, len(lines),
                                               r.stderr[-500:]))
        try:
            got = mqtt_broker.as_json_lines(events)
        except ValueError as e:
            got = str(e)
        check(got == mqtt_broker.normal(lines),
              "good: over TLS %s, --json %s" % (got, lines))
        print("TLS, client certificate, login: %d events arrived" %
              len(events))
        bad = [("wrong CA", good.replace(pki.p("ca.crt"),
                                         pki.p("otherca.crt")),
                "certificate verify failed"),
               ("wrong password", good.replace("car.password",
                                               "wrong.password"),
                "not authorised"),
               ("plain text", "tls = no\n", "unreachable")]
        for name, extra, why in bad:
            r, lines, events = run(tmp, pki, broker, name.replace(" ", "_"),
                                   extra, False)
            check(lines and not events and why in r.stderr.lower() and
                  "outbox" in r.stderr,
                  "%s: %d events arrived, --json %d, stderr: %s" %
                  (name, len(events), len(lines), r.stderr[-600:]))
            print("%s: refused: %s" % (name, r.stderr.strip().splitlines()[0]
                                       if r.stderr.strip() else ""))
    finally:
        broker.stop()
    for cert in ("expired", "wronghost"):
        broker = TlsBroker(tmp, pki, cert)
        broker.start()
        # the test's own subscriber skips the host name check (dtcd never)
        INSECURE_SUB[:] = ["--insecure"]
        try:
            if cert == "wronghost":
                r, lines, events = run(tmp, pki, broker, cert, good, False)
            else:
                # no mosquitto_sub takes an expired broker certificate:
                # the broker's log says whether dtcd got in
                conf = os.path.join(tmp, "expired.conf")
                with open(conf, "w") as f:
                    f.write("[mqtt]\nhost = localhost\nport = %d\n"
                            "client_id = dtcd-expired\n%s" %
                            (broker.port, good))
                r = subprocess.run([DTCD, "--replay", LOG, "--json", "-c",
                                    conf], capture_output=True, text=True,
                                   timeout=120)
                lines, events = r.stdout.splitlines(), []
                with open(os.path.join(tmp, "mosquitto.log")) as f:
                    blog = f.read()
                check("alert certificate expired" in blog and
                      "as dtcd-expired" not in blog,
                      "expired: the broker's log: %s" % blog[-600:])
            # OpenSSL's reason, whether the handshake failed inside
            # mosquitto_connect_async() or later in the loop
            check(lines and not events and
                  "certificate verify failed" in r.stderr.lower() and
                  "outbox" in r.stderr,
                  "%s: %s events arrived, stderr: %s" %
                  (cert, events, r.stderr[-600:]))
            print("%s broker certificate: refused: %s" %
                  (cert, r.stderr.strip().splitlines()[0]))
        finally:
            broker.stop()
    # TLS to a port nobody listens on: libmosquitto 2.0.11 alone would
    # retry its handshake on the dead socket without end, silently
    conf = os.path.join(tmp, "closed.conf")
    with open(conf, "w") as f:
        f.write("[mqtt]\nhost = localhost\nport = %d\n%s" %
                (mqtt_broker.free_port(), good))
    r = subprocess.run([DTCD, "--replay", LOG, "--json", "-c", conf],
                       capture_output=True, text=True, timeout=120)
    check(r.stdout and "unreachable" in r.stderr and "outbox" in r.stderr,
          "closed port: stderr: %s" % r.stderr[-600:])
    print("closed port: %s" % (r.stderr.strip().splitlines() or [""])[0])
    # docs/mqtt.md's commands for a private broker's CA, run as written:
    # a broker certificate the CA verifies for its host name
    doc = os.path.join(os.environ.get("DTCD_SOURCE_ROOT", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")),
        "docs", "mqtt.md")
    cmds, inblock = [], False
    for line in open(doc):
        if line.startswith("A CA and certificates for a private broker:"):
            inblock = True
        elif inblock and line.startswith("    "):
            cmds.append(line[4:])
        elif inblock and cmds and line.strip():
            break
    script = "".join(c for c in cmds if c.startswith(("openssl", " ")))
    docdir = os.path.join(tmp, "docs-ca")
    os.mkdir(docdir)
    r = subprocess.run(["bash", "-e", "-c", script], cwd=docdir,
                       capture_output=True, text=True)
    v = subprocess.run(["openssl", "verify", "-CAfile", "ca.crt",
                        "-verify_hostname", "broker.example.org",
                        "broker.crt"], cwd=docdir, capture_output=True,
                       text=True)
    check(r.returncode == 0 and script.count("openssl ") >= 3 and
          v.returncode == 0 and "broker.crt: OK" in v.stdout,
          "docs/mqtt.md's openssl commands: %s %s %s" %
          (script, r.stderr[-300:], v.stdout + v.stderr))
    print("docs/mqtt.md: %d openssl commands, %s" %
          (script.count("openssl "), v.stdout.strip()))
checks.done()
