"""Initial packet protection (RFC 9001 §5.2, §5.4; RFC 9369 §3.3): keys from the client's first
Destination Connection ID; the packets are opened as every protected packet is (quic.protection).

HKDF is the TLS key schedule's (keys.schedule), the ciphers the ``cryptography`` library's;
this module only arranges the inputs as the RFCs say.
"""

from __future__ import annotations

from functools import lru_cache

from tlsdissect.quic.packets import VERSION_2, LongHeader, QuicFormatError
from tlsdissect.keys.schedule import hkdf_expand_label, hkdf_extract
from tlsdissect.quic.protection import PacketKeys, open_payload

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


# The Initial keys are AES-128-GCM keys (RFC 9001 §5.2): PacketKeys with the default AEAD.
InitialKeys = PacketKeys


@lru_cache(maxsize=1024)
def initial_keys(dcid: bytes, version: int, server: bool) -> InitialKeys | None:
    """The Initial keys of one direction, from the client's Destination Connection ID."""
    salt = initial_salt(version)
    if salt is None:
        return None
    secret = hkdf_expand_label(hkdf_extract(salt, dcid), "server in" if server else "client in", b"", 32)
    prefix = "quicv2 " if version == VERSION_2 else "quic "
    return InitialKeys(hkdf_expand_label(secret, prefix + "key", b"", 16), hkdf_expand_label(secret, prefix + "iv", b"", 12),
                       hkdf_expand_label(secret, prefix + "hp", b"", 16))


def open_packet(datagram: bytes, header: LongHeader, keys: PacketKeys) -> tuple[int, bytes]:
    """(packet number, plaintext payload) of a protected long-header packet; raises
    QuicFormatError when the bytes do not decrypt (other keys, corruption)."""
    try:
        return open_payload(datagram, header.start, header.pn_offset, header.end, keys, True)
    except QuicFormatError as e:
        if "does not decrypt" in str(e) and header.kind == "initial":
            raise QuicFormatError("the Initial packet does not decrypt with the keys of this connection ID") from None
        raise
