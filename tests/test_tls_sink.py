"""The record layer's two ways of handing out events agree: feed's list of RecordEvents and,
with a sink set (what the session does), the sink's on_* calls made as the records are read,
in the same order, with the same fields, on random and edge inputs in random chunks."""

from __future__ import annotations

import random
import struct
from typing import Any

from tlsdissect.tls.handshake import HRR_RANDOM
from tlsdissect.tls.records import RecordEvent, RecordLayer
from tlsdissect.tls.session import TlsSession


def _norm(ev: RecordEvent) -> tuple[Any, ...]:
    """What a sink call carries for an event of that kind."""
    if ev.kind == "handshake":
        return ("handshake", ev.frame, ev.time, ev.msg_type, ev.length, ev.body, ev.encrypted, ev.detail,
                ev.record_version)
    if ev.kind == "protected":
        return ("protected", ev.frame, ev.time, ev.content_type, ev.length, ev.record_version)
    if ev.kind == "alert":
        return ("alert", ev.frame, ev.time, ev.level, ev.code, ev.encrypted, ev.length, ev.record_version)
    if ev.kind == "ccs":
        return ("ccs", ev.frame, ev.time, ev.length, ev.body, ev.encrypted, ev.record_version)
    return ("event", ev.kind, ev.frame, ev.time, ev.content_type, ev.length, ev.msg_type, ev.body, ev.level,
            ev.code, ev.encrypted, ev.detail, ev.record_version, ev.name)


class _Recorder:
    pauses = False  # (a sink: it sees each event as it is read)

    def __init__(self, side: int) -> None:
        self.side = side
        self.calls: list[tuple[Any, ...]] = []

    def on_handshake(self, d: int, frame: int, ts: float, t: int, length: int, body: bytes, encrypted: bool,
                     detail: str, version: int) -> None:
        assert d == self.side
        self.calls.append(("handshake", frame, ts, t, length, body, encrypted, detail, version))

    def on_protected(self, d: int, frame: int, ts: float, ct: int, length: int, version: int) -> None:
        assert d == self.side
        self.calls.append(("protected", frame, ts, ct, length, version))

    def on_alert(self, d: int, frame: int, ts: float, level: Any, code: Any, encrypted: bool, length: int,
                 version: int) -> None:
        assert d == self.side
        self.calls.append(("alert", frame, ts, level, code, encrypted, length, version))

    def on_ccs(self, d: int, frame: int, ts: float, length: int, body: bytes, decrypted: bool, version: int) -> None:
        assert d == self.side
        self.calls.append(("ccs", frame, ts, length, body, decrypted, version))

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


# -- the session: fed through the sink as TlsSession.data does, or the way it was fed before
# (events returned as a list, dispatched after each call, resumed while paused) -----------------

def _data_by_list(session: TlsSession, d: int, data: bytes, frame: int, ts: float) -> None:
    layer = session.layers[d]
    events = layer.feed(data, frame, ts)
    while True:
        for ev in events:
            session.on_event(d, ev)
        if not layer.paused:
            return
        events = layer.feed(b"", frame, ts)


def _server_hello(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.4:  # TLS 1.2
        return b"\x03\x03" + rng.randbytes(32) + b"\x00" + b"\xc0\x2f\x00"
    exts = b"\x00\x2b\x00\x02\x03\x04" + b"\x00\x33\x00\x24\x00\x1d\x00\x20" + rng.randbytes(32)
    random_ = HRR_RANDOM if kind > 0.9 else rng.randbytes(32)
    return b"\x03\x03" + random_ + b"\x00" + b"\x13\x01\x00" + len(exts).to_bytes(2, "big") + exts


def _client_hello(rng: random.Random) -> bytes:
    host = rng.choice((b"a.example", b"b.example"))
    entry = b"\x00" + len(host).to_bytes(2, "big") + host
    sni = b"\x00\x00" + (len(entry) + 2).to_bytes(2, "big") + len(entry).to_bytes(2, "big") + entry
    sv = b"\x00\x2b\x00\x05\x04\x03\x04\x03\x03"
    exts = sni + (sv if rng.random() < 0.6 else b"")
    return (b"\x03\x03" + rng.randbytes(32) + b"\x00" + b"\x00\x04\x13\x01\xc0\x2f" + b"\x01\x00"
            + len(exts).to_bytes(2, "big") + exts)


def _flight(rng: random.Random, client: bool) -> list[bytes]:
    """Records of one side of a handshake, with a few random ones mixed in."""
    out = []
    if client:
        out.append(_record(22, _hs(1, _client_hello(rng))))
    else:
        msgs = [_hs(2, _server_hello(rng))]
        msgs += [_hs(11, b"\x00\x00\x05\x00\x00\x02\x30\x00"), _hs(14, b"")][:rng.randrange(0, 3)]
        if rng.random() < 0.5:
            out.append(_record(22, b"".join(msgs)))
        else:
            out += [_record(22, m) for m in msgs]
    for _ in range(rng.randrange(0, 6)):
        k = rng.random()
        if k < 0.3:
            out.append(_record(20, b"\x01"))
        elif k < 0.5:
            out.append(_record(21, rng.choice((b"\x02\x28", b"\x01\x00", rng.randbytes(24)))))
        elif k < 0.6:
            out.append(_record(22, _hs(rng.choice((4, 16, 20)), rng.randbytes(rng.randrange(0, 40)))))
        else:
            out.append(_record(rng.choice((23, 23, 22)), rng.randbytes(rng.randrange(1, 60))))
    if rng.random() < 0.15:  # enough protected records to fill the timeline's list
        out += [_record(23, rng.randbytes(30)) for _ in range(30)]
    return out


def _session_state(s: TlsSession) -> tuple[Any, ...]:
    layers = tuple((la.records, la.protected_records, la.bytes_by_type, la.recent_records(), la.mode, la.encrypted,
                    la.tls13, la.report_protected, bytes(la.buf), bytes(la.hs), la.pending_bytes() - len(la.buf) - len(la.hs))
                   for la in s.layers)
    return (s.timeline, s.history, s.alerts, s.protected_log, s.ccs, s.after_ccs_record, s.version, s.cipher,
            s.handshake_messages, s.app_data_records, s.anomalies, s.client_hellos, s.server_hello, s.hrr,
            s.server_name, s.certificates, s.finished, s.post_handshake, s.tls_seen, s.client_dir_hint, layers)


def test_session_by_sink_matches_session_by_event_list() -> None:
    rng = random.Random(66)
    for _ in range(1500):
        streams = [b"".join(_flight(rng, True)), b"".join(_flight(rng, False))]
        if rng.random() < 0.1:
            streams[rng.randrange(2)] += rng.randbytes(rng.randrange(1, 30))  # trailing damage
        pieces = [[(d, c) for c in _chunks(rng, streams[d])] for d in (0, 1)]
        order: list[tuple[int, bytes]] = []
        while pieces[0] or pieces[1]:
            d = rng.randrange(2) if pieces[0] and pieces[1] else (0 if pieces[0] else 1)
            order.append(pieces[d].pop(0))
        by_sink, by_list = TlsSession(), TlsSession()
        for i, (d, chunk) in enumerate(order):
            by_sink.data(d, chunk, i, float(i))
            _data_by_list(by_list, d, chunk, i, float(i))
            if rng.random() < 0.05:
                by_sink.gap(d, 7, i, float(i))
                by_list.gap(d, 7, i, float(i))
        for s in (by_sink, by_list):
            for d in (0, 1):
                s.finish(d, len(order), 0.5)
        assert _session_state(by_sink) == _session_state(by_list), [(d, c.hex()) for d, c in order]
