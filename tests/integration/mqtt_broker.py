# mqtt_broker.py: a real mosquitto broker on 127.0.0.1 for the MQTT tests:
# a free port, a temporary configuration, killed at the end.
import os
import pwd
import shutil
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto with persistence in a temporary directory, so a persistent
    subscriber session outlives a broker restart."""

    def __init__(self, tmpdir, port=None):
        self.dir = tmpdir
        self.port = port or free_port()
        self.proc = None
        self.conf = os.path.join(tmpdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\n" % self.port)
            f.write("allow_anonymous true\n")
            f.write("persistence true\n")
            f.write("persistence_location %s/\n" % tmpdir)
            # as root mosquitto would drop to the user "mosquitto"
            f.write("user %s\n" % pwd.getpwuid(os.getuid()).pw_name)

    def start(self):
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: %s" % self.logtext())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto does not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the sessions are saved
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logtext(self):
        with open(os.path.join(self.dir, "mosquitto.log")) as f:
            return f.read()[-2000:]

    def subscribe_persistent(self, client_id, topic):
        """A session with QoS 1 the broker keeps messages for while no
        client is connected. Returns once the broker acknowledged it."""
        subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p",
                        str(self.port), "-i", client_id, "-c", "-q", "1",
                        "-t", topic, "-t", self.sentinel(client_id), "-E"],
                       check=True, timeout=20)

    @staticmethod
    def sentinel(client_id):
        return "dtcd-test/end/" + client_id

    def collect(self, client_id, topic, timeout=60):
        """Everything queued for the session, in order: a sentinel published
        after it marks the end. [(topic, payload)], payload None for an
        empty (retained-clearing) message."""
        sentinel = self.sentinel(client_id)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(self.port), "-q", "1", "-t", sentinel, "-m", "end"],
                       check=True, timeout=20)
        sub = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port),
             "-i", client_id, "-c", "-q", "1", "-t", topic, "-t", sentinel,
             # -R: not the retained messages a new SUBSCRIBE sends again
             "-R", "-F", "%t\t%p", "-W", str(timeout)],
            stdout=subprocess.PIPE, text=True)
        out = []
        for line in sub.stdout:
            t, _, p = line.rstrip("\n").partition("\t")
            if t == sentinel:
                break
            out.append((t, p if p else None))
        sub.terminate()
        sub.wait()
        return out

    def retained(self, topic, count):
        """{topic: payload} of the count retained messages under topic"""
        r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p",
                            str(self.port), "-t", topic, "-F", "%t\t%p",
                            "--retained-only", "-C", str(count), "-W", "20"],
                           capture_output=True, text=True)
        out = {}
        for line in r.stdout.splitlines():
            t, _, p = line.partition("\t")
            out[t] = p
        return out


def need_tools():
    missing = [t for t in ("mosquitto", "mosquitto_sub", "mosquitto_pub")
               if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
    return missing
