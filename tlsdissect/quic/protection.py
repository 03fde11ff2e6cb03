"""QUIC packet protection with a TLS 1.3 traffic secret (RFC 9001 §5): the keys of a packet
number space from its secret, header protection removed, the payload opened.

The Initial keys come from the client's Destination Connection ID (quic.initial); Handshake
and 1-RTT keys from the secrets a key log holds (``CLIENT_HANDSHAKE_TRAFFIC_SECRET`` and
``SERVER_HANDSHAKE_TRAFFIC_SECRET``, ``CLIENT_TRAFFIC_SECRET_0`` and ``SERVER_TRAFFIC_SECRET_0``),
expanded with the labels ``quic key``, ``quic iv`` and ``quic hp`` (``quicv2 ...`` for QUIC
version 2, RFC 9369 §3.3.2) and the hash of the negotiated cipher suite. Everything
cryptographic is the ``cryptography`` library's (HKDF-Expand through keys.schedule, AES-ECB, ChaCha20, AES-GCM,
ChaCha20-Poly1305); this module only arranges the inputs as the RFCs say.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from tlsdissect.keys.schedule import hash_len, hkdf_expand_label
from tlsdissect.quic.packets import VERSION_2, QuicFormatError

# TLS 1.3 cipher suites QUIC uses (RFC 9001 §5.3): suite -> (AEAD, key length, hash).
# TLS_AES_128_CCM_SHA256 is allowed too but no stack we know negotiates it; it is not read.
SUITES: dict[int, tuple[str, int, str]] = {
    0x1301: ("aes-gcm", 16, "SHA256"),
    0x1302: ("aes-gcm", 32, "SHA384"),
    0x1303: ("chacha20-poly1305", 32, "SHA256"),
}


@dataclass(frozen=True)
class PacketKeys:
    """One direction's keys for one packet number space."""

    key: bytes
    iv: bytes
    hp: bytes
    aead: str = "aes-gcm"  # or "chacha20-poly1305"


@lru_cache(maxsize=256)
def keys_from_secret(secret: bytes, suite: int, version: int) -> Optional[PacketKeys]:
    """The packet keys of a traffic secret under ``suite`` (None for a suite QUIC cannot use)."""
    found = SUITES.get(suite)
    if found is None:
        return None
    aead, key_len, hash_name = found
    prefix = "quicv2 " if version == VERSION_2 else "quic "
    return PacketKeys(hkdf_expand_label(secret, prefix + "key", b"", key_len, hash_name),
                      hkdf_expand_label(secret, prefix + "iv", b"", 12, hash_name),
                      hkdf_expand_label(secret, prefix + "hp", b"", key_len, hash_name), aead)


def _mask(keys: PacketKeys, sample: bytes) -> bytes:
    """The header-protection mask (RFC 9001 §5.4.3, §5.4.4)."""
    if keys.aead == "chacha20-poly1305":
        counter, nonce = sample[:4], sample[4:16]
        encryptor = Cipher(algorithms.ChaCha20(keys.hp, counter + nonce), mode=None).encryptor()
        return encryptor.update(b"\x00" * 5)
    encryptor = Cipher(algorithms.AES(keys.hp), modes.ECB()).encryptor()
    return encryptor.update(sample) + encryptor.finalize()


def decode_packet_number(truncated: int, bits: int, largest: int) -> int:
    """The full packet number from its truncated encoding and the largest one received in the
    same space (RFC 9000 Appendix A.3; ``largest`` -1 before any)."""
    expected = largest + 1
    win = 1 << bits
    hwin, mask = win // 2, win - 1
    candidate = (expected & ~mask) | truncated
    if candidate <= expected - hwin and candidate < (1 << 62) - win:
        return candidate + win
    if candidate > expected + hwin and candidate >= win:
        return candidate - win
    return candidate


def remove_header_protection(datagram: bytes, start: int, pn_offset: int, end: int, keys: PacketKeys,
                             long_header: bool, largest_pn: int = -1) -> tuple[int, int, int]:
    """(first byte, packet number, packet number length) of a protected packet, its header
    protection removed with ``keys.hp`` (RFC 9001 §5.4): a short header's Key Phase bit is in
    the first byte (0x04), which is why it must come off before the payload keys are chosen."""
    sample = datagram[pn_offset + 4:pn_offset + 20]
    if len(sample) < 16 or end > len(datagram):
        raise QuicFormatError("packet too short for its header-protection sample")
    mask = _mask(keys, sample)
    first = datagram[start] ^ (mask[0] & (0x0F if long_header else 0x1F))
    pn_len = (first & 0x03) + 1
    pn_bytes = bytes(b ^ m for b, m in zip(datagram[pn_offset:pn_offset + pn_len], mask[1:1 + pn_len]))
    return first, decode_packet_number(int.from_bytes(pn_bytes, "big"), 8 * pn_len, largest_pn), pn_len


