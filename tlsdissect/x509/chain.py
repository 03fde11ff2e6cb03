"""The chain analysis: ``analyze_chain`` explains a Certificate message's chain as a peer would
have judged it at the capture's time, running the chain checks (``checks/``) in turn, and
``ChainAnalysis`` is what it finds.

Never raises on bad certificates: unparsable input becomes a ``CertificateInfo`` with
``parse_error`` set and an ``unparsable_certificate`` finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tlsdissect.x509.checks.anchor import trust_anchor
from tlsdissect.x509.checks.certificate import certificate_checks
from tlsdissect.x509.checks.completeness import top_of_path
from tlsdissect.x509.checks.inspection import intercepted
from tlsdissect.x509.checks.contents import empty_chain, first_copies, unparsable_certificates
from tlsdissect.x509.checks.identity import host_name
from tlsdissect.x509.checks.order import unrelated_certificates, wrong_order
from tlsdissect.x509.checks.path import build_path
from tlsdissect.x509.checks.usage import ca_constraints, extended_key_usage
from tlsdissect.x509.checks.validity import capture_time, credible_time
from tlsdissect.x509.findings import ChainFinding, Role, _ChainContext
from tlsdissect.x509.info import CertificateInfo
from tlsdissect.x509.parse import _safe_parse
from tlsdissect.x509.trust import TrustStore

TrustState = Literal["trusted", "untrusted_root", "not_checked"]


@dataclass
class ChainAnalysis:
    """Result of ``analyze_chain``: decoded certificates, findings and the trust verdict."""

    certificates: list[CertificateInfo]
    findings: list[ChainFinding]
    trust: TrustState = "not_checked"
    path: list[int] = field(default_factory=list)  # indexes from the leaf up, as issuers link them
    trust_anchor: str | None = None  # subject of the anchor that made the chain trusted

    def finding_ids(self) -> list[str]:
        return [f.id for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "certificates": [c.to_dict() for c in self.certificates],
            "findings": [f.to_dict() for f in self.findings],
            "trust": self.trust,
            "path": list(self.path),
            "trust_anchor": self.trust_anchor,
        }


def analyze_chain(
    ders: Sequence[bytes],
    *,
    at: datetime | float,
    server_name: str | None = None,
    role: Role = "server",
    trust: TrustStore | None = None,
) -> ChainAnalysis:
    """Explain a Certificate message's chain as a peer would have judged it at time ``at``.

    ``ders`` are the certificates in the order sent; ``at`` is the packet time (naive
    datetimes are taken as UTC; epoch seconds accepted).  Never raises on bad certificates.
    """
    if role not in ("server", "client"):
        raise ValueError(f"role must be 'server' or 'client', not {role!r}")
    when = capture_time(at)
    parsed = [_safe_parse(d) for d in ders]
    ctx = _ChainContext(parsed, role)
    infos = [p.info for p in parsed]
    if not parsed:
        empty_chain(ctx)
        return ChainAnalysis(infos, ctx.findings)

    unparsable_certificates(ctx)
    usable = first_copies(ctx)  # parsed certificates, each once
    judged_at = credible_time(ctx, when, at)
    for i in usable:
        certificate_checks(ctx, i, judged_at)
    analysis = ChainAnalysis(infos, ctx.findings)  # the checks below add to these findings
    if parsed[0].cert is None:
        return analysis  # no leaf to build from; per-certificate findings only

    path = build_path(ctx, usable)
    analysis.path = path.indexes
    wrong_order(ctx, path, usable)
    unrelated_certificates(ctx, path, usable)
    ca_constraints(ctx, path)
    anchor_name: str | None = None
    if trust is not None:
        anchor_name = trust_anchor(ctx, path, trust)
        analysis.trust = "trusted" if anchor_name is not None else "untrusted_root"
        analysis.trust_anchor = anchor_name
    top_of_path(ctx, path, trust, anchor_name)
    intercepted(ctx, path)
    host_name(ctx, server_name)
    extended_key_usage(ctx)
    return analysis
