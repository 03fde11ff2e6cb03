"""Two small peers of the seventh wide lab (lab/wide7.py) that real software cannot play.

  wide7_peer.py relay LISTEN UPSTREAM --mode MODE [--skip N]
      A TCP relay (one client) that reads TLS records on both legs and forwards them, and
      says on stderr what it did.  MODE:
        pass           forwards every byte unchanged (a transparent middlebox: the control);
        server-random  changes one byte of the server's random in its ServerHello;
        client-random  changes one byte of the client's random in its ClientHello;
        app-s2c        changes one byte in the middle of the (N+1)th application_data
                       record from the server;
        app-c2s        the same for a record from the client;
        reset-s2c      when the (N+1)th application_data record from the server arrives,
                       resets both TCP connections (SO_LINGER 0) instead of forwarding it.
  wide7_peer.py stall-client --port P --cafile F --keylog F --path /x [--rcvbuf N]
                    [--read N] [--pause S] [--resume]
      A Python ssl client (OpenSSL underneath) with a small receive buffer that fetches a
      large file, reads its first N bytes, then stops reading for S seconds (its TCP window
      closes). With --resume it then reads the rest; without, it reads what is left once the
      pause is over and reports how the connection ended.

Each exits on its own after a bounded time.
"""
from __future__ import annotations

import argparse
import select
import socket
import ssl
import struct
import sys
import time
from pathlib import Path

LIFETIME = 40.0


def say(text: str) -> None:
    print(f"wide7_peer: {text}", file=sys.stderr, flush=True)


def hard_reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lab/: the record splitter the relays share
from helpers import RecordSplitter  # noqa: E402


class Leg(RecordSplitter):
    """One direction of the relay: hands out whole TLS records (lab/helpers.RecordSplitter) and
    counts what it saw."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name, self.app_records, self.handshakes = name, 0, 0

    def records(self, data: bytes) -> list[bytearray]:
        return self.feed(data)


def relay(port: int, upstream: int, mode: str, skip: int) -> None:
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    lst.settimeout(LIFETIME)
    cli, _ = lst.accept()
    srv = socket.create_connection(("127.0.0.1", upstream))
    say(f"relaying 127.0.0.1:{port} -> 127.0.0.1:{upstream}, mode {mode}")
    legs = {cli: (Leg("c2s"), srv), srv: (Leg("s2c"), cli)}
    end = time.time() + LIFETIME
    while time.time() < end:
        ready, _, _ = select.select(list(legs), [], [], 1.0)
        for sock in ready:
            leg, other = legs[sock]
            try:
                data = sock.recv(65536)
            except OSError as exc:
                say(f"{leg.name}: {exc!r}, resetting the other leg")
                hard_reset(other)
                return
            if not data:
                say(f"{leg.name}: end of stream, closing both legs")
                other.shutdown(socket.SHUT_WR)
                legs.pop(sock)
                if not legs:
                    return
                continue
            if mode == "pass":
                other.sendall(data)
                continue
            for rec in leg.records(data):
                if act(mode, skip, leg, rec, cli, srv):
                    return
                other.sendall(bytes(rec))
        if not legs:
            return


def act(mode: str, skip: int, leg: Leg, rec: bytearray, cli: socket.socket,
        srv: socket.socket) -> bool:
    """Change `rec` in place as the mode asks; True when the relay reset both legs."""
    ctype = rec[0]
    if ctype == 22 and leg.handshakes == 0 and len(rec) > 12:
        leg.handshakes += 1
        want = {"server-random": "s2c", "client-random": "c2s"}.get(mode)
        if want == leg.name and rec[5] in (1, 2):
            rec[11] ^= 0x01  # first byte of the random (record 5 + handshake 4 + version 2)
            say(f"{leg.name}: changed byte 11 of the first handshake record "
                f"({'ClientHello' if rec[5] == 1 else 'ServerHello'} random)")
    if ctype != 23:
        return False
    leg.app_records += 1
    if leg.app_records != skip + 1:
        return False
    if mode == f"app-{leg.name}":
        i = 5 + (len(rec) - 5) // 2
        rec[i] ^= 0x01
        say(f"{leg.name}: changed byte {i} of application_data record {leg.app_records} "
            f"({len(rec)} bytes)")
    elif mode == f"reset-{leg.name}":
        say(f"{leg.name}: application_data record {leg.app_records} arrived: resetting both "
            "connections")
        hard_reset(cli)
        hard_reset(srv)
        return True
    return False


def stall_client(a: argparse.Namespace) -> int:
    ctx = ssl.create_default_context(cafile=a.cafile)
    if a.keylog:
        ctx.keylog_filename = a.keylog
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    raw.settimeout(20)
    raw.connect(("127.0.0.1", a.port))
    tls = ctx.wrap_socket(raw, server_hostname="www.lab.test")
    print(f"handshake done: {tls.version()} {tls.cipher()[0]}", flush=True)
    tls.sendall(f"GET {a.path} HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n"
                .encode())
    got = b""
    while len(got) < a.read:
        chunk = tls.recv(min(4096, a.read - len(got)))
        if not chunk:
            break
        got += chunk
    head = got.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"read {len(got)} bytes ({head}); not reading for {a.pause} s", flush=True)
    time.sleep(a.pause)
    total = len(got)
    try:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            total += len(chunk)
    except (OSError, ssl.SSLError) as exc:
        print(f"error: after {total} bytes: {exc!r}", file=sys.stderr, flush=True)
        return 1
    length = [ln for ln in got.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
    want = int(length[0].split(b":")[1]) if length else -1
    body = total - (got.find(b"\r\n\r\n") + 4)
    if want >= 0 and body < want:
        print(f"error: connection closed after {body} of {want} body bytes", file=sys.stderr,
              flush=True)
        return 1
    print(f"complete: {body} body bytes (Content-Length {want})", flush=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("relay")
    r.add_argument("port", type=int)
    r.add_argument("upstream", type=int)
    r.add_argument("--mode", required=True, choices=["pass", "server-random", "client-random",
                                                     "app-s2c", "app-c2s", "reset-s2c"])
    r.add_argument("--skip", type=int, default=0)
    c = sub.add_parser("stall-client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--cafile", required=True)
    c.add_argument("--keylog")
    c.add_argument("--path", default="/big.bin")
    c.add_argument("--rcvbuf", type=int, default=8192)
    c.add_argument("--read", type=int, default=16384)
    c.add_argument("--pause", type=float, default=6.0)
    a = p.parse_args()
    if a.cmd == "relay":
        relay(a.port, a.upstream, a.mode, a.skip)
        return 0
    return stall_client(a)


if __name__ == "__main__":
    sys.exit(main())
