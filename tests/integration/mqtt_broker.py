# mqtt_broker.py: a real mosquitto broker on 127.0.0.1 for the MQTT tests:
# a free port, a temporary configuration, killed at the end.
import json
import os
import pwd
import shutil
import socket
import subprocess
import queue
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto with persistence in a temporary directory, so a persistent
    subscriber session outlives a broker restart."""

    def __init__(self, tmpdir, port=None, extra=""):
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
            f.write(extra)

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
        """Everything queued for the persistent session, in order: a
        sentinel published after it marks the end. [(topic, payload)],
        payload None for an empty (retained-clearing) message. Raises
        TimeoutError when the sentinel does not come within timeout s."""
        sentinel = self.sentinel(client_id)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(self.port), "-q", "1", "-t", sentinel, "-m", "end"],
                       check=True, timeout=20)
        sub = Collector(self, topic, client_id)
        try:
            return sub.until_sentinel(sentinel, timeout)
        finally:
            sub.stop()

    def live(self, topic, client_id):
        """A subscriber that is connected and subscribed when this returns
        (not relying on the broker's offline queue of a persistent session,
        which mosquitto does not always deliver)."""
        c = Collector(self, topic, client_id, clean=True)
        probe = self.sentinel(client_id)
        deadline = time.monotonic() + 20
        # a probe sent before the SUBSCRIBE is lost: send until one comes
        while True:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                            str(self.port), "-q", "1", "-t", probe,
                            "-m", "ready"], check=True, timeout=20)
            try:
                c.until_sentinel(probe, 0.3, payload="ready")
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    c.stop()
                    raise
        # later probes still on their way would end finish() early
        c.drain(0.3, probe)
        return c

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


class Collector:
    """mosquitto_sub read by a thread; -W of mosquitto_sub is not relied
    on: a deadline here ends every wait."""

    def __init__(self, broker, topic, client_id, clean=False):
        self.broker = broker
        self.client_id = client_id
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port),
                "-i", client_id, "-q", "1", "-t", topic,
                "-t", broker.sentinel(client_id), "-F", "%t\t%p"]
        if not clean:
            # -R: not the retained messages a new SUBSCRIBE sends again
            args += ["-c", "-R"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            t, _, p = line.rstrip("\n").partition("\t")
            self.lines.put((t, p if p else None))
        self.lines.put(None)

    def until_sentinel(self, sentinel, timeout, payload="end"):
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise TimeoutError("no %s on %s within %d s (got %d "
                                   "messages)" % (payload, sentinel, timeout,
                                                  len(out)))
            if item is None:
                raise TimeoutError("mosquitto_sub ended before %s" % payload)
            if item[0] == sentinel:
                if item[1] == payload:
                    return out
                continue
            out.append(item)

    def drain(self, quiet_s, sentinel):
        """swallow the probes still coming until quiet_s passes without"""
        while True:
            try:
                item = self.lines.get(timeout=quiet_s)
            except queue.Empty:
                return
            if item is None or item[0] != sentinel:
                self.lines.put(item)  # not ours: keep for the caller
                return

    def finish(self, timeout=30):
        """what came since the last wait, up to a fresh end marker"""
        sentinel = self.broker.sentinel(self.client_id)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p",
                        str(self.broker.port), "-q", "1", "-t", sentinel,
                        "-m", "end"], check=True, timeout=20)
        try:
            return self.until_sentinel(sentinel, timeout)
        finally:
            self.stop()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def need_tools():
    missing = [t for t in ("mosquitto", "mosquitto_sub", "mosquitto_pub")
               if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
    return missing


IDS = ("vehicle", "event_id", "dtcd_version")


def as_json_lines(payloads, vehicle=None):
    """MQTT event payloads as the --json lines they extend: the object of
    spec section 5 with vehicle, event_id and dtcd_version after it. Raises
    ValueError when one lacks them, names another vehicle or the event_ids
    do not grow by one."""
    out, last = [], None
    for p in payloads:
        o = json.loads(p)
        if any(k not in o for k in IDS):
            raise ValueError("payload without %s: %s" % (IDS, p))
        if vehicle and o["vehicle"] != vehicle:
            raise ValueError("vehicle %r, expected %r" % (o["vehicle"],
                                                           vehicle))
        if last is not None and o["event_id"] != last + 1:
            raise ValueError("event_id %d after %d" % (o["event_id"], last))
        last = o["event_id"]
        for k in IDS:
            del o[k]
        out.append(json.dumps(o, separators=(",", ":"), ensure_ascii=False))
    return out


def normal(lines):
    """--json lines as as_json_lines() writes them (json-c's float text is
    kept by parsing both sides alike)"""
    return [json.dumps(json.loads(line), separators=(",", ":"),
                       ensure_ascii=False) for line in lines]
