#!/usr/bin/python3
"""live_notify.py: dtcd live mode speaks systemd's notify protocol.

    live_notify.py DTCD

dtcd runs as systemd would run it (no -d, NOTIFY_SOCKET and WATCHDOG_USEC
set, here pointing at our own datagram socket) on an interface that does not
exist, as a CAN HAT not up yet: it must still say READY=1 with a STATUS=
naming what it waits for, ping the watchdog from its loop, and on SIGTERM
say STOPPING=1 and exit 0. Without WATCHDOG_USEC it must not ping.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

IFACE = "dtcdnone0"


def receive(sock, msgs, seconds, done=lambda: False):
    """Adds what arrives for up to seconds, or until done() says so."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not done():
        try:
            msgs += sock.recv(4096).decode().split("\n")
        except socket.timeout:
            pass


def run(dtcd, watchdog_usec):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        proc = subprocess.Popen([dtcd, "-i", IFACE, "--json"], env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        msgs = []
        # until READY and (with a watchdog) three pings, or 10 s
        receive(sock, msgs, 10, lambda: "READY=1" in msgs and (
            not watchdog_usec or msgs.count("WATCHDOG=1") >= 3))
        if not watchdog_usec:
            receive(sock, msgs, 1)  # a second more: no ping may come
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return None, msgs, out, err
        receive(sock, msgs, 0.5)
        return proc.returncode, msgs, out, err


def main():
    dtcd = sys.argv[1]
    failures = []
    for wd in (400000, 0):
        rc, msgs, out, err = run(dtcd, wd)
        what = f"WATCHDOG_USEC={wd}: "
        if rc != 0:
            failures.append(what + f"exit {rc} after SIGTERM, stderr {err!r}")
        if "READY=1" not in msgs:
            failures.append(what + f"no READY=1 in {msgs}")
        if f"STATUS=waiting for {IFACE}" not in msgs:
            failures.append(what + f"no STATUS=waiting for {IFACE} in {msgs}")
        if not msgs or msgs[-1] != "STOPPING=1":
            failures.append(what + f"STOPPING=1 is not the last of {msgs}")
        pings = msgs.count("WATCHDOG=1")
        if wd and pings < 3:
            failures.append(what + f"{pings} watchdog pings in {msgs}")
        if not wd and pings:
            failures.append(what + f"pings without a watchdog: {msgs}")
        # under systemd messages go to the journal, events to stdout
        if err or out:
            failures.append(what + f"output {out!r} {err!r}, expected none")
    for f in failures:
        print("live_notify: FAIL:", f)
    if failures:
        return 1
    print("live_notify: READY, STATUS, watchdog pings and STOPPING as "
          "systemd expects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
