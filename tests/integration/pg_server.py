# pg_server.py: a real PostgreSQL (Debian's postgresql) for the tests:
# initdb in a temporary directory as the unprivileged user nobody (the
# server refuses to run as root), a free port on 127.0.0.1, trust login for
# the role "fleet"; stopped at the end.
import glob
import os
import pwd
import shutil
import subprocess

import mqtt_broker


class PgServer:
    def __init__(self, tmp, fsync=False):
        self.bin = next(iter(sorted(glob.glob(
            "/usr/lib/postgresql/*/bin"), reverse=True)), None)
        self.dir = os.path.join(tmp, "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = mqtt_broker.free_port()
        self.user = "nobody" if os.getuid() == 0 else None
        self.started = False
        # tests: no fsync (speed); a benchmark: as a server runs
        self.fsync = fsync

    def _run(self, args, **kw):
        if self.user:
            args = ["runuser", "-u", self.user, "--"] + args
        return subprocess.run(args, capture_output=True, text=True, **kw)

    def start(self):
        """raises RuntimeError saying why it cannot start"""
        if not self.bin or not shutil.which("psql"):
            raise RuntimeError("no PostgreSQL server binaries "
                               "(/usr/lib/postgresql/*/bin, psql)")
        os.makedirs(self.dir)
        # the temporary directory's parents must let nobody through
        for d in (os.path.dirname(self.dir), self.dir):
            os.chmod(d, 0o755)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        r = self._run([self.bin + "/initdb", "-D", self.data, "-A", "trust",
                       "-U", "fleet", "-E", "UTF8"] +
                      ([] if self.fsync else ["--no-sync"]), timeout=120)
        if r.returncode != 0:
            raise RuntimeError("initdb: %s" % (r.stderr or r.stdout)[-500:])
        r = self._run([self.bin + "/pg_ctl", "-D", self.data, "-l",
                       os.path.join(self.dir, "log"), "-w", "-t", "60",
                       "-o", "-p %d -k %s -c listen_addresses=127.0.0.1 "
                       "-c fsync=%s" % (self.port, self.dir,
                                        "on" if self.fsync else "off"),
                       "start"],
                      timeout=120)
        if r.returncode != 0:
            raise RuntimeError("pg_ctl start: %s %s" % (
                (r.stderr or r.stdout)[-300:], self.logtext()))
        self.started = True

    def uri(self, db="postgres"):
        return "postgresql://fleet@127.0.0.1:%d/%s" % (self.port, db)

    def logtext(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-1000:]
        except OSError:
            return ""

    def sql(self, query):
        """rows of query as lists of text, by psql"""
        r = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-d",
                            self.uri(), "-c", query], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql %s: %s" % (query, r.stderr))
        return [l.split("\t") for l in r.stdout.splitlines() if l]

    def stop(self):
        if self.started:
            self._run([self.bin + "/pg_ctl", "-D", self.data, "-m", "fast",
                       "-w", "stop"], timeout=60)
            self.started = False
