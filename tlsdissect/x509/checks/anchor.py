"""Trust: the first certificate on the issuer path that is a trust anchor, or is issued by one."""

from __future__ import annotations

from tlsdissect.x509.checks.path import IssuerPath
from tlsdissect.x509.findings import _ChainContext
from tlsdissect.x509.trust import TrustStore


def trust_anchor(ctx: _ChainContext, path: IssuerPath, trust: TrustStore) -> str | None:
    """The subject of the anchor that makes the path trusted (with a ``trusted`` finding), or None."""
    parsed, indexes, leaf = ctx.parsed, path.indexes, ctx.parsed[0].info
    anchor_name: str | None = None
    for idx in indexes:
        if trust.contains(parsed[idx]):
            anchor_name = parsed[idx].info.subject
            break
        anchor = trust.find_issuer(parsed[idx])
        if anchor is not None:
            anchor_name = anchor.info.subject
            break
    if anchor_name is not None:
        ctx.add(
            "trusted",
            "info",
            f"The chain of {leaf.label} leads to the trust anchor {anchor_name} ({trust.source}).",
            indexes,
        )
    return anchor_name
