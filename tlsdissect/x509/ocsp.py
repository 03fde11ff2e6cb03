"""Stapled OCSP responses (CertificateStatus / status_request) judged at capture time.

A stapled response tells the client whether the server's certificate was revoked;
a stale or mismatched staple makes strict clients (must-staple) fail, so the
engine reports what the staple said and whether it was fresh when captured.
Never raises: bad bytes give ``OcspInfo.parse_error``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, overload

from cryptography.x509 import ocsp

from tlsdissect.x509.findings import ChainFinding
from tlsdissect.x509.info import CertificateInfo


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
@overload
def _utc(value: datetime | None) -> datetime | None: ...
def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    value = _utc(value)
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _attr_utc(obj: Any, name: str) -> datetime | None:
    """``name_utc`` on cryptography >= 43, else the naive attribute taken as UTC."""
    if hasattr(type(obj), name + "_utc"):
        value: datetime | None = getattr(obj, name + "_utc")
        return value
    return _utc(getattr(obj, name, None))


@dataclass(frozen=True)
class OcspInfo:
    """What a stapled OCSP response says and whether it was fresh at ``at``."""

    der_length: int
    der_sha256: str
    parse_error: str | None = None
    response_status: str | None = None  # "successful", "try_later", ...
    cert_status: str | None = None  # "good" | "revoked" | "unknown"
    serial_hex: str | None = None
    revocation_time: datetime | None = None
    revocation_reason: str | None = None
    produced_at: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    fresh: bool | None = None
    responder_name: str | None = None
    responder_key_hash: str | None = None
    response_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return self._dict_template.copy()  # flat: a copy is the caller's own

    @cached_property
    def _findings_memo(self) -> dict[tuple[str, str | None] | None, tuple[ChainFinding, ...]]:
        """ocsp_findings per leaf certificate (see there)."""
        return {}

    @cached_property
    def _dict_template(self) -> dict[str, Any]:
        """to_dict's values (times written out) worked out once: a cached staple is reported on
        every connection that carries it."""
        return {
            "der_length": self.der_length,
            "der_sha256": self.der_sha256,
            "parse_error": self.parse_error,
            "response_status": self.response_status,
            "cert_status": self.cert_status,
            "serial_hex": self.serial_hex,
            "revocation_time": _iso(self.revocation_time),
            "revocation_reason": self.revocation_reason,
            "produced_at": _iso(self.produced_at),
            "this_update": _iso(self.this_update),
            "next_update": _iso(self.next_update),
            "fresh": self.fresh,
            "responder_name": self.responder_name,
            "responder_key_hash": self.responder_key_hash,
            "response_count": self.response_count,
        }


def _serial_hex(value: int) -> str:
    text = format(abs(value), "x")
    return ("-" if value < 0 else "") + ("0" + text if len(text) % 2 else text)


# Decoded staples by their bytes: a server staples the same response to every handshake
# until it refreshes it (hours). Only the freshness depends on the connection's time.
_STAPLE_CACHE: dict[bytes, dict[bool | None, OcspInfo]] = {}
_STAPLE_CACHE_MAX = 1024  # staples remembered (cleared when full)
_FINDINGS_PER_STAPLE = 16  # leaf certificates whose staple findings are remembered per staple


def parse_ocsp_response(der: bytes, at: datetime | float) -> OcspInfo:
    """Decode a DER OCSPResponse and judge freshness at capture time ``at``; never raises."""
    try:
        raw = bytes(der)
    except Exception as exc:  # noqa: BLE001
        return OcspInfo(0, hashlib.sha256(b"").hexdigest(), parse_error=f"not bytes: {exc}")
    try:
        when = _utc(at) if isinstance(at, datetime) else datetime.fromtimestamp(float(at), tz=timezone.utc)
    except Exception as exc:  # noqa: BLE001 - a time that is no time is reported like bad bytes
        return OcspInfo(parse_error=f"{type(exc).__name__}: {exc}", **_identity(raw))
    # The decoded staple (fresh None) and its judged variants, each built once and shared:
    # OcspInfo is immutable.
    variants = _STAPLE_CACHE.get(raw)
    if variants is None:
        if len(_STAPLE_CACHE) >= _STAPLE_CACHE_MAX:
            _STAPLE_CACHE.clear()
        variants = _STAPLE_CACHE[raw] = {None: _decode(raw)}
    info = variants[None]
    if info.this_update is None:
        return info
    fresh = info.this_update <= when and (info.next_update is None or when <= info.next_update)
    judged = variants.get(fresh)
    if judged is None:
        judged = variants[fresh] = replace(info, fresh=fresh)
    return judged


def _identity(raw: bytes) -> dict[str, Any]:
    return {"der_length": len(raw), "der_sha256": hashlib.sha256(raw).hexdigest()}


def _decode(raw: bytes) -> OcspInfo:
    """What the staple says, without the freshness (which depends on the capture time)."""
    base = _identity(raw)
    try:
        resp = ocsp.load_der_ocsp_response(raw)
        status = resp.response_status.name.lower()
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return OcspInfo(response_status=status, **base)
        count = sum(1 for _ in resp.responses) if hasattr(resp, "responses") else 1
        cert_status = resp.certificate_status.name.lower()
        this_update = _attr_utc(resp, "this_update")
        next_update = _attr_utc(resp, "next_update")
        revocation_time = _attr_utc(resp, "revocation_time") if cert_status == "revoked" else None
        reason = resp.revocation_reason.name if cert_status == "revoked" and resp.revocation_reason else None
        responder_name = resp.responder_name.rfc4514_string() if resp.responder_name is not None else None
        key_hash = resp.responder_key_hash.hex() if resp.responder_key_hash is not None else None
        return OcspInfo(
            response_status=status,
            cert_status=cert_status,
            serial_hex=_serial_hex(resp.serial_number),
            revocation_time=revocation_time,
            revocation_reason=reason,
            produced_at=_attr_utc(resp, "produced_at"),
            this_update=this_update,
            next_update=next_update,
            responder_name=responder_name,
            responder_key_hash=key_hash,
            response_count=count,
            **base,
        )
    except Exception as exc:  # noqa: BLE001 - cryptography raises several types on bad DER
        return OcspInfo(parse_error=f"{type(exc).__name__}: {exc}", **base)


def ocsp_findings(info: OcspInfo, leaf: CertificateInfo | None = None) -> list[ChainFinding]:
    """Findings about a staple: unparsable, error status, revoked, unknown, stale, other certificate.

    Remembered with the (shared, immutable) OcspInfo per leaf, since the same staple and
    certificate come with every connection to a server; the list is the caller's own."""
    memo = info._findings_memo
    key = None if leaf is None else (leaf.label, leaf.serial_hex)  # all the findings read of the leaf
    found = memo.get(key)
    if found is None:
        if len(memo) >= _FINDINGS_PER_STAPLE:
            memo.clear()
        found = memo[key] = tuple(_ocsp_findings(info, leaf))
    return list(found)


