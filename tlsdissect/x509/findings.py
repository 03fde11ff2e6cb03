"""Chain findings: ``ChainFinding``, and the context the chain checks add them to, with the way
their texts name a certificate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tlsdissect.x509.info import CertificateInfo, _Parsed

Severity = Literal["error", "warning", "info"]
Role = Literal["server", "client"]


@dataclass(frozen=True)
class ChainFinding:
    """One observation about a chain, phrased for a human, with the certificates concerned."""

    id: str
    severity: Severity
    text: str
    certificates: tuple[int, ...] = ()

    def to_dict(self, role: str | None = None) -> dict[str, Any]:
        """The JSON form; ``role`` ("server"/"client") is added as a last key when given."""
        d = {
            "id": self.id,
            "severity": self.severity,
            "text": self.text,
            "certificates": list(self.certificates),
        }
        if role is not None:
            d["role"] = role
        return d


class _ChainContext:
    """Bookkeeping shared by the chain checks."""

    def __init__(self, parsed: list[_Parsed], role: Role) -> None:
        self.parsed = parsed
        self.role = role
        self.findings: list[ChainFinding] = []

    def add(self, fid: str, severity: Severity, text: str, certs: Iterable[int] = ()) -> None:
        self.findings.append(ChainFinding(fid, severity, text, tuple(certs)))

    def who(self, index: int) -> str:
        return _who(self.role, index, self.parsed[index].info)


def _who(role: str, index: int, info: CertificateInfo) -> str:
    if index == 0:
        return f"the {role}'s certificate {info.label}"
    return f"certificate #{index} ({info.label}) in the {role}'s chain"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
