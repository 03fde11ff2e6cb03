"""Handshake signatures: does the ServerKeyExchange's (or TLS 1.3 CertificateVerify's) signature
verify with the leaf's key?

A TLS <= 1.2 server signs ``client_random + server_random + params`` (RFC 5246 §7.4.3, RFC 8422
§5.4) with the private key of the certificate it sent. A signature that does not verify with
that certificate's public key tells two failures apart that the client's alert alone does not:
bytes changed on the path (a relay, a middlebox that rewrites the handshake) or a server whose
key does not match its certificate, against a client that refuses for another reason. The
check is ``cryptography``'s; nothing here is home-made crypto.

Which hash and padding a signature uses comes from its SignatureScheme (TLS 1.2), or from the
key type in TLS 1.0/1.1, where RSA signs the MD5 and SHA-1 digests side by side without a
DigestInfo (RFC 4346 §7.4.3) and (EC)DSA signs SHA-1. A TLS 1.3 server's CertificateVerify
signs 64 spaces, a context string, a zero byte and the transcript hash (RFC 8446 §4.4.3), which
the TLS stage works out when a key log lets it read the handshake (tls.transcript).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from typing import Any, Optional

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from tlsdissect.tls import tables
from tlsdissect.tls.transcript import server_signed_content

# TLS 1.2 SignatureAndHashAlgorithm hash byte (RFC 5246 §7.4.1.4.1) -> hash.
_HASH_BYTE: dict[int, type[hashes.HashAlgorithm]] = {
    1: hashes.MD5, 2: hashes.SHA1, 3: hashes.SHA224, 4: hashes.SHA256, 5: hashes.SHA384, 6: hashes.SHA512}
# TLS 1.2 signature byte -> the key type it needs.
_SIG_BYTE = {1: "RSA", 2: "DSA", 3: "EC"}
# RFC 8446 / RFC 8734 schemes: code -> (key type, padding kind, hash).
_SCHEMES: dict[int, tuple[str, str, Optional[type[hashes.HashAlgorithm]]]] = {
    0x0804: ("RSA", "pss", hashes.SHA256), 0x0805: ("RSA", "pss", hashes.SHA384), 0x0806: ("RSA", "pss", hashes.SHA512),
    0x0809: ("RSA", "pss", hashes.SHA256), 0x080A: ("RSA", "pss", hashes.SHA384), 0x080B: ("RSA", "pss", hashes.SHA512),
    0x0807: ("Ed25519", "eddsa", None), 0x0808: ("Ed448", "eddsa", None),
    0x081A: ("EC", "ecdsa", hashes.SHA256), 0x081B: ("EC", "ecdsa", hashes.SHA384), 0x081C: ("EC", "ecdsa", hashes.SHA512),
}


@dataclass(frozen=True)
class HandshakeSignatureCheck:
    """One handshake signature checked against the certificate's key: ``verified`` True (it
    verifies), False (it does not) or None (it could not be checked, ``reason`` says why)."""

    message: str  # the handshake message that carries the signature: server_key_exchange, certificate_verify
    verified: Optional[bool]
    scheme: str  # the SignatureScheme's IANA name, or the TLS 1.0/1.1 construction
    key: str  # the certificate's key, e.g. "RSA 2048-bit"
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "verified": self.verified, "scheme": self.scheme, "key": self.key,
                "reason": self.reason}


def signed_parts(body: bytes, signature_algorithm: Optional[int], signature_length: int,
                 tls12: bool) -> Optional[tuple[bytes, bytes]]:
    """(params, signature) of a signed ServerKeyExchange body whose parse gave
    ``signature_algorithm`` and ``signature_length``; None when the signature is not the
    body's tail (no signature, or bytes after it)."""
    if signature_length <= 0:
        return None
    end = len(body) - signature_length
    head = end - 2 - (2 if tls12 else 0)
    if head < 1 or int.from_bytes(body[end - 2:end], "big") != signature_length:
        return None
    if tls12 and (signature_algorithm is None or int.from_bytes(body[head:head + 2], "big") != signature_algorithm):
        return None
    return body[:head], body[end:]


