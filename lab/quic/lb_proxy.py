"""A UDP load balancer for the lab's Retry scenarios: it sends the client's first datagram to
one backend and every later one to another, as a balancer that spreads datagrams (not
connections) over servers that do not share their Retry token key would.

    python lb_proxy.py LISTEN_PORT FIRST_BACKEND_PORT OTHER_BACKEND_PORT LOG

Everything on 127.0.0.1. LOG gets one line per datagram: which way it went (the ground truth of
what each server received).
"""

from __future__ import annotations

import select
import socket
import sys


def main() -> None:
    listen, first, other, log_path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", listen))
    backs = {port: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for port in (first, other)}
    for s in backs.values():
        s.bind(("127.0.0.1", 0))
    client = None
    seen = 0
    with open(log_path, "w", buffering=1) as log:
        while True:
            ready, _, _ = select.select([front, *backs.values()], [], [])
            for s in ready:
                data, addr = s.recvfrom(65535)
                if s is front:
                    client = addr
                    seen += 1
                    port = first if seen == 1 else other
                    backs[port].sendto(data, ("127.0.0.1", port))
                    log.write(f"client datagram {seen} ({len(data)} bytes) -> backend {port}\n")
                elif client is not None:
                    port = next(p for p, b in backs.items() if b is s)
                    front.sendto(data, client)
                    log.write(f"backend {port} datagram ({len(data)} bytes, first byte {data[0]:#04x}) -> client\n")


if __name__ == "__main__":
    main()
