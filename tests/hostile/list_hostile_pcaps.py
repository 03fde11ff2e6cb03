"""Hostile TLS traffic on one connection, written field by field with struct: lists that grow
with the traffic of a single connection (alerts, timeline events, anomalies).

Each generator yields packets (tcp_hostile_pcaps.Packet) so that a test can hold a small
capture in memory and bench/hostile.py can stream a large one to disk (write_pcap). The TLS
bytes follow RFC 5246 6.2.1 (record: type, version, 16-bit length) and 7.2 (an alert is two
bytes: level, description); nothing here comes from tlsdissect.
"""

from __future__ import annotations

import struct
from typing import Iterator

from tests.hostile.tcp_hostile_pcaps import ACK, CLIENT, PSH, RST, SERVER, T0, Packet, client_hello, handshake

ALERT_FATAL = 2
ALERT_WARNING = 1
HANDSHAKE_FAILURE = 40  # RFC 5246 7.2
UNEXPECTED_MESSAGE = 10
HELLO_REQUEST = 0  # RFC 5246 7.4.1.1: an empty handshake message


def tls_record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    return struct.pack("!BHH", content_type, version, len(payload)) + payload


def alert_record(level: int, description: int) -> bytes:
    return tls_record(21, bytes([level, description]))


def _one_connection(server_records: Iterator[bytes], sport: int = 40000, step: float = 1e-5) -> Iterator[Packet]:
    """A handshake, the client's ClientHello, then each of ``server_records`` in a segment of
    its own from the server (time moving by ``step``), and a reset from the client."""
    hello = client_hello("storm.example")
    yield from handshake(sport=sport)
    yield T0 + 0.001, CLIENT, SERVER, sport, 443, 1001, 5001, PSH | ACK, hello
    seq = 5001
    ts = T0 + 0.002
    for payload in server_records:
        yield ts, SERVER, CLIENT, 443, sport, seq, 1001 + len(hello), PSH | ACK, payload
        seq += len(payload)
        ts += step
    yield ts, CLIENT, SERVER, sport, 443, 1001 + len(hello), seq, RST | ACK, b""


def alert_storm(count: int, sport: int = 40000) -> Iterator[Packet]:
    """One connection whose server answers the ClientHello with ``count`` alert records, one
    per segment: first a fatal handshake_failure (what a diagnosis must name), then warnings
    of unexpected_message."""
    records = (alert_record(ALERT_FATAL, HANDSHAKE_FAILURE) if i == 0 else alert_record(ALERT_WARNING, UNEXPECTED_MESSAGE)
               for i in range(count))
    return _one_connection(records, sport)


def hello_request_storm(count: int, per_record: int = 100, sport: int = 40000) -> Iterator[Packet]:
    """One connection whose server sends ``count`` HelloRequest messages (4 bytes each),
    ``per_record`` to a record: a timeline event each."""
    full, rest = divmod(count, per_record)
    sizes = [per_record] * full + ([rest] if rest else [])
    return _one_connection((tls_record(22, b"\x00\x00\x00\x00" * n) for n in sizes), sport)


def bad_alert_storm(count: int, sport: int = 40000) -> Iterator[Packet]:
    """One connection whose server sends ``count`` alert records of one byte (RFC 5246 7.2: an
    alert is two): the same anomaly, ``count`` times."""
    return _one_connection((tls_record(21, b"\x02") for _ in range(count)), sport)


def long_chain(ders: list[bytes], sport: int = 40000) -> Iterator[Packet]:
    """One connection whose server answers with a ServerHello (TLS 1.2) and a Certificate message
    (RFC 5246 7.4.2: a 24-bit length, then each certificate with a 24-bit length) of ``ders``,
    split into records of at most 16 KiB, then a reset."""
    server_hello = b"\x03\x03" + bytes(range(32, 64)) + b"\x00" + b"\xc0\x2f" + b"\x00"
    entries = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    body = len(entries).to_bytes(3, "big") + entries
    messages = (b"\x02" + len(server_hello).to_bytes(3, "big") + server_hello
                + b"\x0b" + len(body).to_bytes(3, "big") + body)
    records = [tls_record(22, messages[i:i + 16384]) for i in range(0, len(messages), 16384)]
    return _one_connection(iter(records), sport)
