"""Tiny misbehaving network peers the lab needs and real servers cannot play.

  helpers.py rst-relay LISTEN_PORT UPSTREAM_PORT
      A "middlebox": accepts one client, connects to the real server, forwards
      the ClientHello and the first bytes of the server's answer, then resets
      both TCP connections (SO_LINGER 0 makes close() send RST).
  helpers.py silent LISTEN_PORT
      Accepts TCP connections, reads what arrives and never answers (a hung
      server or a black-holing load balancer).

  helpers.py fin-on-hello LISTEN_PORT
      Reads the ClientHello and closes the connection normally (FIN), with no
      alert: an overloaded or misconfigured server or proxy.
  helpers.py tls-reset LISTEN_PORT CERTCHAIN KEY
      A TLS server (Python ssl) that completes the handshake, reads the
      request, then resets the connection (RST) instead of answering.
  helpers.py blackhole-relay LISTEN_PORT UPSTREAM_PORT
      A relay that carries everything from the client but only the first
      chunk the server sends (its first flight); later server bytes are
      swallowed, as by a broken middlebox or a path MTU black hole.
  helpers.py abandon --port P --keylog F
      Starts a real handshake with Python's ssl over memory BIOs (so the
      ClientHello is genuine OpenSSL output), sends it over a plain socket,
      reads the server's first flight, then just closes the socket (FIN)
      without any alert, as a crashed client or a scanner would.
  helpers.py split-hello --port P --cafile F --keylog F [--chunk N]
      A full TLS handshake with Python's ssl over memory BIOs whose ClientHello
      is written to the socket in N-byte pieces (TCP_NODELAY, short pauses),
      so it crosses several TCP segments as large ClientHellos do on real
      paths; then GET / and read the answer.
  helpers.py client --port P --cafile F --keylog F [--maxseg N] [--rcvbuf N]
                    [--cert F --key F] [--path /x/] [--tls13]
      A Python ssl client (OpenSSL underneath) that fetches a path from
      www.lab.test:P via 127.0.0.1, writing a key log.  It never offers
      post_handshake_auth.  --maxseg/--rcvbuf shrink the MSS and receive
      window so a big server flight is cut into many small TCP segments, as on
      a real path (loopback would otherwise carry 64 KB segments).

  helpers.py flip-relay LISTEN_PORT UPSTREAM_PORT --what ske|record|reset [--direction s2c|c2s]
                    [--skip N]
      A "middlebox" that relays TLS record by record and corrupts one bit:
      --what ske flips the last bit of the server's ServerKeyExchange (the end
      of its signature, TLS 1.2); --what record flips one bit in the middle of
      the (N+1)th application_data (type 23) record going in --direction
      (s2c: server to client, c2s: client to server); --what reset instead
      resets both TCP connections (SO_LINGER 0) when that record arrives.
  helpers.py tls-hold LISTEN_PORT CERTCHAIN KEY
      A TLS server (Python ssl) that completes the handshake, reads the
      request and never answers (a hung backend behind a proxy).
  helpers.py tls-truncate LISTEN_PORT CERTCHAIN KEY
      A TLS server (Python ssl) that answers the request with a Content-Length
      of 20000, sends 3000 bytes of body and closes the socket (FIN) without a
      close_notify: a response cut short.

Each exits on its own after a bounded time so nothing is left running.
"""
from __future__ import annotations

import select
import socket
import struct
import sys
import threading
import time

LIFETIME = 30.0  # seconds; the lab stops us long before this


