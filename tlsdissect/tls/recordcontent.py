"""What a record's payload says, once the record layer has framed it: handshake messages
(reassembled across records: an unfinished one waits in the layer's ``hs``), alerts,
ChangeCipherSpec, heartbeats, decrypted application data; a protected record is opened with
the layer's decryptor first, or reported as unread.

Functions of the layer, not a class of their own: this is the per-record path, and its state
(the reassembly buffer, the pause after a hello, the protected-record switches) is the layer's
own, read and written where the layer's record loop reads it, with no object in between.
The layer's frequent case, a record holding one whole handshake message, never comes here.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.tls.recordevents import (CT_ALERT, CT_APPLICATION_DATA, CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE,
                                         CT_HEARTBEAT, Out, RecordEvent)

MAX_HANDSHAKE_MESSAGE = 1 << 20  # cap for one reassembled handshake message
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
KNOWN_HS_TYPES = frozenset((0, 1, 2, 3, 4, 5, 6, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 254))

# A records.RecordLayer (typed loosely: the record layer imports this module).
Layer = Any


def protected_event(layer: Layer, ct: int, length: int, version: int, frame: int, ts: float, out: Out) -> None:
    """A protected record we do not read (an alert if its type says so) as an event in ``out``."""
    if ct == CT_ALERT:
        out.on_alert(layer.side, frame, ts, None, None, True, length, version)
    else:
        out.on_protected(layer.side, frame, ts, ct, length, version)


def open_protected(layer: Layer, ct: int, version: int, payload: bytes, frame: int, ts: float, out: Out) -> None:
    """A protected record, whole, with a decryptor: decrypted and read, or reported unread (and
    the decryptor dropped) when decryption fails."""
    decryptor = layer.decryptor
    try:
        inner_type, plaintext = decryptor(ct, version, payload)
    except Exception as e:  # a wrong key or a cipher we cannot do: say so, keep counting
        out.on_event(layer.side, RecordEvent("anomaly", frame, ts, content_type=ct, length=len(payload),
                                             name="decryption_failed", detail=f"decryption failed: {e}"))
        layer.decryptor = None
        protected_event(layer, ct, len(payload), version, frame, ts, out)
        return
    # A NULL-cipher "decryptor" only strips the MAC: what it returns was never hidden.
    read_content(layer, inner_type, version, plaintext, frame, ts, out, getattr(decryptor, "protects", True))


def read_content(layer: Layer, ct: int, version: int, payload: bytes, frame: int, ts: float,
                 out: Out, decrypted: bool) -> None:
    """A readable record of type ``ct`` (in clear, or decrypted)."""
    if ct == CT_HANDSHAKE:
        read_handshake(layer, payload, version, frame, ts, out, decrypted)
    elif ct == CT_ALERT:
        if len(payload) % 2 or not payload:
            out.on_event(layer.side, RecordEvent("anomaly", frame, ts, content_type=CT_ALERT, length=len(payload),
                                                 name="bad_alert_length", detail=f"alert record of {len(payload)} bytes"))
            if len(payload) > 2 and not decrypted:
                # Longer than an alert: a protected alert whose CCS we did not see.
                out.on_event(layer.side, RecordEvent("alert", frame, ts, content_type=CT_ALERT, length=len(payload),
                                                     encrypted=True, record_version=version))
            return
        if len(payload) > 2 and not decrypted and payload[0] not in (1, 2):
            out.on_event(layer.side, RecordEvent("alert", frame, ts, content_type=CT_ALERT, length=len(payload),
                                                 encrypted=True, record_version=version))
            return
        for i in range(0, len(payload), 2):
            out.on_alert(layer.side, frame, ts, payload[i], payload[i + 1], decrypted, 2, version)
    elif ct == CT_CHANGE_CIPHER_SPEC:
        if not layer.tls13 and not decrypted:  # TLS <= 1.2: a CCS switches this direction to protected
            layer.encrypted = True
        out.on_ccs(layer.side, frame, ts, len(payload), payload[:4], decrypted, version)
        if out.pauses:
            layer.paused = True
        else:  # (a sink has seen the CCS before the next record is read: no pause)
            layer.reporting = layer.report_protected
    elif ct == CT_HEARTBEAT:
        out.on_event(layer.side, RecordEvent("heartbeat", frame, ts, content_type=ct, length=len(payload),
                                             encrypted=decrypted, body=payload[:3]))
    elif ct == CT_APPLICATION_DATA:
        if layer.reporting:
            out.on_event(layer.side, RecordEvent("application_data", frame, ts, content_type=ct,
                                                 length=len(payload), encrypted=decrypted,
                                                 body=payload if decrypted else payload[:64]))


def read_handshake(layer: Layer, data: Any, version: int, frame: int, ts: float, out: Out,
                   decrypted: bool, start: int = 0, end: Optional[int] = None, whole: bool = False) -> None:
    """The handshake bytes ``data[start:end]`` (one record's payload): complete messages
    become events, an unfinished one waits in ``layer.hs``. A hello pauses the layer: with
    ``whole`` (a plaintext record read by the record loop) after the rest of its record, as
    the messages of one record do not depend on the version (the session still sees them
    in order, after the hello); otherwise right after the hello."""
    if end is None:
        end = len(data)
    hs = layer.hs
    if hs:
        hs += data[start:end]
        buf: Any = hs
        pos = 0
        n = len(hs)
    else:
        if not decrypted and end - start >= 4:
            # A handshake record whose first message makes no sense is a protected one we
            # were not told about (capture started after the CCS, or a cipher we missed).
            t = data[start]
            ln = (data[start + 1] << 16) | (data[start + 2] << 8) | data[start + 3]
            size = end - start
            if t not in KNOWN_HS_TYPES or ln > MAX_HANDSHAKE_MESSAGE or (
                layer.midstream and t in (0, 20) and ln + 4 != size and ln + 4 > size
            ):
                out.on_event(layer.side, RecordEvent("protected", frame, ts, content_type=CT_HANDSHAKE,
                                                     length=size, encrypted=True, record_version=version))
                return
        buf = data  # nothing waiting: messages are sliced from the record itself
        pos = start
        n = end
    in_bytes = type(buf) is bytes  # (a slice of bytes is already bytes: no second copy)
    while n - pos >= 4:
        t = buf[pos]
        ln = (buf[pos + 1] << 16) | (buf[pos + 2] << 8) | buf[pos + 3]
        if ln > MAX_HANDSHAKE_MESSAGE:
            layer.anomalies += 1
            out.on_event(layer.side, RecordEvent(
                "anomaly", frame, ts, content_type=CT_HANDSHAKE, length=ln, name="handshake_message_over_cap",
                detail=f"handshake message of {ln} bytes exceeds the {MAX_HANDSHAKE_MESSAGE}-byte cap; dropped"))
            hs.clear()
            return
        stop = pos + 4 + ln
        if stop > n:
            break
        body = buf[pos + 4:stop] if in_bytes else bytes(buf[pos + 4:stop])
        pos = stop
        out.on_handshake(layer.side, frame, ts, t, ln, body, decrypted, "", version)
        if t == HS_SERVER_HELLO or t == HS_CLIENT_HELLO:
            if not out.pauses:  # (a sink has seen the hello already: no pause)
                layer.reporting = layer.report_protected
                continue
            # The session must learn the version before later records are read. Stop here;
            # what is left in the handshake buffer is read when the caller resumes.
            layer.paused = True
            if whole:
                continue
            if pos < n:
                layer.hs_resume = (version, decrypted)
            break
    if buf is hs:
        if pos:
            del hs[:pos]
    elif pos < n:
        hs += buf[pos:n]
