"""Tls13KeyPhases on records sealed here with cryptography's AESGCM (not our code).

Covers what real captures rarely show: a Finished split across two records,
a KeyUpdate sharing a record with a NewSessionTicket, and a missing secret.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlsdissect.keys.decrypt import DecryptionError, DirectionDecryptor
from tlsdissect.keys.phases import Tls13KeyPhases
from tlsdissect.keys.schedule import hkdf_expand_label

SUITE = 0x1301  # TLS_AES_128_GCM_SHA256
HS_SECRET = bytes(range(32))
APP_SECRET = bytes(range(32, 64))


class Sealer:
    """Seal TLS 1.3 records as RFC 8446 5.2 says, straight from the traffic secret."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self._keys()

    def _keys(self) -> None:
        self.aead = AESGCM(hkdf_expand_label(self.secret, "key", b"", 16))
        self.iv = hkdf_expand_label(self.secret, "iv", b"", 12)
        self.seq = 0

    def update(self) -> None:
        self.secret = hkdf_expand_label(self.secret, "traffic upd", b"", 32)
        self._keys()

    def seal(self, inner_type: int, data: bytes) -> tuple[int, int, bytes]:
        inner = data + bytes([inner_type]) + b"\x00" * 3  # with some padding
        nonce = (int.from_bytes(self.iv, "big") ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        return 23, 0x0303, self.aead.encrypt(nonce, inner, header)


def msg(hs_type: int, body: bytes) -> bytes:
    return bytes([hs_type]) + len(body).to_bytes(3, "big") + body


def phases() -> Tls13KeyPhases:
    return Tls13KeyPhases(
        DirectionDecryptor.for_tls13(SUITE, HS_SECRET), DirectionDecryptor.for_tls13(SUITE, APP_SECRET)
    )


def test_finished_split_across_records_switches_after_its_last_byte() -> None:
    hs, app = Sealer(HS_SECRET), Sealer(APP_SECRET)
    finished = msg(20, b"\xaa" * 32)
    p = phases()
    assert p(*hs.seal(22, msg(8, b"\x00\x00") + finished[:10])) == (22, msg(8, b"\x00\x00") + finished[:10])
    assert p.phase == "handshake"
    p(*hs.seal(22, finished[10:]))
    assert p.phase == "application"
    assert p(*app.seal(23, b"data")) == (23, b"data")


def test_key_update_after_a_ticket_in_the_same_record() -> None:
    hs, app = Sealer(HS_SECRET), Sealer(APP_SECRET)
    p = phases()
    p(*hs.seal(22, msg(20, b"\x01" * 32)))
    p(*app.seal(22, msg(4, b"\x00" * 20) + msg(24, b"\x00")))  # ticket + KeyUpdate(update_not_requested)
    app.update()
    assert p.key_updates == 1
    assert p(*app.seal(23, b"after update")) == (23, b"after update")
    p(*app.seal(22, msg(24, b"\x01")))
    app.update()
    assert p(*app.seal(21, b"\x01\x00")) == (21, b"\x01\x00")
    assert p.key_updates == 2


def test_missing_application_secret_is_named() -> None:
    hs = Sealer(HS_SECRET)
    p = Tls13KeyPhases(DirectionDecryptor.for_tls13(SUITE, HS_SECRET), None, labels=("X_HS", "X_APP"))
    p(*hs.seal(22, msg(20, b"\x01" * 32)))
    with pytest.raises(DecryptionError, match="X_APP") as err:
        p(23, 0x0303, b"\x00" * 40)
    assert err.value.reason == "missing_secret"


def test_early_key_is_tried_only_before_the_handshake_key_works() -> None:
    early_secret = bytes(range(64, 96))
    early, hs = Sealer(early_secret), Sealer(HS_SECRET)
    p = Tls13KeyPhases(
        DirectionDecryptor.for_tls13(SUITE, HS_SECRET),
        DirectionDecryptor.for_tls13(SUITE, APP_SECRET),
        DirectionDecryptor.for_tls13(SUITE, early_secret),
    )
    assert p(*early.seal(23, b"0-rtt")) == (23, b"0-rtt")
    assert p(*early.seal(23, b"more")) == (23, b"more")
    assert p(*hs.seal(22, msg(20, b"\x02" * 32)))[0] == 22  # rejected 0-RTT: no EndOfEarlyData
    assert p.early_records == 2 and p.phase == "application"
    with pytest.raises(DecryptionError):
        p(*early.seal(23, b"late early data"))  # the early key is gone now
