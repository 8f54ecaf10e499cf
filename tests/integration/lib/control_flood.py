#!/usr/bin/env python3
"""Floods an rmhad control socket: N idle clients, then S slow clients that send half a
request line and stall. Prints "connected ..." once every client is connected; then H heavy
clients in turn send up to R requests each of nearly the largest size (a 60 KB JSON array,
costly to parse), reading each answer before the next request, for at most HEAVY_S seconds;
then it reads every socket until the daemon closed it (or the deadline passed) and prints a
JSON summary of what each kind of client was told. Used by
tests/integration/fault_control_flood.sh.

usage: control_flood.py SOCKET N SLOW DEADLINE_S [H R HEAVY_S]
"""
import json
import resource
import selectors
import socket
import struct
import sys
import time


def classify(line):
    for needle, name in (("the cap is", "refused_full"), ("make room", "evicted_idle"),
                         ("idle-timeout", "idle_timeout"), ("request-timeout", "request_timeout"),
                         ("out of file descriptors", "no_fds")):
        if needle in line:
            return name
    return "other: " + line[:120]


def heavy_phase(path, heavy, rounds, seconds):
    """Round after round, every heavy client in turn sends one large request and reads its
    answer: one request under way at a time, so that each is bounded by the daemon's work,
    never by a queue of other heavy requests (which the request-timeout would rightly cut).
    New rounds start only within `seconds` (a sanitizer build parses far slower). Returns
    (answers that were the refusal of the unknown command, requests sent, errors)."""
    line = (b'{"cmd":"bulk","pad":[' + b",".join([b"1"] * 30000) + b"]}\n")
    socks, answers, sent, errors = [], 0, 0, []
    stop = time.monotonic() + seconds
    try:
        for _ in range(heavy):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect(path)
            socks.append([s, b""])
        for _ in range(rounds):
            if time.monotonic() >= stop:
                break
            for entry in socks:
                entry[0].sendall(line)
                sent += 1
                while b"\n" not in entry[1]:
                    chunk = entry[0].recv(4096)
                    if not chunk:
                        raise ConnectionError("the daemon closed the connection")
                    entry[1] += chunk
                answer, entry[1] = entry[1].split(b"\n", 1)
                if b"bulk" in answer and b'"ok":false' in answer:
                    answers += 1
                else:
                    errors.append(answer[:200].decode("utf-8", "replace"))
    except OSError as e:
        errors.append("heavy client: %s" % e)
    for entry in socks:
        entry[0].close()
    return answers, sent, errors


def main():
    path, n, slow, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    heavy, rounds = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (0, 0)
    heavy_s = float(sys.argv[7]) if len(sys.argv) > 7 else 3600.0
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    clients, connect_errors = [], 0
    for i in range(n + slow):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A blocking connect waits while the daemon's backlog is full (a Python timeout would
        # make the socket non-blocking and fail at once with EAGAIN); SO_SNDTIMEO bounds it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 10, 0))
        try:
            s.connect(path)
            if i >= n:
                s.sendall(b'{"cmd":"sta')
        except OSError as e:
            connect_errors += 1
            print("connect:", e, file=sys.stderr)
            s.close()
            continue
        s.setblocking(False)
        clients.append(("flood" if i < n else "slow", s))
    print("connected", len(clients), "connect_errors", connect_errors, flush=True)
    heavy_answers, heavy_sent, heavy_errors = heavy_phase(path, heavy, rounds, heavy_s)
    sel = selectors.DefaultSelector()
    data = {}
    for kind, s in clients:
        sel.register(s, selectors.EVENT_READ, kind)
        data[s] = b""
    outcomes, left = {}, len(clients)
    deadline = time.monotonic() + limit
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk:
                data[s] += chunk
                continue
            line = data[s].split(b"\n")[0].decode("utf-8", "replace")
            name = key.data + ":" + classify(line)
            outcomes[name] = outcomes.get(name, 0) + 1
            sel.unregister(s)
            s.close()
            left -= 1
    print(json.dumps({"outcomes": outcomes, "still_open": left,
                      "connect_errors": connect_errors, "heavy_answers": heavy_answers, "heavy_sent": heavy_sent,
                      "heavy_errors": heavy_errors[:5]}),
          flush=True)


main()