def listener(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    s.settimeout(LIFETIME)
    return s


def hard_reset(sock: socket.socket) -> None:
    """Close with SO_LINGER {on, 0}: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def read_some(sock: socket.socket, wait: float) -> bytes:
    ready, _, _ = select.select([sock], [], [], wait)
    return sock.recv(65536) if ready else b""


def rst_relay(port: int, upstream: int) -> None:
    srv = listener(port)
    print(f"rst-relay listening on {port} -> {upstream}", flush=True)
    client, addr = srv.accept()
    up = socket.create_connection(("127.0.0.1", upstream), timeout=5)
    hello = read_some(client, 5.0)
    print(f"client {addr}: {len(hello)} bytes forwarded upstream", flush=True)
    up.sendall(hello)
    time.sleep(0.2)  # let the server answer in full (ServerHello..ServerHelloDone)
    answer = read_some(up, 5.0)
    # Forward only the first record header and a few bytes: the client sees a
    # truncated server flight, as when a firewall kills a flow mid-handshake.
    first = answer[:64]
    client.sendall(first)
    print(f"server: {len(answer)} bytes, forwarded {len(first)}; resetting both legs", flush=True)
    time.sleep(0.2)
    hard_reset(client)
    hard_reset(up)
    srv.close()


def silent(port: int) -> None:
    srv = listener(port)
    print(f"silent listening on {port}", flush=True)
    deadline = time.time() + LIFETIME

    def hold(conn: socket.socket) -> None:
        total = 0
        while time.time() < deadline:
            ready, _, _ = select.select([conn], [], [], 0.5)
            if not ready:
                continue
            data = conn.recv(65536)
            if not data:  # peer closed
                break
            total += len(data)
        print(f"received {total} bytes, never answered; peer closed", flush=True)
        conn.close()

    while time.time() < deadline:
        try:
            conn, _ = srv.accept()
        except OSError:  # includes TimeoutError
            break
        threading.Thread(target=hold, args=(conn,), daemon=True).start()


def fin_on_hello(port: int) -> None:
    srv = listener(port)
    print(f"fin-on-hello listening on {port}", flush=True)
    conn, addr = srv.accept()
    hello = read_some(conn, 5.0)
    print(f"client {addr}: read {len(hello)} bytes, closing without a word", flush=True)
    time.sleep(0.1)
    conn.close()
    srv.close()


def tls_reset(port: int, chain: str, key: str) -> None:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    srv = listener(port)
    print(f"tls-reset listening on {port}", flush=True)
    raw, addr = srv.accept()
    raw.settimeout(5)
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
        request = tls.recv(65536)
        print(f"client {addr}: handshake done ({tls.version()}), request of {len(request)} bytes; "
              "resetting", flush=True)
        hard_reset(tls)
    except (OSError, ssl.SSLError) as exc:
        print(f"client {addr}: {exc}", flush=True)
        raw.close()
    srv.close()


def blackhole_relay(port: int, upstream: int) -> None:
    srv = listener(port)
    print(f"blackhole-relay listening on {port} -> {upstream}", flush=True)
    client_sock, _ = srv.accept()
    up = socket.create_connection(("127.0.0.1", upstream), timeout=5)
    deadline = time.time() + LIFETIME
    passed_first = False
    swallowed = 0
    while time.time() < deadline:
        ready, _, _ = select.select([client_sock, up], [], [], 0.5)
        for s in ready:
            data = s.recv(65536)
            if not data:
                print(f"{'client' if s is client_sock else 'server'} closed; "
                      f"swallowed {swallowed} server bytes", flush=True)
                client_sock.close()
                up.close()
                return
            if s is client_sock:
                up.sendall(data)
            elif not passed_first:
                client_sock.sendall(data)
                passed_first = True
            else:
                swallowed += len(data)
    client_sock.close()
    up.close()


class RecordSplitter:
    """Cuts one direction of a TLS stream into whole records (5-byte header + body)."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[bytearray]:
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            n = 5 + int.from_bytes(self.buf[3:5], "big")
            if len(self.buf) < n:
                break
            out.append(bytearray(self.buf[:n]))
            self.buf = self.buf[n:]
        return out


def flip_ske(rec: bytearray) -> bool:
    """Flip the last bit of a ServerKeyExchange (type 12) inside a plaintext handshake record."""
    if rec[0] != 22:
        return False
    pos = 5
    while pos + 4 <= len(rec):
        mtype, mlen = rec[pos], int.from_bytes(rec[pos + 1:pos + 4], "big")
        end = pos + 4 + mlen
        if end > len(rec):
            return False
        if mtype == 12:
            rec[end - 1] ^= 0x01
            return True
        pos = end
    return False


def flip_relay(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="helpers.py flip-relay")
    ap.add_argument("port", type=int)
    ap.add_argument("upstream", type=int)
    ap.add_argument("--what", choices=["ske", "record", "reset"], required=True)
    ap.add_argument("--direction", choices=["s2c", "c2s"], default="s2c")
    ap.add_argument("--skip", type=int, default=0)
    args = ap.parse_args(argv)
    srv = listener(args.port)
    print(f"flip-relay ({args.what}) listening on {args.port} -> {args.upstream}", flush=True)
    client_sock, _ = srv.accept()
    up = socket.create_connection(("127.0.0.1", args.upstream), timeout=5)
    split = {client_sock: RecordSplitter(), up: RecordSplitter()}
    seen23 = {"s2c": 0, "c2s": 0}
    done = False
    deadline = time.time() + LIFETIME
    while time.time() < deadline:
        ready, _, _ = select.select([client_sock, up], [], [], 0.5)
        for s in ready:
            data = s.recv(65536)
            other = up if s is client_sock else client_sock
            direction = "c2s" if s is client_sock else "s2c"
            if not data:
                print(f"{'client' if s is client_sock else 'server'} closed", flush=True)
                try:
                    other.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                time.sleep(0.3)
                client_sock.close()
                up.close()
                return 0
            out = b""
            for rec in split[s].feed(data):
                if not done and args.what == "ske" and direction == "s2c" and flip_ske(rec):
                    done = True
                    print("flipped the last bit of the ServerKeyExchange signature", flush=True)
                elif args.what == "reset" and direction == args.direction and rec[0] == 23:
                    if seen23[direction] == args.skip:
                        print(f"{direction} application_data record #{args.skip + 1}: resetting "
                              "both legs", flush=True)
                        other.sendall(out)
                        hard_reset(client_sock)
                        hard_reset(up)
                        return 0
                    seen23[direction] += 1
                elif not done and args.what == "record" and direction == args.direction \
                        and rec[0] == 23:
                    if seen23[direction] == args.skip:
                        rec[5 + (len(rec) - 5) // 2] ^= 0x10
                        done = True
                        print(f"flipped one bit of {direction} application_data record "
                              f"#{args.skip + 1} ({len(rec) - 5} bytes)", flush=True)
                    seen23[direction] += 1
                out += bytes(rec)
            if out:
                try:
                    other.sendall(out)
                except OSError:
                    pass
    client_sock.close()
    up.close()
    return 0


def tls_hold(port: int, chain: str, key: str) -> None:
    """Complete the handshake, read the request, never answer (a hung backend)."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    srv = listener(port)
    print(f"tls-hold listening on {port}", flush=True)
    raw, addr = srv.accept()
    raw.settimeout(10)
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
        request = tls.recv(65536)
        print(f"client {addr}: {tls.version()}, request of {len(request)} bytes; not answering",
              flush=True)
        while tls.recv(65536):
            pass
        print(f"client {addr}: closed", flush=True)
    except (OSError, ssl.SSLError) as exc:
        print(f"client {addr}: {exc}", flush=True)
    raw.close()
    srv.close()


def tls_truncate(port: int, chain: str, key: str) -> None:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    srv = listener(port)
    print(f"tls-truncate listening on {port}", flush=True)
    raw, addr = srv.accept()
    raw.settimeout(5)
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
        request = tls.recv(65536)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20000\r\n\r\n")
        tls.sendall(b"x" * 3000)
        time.sleep(0.1)
        print(f"client {addr}: {tls.version()}, request of {len(request)} bytes; sent 3000 of "
              "20000 body bytes, closing without close_notify", flush=True)
        # SSLSocket.close() frees the connection without SSL_shutdown: no close_notify, a FIN.
        tls.close()
    except (OSError, ssl.SSLError) as exc:
        print(f"client {addr}: {exc}", flush=True)
        raw.close()
    srv.close()


def abandon(argv: list[str]) -> int:
    import argparse
    import ssl

    ap = argparse.ArgumentParser(prog="helpers.py abandon")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--keylog", required=True)
    args = ap.parse_args(argv)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = args.keylog
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="www.lab.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    with socket.create_connection(("127.0.0.1", args.port), timeout=5) as raw:
        raw.sendall(hello)
        time.sleep(0.3)
        answer = read_some(raw, 5.0)
        print(f"sent a {len(hello)}-byte ClientHello, got {len(answer)} bytes back; "
              "closing without an alert")
    return 0


def split_hello(argv: list[str]) -> int:
    import argparse
    import ssl

    ap = argparse.ArgumentParser(prog="helpers.py split-hello")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--keylog", required=True)
    ap.add_argument("--chunk", type=int, default=150)
    args = ap.parse_args(argv)
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.keylog_filename = args.keylog
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="www.lab.test")
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def pump_in() -> None:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        incoming.write(data)

    try:
        first = True
        while True:
            try:
                obj.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            data = outgoing.read()
            if data and first:
                pieces = [data[i:i + args.chunk] for i in range(0, len(data), args.chunk)]
                for piece in pieces:
                    sock.sendall(piece)
                    time.sleep(0.05)
                print(f"ClientHello of {len(data)} bytes sent in {len(pieces)} pieces")
                first = False
            elif data:
                sock.sendall(data)
            if done:
                break
            pump_in()
        obj.write(b"GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n")
        sock.sendall(outgoing.read())
        body = b""
        while True:
            try:
                chunk = obj.read(65536)
                if not chunk:  # close_notify received: clean end of the stream
                    break
                body += chunk
            except ssl.SSLWantReadError:
                try:
                    pump_in()
                except ConnectionError:
                    break
            except ssl.SSLZeroReturnError:
                break
        sock.sendall(outgoing.read())
        status = body.splitlines()[0].decode() if body else "(no response)"
        print(f"{obj.version()} {obj.cipher()[0]}: {status}")
    except (OSError, ssl.SSLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        sock.close()
    return 0


def client(argv: list[str]) -> int:
    import argparse
    import ssl

    ap = argparse.ArgumentParser(prog="helpers.py client")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--keylog", required=True)
    ap.add_argument("--maxseg", type=int, help="TCP_MAXSEG before connect (MSS in our SYN)")
    ap.add_argument("--rcvbuf", type=int, help="SO_RCVBUF before connect (small window)")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--path", default="/")
    ap.add_argument("--tls13", action="store_true", help="TLS 1.3 only")
    args = ap.parse_args(argv)
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.keylog_filename = args.keylog
    # Python leaves post_handshake_auth off unless asked: this client never offers it.
    ctx.post_handshake_auth = False
    if args.tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.maxseg:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, args.maxseg)
    if args.rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    raw.settimeout(10)
    request = (f"GET {args.path} HTTP/1.1\r\nHost: www.lab.test\r\n"
               "Connection: close\r\n\r\n").encode()
    try:
        raw.connect(("127.0.0.1", args.port))
        with ctx.wrap_socket(raw, server_hostname="www.lab.test") as tls:
            tls.sendall(request)
            body = b""
            while chunk := tls.recv(65536):
                body += chunk
            status = body.splitlines()[0].decode() if body else "(no response)"
            print(f"{tls.version()} {tls.cipher()[0]}: {status}")
    except (OSError, ssl.SSLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "fin-on-hello":
        fin_on_hello(int(argv[1]))
        return 0
    if len(argv) >= 4 and argv[0] == "tls-reset":
        tls_reset(int(argv[1]), argv[2], argv[3])
        return 0
    if len(argv) >= 3 and argv[0] == "blackhole-relay":
        blackhole_relay(int(argv[1]), int(argv[2]))
        return 0
    if argv and argv[0] == "flip-relay":
        return flip_relay(argv[1:])
    if len(argv) >= 4 and argv[0] == "tls-hold":
        tls_hold(int(argv[1]), argv[2], argv[3])
        return 0
    if len(argv) >= 4 and argv[0] == "tls-truncate":
        tls_truncate(int(argv[1]), argv[2], argv[3])
        return 0
    if argv and argv[0] == "abandon":
        return abandon(argv[1:])
    if argv and argv[0] == "split-hello":
        return split_hello(argv[1:])
    if argv and argv[0] == "client":
        return client(argv[1:])
    if len(argv) >= 3 and argv[0] == "rst-relay":
        rst_relay(int(argv[1]), int(argv[2]))
        return 0
    if len(argv) >= 2 and argv[0] == "silent":
        silent(int(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
