"""Decrypting TLS records, one direction of one connection at a time (sans-I/O).

:class:`DirectionDecryptor` holds the keys and the running state (sequence
number, RC4 keystream, TLS 1.0 CBC chained IV) for the records that one
endpoint sends.  The engine feeds it the records of that direction in order,
each as (outer content type, record version, fragment), and gets back
(true content type, plaintext).  Nothing here reads files or packets.

Build one with:

* :meth:`DirectionDecryptor.for_tls13` from a TLS 1.3 traffic secret (a key
  log's ``*_HANDSHAKE_TRAFFIC_SECRET`` / ``*_TRAFFIC_SECRET_0`` line);
* :meth:`DirectionDecryptor.for_tls12` from a master secret (``CLIENT_RANDOM``
  line) and both hello randoms, for SSL 3.0 up to TLS 1.2.

Records that fail authentication raise :class:`DecryptionError`; a suite we
cannot decrypt raises :class:`UnsupportedCipherSuite` when the decryptor is
built, naming the suite.
"""

from __future__ import annotations

import hashlib
import hmac
import warnings
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from tlsdissect.keys.cipherparams import SuiteParams, UnsupportedCipherSuite, suite_params
from tlsdissect.errors import TlsDissectError
from tlsdissect.keys.schedule import (
    SSL3,
    TLS11,
    TLS13,
    export_keys,
    extended_master_secret,
    hash_len,
    key_block,
    split_key_block,
    tls13_next_traffic_secret,
    tls13_traffic_keys,
)
from tlsdissect.keys.schedule import master_secret as derive_master_secret

if TYPE_CHECKING:
    from tlsdissect.keys.keylog import KeyLog

__all__ = [
    "SessionDecryptors",
    "session_decryptors",
    "is_tls13_version",
    "DecryptionError",
    "UnsupportedCipherSuite",
    "DirectionDecryptor",
    "DecryptedRecord",
    "CT_CHANGE_CIPHER_SPEC",
    "CT_ALERT",
    "CT_HANDSHAKE",
    "CT_APPLICATION_DATA",
]

CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_HANDSHAKE, CT_APPLICATION_DATA = 20, 21, 22, 23

_MAX_PLAINTEXT = 2**14
#: RFC 8446 section 5.2: TLSCiphertext length must not exceed 2^14 + 256.
_MAX_TLS13_CIPHERTEXT = 2**14 + 256
#: RFC 5246 section 6.2.3: TLSCiphertext length must not exceed 2^14 + 2048.
_MAX_TLS12_CIPHERTEXT = 2**14 + 2048

Side = Literal["client", "server"]


