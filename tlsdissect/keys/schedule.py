"""Key derivation for decrypting TLS records: TLS 1.3 HKDF and the TLS <= 1.2 PRFs.

Pure functions over bytes, no state.  They turn what a key log holds (a TLS 1.3
traffic secret, or a TLS <= 1.2 master secret plus the two hello randoms) into
the keys and IVs that protect records:

* TLS 1.3 (RFC 8446 section 7): HKDF-Expand-Label, traffic key/IV, KeyUpdate.
* TLS 1.2 (RFC 5246 section 5): P_hash with the suite's PRF hash.
* TLS 1.0/1.1 (RFC 2246 section 5): MD5 and SHA-1 P_hash halves XORed.
* SSL 3.0 (RFC 6101 section 6.2.2): the MD5/SHA-1 key block construction.
* Export suites (RFC 2246 section 6.3, RFC 6101 section 6.2.2.1): final keys
  and IVs derived from the short key block keys and the randoms.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

__all__ = [
    "SSL3",
    "TLS10",
    "TLS11",
    "TLS12",
    "TLS13",
    "KeyBlock",
    "hash_len",
    "hkdf_extract",
    "hkdf_expand_label",
    "derive_secret",
    "tls13_traffic_keys",
    "tls13_next_traffic_secret",
    "p_hash",
    "prf",
    "prf_tls10",
    "prf_tls12",
    "ssl3_key_block",
    "key_block",
    "master_secret",
    "extended_master_secret",
    "split_key_block",
    "export_keys",
]

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304

_CRYPTO_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
    "SHA1": hashes.SHA1,
    "MD5": hashes.MD5,
}
_HASHLIB_NAMES = {"SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512", "SHA1": "sha1", "MD5": "md5"}


def _hashlib_name(hash_name: str) -> str:
    try:
        return _HASHLIB_NAMES[hash_name]
    except KeyError:
        raise ValueError(f"unknown hash {hash_name!r}; expected one of {sorted(_HASHLIB_NAMES)}") from None


def hash_len(hash_name: str) -> int:
    """Output length in bytes of a hash named like 'SHA256'."""
    return hashlib.new(_hashlib_name(hash_name)).digest_size


# ----------------------------------------------------------------- TLS 1.3
def hkdf_extract(salt: bytes, ikm: bytes, hash_name: str = "SHA256") -> bytes:
    """HKDF-Extract (RFC 5869): HMAC(salt, IKM); an empty salt means zeros."""
    name = _hashlib_name(hash_name)
    if not salt:
        salt = b"\x00" * hashlib.new(name).digest_size
    return hmac.new(salt, ikm, name).digest()


def hkdf_expand_label(
    secret: bytes, label: bytes | str, context: bytes, length: int, hash_name: str = "SHA256"
) -> bytes:
    """HKDF-Expand-Label (RFC 8446 section 7.1); the "tls13 " prefix is added here."""
    if isinstance(label, str):
        label = label.encode("ascii")
    full_label = b"tls13 " + label
    if not 0 < length < 0x10000 or len(full_label) > 255 or len(context) > 255:
        raise ValueError("HKDF-Expand-Label argument out of range")
    info = length.to_bytes(2, "big") + bytes([len(full_label)]) + full_label + bytes([len(context)]) + context
    algorithm = _CRYPTO_HASHES[hash_name]()
    return HKDFExpand(algorithm=algorithm, length=length, info=info).derive(secret)


def derive_secret(secret: bytes, label: bytes | str, transcript_hash: bytes, hash_name: str = "SHA256") -> bytes:
    """Derive-Secret (RFC 8446 section 7.1), given the transcript hash already computed."""
    return hkdf_expand_label(secret, label, transcript_hash, hash_len(hash_name), hash_name)


def tls13_traffic_keys(secret: bytes, key_len: int, iv_len: int, hash_name: str = "SHA256") -> tuple[bytes, bytes]:
    """(write_key, write_iv) for a traffic secret (RFC 8446 section 7.3)."""
    key = hkdf_expand_label(secret, b"key", b"", key_len, hash_name)
    iv = hkdf_expand_label(secret, b"iv", b"", iv_len, hash_name)
    return key, iv


def tls13_next_traffic_secret(secret: bytes, hash_name: str = "SHA256") -> bytes:
    """application_traffic_secret_N+1 after a KeyUpdate (RFC 8446 section 7.2)."""
    return hkdf_expand_label(secret, b"traffic upd", b"", hash_len(hash_name), hash_name)


# ------------------------------------------------------------ TLS <= 1.2
def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """P_hash data expansion (RFC 5246 section 5)."""
    name = _hashlib_name(hash_name)
    out = bytearray()
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, name).digest()
        out += hmac.new(secret, a + seed, name).digest()
    return bytes(out[:length])


def prf_tls12(secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str = "SHA256") -> bytes:
    """TLS 1.2 PRF: P_<hash>(secret, label + seed)."""
    return p_hash(hash_name, secret, label + seed, length)


def prf_tls10(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """TLS 1.0/1.1 PRF: P_MD5(S1) XOR P_SHA1(S2) over the two (overlapping) halves."""
    half = (len(secret) + 1) // 2
    s1, s2 = secret[:half], secret[len(secret) - half :]
    md5 = p_hash("MD5", s1, label + seed, length)
    sha = p_hash("SHA1", s2, label + seed, length)
    return bytes(x ^ y for x, y in zip(md5, sha))


def prf(version: int, secret: bytes, label: bytes, seed: bytes, length: int, hash_name: str = "SHA256") -> bytes:
    """The PRF of a protocol version (TLS 1.0 to 1.2)."""
    if version >= TLS12:
        return prf_tls12(secret, label, seed, length, hash_name)
    if version >= TLS10:
        return prf_tls10(secret, label, seed, length)
    raise ValueError(f"no TLS PRF for version 0x{version:04x}")


def _ssl3_expand(secret: bytes, randoms: bytes, length: int) -> bytes:
    """MD5(secret + SHA1('A' + secret + randoms)) + MD5(secret + SHA1('BB' + ...)) + ..."""
    out = bytearray()
    i = 1
    while len(out) < length:
        if i > 26:
            raise ValueError("SSL 3.0 expansion too long")
        salt = bytes([0x40 + i]) * i  # 'A', 'BB', 'CCC', ...
        inner = hashlib.sha1(salt + secret + randoms).digest()
        out += hashlib.md5(secret + inner).digest()
        i += 1
    return bytes(out[:length])


def ssl3_key_block(master_secret: bytes, server_random: bytes, client_random: bytes, length: int) -> bytes:
    """SSL 3.0 key block (RFC 6101 section 6.2.2): server random first."""
    return _ssl3_expand(master_secret, server_random + client_random, length)


def master_secret(
    version: int, pre_master_secret: bytes, client_random: bytes, server_random: bytes, prf_hash: str = "SHA256"
) -> bytes:
    """Master secret from a pre-master secret (a key log ``RSA`` line), without extended master secret."""
    if version == SSL3:
        return _ssl3_expand(pre_master_secret, client_random + server_random, 48)
    return prf(version, pre_master_secret, b"master secret", client_random + server_random, 48, prf_hash)


def extended_master_secret(
    version: int, pre_master_secret: bytes, session_hash: bytes, prf_hash: str = "SHA256"
) -> bytes:
    """RFC 7627 master secret; ``session_hash`` is the transcript hash up to ClientKeyExchange
    (SHA-256/384 for TLS 1.2, MD5 || SHA1 for TLS 1.0/1.1)."""
    if version == SSL3:
        raise ValueError("SSL 3.0 has no extended master secret")
    return prf(version, pre_master_secret, b"extended master secret", session_hash, 48, prf_hash)


def key_block(
    version: int,
    master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    length: int,
    prf_hash: str = "SHA256",
) -> bytes:
    """key_block = PRF(master, "key expansion", server_random + client_random)."""
    if version == SSL3:
        return ssl3_key_block(master_secret, server_random, client_random, length)
    return prf(version, master_secret, b"key expansion", server_random + client_random, length, prf_hash)


@dataclass(frozen=True)
class KeyBlock:
    """The key block cut into its six parts, in the order RFC 5246 section 6.3 gives."""

    client_mac_key: bytes
    server_mac_key: bytes
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes


def split_key_block(block: bytes, mac_len: int, key_len: int, iv_len: int) -> KeyBlock:
    """Cut a key block of at least 2*(mac_len + key_len + iv_len) bytes."""
    need = 2 * (mac_len + key_len + iv_len)
    if len(block) < need:
        raise ValueError(f"key block has {len(block)} bytes, {need} needed")
    parts = []
    pos = 0
    for size in (mac_len, mac_len, key_len, key_len, iv_len, iv_len):
        parts.append(block[pos : pos + size])
        pos += size
    return KeyBlock(*parts)


def export_keys(
    version: int,
    kb: KeyBlock,
    client_random: bytes,
    server_random: bytes,
    final_key_len: int,
    iv_len: int,
    prf_hash: str = "SHA256",
) -> KeyBlock:
    """Final keys and IVs of an export suite, whose key block keys are short (5 bytes).

    TLS (RFC 2246 section 6.3) uses the PRF; SSL 3.0 (RFC 6101 section
    6.2.2.1) uses MD5 of the key and the randoms.
    """
    if version == SSL3:
        ck = hashlib.md5(kb.client_key + client_random + server_random).digest()[:final_key_len]
        sk = hashlib.md5(kb.server_key + server_random + client_random).digest()[:final_key_len]
        civ = hashlib.md5(client_random + server_random).digest()[:iv_len]
        siv = hashlib.md5(server_random + client_random).digest()[:iv_len]
    else:
        seed = client_random + server_random
        ck = prf(version, kb.client_key, b"client write key", seed, final_key_len, prf_hash)
        sk = prf(version, kb.server_key, b"server write key", seed, final_key_len, prf_hash)
        ivs = prf(version, b"", b"IV block", seed, 2 * iv_len, prf_hash) if iv_len else b""
        civ, siv = ivs[:iv_len], ivs[iv_len:]
    return KeyBlock(kb.client_mac_key, kb.server_mac_key, ck, sk, civ, siv)
