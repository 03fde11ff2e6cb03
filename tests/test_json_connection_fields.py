"""TcpConnection.finish makes its Connection without __init__ (object.__new__ and every field
set by hand): every field of the dataclass must be set, on every path through finish."""

from __future__ import annotations

from dataclasses import fields

import pytest

from tlsdissect import analyze
from tlsdissect.pipeline.analyzer import Sessions
from tlsdissect.pipeline.assemble import assemble
from tlsdissect.tcp.flows import FlowTable
from tlsdissect.results.model import Connection
from tlsdissect.capture.packet import ACK, RST, SYN

from tests.shared_captures import all_captures

SERVER = bytes([10, 0, 0, 1])
CLIENT = bytes([10, 1, 0, 1])


def _check(conn: Connection) -> None:
    missing = [f.name for f in fields(Connection) if not hasattr(conn, f.name)]
    assert missing == []
    # the same values through the ordinary constructor: an equal object
    assert Connection(**{f.name: getattr(conn, f.name) for f in fields(Connection)}) == conn
    conn.to_dict()
    conn.json_value()


def test_fields_set_without_tls() -> None:
    table = FlowTable(Sessions())
    segs = [(CLIENT, SERVER, 40000, 443, 1000, 0, SYN, b"", 64, 65535),
            (SERVER, CLIENT, 443, 40000, 5000, 1001, RST | ACK, b"", 60, 0),
            (CLIENT, SERVER, 40001, 8080, 1000, 0, SYN, b"", 64, 65535),
            (CLIENT, SERVER, 40001, 8080, 1001, 0, ACK, b"GET / HTTP/1.1\r\n\r\n", 64, 65535)]
    for frame, seg in enumerate(segs, 1):
        table.packet(frame, 1.0 + frame / 10, seg)
    table.retire_all()
    done = table.take_done()
    assert done
    for tc in done:
        _check(assemble(tc, True))


def test_fields_set_on_captures() -> None:
    caps = all_captures()
    if not caps:
        pytest.skip("no captures")
    for cap in caps[::max(1, len(caps) // 40)]:  # a spread of them: every path of finish is taken somewhere
        for conn in analyze(str(cap.path), include_all=True).connections:
            _check(conn)
