"""The TLS 1.3 handshake transcript up to the server's CertificateVerify, as its hash.

The server's CertificateVerify signs ``64 spaces + "TLS 1.3, server CertificateVerify" + 0 +
Transcript-Hash(ClientHello .. Certificate)`` (RFC 8446 §4.4.3); with a key log the messages
are readable, and the certificate stage checks the signature (x509.handshake_signature). Only
sessions that decrypt collect: the messages' bytes until the CertificateVerify, then 32 or 48
bytes of hash. After a HelloRetryRequest the first ClientHello enters as its ``message_hash``
(RFC 8446 §4.4.1).
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional

from tlsdissect.tls import tables
from tlsdissect.tls.handshake import CERTIFICATE_VERIFY, CLIENT_HELLO, FINISHED, SERVER_HELLO

MESSAGE_HASH = 254  # the synthetic handshake type that stands for ClientHello1 after a HelloRetryRequest
DONE = False  # the session's transcript once the CertificateVerify (or a reason to stop) was seen
_MAX_BYTES = 1 << 20  # a transcript this long is given up (the certificate caps keep it far below)


def server_signed_content(transcript_hash: bytes) -> bytes:
    """What the server's CertificateVerify signs (RFC 8446 §4.4.3)."""
    return b" " * 64 + b"TLS 1.3, server CertificateVerify" + b"\x00" + transcript_hash


def _hash_name(cipher: Optional[int]) -> Optional[str]:
    info = tables.suite_info(cipher) if cipher is not None else None
    mac = info.mac.lower() if info is not None else ""
    return mac if mac in ("sha256", "sha384") else None


def _transcript_hash(messages: list[tuple[int, bytes, bool]], hash_name: str) -> bytes:
    """Transcript-Hash of the messages, each (type, bytes with header, is a HelloRetryRequest)."""
    h = hashlib.new(hash_name)
    start = 0
    for i, (_t, _raw, hrr) in enumerate(messages):
        if hrr:  # ClientHello1 (everything before the HelloRetryRequest) becomes message_hash
            first = hashlib.new(hash_name, b"".join(raw for _t2, raw, _h in messages[:i])).digest()
            h.update(bytes([MESSAGE_HASH, 0, 0, len(first)]) + first)
            start = i
            break
    for _t, raw, _hrr in messages[start:]:
        h.update(raw)
    return h.digest()


def collect(s: Any, d: int, t: int, length: int, body: bytes, hrr: bool) -> None:
    """One handshake message of a session that decrypts: kept for the transcript, or, at the
    server's CertificateVerify, the transcript's hash and the signature kept on the session
    (``server_certificate_verify_signed``) and the messages dropped."""
    messages = s.transcript13
    if messages is DONE:
        return
    if messages is None:
        if t != CLIENT_HELLO:
            s.transcript13 = DONE
            return
        messages = s.transcript13 = []
    if len(body) != length or sum(len(m[1]) for m in messages) > _MAX_BYTES:
        s.transcript13 = DONE  # a message cut short (or a flood): no transcript to hash
        return
    if (t == SERVER_HELLO and not hrr and not s.tls13) or t == FINISHED:
        s.transcript13 = DONE  # TLS <= 1.2, or a handshake without a CertificateVerify (PSK)
        return
    if t == CERTIFICATE_VERIFY and d == s.server_hello_dir:
        s.transcript13 = DONE
        name = _hash_name(s.cipher)
        if name is None or len(body) < 4 or int.from_bytes(body[2:4], "big") != len(body) - 4:
            return
        s.server_certificate_verify_signed = (_transcript_hash(messages, name), int.from_bytes(body[:2], "big"),
                                              bytes(body[4:]))
        return
    messages.append((t, bytes([t]) + length.to_bytes(3, "big") + bytes(body), hrr))