def _ocsp_findings(info: OcspInfo, leaf: CertificateInfo | None) -> list[ChainFinding]:
    out: list[ChainFinding] = []
    if info.parse_error is not None:
        out.append(
            ChainFinding(
                "ocsp_unparsable", "warning", f"The stapled OCSP response cannot be parsed: {info.parse_error}."
            )
        )
        return out
    if info.response_status != "successful":
        out.append(
            ChainFinding(
                "ocsp_error_status",
                "warning",
                f"The stapled OCSP response carries no status: the responder answered {info.response_status}.",
            )
        )
        return out
    label = leaf.label if leaf is not None else "the certificate"
    if leaf is not None and leaf.serial_hex and info.serial_hex and leaf.serial_hex != info.serial_hex:
        out.append(
            ChainFinding(
                "ocsp_wrong_certificate",
                "error",
                f"The stapled OCSP response is about serial {info.serial_hex}, not about {label} "
                f"(serial {leaf.serial_hex}); clients ignore or reject it.",
                (0,),
            )
        )
    if info.cert_status == "revoked":
        when = f" on {_iso(info.revocation_time)}" if info.revocation_time else ""
        reason = f" (reason {info.revocation_reason})" if info.revocation_reason else ""
        out.append(
            ChainFinding(
                "ocsp_revoked",
                "error",
                f"The stapled OCSP response says {label} was revoked{when}{reason}.",
                (0,),
            )
        )
    elif info.cert_status == "unknown":
        out.append(
            ChainFinding(
                "ocsp_unknown", "warning", f"The stapled OCSP responder does not know {label} (status unknown).", (0,)
            )
        )
    if info.fresh is False:
        out.append(
            ChainFinding(
                "ocsp_stale",
                "warning",
                f"The stapled OCSP response was not current at capture time (valid from {_iso(info.this_update)} "
                f"to {_iso(info.next_update)}); clients that require stapling (must-staple) reject it.",
                (0,),
            )
        )
    return out