def open_unprotected(datagram: bytes, start: int, pn_offset: int, end: int, keys: PacketKeys, first: int,
                     pn: int, pn_len: int) -> bytes:
    """The plaintext payload of a packet whose header protection is off (``first``, ``pn``,
    ``pn_len`` from remove_header_protection), opened with ``keys`` (RFC 9001 §5.3)."""
    truncated = (pn & ((1 << (8 * pn_len)) - 1)).to_bytes(pn_len, "big")
    aad = bytes([first]) + datagram[start + 1:pn_offset] + truncated
    nonce = (int.from_bytes(keys.iv, "big") ^ pn).to_bytes(12, "big")
    aead = ChaCha20Poly1305(keys.key) if keys.aead == "chacha20-poly1305" else AESGCM(keys.key)
    try:
        return aead.decrypt(nonce, datagram[pn_offset + pn_len:end], aad)
    except InvalidTag:
        raise QuicFormatError("the packet does not decrypt with these keys") from None


def open_payload(datagram: bytes, start: int, pn_offset: int, end: int, keys: PacketKeys,
                 long_header: bool, largest_pn: int = -1) -> tuple[int, bytes]:
    """(packet number, plaintext payload) of the protected packet ``datagram[start:end]`` whose
    packet number starts at ``pn_offset`` (``largest_pn``: the largest packet number opened so
    far in its space); raises QuicFormatError when it does not decrypt (other keys, a key
    update, corruption)."""
    first, pn, pn_len = remove_header_protection(datagram, start, pn_offset, end, keys, long_header, largest_pn)
    return pn, open_unprotected(datagram, start, pn_offset, end, keys, first, pn, pn_len)


def next_secret(secret: bytes, suite: int, version: int) -> bytes:
    """The next 1-RTT secret of a key update (RFC 9001 §6.1: HKDF-Expand-Label(secret, "quic ku");
    "quicv2 ku" for QUIC version 2, RFC 9369 §3.3.2)."""
    hash_name = SUITES.get(suite, ("", 32, "SHA256"))[2]
    prefix = "quicv2 " if version == VERSION_2 else "quic "
    return hkdf_expand_label(secret, prefix + "ku", b"", hash_len(hash_name), hash_name)


@dataclass
class Opened:
    """One 1-RTT packet opened: its number, payload, key phase bit and key generation."""

    pn: int
    payload: bytes
    key_phase: int
    generation: int  # 0: the keys of the *_TRAFFIC_SECRET_0; n: after n key updates


class KeyPhases:
    """One direction's 1-RTT keys across key updates (RFC 9001 §6): the current generation, the
    previous one (packets reordered across an update) and the next one, tried when a packet's
    Key Phase bit differs from the current one. Header protection keys never change (§6.6)."""

    def __init__(self, secret: bytes, suite: int, version: int) -> None:
        self.suite, self.version = suite, version
        self.secret = secret
        self.current = keys_from_secret(secret, suite, version)
        self.previous: Optional[PacketKeys] = None
        self.generation = 0
        self.largest_pn = -1
        self._following: Optional[tuple[bytes, PacketKeys]] = None  # the next generation, once derived

    def _next(self) -> Optional[tuple[bytes, PacketKeys]]:
        """The next generation's secret and keys (the header protection key stays)."""
        if self._following is None and self.current is not None:
            secret = next_secret(self.secret, self.suite, self.version)
            keys = keys_from_secret(secret, self.suite, self.version)
            if keys is not None:
                self._following = (secret, PacketKeys(keys.key, keys.iv, self.current.hp, keys.aead))
        return self._following

    def open(self, datagram: bytes, start: int, pn_offset: int, end: int) -> Opened:
        """The short-header packet ``datagram[start:end]`` opened (raises QuicFormatError)."""
        keys = self.current
        if keys is None:
            raise QuicFormatError("no 1-RTT keys for this cipher suite")
        first, pn, pn_len = remove_header_protection(datagram, start, pn_offset, end, keys, False, self.largest_pn)
        phase = (first >> 2) & 1
        if phase == self.generation & 1:
            payload = open_unprotected(datagram, start, pn_offset, end, keys, first, pn, pn_len)
            generation = self.generation
        else:
            payload, generation = self._other_phase(datagram, start, pn_offset, end, first, pn, pn_len)
        self.largest_pn = max(self.largest_pn, pn)
        return Opened(pn, payload, phase, generation)

    def _other_phase(self, datagram: bytes, start: int, pn_offset: int, end: int, first: int, pn: int,
                     pn_len: int) -> tuple[bytes, int]:
        """A packet whose Key Phase bit is not the current one: the next generation (the sender
        updated its keys: move on to them), else the previous one (a packet sent before the
        update and received after it)."""
        following = self._next()
        if following is not None:
            secret, keys = following
            try:
                payload = open_unprotected(datagram, start, pn_offset, end, keys, first, pn, pn_len)
            except QuicFormatError:
                pass
            else:
                self.previous, self.current, self.secret = self.current, keys, secret
                self._following = None
                self.generation += 1
                return payload, self.generation
        if self.previous is not None:
            return open_unprotected(datagram, start, pn_offset, end, self.previous, first, pn, pn_len), \
                self.generation - 1
        raise QuicFormatError("the packet does not decrypt with these keys (nor those of a key update)")
