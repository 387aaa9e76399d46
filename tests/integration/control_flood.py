#!/usr/bin/python3
"""control_flood.py: hostile control-socket clients never stall dtcd.

    control_flood.py DTCD DTCSIM SCENARIOS_DIR

dtcd --replay - --json --control SOCKET reads a simulated drive from a pipe
that a thread feeds slowly, while 200 clients connect at once: half never
send anything, half ask "list all" over and over and never read a byte.
Meanwhile another client must get every answer it asks for, the frame count
it reads must keep growing (the replay goes on), the idle clients must be
closed after the idle timeout, the refusals must be logged a bounded number
of times, and at the end dtcd must have read every frame and exit 0. The
socket is mode 0660: a user outside its group cannot connect, one in it can.
"""
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

DTCD, SIM, SCEN = sys.argv[1:4]
N_IDLE = 100
N_DEAF = 100
IDLE_S = 10  # CONTROL_IDLE_S in daemon/control.c


def ask(path, request, timeout=5):
    """one request, one answer line, as dtcctl does; None when none came"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(request.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return json.loads(buf) if buf.endswith(b"\n") else None
    except OSError:
        return None
    finally:
        s.close()


def connect_as(path, uid, gid, groups):
    """0 when a child with these ids can connect, else its errno"""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.close()
        except OSError as e:
            code = e.errno or 1
        os._exit(code)
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


def feed(proc, frames, fed, done):
    # slowly enough that the replay is still running while we flood it
    try:
        for i in range(0, len(frames), 1000):
            proc.stdin.writelines(frames[i:i + 1000])
            proc.stdin.flush()
            time.sleep(0.05)
        fed.set()
        done.wait()
        proc.stdin.close()
    except BrokenPipeError:
        pass


def flood(path):
    """the hostile clients: (idle ones, ones that never read)"""
    idle, deaf = [], []
    for i in range(N_IDLE + N_DEAF):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # blocking: a full backlog makes it wait (non-blocking: EAGAIN)
        try:
            s.connect(path)
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        (idle if i % 2 else deaf).append(s)
    return idle, deaf


def pester(deaf, stop):
    """ask for the longest answer again and again, read nothing"""
    req = b"list all\n" * 20
    while not stop.is_set():
        for s in deaf:
            try:
                s.send(req)
            except OSError:
                pass
        time.sleep(0.01)


with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "misfire.log")
    subprocess.run([SIM, "-s", os.path.join(SCEN, "misfire.ini"), "-o",
                    log], check=True)
    with open(log) as f:
        frames = f.readlines()
    # others may reach the socket, so only its mode keeps them out
    os.chmod(tmp, 0o711)
    sock = os.path.join(tmp, "control")
    proc = subprocess.Popen([DTCD, "--replay", "-", "--json", "--control",
                             sock], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    fed, done = threading.Event(), threading.Event()
    feeder = threading.Thread(target=feed, args=(proc, frames, fed, done))
    feeder.start()
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        mode = stat.S_IMODE(os.stat(sock).st_mode)
        check(mode == 0o660, "socket mode %o, expected 660" % mode)
        # the socket's group may connect, anybody else not (root ignores
        # the mode, so a child takes another user's ids)
        gid = os.stat(sock).st_gid
        check(connect_as(sock, 65534, 65534, []) == 13,
              "a user outside the socket's group could connect")
        check(connect_as(sock, 65534, 65534, [gid]) == 0,
              "a user in the socket's group could not connect")

        idle, deaf = flood(sock)
        check(len(idle) + len(deaf) == N_IDLE + N_DEAF,
              "only %d of %d hostile clients connected" %
              (len(idle) + len(deaf), N_IDLE + N_DEAF))
        pest = threading.Thread(target=pester, args=(deaf, stop))
        pest.start()
        seen = []
        answered = 0
        t0 = time.monotonic()
        for i in range(30):
            st = ask(sock, "status")
            if st and "frames" in st:
                answered += 1
                seen.append(st["frames"])
            lst = ask(sock, "list all")
            if lst and "dtcs" in lst:
                answered += 1
            time.sleep(0.1)
        check(answered == 60, "%d of 60 requests answered during the "
              "flood" % answered)
        check(len(seen) >= 2 and seen[-1] > seen[0],
              "frames did not grow during the flood: %s" % seen[:3])
        # past the idle timeout: the silent ones are closed by dtcd
        time.sleep(max(0, t0 + IDLE_S + 3 - time.monotonic()))
        closed = 0
        for s in idle:
            try:
                if s.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        check(closed == len(idle), "%d of %d idle clients closed after "
              "%d s" % (closed, len(idle), IDLE_S + 3))
        # every frame read, none lost to the flood
        fed.wait(120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = ask(sock, "status") or {}
            if st.get("frames") == len(frames):
                break
            time.sleep(0.1)
        check(st.get("frames") == len(frames), "status: %s frames of %d" %
              (st.get("frames"), len(frames)))
    finally:
        stop.set()
        done.set()
        feeder.join()
        try:
            rc = proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        err = proc.stderr.read()
    check(rc == 0, "dtcd exit %s: %s" % (rc, err[-500:]))
    said = [line for line in err.splitlines() if "clients closed" in line]
    check(1 <= len(said) <= 2, "the closed clients said %d times: %s" %
          (len(said), said[:3]))
    if said:
        print("control_flood: %s" % said[0])
checks.done()
