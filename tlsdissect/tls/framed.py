"""The record layer inside a framing (tlsdissect.framing): a direction whose TLS records ride
inside another protocol's units (OpenVPN's control channel, WebSocket frames, GSSAPI tokens).

Once a framing is recognised (from the stream's first bytes, or after the HTTP upgrade of a
WebSocket), the layer's ``framing`` unwraps every later segment and the layer reads the inner
bytes in its usual modes, from DETECT, each piece with the frame that completed it. What the
framing could not follow (damage, an encrypted control channel, a gap) is reported once as an
``encapsulation_lost`` anomaly; the connection then shows what was read before.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.framing.unwrapper import Piece, Unwrapper
from tlsdissect.tls.recordevents import DETECT, Out, RecordEvent

Layer = Any  # a records.RecordLayer (which imports this module)


def enter(layer: Layer, unwrapper: Unwrapper, outer: bytes, frame: int, ts: float, out: Out) -> None:
    """From here the direction's bytes are ``unwrapper``'s framing; ``outer``: its bytes so far
    (those of this segment included). The plain-text prelude reader is dropped: what the
    framing carries is no STARTTLS exchange."""
    layer.framing = unwrapper
    layer.mode = DETECT
    layer.buf.clear()
    layer.plain = None
    out.on_event(layer.side, RecordEvent("encapsulation", frame, ts, detail=unwrapper.name))
    layers = getattr(layer.sink, "layers", (layer,))
    for other in layers:
        other.prelude = False
    read_pieces(layer, unwrapper.feed(outer, frame), frame, ts, out)


def feed(layer: Layer, data: bytes, frame: int, ts: float) -> None:
    """The next segment of a framed direction (the layer's sink is set: its events go there)."""
    read_pieces(layer, layer.framing.feed(data, frame), frame, ts, layer.sink)


def read_pieces(layer: Layer, pieces: list[Piece], frame: int, ts: float, out: Out) -> None:
    """Read the inner bytes the framing handed out, then report why it stopped, if it did."""
    sink = layer.sink
    for piece, piece_frame in pieces:
        more = layer.feed(piece, piece_frame, ts)
        if out is not sink:
            out.extend(more)
        while layer.paused:
            more = layer.feed(b"", piece_frame, ts)
            if out is not sink:
                out.extend(more)
    problem = layer.framing.problem
    if problem is not None and not layer.framing_noted:
        layer.framing_noted = True
        out.on_event(layer.side, RecordEvent("anomaly", frame, ts, name="encapsulation_lost", detail=problem))


def gap(layer: Layer, frame: int, ts: float, out: Out) -> None:
    """Outer bytes are missing: the framing cannot be followed on (reported once)."""
    layer.framing.gap()
    read_pieces(layer, [], frame, ts, out)


def start(session: Any, d: int, unwrapper: Unwrapper, data: bytes, frame: int, ts: float) -> None:
    """Direction ``d`` of ``session`` (a TlsSession) is read inside ``unwrapper``'s framing from
    its first bytes, ``data``, on (a framing known before the stream's bytes are: OpenVPN over
    UDP, whose datagrams the pipeline hands over one by one)."""
    layer = session.layers[d]
    layer.sink = session
    enter(layer, unwrapper, data, frame, ts, session)
    layer.sink = None