def _key_words(key: Any) -> tuple[str, str]:
    """(key type as the schemes name it, "RSA 2048-bit"-style description)."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", f"RSA {key.key_size}-bit"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", f"DSA {key.key_size}-bit"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", "Ed448"
    return type(key).__name__, type(key).__name__


def _verify_tls12(key: Any, key_type: str, scheme: int, signature: bytes, data: bytes) -> tuple[Optional[bool], str]:
    """Verify under a TLS 1.2 SignatureScheme; raises InvalidSignature when it does not verify."""
    if scheme in _SCHEMES:
        want, kind, hash_cls = _SCHEMES[scheme]
    elif (scheme & 0xFF) in _SIG_BYTE and (scheme >> 8) in _HASH_BYTE:
        want, kind, hash_cls = _SIG_BYTE[scheme & 0xFF], "legacy", _HASH_BYTE[scheme >> 8]
    else:
        return None, "the signature scheme is not one this check knows"
    if want != key_type:
        return False, f"the scheme needs an {want} key and the certificate's key is {key_type}"
    if kind == "eddsa":
        key.verify(signature, data)
    elif kind == "pss":
        assert hash_cls is not None
        h = hash_cls()
        key.verify(signature, data, padding.PSS(padding.MGF1(h), h.digest_size), h)
    elif key_type == "RSA":
        assert hash_cls is not None
        key.verify(signature, data, padding.PKCS1v15(), hash_cls())
    elif key_type == "EC":
        assert hash_cls is not None
        key.verify(signature, data, ec.ECDSA(hash_cls()))
    else:  # DSA
        assert hash_cls is not None
        key.verify(signature, data, hash_cls())
    return True, "the signature verifies with the certificate's public key"


def _verify_legacy(key: Any, key_type: str, signature: bytes, data: bytes) -> tuple[Optional[bool], str]:
    """TLS 1.0/1.1: RSA over MD5 || SHA-1 (PKCS#1 v1.5 without DigestInfo), (EC)DSA over SHA-1."""
    if key_type == "RSA":
        recovered = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
        if recovered != hashlib.md5(data).digest() + hashlib.sha1(data).digest():  # noqa: S324 - the protocol's
            raise InvalidSignature
    elif key_type == "EC":
        key.verify(signature, data, ec.ECDSA(hashes.SHA1()))
    elif key_type == "DSA":
        key.verify(signature, data, hashes.SHA1())
    else:
        return None, f"a {key_type} key cannot sign a TLS 1.0/1.1 ServerKeyExchange"
    return True, "the signature verifies with the certificate's public key"


def check_server_key_exchange(body: bytes, signature_algorithm: Optional[int], signature_length: int,
                              version: int, client_random: bytes, server_random: bytes,
                              leaf_der: bytes) -> HandshakeSignatureCheck:
    """Does the ServerKeyExchange ``body`` (TLS ``version`` <= 1.2) carry a signature by the key
    of the certificate ``leaf_der`` over the randoms and its params?"""
    tls12 = version >= 0x0303
    scheme = (tables.signature_scheme_name(signature_algorithm) if signature_algorithm is not None
              else "rsa_md5_sha1 / ecdsa_sha1 (TLS 1.0/1.1)")

    def result(verified: Optional[bool], key: str, reason: str) -> HandshakeSignatureCheck:
        return HandshakeSignatureCheck("server_key_exchange", verified, scheme, key, reason)

    parts = signed_parts(body, signature_algorithm, signature_length, tls12)
    if parts is None:
        return result(None, "", "the signature could not be located in the message")
    if len(client_random) != 32 or len(server_random) != 32:
        return result(None, "", "the hello randoms are not both in the capture")
    try:
        key, key_type, key_text = _leaf_key(leaf_der)
    except Exception as exc:  # noqa: BLE001 - an unusable certificate is a result, not an error
        return result(None, "", f"the certificate's public key cannot be read ({exc})")
    params, signature = parts
    data = client_random + server_random + params
    try:
        if tls12:
            verified, reason = _verify_tls12(key, key_type, signature_algorithm or 0, signature, data)
        else:
            verified, reason = _verify_legacy(key, key_type, signature, data)
    except InvalidSignature:
        return result(False, key_text, "the signature does not verify with the certificate's public key")
    except UnsupportedAlgorithm as exc:
        return result(None, key_text, f"the signature algorithm is not supported here ({exc})")
    except (ValueError, TypeError) as exc:  # a signature of the wrong size or shape for the key
        return result(False, key_text, f"the signature does not fit the certificate's key ({exc})")
    return result(verified, key_text, reason)


# Leaf certificate (DER) -> (its public key, _key_words of it). A server shows the same leaf on
# every connection, and reading its key (the certificate parsed with warnings silenced, the key
# loaded) cost a third as much as the RSA verify itself, per connection. Only keys that could be
# read are kept (an unusable certificate raises again each time); bounded: cleared when full.
_LEAF_KEYS: dict[bytes, tuple[Any, str, str]] = {}
_LEAF_KEYS_MAX = 256


def _leaf_key(leaf_der: bytes) -> tuple[Any, str, str]:
    """(public key, key type as the schemes name it, its description) of the certificate
    ``leaf_der``; raises what reading it raises."""
    hit = _LEAF_KEYS.get(leaf_der)
    if hit is None:
        key = _load_key(leaf_der)
        if len(_LEAF_KEYS) >= _LEAF_KEYS_MAX:
            _LEAF_KEYS.clear()
        hit = _LEAF_KEYS[leaf_der] = (key, *_key_words(key))
    return hit


def _load_key(leaf_der: bytes) -> Any:
    with warnings.catch_warnings():  # (encoding faults are the chain findings' business)
        warnings.simplefilter("ignore")
        return x509.load_der_x509_certificate(leaf_der).public_key()


def check_certificate_verify(transcript_hash: bytes, scheme: int, signature: bytes,
                             leaf_der: bytes) -> HandshakeSignatureCheck:
    """Does a TLS 1.3 server's CertificateVerify (``scheme``, ``signature``) over the
    transcript hashed to ``transcript_hash`` verify with the key of ``leaf_der``?"""
    name = tables.signature_scheme_name(scheme)
    try:
        key, key_type, key_text = _leaf_key(leaf_der)
    except Exception as exc:  # noqa: BLE001 - an unusable certificate is a result, not an error
        return HandshakeSignatureCheck("certificate_verify", None, name, "",
                                       f"the certificate's public key cannot be read ({exc})")
    try:
        verified, reason = _verify_tls12(key, key_type, scheme, signature, server_signed_content(transcript_hash))
    except InvalidSignature:
        return HandshakeSignatureCheck("certificate_verify", False, name, key_text,
                                       "the signature does not verify with the certificate's public key")
    except UnsupportedAlgorithm as exc:
        return HandshakeSignatureCheck("certificate_verify", None, name, key_text,
                                       f"the signature algorithm is not supported here ({exc})")
    except (ValueError, TypeError) as exc:
        return HandshakeSignatureCheck("certificate_verify", False, name, key_text,
                                       f"the signature does not fit the certificate's key ({exc})")
    return HandshakeSignatureCheck("certificate_verify", verified, name, key_text, reason)
