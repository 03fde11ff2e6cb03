"""Which TLS 1.3 key protects the next record of one direction.

A TLS 1.3 direction changes keys on its own handshake messages: 0-RTT data
under the early traffic secret until EndOfEarlyData, the handshake traffic
secret until its Finished, then the application traffic secret, advanced by
each KeyUpdate it sends.  :class:`Tls13KeyPhases` follows those messages in
the plaintext it decrypts, so the record layer can hand it every protected
record of the direction, in order, and get plaintext back, with no knowledge
of the key schedule.  It is a drop-in ``decryptor`` callable:
``(content_type, record_version, payload) -> (inner_type, plaintext)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from tlsdissect.keys.decrypt import CT_HANDSHAKE, DecryptionError, DirectionDecryptor, SessionDecryptors

__all__ = ["Decryptor", "Tls13KeyPhases", "direction_decryptor"]

Phase = Literal["early", "handshake", "application"]

_HS_END_OF_EARLY_DATA = 5
_HS_FINISHED = 20
_HS_KEY_UPDATE = 24


class Tls13KeyPhases:
    """The key phases of one TLS 1.3 direction (see the module docstring).

    Handshake messages may span records, so the handshake bytes of each phase
    are buffered until messages are complete; a phase changes after the
    record that completes the message that ends it.  For the client
    direction, a record that the current key cannot open is tried with the
    early-data key while EndOfEarlyData has not been seen (0-RTT data that
    the server may have rejected), without consuming a sequence number.
    """

    def __init__(
        self,
        handshake: DirectionDecryptor | None,
        application: DirectionDecryptor | None,
        early: DirectionDecryptor | None = None,
        labels: tuple[str, str] = ("HANDSHAKE_TRAFFIC_SECRET", "TRAFFIC_SECRET_0"),
    ) -> None:
        self.phase: Phase = "handshake"
        self._decryptors: dict[Phase, DirectionDecryptor | None] = {
            "early": early,
            "handshake": handshake,
            "application": application,
        }
        self._labels = {"handshake": labels[0], "application": labels[1], "early": "CLIENT_EARLY_TRAFFIC_SECRET"}
        self._hs = bytearray()  # partial handshake message of the current phase
        self.early_records = 0  # 0-RTT records decrypted
        self.key_updates = 0

    @property
    def current(self) -> DirectionDecryptor | None:
        return self._decryptors[self.phase]

    def __call__(self, content_type: int, record_version: int, payload: bytes) -> tuple[int, bytes]:
        return self.decrypt(content_type, record_version, payload)

    def decrypt(self, content_type: int, record_version: int, payload: bytes) -> tuple[int, bytes]:
        """Decrypt the next protected record of this direction; returns (inner type, plaintext)."""
        early = self._decryptors["early"]
        if self.phase == "handshake" and early is not None and not self._hs:
            # 0-RTT records come first; they open only under the early key.
            handshake = self._decryptors["handshake"]
            if handshake is not None:
                record = handshake.try_decrypt(content_type, record_version, payload)
                if record is not None:
                    self._decryptors["early"] = None  # early data is over once handshake keys work
                    return self._after(record.content_type, record.plaintext)
            record = early.try_decrypt(content_type, record_version, payload)
            if record is not None:
                self.early_records += 1
                self._early_messages(record.content_type, record.plaintext)
                return record.content_type, record.plaintext
            if handshake is not None:
                raise DecryptionError("bad_record_mac", "record opens under neither the handshake nor the 0-RTT key")
        decryptor = self.current
        if decryptor is None:
            raise DecryptionError("missing_secret", f"the key log has no {self._labels[self.phase]} for this direction")
        inner, plain = decryptor.decrypt(content_type, record_version, payload)
        return self._after(inner, plain)

    def _messages(self, plain: bytes) -> list[int]:
        """Types of the handshake messages completed by this plaintext."""
        self._hs += plain
        types = []
        while len(self._hs) >= 4:
            size = 4 + int.from_bytes(self._hs[1:4], "big")
            if len(self._hs) < size:
                break
            types.append(self._hs[0])
            del self._hs[:size]
        return types

    def _early_messages(self, inner: int, plain: bytes) -> None:
        if inner == CT_HANDSHAKE and _HS_END_OF_EARLY_DATA in self._messages(plain):
            self._decryptors["early"] = None
            self._hs.clear()

    def _after(self, inner: int, plain: bytes) -> tuple[int, bytes]:
        if inner != CT_HANDSHAKE:
            return inner, plain
        types = self._messages(plain)
        if self.phase == "handshake" and _HS_FINISHED in types:
            self.phase = "application"
            self._hs.clear()
        elif self.phase == "application":
            for t in types:
                if t == _HS_KEY_UPDATE and self.current is not None:
                    self.current.key_update()
                    self.key_updates += 1
        return inner, plain


Decryptor = Callable[[int, int, bytes], tuple[int, bytes]]


def direction_decryptor(session: SessionDecryptors, side: Literal["client", "server"]) -> Decryptor | None:
    """The decryptor callable for one direction of a session, or None if nothing can be decrypted.

    TLS <= 1.2: the side's DirectionDecryptor.decrypt (use it from that side's
    ChangeCipherSpec on).  TLS 1.3: a Tls13KeyPhases (use it for every record
    of content type application_data).
    """
    if session.version != 0x0304:
        d = session.client if side == "client" else session.server
        return d.decrypt if d is not None else None
    prefix = side.upper()
    if side == "client":
        hs, app, early = session.client_handshake, session.client_application, session.client_early
    else:
        hs, app, early = session.server_handshake, session.server_application, None
    if hs is None and app is None:
        return None
    return Tls13KeyPhases(hs, app, early, (f"{prefix}_HANDSHAKE_TRAFFIC_SECRET", f"{prefix}_TRAFFIC_SECRET_0"))
