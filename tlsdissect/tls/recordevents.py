"""The record layer's vocabulary: the content types, the layer's modes, its events, and the two
ways they are handed out (a sink's on_* calls as the records are read, or an :class:`EventList`).

Apart from the layer itself so that its readers (the session) and its helpers (recordcontent,
streamstart) share one vocabulary without importing the state machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24

# Record-layer modes (RecordLayer.mode)
DETECT = 0  # nothing seen yet: is this TLS at all?
TLS = 1
SSL2 = 2
PLAIN = 3  # not TLS (maybe a STARTTLS protocol that switches later)
LOST = 4  # garbage we could not resynchronise on

@dataclass(slots=True)
class RecordEvent:
    """One thing the record layer saw. ``kind`` says which fields matter:

    handshake: msg_type, body (message without its 4-byte header), encrypted (decrypted)
    alert: level, code, encrypted; an alert whose content is hidden has level = code = None
    ccs, heartbeat: length
    protected: content_type, length (a record we could not read)
    not_tls: detail (what it looks like), sample
    starttls: detail
    gap: length (bytes missing), detail
    anomaly: name (a stable identifier, see docs/schema.md), detail
    sslv2_client_hello / sslv2_server_hello: body (the SSLv2 message)
    """

    kind: str
    frame: int
    time: float
    content_type: int = 0
    length: int = 0
    msg_type: int = -1
    body: bytes = b""
    level: Optional[int] = None
    code: Optional[int] = None
    encrypted: bool = False
    detail: str = ""
    record_version: int = 0
    name: str = ""


class EventList(list[RecordEvent]):
    """Events as RecordEvents, for a caller that set no sink (feed's, gap's and finish's
    result): the calls a sink gets (see RecordLayer.sink), collected. Such a caller must see a
    hello or a CCS before the records after it are read, so the layer pauses after one."""

    __slots__ = ()
    pauses = True

    def on_event(self, side: int, ev: RecordEvent) -> None:
        self.append(ev)

    def on_handshake(self, side: int, frame: int, ts: float, t: int, length: int, body: bytes, encrypted: bool,
                     detail: str, version: int) -> None:
        # Positional arguments (the field order of RecordEvent): one per handshake message.
        self.append(RecordEvent("handshake", frame, ts, CT_HANDSHAKE, length, t, body, None, None, encrypted,
                                detail, version))

    def on_protected(self, side: int, frame: int, ts: float, ct: int, length: int, version: int) -> None:
        self.append(RecordEvent("protected", frame, ts, ct, length, -1, b"", None, None, True, "", version))

    def on_alert(self, side: int, frame: int, ts: float, level: Optional[int], code: Optional[int],
                 encrypted: bool, length: int, version: int) -> None:
        self.append(RecordEvent("alert", frame, ts, CT_ALERT, length, -1, b"", level, code, encrypted, "", version))

    def on_ccs(self, side: int, frame: int, ts: float, length: int, body: bytes, decrypted: bool,
               version: int) -> None:
        self.append(RecordEvent("ccs", frame, ts, CT_CHANGE_CIPHER_SPEC, length, -1, body, None, None, decrypted,
                                "", version))


# Where a method puts its events: the layer's sink (the session) or an EventList; both take the
# same calls (on_handshake, on_protected, on_alert and on_ccs; on_event for every other kind).
Out = Any

# A decryptor turns (content_type, record_version, payload) into (inner_type, plaintext) or
# raises; supplied by the key-log machinery when keys are available.
Decryptor = Callable[[int, int, bytes], tuple[int, bytes]]

