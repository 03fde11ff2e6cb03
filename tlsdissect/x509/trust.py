"""Trust anchors: the ``TrustStore`` of root or pinned certificates, from a CA file, a CA directory
or the system bundle, looked up by subject name and key."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tlsdissect.errors import TlsDissectError
from tlsdissect.x509.der import _DerError, _read_tlv
from tlsdissect.x509.info import _Parsed
from tlsdissect.x509.names import NameKey
from tlsdissect.x509.parse import _parse
from tlsdissect.x509.signatures import _verify_pair

_PEM_CERT_RE = re.compile(
    rb"-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----\s*(.+?)\s*-----END (?:TRUSTED |X509 )?CERTIFICATE-----",
    re.DOTALL,
)


class TrustStoreError(TlsDissectError, ValueError):
    """A trust store location is missing or holds no certificate."""


def _der_prefix(blob: bytes) -> bytes:
    """First DER TLV of ``blob`` (drops OpenSSL 'TRUSTED CERTIFICATE' aux data)."""
    try:
        _tag, _start, end = _read_tlv(blob, 0, len(blob))
        return blob[:end]
    except _DerError:
        return blob


def _certs_from_blob(blob: bytes) -> tuple[list[bytes], int]:
    """DER certificates in a PEM bundle or single DER file, and the count of undecodable PEM blocks."""
    ders: list[bytes] = []
    bad = 0
    matches = list(_PEM_CERT_RE.finditer(blob))
    if matches:
        for m in matches:
            try:
                ders.append(_der_prefix(base64.b64decode(b"".join(m.group(1).split()), validate=True)))
            except (binascii.Error, ValueError):
                bad += 1
    elif blob[:1] == b"\x30":
        ders.append(_der_prefix(blob))
    return ders, bad


@dataclass
class TrustStore:
    """Trust anchors (root or pinned certificates) looked up by subject name."""

    anchors: list[_Parsed]
    source: str = ""
    skipped: int = 0  # entries that did not parse
    _by_subject: dict[NameKey, list[_Parsed]] = field(default_factory=dict, repr=False)
    _spki: set[tuple[NameKey, str | None]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        unique: dict[str, _Parsed] = {}
        for p in self.anchors:
            unique.setdefault(p.info.der_sha256, p)
        self.anchors = list(unique.values())
        for p in self.anchors:
            assert p.cert is not None and p.subject_key is not None
            self._by_subject.setdefault(p.subject_key, []).append(p)
            self._spki.add((p.subject_key, p.spki_sha256))

    def __len__(self) -> int:
        return len(self.anchors)

    @classmethod
    def from_ders(cls, ders: Iterable[bytes], source: str = "certificates") -> TrustStore:
        anchors, skipped = [], 0
        for der in ders:
            parsed = _parse(der)
            if parsed.cert is None:
                skipped += 1
            else:
                anchors.append(parsed)
        return cls(anchors, source, skipped)

    @classmethod
    def from_ca_file(cls, path: str | os.PathLike[str]) -> TrustStore:
        """Load a PEM bundle (or one DER certificate); raises TrustStoreError with the reason."""
        p = Path(path)
        try:
            blob = p.read_bytes()
        except OSError as exc:
            raise TrustStoreError(f"cannot read CA file {p}: {exc.strerror or exc}") from exc
        ders, bad = _certs_from_blob(blob)
        store = cls.from_ders(ders, source=str(p))
        store.skipped += bad
        if not store.anchors:
            raise TrustStoreError(f"CA file {p} holds no readable certificate")
        return store

    @classmethod
    def from_ca_path(cls, path: str | os.PathLike[str]) -> TrustStore:
        """Load every certificate file in a directory (PEM or DER, c_rehash links included)."""
        p = Path(path)
        if not p.is_dir():
            raise TrustStoreError(f"CA path {p} is not a directory")
        ders: list[bytes] = []
        bad = 0
        for entry in sorted(p.iterdir()):
            try:
                if not entry.is_file() or entry.stat().st_size > 8 * 1024 * 1024:
                    continue
                blob = entry.read_bytes()
            except OSError:
                bad += 1
                continue
            found, skipped = _certs_from_blob(blob)
            ders.extend(found)
            bad += skipped
        store = cls.from_ders(ders, source=str(p))
        store.skipped += bad
        if not store.anchors:
            raise TrustStoreError(f"CA path {p} holds no readable certificate")
        return store

    @classmethod
    def system(cls) -> TrustStore:
        """The operating system bundle, else certifi's; opt-in because it is not the capture's client."""
        for candidate in (
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
        ):
            if os.path.isfile(candidate):
                return cls.from_ca_file(candidate)
        try:
            import certifi

            return cls.from_ca_file(certifi.where())
        except ImportError as exc:
            raise TrustStoreError("no system CA bundle found and certifi is not installed") from exc

    def contains(self, parsed: _Parsed) -> bool:
        """The certificate is an anchor (same subject and key, as RFC 5280 trust anchors are)."""
        if parsed.cert is None or parsed.subject_key is None:
            return False
        return (parsed.subject_key, parsed.spki_sha256) in self._spki

    def find_issuer(self, parsed: _Parsed) -> _Parsed | None:
        """An anchor whose name and key issued ``parsed``."""
        if parsed.cert is None or parsed.issuer_key is None:
            return None
        for anchor in self._by_subject.get(parsed.issuer_key, []):
            if _verify_pair(parsed, anchor)[0] is True:
                return anchor
        return None
