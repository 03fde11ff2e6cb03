"""Initial packet protection (RFC 9001 §5.2, §5.4; RFC 9369 §3.3): keys from the client's first
Destination Connection ID, header protection removed, the payload opened with AES-128-GCM.

Everything cryptographic is the ``cryptography`` library's (HMAC, HKDF-Expand, AES-ECB, AES-GCM);
this module only arranges the inputs as the RFCs say.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from tlsdissect.quic.packets import VERSION_2, LongHeader, QuicFormatError

# Initial salts: RFC 9001 §5.2 (v1), RFC 9369 §3.3.1 (v2), and the drafts' (draft-ietf-quic-tls).
SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
SALT_DRAFT_29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")  # drafts 29-32
SALT_DRAFT_23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")  # drafts 23-28


def initial_salt(version: int) -> bytes | None:
    if version == 1:
        return SALT_V1
    if version == VERSION_2:
        return SALT_V2
    if version >> 8 == 0xFF0000:
        draft = version & 0xFF
        if 29 <= draft <= 32:
            return SALT_DRAFT_29
        if 23 <= draft <= 28:
            return SALT_DRAFT_23
    return None


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    h = hmac.HMAC(salt, hashes.SHA256())
    h.update(ikm)
    return h.finalize()


def expand_label(secret: bytes, label: str, length: int) -> bytes:
    """TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) with an empty context."""
    full = b"tls13 " + label.encode("ascii")
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(secret)


@dataclass(frozen=True)
class InitialKeys:
    key: bytes
    iv: bytes
    hp: bytes


@lru_cache(maxsize=1024)
def initial_keys(dcid: bytes, version: int, server: bool) -> InitialKeys | None:
    """The Initial keys of one direction, from the client's Destination Connection ID."""
    salt = initial_salt(version)
    if salt is None:
        return None
    secret = expand_label(hkdf_extract(salt, dcid), "server in" if server else "client in", 32)
    prefix = "quicv2 " if version == VERSION_2 else "quic "
    return InitialKeys(expand_label(secret, prefix + "key", 16), expand_label(secret, prefix + "iv", 12),
                       expand_label(secret, prefix + "hp", 16))


def open_packet(datagram: bytes, header: LongHeader, keys: InitialKeys) -> tuple[int, bytes]:
    """(packet number, plaintext payload) of a protected long-header packet; raises
    QuicFormatError when the bytes do not decrypt (other keys, corruption)."""
    pn_offset = header.pn_offset
    sample = datagram[pn_offset + 4:pn_offset + 20]
    if len(sample) < 16:
        raise QuicFormatError("packet too short for its header-protection sample")
    encryptor = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    mask = encryptor.update(sample) + encryptor.finalize()
    first = datagram[header.start] ^ (mask[0] & 0x0F)
    pn_len = (first & 0x03) + 1
    pn_bytes = bytes(b ^ m for b, m in zip(datagram[pn_offset:pn_offset + pn_len], mask[1:1 + pn_len]))
    pn = int.from_bytes(pn_bytes, "big")
    aad = bytes([first]) + datagram[header.start + 1:pn_offset] + pn_bytes
    nonce = (int.from_bytes(keys.iv, "big") ^ pn).to_bytes(12, "big")
    try:
        plain = AESGCM(keys.key).decrypt(nonce, datagram[pn_offset + pn_len:header.end], aad)
    except InvalidTag:
        raise QuicFormatError("the Initial packet does not decrypt with the keys of this connection ID") from None
    return pn, plain