class DecryptionError(TlsDissectError):
    """A record could not be decrypted or authenticated with the keys we have.

    ``reason`` is a short machine-readable cause: ``bad_record_mac`` (AEAD tag
    or HMAC mismatch: wrong keys, wrong order, or a tampered record),
    ``bad_padding``, ``too_short``, ``too_long``, ``no_content_type``,
    ``bad_decompression``, ``wrong_secret_length`` (a TLS 1.3 key log secret
    whose length does not fit the suite's hash).
    """

    def __init__(self, reason: str, detail: str, sequence: int | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.sequence = sequence
        where = f" (record sequence {sequence})" if sequence is not None else ""
        super().__init__(f"{detail}{where}")


@dataclass(frozen=True)
class DecryptedRecord:
    """What one protected record held."""

    content_type: int
    plaintext: bytes
    sequence: int


# ------------------------------------------------------------ cipher helpers
_LEGACY_CIPHERS = {
    "RC4": "ARC4",
    "RC2": "RC2",
    "3DES": "TripleDES",
    "DES": "TripleDES",
    "CAMELLIA": "Camellia",
    "SEED": "SEED",
    "IDEA": "IDEA",
}


def _algorithm(name: str) -> Any:
    """A block/stream cipher class, preferring cryptography's 'decrepit' home.

    cryptography moved ARC4, TripleDES, Camellia, SEED, IDEA (and has RC2) in
    ``cryptography.hazmat.decrepit`` (and is removing them from the old place),
    so look there first and fall back to the old module on older releases.
    """
    attr = _LEGACY_CIPHERS.get(name)
    if name == "AES":
        from cryptography.hazmat.primitives.ciphers.algorithms import AES

        return AES
    if attr is None:
        raise KeyError(name)
    try:
        from cryptography.hazmat.decrepit.ciphers import algorithms as decrepit

        if hasattr(decrepit, attr):
            return getattr(decrepit, attr)
    except ImportError:
        pass
    from cryptography.hazmat.primitives.ciphers import algorithms as legacy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(legacy, attr)


def _make_cipher(params: SuiteParams, key: bytes, iv: bytes | None) -> Any:
    """A cryptography Cipher for a CBC or stream suite, or UnsupportedCipherSuite."""
    if params.cipher == "DES":
        key = key * 3  # single DES is TripleDES with K1 = K2 = K3
    try:
        algorithm = _algorithm(params.cipher)(key)
        mode = None if params.kind == "stream" else modes.CBC(iv if iv is not None else b"")
        return Cipher(algorithm, mode)
    except (UnsupportedAlgorithm, KeyError, AttributeError, ValueError) as exc:
        raise UnsupportedCipherSuite(
            params.code, f"{params.name}: {params.cipher} is not available from the cryptography backend ({exc})"
        ) from exc


def _make_aead(params: SuiteParams, key: bytes) -> Any:
    try:
        if params.mode == "GCM":
            return AESGCM(key)
        if params.mode in ("CCM", "CCM_8"):
            return AESCCM(key, tag_length=params.tag_len)
        if params.mode == "POLY1305":
            return ChaCha20Poly1305(key)
    except UnsupportedAlgorithm as exc:
        raise UnsupportedCipherSuite(params.code, f"{params.name}: {exc}") from exc
    raise UnsupportedCipherSuite(params.code, f"{params.name}: unknown AEAD mode {params.mode}")


def _xor_seq(iv: bytes, seq: int) -> bytes:
    """iv XOR the 64-bit sequence number left-padded to the IV length (RFC 8446 5.3, RFC 7905 2)."""
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(len(iv), "big")


_SSL3_PAD = {"MD5": 48, "SHA1": 40}


def _ssl3_mac(hash_name: str, secret: bytes, seq: int, content_type: int, content: bytes) -> bytes:
    """SSL 3.0 record MAC (RFC 6101 section 5.2.3.1)."""
    name = "md5" if hash_name == "MD5" else "sha1"
    n = _SSL3_PAD[hash_name]
    inner = hashlib.new(
        name,
        secret
        + b"\x36" * n
        + seq.to_bytes(8, "big")
        + bytes([content_type])
        + len(content).to_bytes(2, "big")
        + content,
    ).digest()
    return hashlib.new(name, secret + b"\x5c" * n + inner).digest()


# --------------------------------------------------------------- decryptor
class DirectionDecryptor:
    """Decrypts the records one endpoint sends, in order.

    The sequence number starts at 0 and advances by one for every record
    given to :meth:`decrypt`, including records that fail to authenticate,
    because the sender counted them too; so the engine must hand over every
    protected record of this direction, in order, exactly once.
    """

    def __init__(
        self,
        version: int,
        params: SuiteParams,
        *,
        key: bytes,
        iv: bytes,
        mac_key: bytes = b"",
        encrypt_then_mac: bool = False,
        traffic_secret: bytes | None = None,
        sequence: int = 0,
        compression: int = 0,
    ) -> None:
        if compression not in (0, 1):
            raise ValueError(f"unknown TLS compression method {compression} (only 0 null and 1 DEFLATE exist)")
        self.version = version
        self.params = params
        self.encrypt_then_mac = encrypt_then_mac and params.kind == "block"
        self.sequence = sequence
        self.key_updates = 0
        self._mac_key = mac_key
        self._mac_hash = params.mac or ""  # MD5, SHA1, SHA256, SHA384 for non-AEAD suites
        self._traffic_secret = traffic_secret
        # RFC 3749 DEFLATE: one zlib stream per direction, flushed at each record.
        self._inflater = zlib.decompressobj() if compression == 1 and version != TLS13 else None
        self._set_keys(key, iv)

    def _set_keys(self, key: bytes, iv: bytes) -> None:
        p = self.params
        self.key, self.iv = key, iv
        self._aead: Any = _make_aead(p, key) if p.kind == "aead" else None
        # RC4 state runs across records: one decryptor context for the direction.
        self._stream: Any = _make_cipher(p, key, None).decryptor() if p.kind == "stream" else None
        if p.kind == "block":
            _make_cipher(p, key, b"\x00" * p.block_size)  # fail early if the backend lacks the cipher
        self._chained_iv = iv  # SSL 3.0 / TLS 1.0 CBC: IV is the previous record's last block

    # ----------------------------------------------------------- builders
    @classmethod
    def for_tls13(cls, cipher_suite: int, traffic_secret: bytes, sequence: int = 0) -> "DirectionDecryptor":
        """Decryptor for a TLS 1.3 traffic secret (handshake, early or application)."""
        params = suite_params(cipher_suite)
        if not params.tls13:
            raise UnsupportedCipherSuite(cipher_suite, f"{params.name} is not a TLS 1.3 suite")
        if len(traffic_secret) != hash_len(params.prf_hash):
            # A key log line from a session with another hash (or a mix-up of sessions).
            raise DecryptionError(
                "wrong_secret_length",
                f"{params.name} needs {hash_len(params.prf_hash)}-byte traffic secrets, the key log has"
                f" {len(traffic_secret)} bytes",
            )
        key, iv = tls13_traffic_keys(traffic_secret, params.key_len, params.fixed_iv_len, params.prf_hash)
        return cls(TLS13, params, key=key, iv=iv, traffic_secret=traffic_secret, sequence=sequence)

    @classmethod
    def for_tls12(
        cls,
        version: int,
        cipher_suite: int,
        master_secret: bytes,
        client_random: bytes,
        server_random: bytes,
        side: Side,
        *,
        encrypt_then_mac: bool = False,
        compression: int = 0,
    ) -> "DirectionDecryptor":
        """Decryptor for the records ``side`` sends, from the master secret (SSL 3.0 to TLS 1.2).

        ``encrypt_then_mac`` is whether RFC 7366 was negotiated (both hellos
        carried the extension and the suite is CBC).  ``compression`` is the
        ServerHello's compression method (1 = DEFLATE, RFC 3749); records are
        then inflated after decryption.
        """
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        if not SSL3 <= version < TLS13:
            raise ValueError(f"for_tls12 needs a version from SSL 3.0 to TLS 1.2, not 0x{version:04x}")
        params = suite_params(cipher_suite)
        if params.tls13:
            raise UnsupportedCipherSuite(
                cipher_suite, f"{params.name} is a TLS 1.3 suite, not usable with 0x{version:04x}"
            )
        if len(master_secret) != 48 or len(client_random) != 32 or len(server_random) != 32:
            raise ValueError("master secret must be 48 bytes and the randoms 32 bytes")
        material = params.key_material_len
        iv_len = 0 if params.export else params.fixed_iv_len
        size = 2 * (params.mac_len + material + iv_len)
        block = key_block(version, master_secret, client_random, server_random, size, params.prf_hash)
        kb = split_key_block(block, params.mac_len, material, iv_len)
        if params.export:
            kb = export_keys(
                version, kb, client_random, server_random, params.key_len, params.fixed_iv_len, params.prf_hash
            )
        if side == "client":
            mac_key, key, iv = kb.client_mac_key, kb.client_key, kb.client_iv
        else:
            mac_key, key, iv = kb.server_mac_key, kb.server_key, kb.server_iv
        return cls(
            version, params, key=key, iv=iv, mac_key=mac_key, encrypt_then_mac=encrypt_then_mac, compression=compression
        )

    # ------------------------------------------------------------ KeyUpdate
    def key_update(self) -> None:
        """Move to the next TLS 1.3 application traffic secret ("traffic upd")."""
        if self.version != TLS13 or self._traffic_secret is None:
            raise ValueError("key_update only applies to TLS 1.3 decryptors")
        secret = tls13_next_traffic_secret(self._traffic_secret, self.params.prf_hash)
        key, iv = tls13_traffic_keys(secret, self.params.key_len, self.params.fixed_iv_len, self.params.prf_hash)
        self._traffic_secret = secret
        self._set_keys(key, iv)
        self.sequence = 0
        self.key_updates += 1

    @property
    def traffic_secret(self) -> bytes | None:
        return self._traffic_secret

    # -------------------------------------------------------------- decrypt
    def decrypt(self, content_type: int, record_version: int, payload: bytes) -> tuple[int, bytes]:
        """Decrypt one record's fragment; returns (content type, plaintext).

        For TLS 1.3 the returned type is the inner one (handshake, alert,
        application data).  A TLS 1.3 change_cipher_spec record (middlebox
        compatibility, never encrypted) is passed through without using a
        sequence number.
        """
        record = self.decrypt_record(content_type, record_version, payload)
        return record.content_type, record.plaintext

    def try_decrypt(self, content_type: int, record_version: int, payload: bytes) -> DecryptedRecord | None:
        """TLS 1.3 trial decryption: the record if it opens, else None with nothing consumed.

        Used to tell 0-RTT records from handshake records (RFC 8446 section 4.2.10).
        """
        if self.version != TLS13:
            raise ValueError("trial decryption only applies to TLS 1.3 (stateless AEAD) decryptors")
        seq = self.sequence
        try:
            return self.decrypt_record(content_type, record_version, payload)
        except DecryptionError:
            self.sequence = seq
            return None

    def decrypt_record(self, content_type: int, record_version: int, payload: bytes) -> DecryptedRecord:
        """Like :meth:`decrypt`, also telling the sequence number the record used (-1: none)."""
        payload = bytes(payload)
        if self.version == TLS13 and content_type == CT_CHANGE_CIPHER_SPEC:
            return DecryptedRecord(content_type, payload, -1)
        seq = self.sequence
        self.sequence += 1
        if self.version == TLS13:
            ct, plain = self._open_tls13(content_type, record_version, payload, seq)
        elif self.params.kind == "aead":
            ct, plain = content_type, self._open_tls12_aead(content_type, record_version, payload, seq)
        elif self.params.kind == "block":
            ct, plain = content_type, self._open_cbc(content_type, record_version, payload, seq)
        else:
            ct, plain = content_type, self._open_stream(content_type, record_version, payload, seq)
        if self._inflater is not None:
            try:
                # RFC 5246 6.2.2: a record inflates to at most 2^14 bytes; cap it so bad input cannot balloon.
                plain = self._inflater.decompress(plain, _MAX_PLAINTEXT + 1024)
            except zlib.error as exc:
                raise DecryptionError("bad_decompression", f"DEFLATE record does not inflate: {exc}", seq) from None
            if self._inflater.unconsumed_tail:
                raise DecryptionError("too_long", "DEFLATE record inflates past 2^14 bytes", seq)
        return DecryptedRecord(ct, plain, seq)

    def _open_tls13(self, content_type: int, record_version: int, payload: bytes, seq: int) -> tuple[int, bytes]:
        p = self.params
        if len(payload) < p.tag_len + 1:
            raise DecryptionError(
                "too_short", f"TLS 1.3 record of {len(payload)} bytes is shorter than tag + type", seq
            )
        if len(payload) > _MAX_TLS13_CIPHERTEXT:
            raise DecryptionError("too_long", f"TLS 1.3 record of {len(payload)} bytes exceeds 2^14+256", seq)
        aad = bytes([content_type]) + record_version.to_bytes(2, "big") + len(payload).to_bytes(2, "big")
        try:
            inner = self._aead.decrypt(_xor_seq(self.iv, seq), payload, aad)
        except InvalidTag:
            raise DecryptionError("bad_record_mac", f"{p.name}: record failed authentication", seq) from None
        stripped = inner.rstrip(b"\x00")
        if not stripped:
            raise DecryptionError("no_content_type", "TLS 1.3 inner plaintext is all zero padding", seq)
        return stripped[-1], stripped[:-1]

    def _pseudo_header(self, seq: int, content_type: int, record_version: int, length: int) -> bytes:
        return (
            seq.to_bytes(8, "big")
            + bytes([content_type])
            + record_version.to_bytes(2, "big")
            + length.to_bytes(2, "big")
        )

    def _open_tls12_aead(self, content_type: int, record_version: int, payload: bytes, seq: int) -> bytes:
        p = self.params
        if len(payload) < p.explicit_nonce_len + p.tag_len:
            raise DecryptionError(
                "too_short", f"{p.name}: record of {len(payload)} bytes is shorter than nonce + tag", seq
            )
        if p.mode == "POLY1305":
            nonce = _xor_seq(self.iv, seq)  # RFC 7905 section 2
            body = payload
        else:
            nonce = self.iv + payload[: p.explicit_nonce_len]  # RFC 5288 section 3, RFC 6655 section 3
            body = payload[p.explicit_nonce_len :]
        aad = self._pseudo_header(seq, content_type, record_version, len(body) - p.tag_len)
        try:
            opened: bytes = self._aead.decrypt(nonce, body, aad)
            return opened
        except InvalidTag:
            raise DecryptionError("bad_record_mac", f"{p.name}: record failed authentication", seq) from None

    def _mac(self, seq: int, content_type: int, record_version: int, content: bytes) -> bytes:
        if self.version == SSL3:
            return _ssl3_mac(self._mac_hash, self._mac_key, seq, content_type, content)
        header = self._pseudo_header(seq, content_type, record_version, len(content))
        return hmac.new(self._mac_key, header + content, self._mac_hash.lower()).digest()

    def _check_mac(self, seq: int, content_type: int, record_version: int, content: bytes, mac: bytes) -> None:
        if not hmac.compare_digest(self._mac(seq, content_type, record_version, content), mac):
            raise DecryptionError("bad_record_mac", f"{self.params.name}: record MAC does not match", seq)

    def _open_stream(self, content_type: int, record_version: int, payload: bytes, seq: int) -> bytes:
        p = self.params
        data = self._stream.update(payload) if self._stream is not None else payload
        if len(data) < p.mac_len:
            raise DecryptionError("too_short", f"{p.name}: record of {len(data)} bytes is shorter than its MAC", seq)
        content, mac = data[: len(data) - p.mac_len], data[len(data) - p.mac_len :]
        self._check_mac(seq, content_type, record_version, content, mac)
        return content

    def _open_cbc(self, content_type: int, record_version: int, payload: bytes, seq: int) -> bytes:
        p = self.params
        bs = p.block_size
        if len(payload) > _MAX_TLS12_CIPHERTEXT:
            raise DecryptionError("too_long", f"{p.name}: record of {len(payload)} bytes exceeds 2^14+2048", seq)
        explicit_iv = self.version >= TLS11
        mac = b""
        if self.encrypt_then_mac:
            # RFC 7366: the MAC follows the IV + ciphertext and covers them as sent.
            if len(payload) < p.mac_len:
                raise DecryptionError("too_short", f"{p.name}: record shorter than its MAC", seq)
            payload, mac = payload[: len(payload) - p.mac_len], payload[len(payload) - p.mac_len :]
        min_len = bs * (2 if explicit_iv else 1)
        if len(payload) < min_len or len(payload) % bs:
            raise DecryptionError(
                "too_short",
                f"{p.name}: encrypted part of {len(payload)} bytes is not a whole number of {bs}-byte blocks"
                f" (min {min_len})",
                seq,
            )
        if explicit_iv:
            iv, ciphertext = payload[:bs], payload[bs:]
        else:
            # SSL 3.0 / TLS 1.0: the next record's IV is this record's last block, even if this one fails.
            iv, ciphertext = self._chained_iv, payload
            self._chained_iv = ciphertext[-bs:]
        if self.encrypt_then_mac:
            self._check_mac(seq, content_type, record_version, payload, mac)
        decryptor = _make_cipher(p, self.key, iv).decryptor()
        plain: bytes = decryptor.update(ciphertext) + decryptor.finalize()
        pad_len = plain[-1]
        if self.version == SSL3:
            ok = pad_len < bs  # SSL 3.0 padding bytes are arbitrary (RFC 6101 5.2.3.2)
        else:
            ok = pad_len + 1 <= len(plain) and plain[-pad_len - 1 :] == bytes([pad_len]) * (pad_len + 1)
        if not ok:
            raise DecryptionError("bad_padding", f"{p.name}: CBC padding is invalid", seq)
        unpadded = plain[: len(plain) - pad_len - 1]
        if self.encrypt_then_mac:
            return unpadded
        if len(unpadded) < p.mac_len:
            raise DecryptionError("too_short", f"{p.name}: decrypted record shorter than its MAC", seq)
        content, mac = unpadded[: len(unpadded) - p.mac_len], unpadded[len(unpadded) - p.mac_len :]
        self._check_mac(seq, content_type, record_version, content, mac)
        return content


# ----------------------------------------------------------- whole session
@dataclass
class SessionDecryptors:
    """The decryptors one connection needs, built from a key log.

    TLS <= 1.2 fills ``client`` and ``server`` (start using each after that
    side's ChangeCipherSpec).  TLS 1.3 fills the ``*_handshake`` ones (use
    from the first protected record until that side's Finished), the
    ``*_application`` ones (after Finished; call ``key_update()`` after each
    KeyUpdate message that side sends) and ``client_early`` (0-RTT data).
    A decryptor is None when the key log lacks its secret; ``missing`` then
    names the key log labels that would have been needed.
    """

    version: int
    cipher_suite: int
    client: DirectionDecryptor | None = None
    server: DirectionDecryptor | None = None
    client_early: DirectionDecryptor | None = None
    client_handshake: DirectionDecryptor | None = None
    server_handshake: DirectionDecryptor | None = None
    client_application: DirectionDecryptor | None = None
    server_application: DirectionDecryptor | None = None
    missing: list[str] = field(default_factory=list)
    master_secret_source: str = ""  # "CLIENT_RANDOM", "RSA" or "" (TLS 1.3 / none)

    @property
    def complete(self) -> bool:
        """Every direction of the session can be decrypted (0-RTT aside)."""
        if self.version == TLS13:
            return None not in (
                self.client_handshake,
                self.server_handshake,
                self.client_application,
                self.server_application,
            )
        return self.client is not None and self.server is not None


def is_tls13_version(version: int) -> bool:
    """TLS 1.3, or one of its drafts 20-28 (and Facebook's 0xfb17/0xfb1a), which share its record
    protection and "tls13 " labels; earlier drafts used other labels and are not decrypted."""
    return version == TLS13 or 0x7F14 <= version <= 0x7F1C or version in (0xFB17, 0xFB1A)


_TLS13_ROLES = (
    ("client_early", "CLIENT_EARLY_TRAFFIC_SECRET"),
    ("client_handshake", "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
    ("server_handshake", "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
    ("client_application", "CLIENT_TRAFFIC_SECRET_0"),
    ("server_application", "SERVER_TRAFFIC_SECRET_0"),
)


def session_decryptors(
    keylog: "KeyLog",
    version: int,
    cipher_suite: int,
    client_random: bytes,
    server_random: bytes,
    *,
    encrypt_then_mac: bool = False,
    compression: int = 0,
    encrypted_premaster: bytes | None = None,
    session_hash: bytes | None = None,
) -> SessionDecryptors:
    """Build the decryptors of one connection from what the key log holds for it.

    ``version`` is the negotiated one (0x0304 when the ServerHello's
    supported_versions says so; TLS 1.3 drafts 20-28 count as 0x0304).  For TLS <= 1.2 the master secret comes
    from a ``CLIENT_RANDOM`` line, or else from an ``RSA`` line matching
    ``encrypted_premaster`` (the RSA ClientKeyExchange ciphertext); with
    extended master secret (RFC 7627) that also needs ``session_hash``.
    Raises UnsupportedCipherSuite for a suite we cannot decrypt and
    DecryptionError("unsupported_version") for SSL 2.0 or an unknown version.
    """
    params = suite_params(cipher_suite)
    if is_tls13_version(version):
        version = TLS13
    elif not SSL3 <= version < TLS13:
        raise DecryptionError("unsupported_version", f"no record decryption for protocol version 0x{version:04x}")
    result = SessionDecryptors(version, cipher_suite)
    secrets = keylog.secrets_for(client_random)
    if version == TLS13:
        for role, label in _TLS13_ROLES:
            secret = secrets.get(label)
            if secret is None:
                if role != "client_early":  # 0-RTT is rare; its absence is not a gap
                    result.missing.append(label)
                continue
            setattr(result, role, DirectionDecryptor.for_tls13(cipher_suite, secret))
        return result
    master = secrets.get("CLIENT_RANDOM")
    if master is not None:
        result.master_secret_source = "CLIENT_RANDOM"
    elif encrypted_premaster is not None and (pms := keylog.rsa_premaster_for(encrypted_premaster)) is not None:
        if session_hash is not None:
            master = extended_master_secret(version, pms, session_hash, params.prf_hash)
        else:
            master = derive_master_secret(version, pms, client_random, server_random, params.prf_hash)
        result.master_secret_source = "RSA"
    if master is None:
        result.missing.append("CLIENT_RANDOM")
        return result
    for side in ("client", "server"):
        setattr(
            result,
            side,
            DirectionDecryptor.for_tls12(
                version,
                cipher_suite,
                master,
                client_random,
                server_random,
                side,
                encrypt_then_mac=encrypt_then_mac,
                compression=compression,
            ),
        )
    return result
