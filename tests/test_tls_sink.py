"""The record layer's two ways of handing out events agree: feed's list of RecordEvents and,
with a sink set (what the session does), the sink's on_* calls made as the records are read,
in the same order, with the same fields, on random and edge inputs in random chunks."""

from __future__ import annotations

import random
import struct
from typing import Any

from tlsdissect.records import RecordEvent, RecordLayer


def _norm(ev: RecordEvent) -> tuple[Any, ...]:
    """What a sink call carries for an event of that kind."""
    if ev.kind == "handshake":
        return ("handshake", ev.frame, ev.time, ev.msg_type, ev.length, ev.body, ev.encrypted, ev.detail)
    if ev.kind == "protected":
        return ("protected", ev.frame, ev.time, ev.content_type, ev.length)
    if ev.kind == "alert":
        return ("alert", ev.frame, ev.time, ev.level, ev.code, ev.encrypted, ev.length)
    return ("event", ev.kind, ev.frame, ev.time, ev.content_type, ev.length, ev.msg_type, ev.body, ev.level,
            ev.code, ev.encrypted, ev.detail, ev.record_version, ev.name)


class _Recorder:
    def __init__(self, side: int) -> None:
        self.side = side
        self.calls: list[tuple[Any, ...]] = []

    def on_handshake(self, d: int, frame: int, ts: float, t: int, length: int, body: bytes, encrypted: bool,
                     detail: str) -> None:
        assert d == self.side
        self.calls.append(("handshake", frame, ts, t, length, body, encrypted, detail))

    def on_protected(self, d: int, frame: int, ts: float, ct: int, length: int) -> None:
        assert d == self.side
        self.calls.append(("protected", frame, ts, ct, length))

    def on_alert(self, d: int, frame: int, ts: float, level: Any, code: Any, encrypted: bool, length: int) -> None:
        assert d == self.side
        self.calls.append(("alert", frame, ts, level, code, encrypted, length))

    def on_event(self, d: int, ev: RecordEvent) -> None:
        assert d == self.side
        self.calls.append(_norm(ev))


def _record(ct: int, payload: bytes, version: int = 0x0303) -> bytes:
    return struct.pack("!BHH", ct, version, len(payload)) + payload


def _hs(t: int, body: bytes) -> bytes:
    return bytes([t]) + len(body).to_bytes(3, "big") + body


def _stream(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.randrange(1, 14)):
        k = rng.random()
        if k < 0.35:  # handshake records: one message, several, or a fragment
            msgs = b"".join(_hs(rng.choice((1, 2, 4, 8, 11, 12, 14, 16, 20, 99)), rng.randbytes(rng.randrange(0, 90)))
                            for _ in range(rng.randrange(1, 4)))
            if rng.random() < 0.2:
                msgs = msgs[:rng.randrange(0, len(msgs) + 1)]
            parts.append(_record(22, msgs))
        elif k < 0.5:
            parts.append(_record(21, rng.choice((b"\x02\x28", b"\x01\x00\x02\x46", b"\x02", rng.randbytes(30)))))
        elif k < 0.6:
            parts.append(_record(20, b"\x01"))
        elif k < 0.8:
            parts.append(_record(rng.choice((23, 23, 22, 21, 24)), rng.randbytes(rng.randrange(0, 200)),
                                 rng.choice((0x0303, 0x0301))))
        elif k < 0.9:
            parts.append(rng.randbytes(rng.randrange(1, 20)))  # damage
        else:
            parts.append(struct.pack("!BHH", 23, 0x0303, 20000) + rng.randbytes(100))  # too long
    data = b"".join(parts)
    if rng.random() < 0.1:
        data = b"GET / HTTP/1.1\r\n\r\n" + data
    return data


def _chunks(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randrange(0, 12)))) if len(data) > 1 else []
    edges = [0, *cuts, len(data)]
    return [data[edges[i]:edges[i + 1]] for i in range(len(edges) - 1)]


def _run(chunks: list[bytes], setup: dict[str, Any], with_sink: bool) -> list[tuple[Any, ...]]:
    layer = RecordLayer(1)
    for k, v in setup.items():
        setattr(layer, k, v)
    rec = _Recorder(1)
    out: list[tuple[Any, ...]] = []
    for i, chunk in enumerate(chunks):
        if with_sink:
            layer.sink = rec
            assert not layer.feed(chunk, i, float(i))
            while layer.paused:
                assert not layer.feed(b"", i, float(i))
            layer.sink = None
        else:
            events = list(layer.feed(chunk, i, float(i)))
            while layer.paused:
                events += layer.feed(b"", i, float(i))
            out += [_norm(e) for e in events]
    out += [_norm(e) for e in layer.finish(len(chunks), 0.5)]  # (finish always returns its events)
    return rec.calls + out if with_sink else out


def test_sink_calls_match_event_list() -> None:
    rng = random.Random(6)
    for _ in range(3000):
        data = _stream(rng)
        chunks = _chunks(rng, data)
        setup = {"tls13": rng.random() < 0.3, "midstream": rng.random() < 0.2,
                 "version_known": rng.random() < 0.5, "report_protected": rng.random() < 0.8}
        assert _run(chunks, setup, True) == _run(chunks, setup, False), (data.hex(), [len(c) for c in chunks], setup)


def test_sink_edges() -> None:
    alert = _record(21, b"\x02\x28")
    hello = _record(22, _hs(2, b"\x03\x03" + bytes(40)) + _hs(11, b"\x00\x00\x00"))
    for data in (b"", alert, hello + alert, _record(20, b"\x01") + _record(22, bytes(40)) + alert,
                 _record(22, _hs(1, bytes(10))[:7]) + _record(22, _hs(1, bytes(10))[7:])):
        for size in (1, 3, 5, 7, 1000):
            chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
            assert _run(chunks, {}, True) == _run(chunks, {}, False)
