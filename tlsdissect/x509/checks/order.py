"""The order the certificates were sent in, against the issuer path, and those not on the path."""

from __future__ import annotations

from tlsdissect.x509.checks.path import IssuerPath
from tlsdissect.x509.findings import _ChainContext


def wrong_order(ctx: _ChainContext, path: IssuerPath, usable: list[int]) -> None:
    """``wrong_order``: each certificate should be followed by its issuer (RFC 5246 §7.4.2;
    RFC 8446 §4.4.2 SHOULD)."""
    parsed, indexes = ctx.parsed, path.indexes
    sequence = usable
    for k in range(len(indexes) - 1):
        child, issuer = indexes[k], indexes[k + 1]
        if sequence.index(issuer) != sequence.index(child) + 1:
            after = sequence[sequence.index(child) + 1] if sequence.index(child) + 1 < len(sequence) else None
            follower = (
                f"certificate #{after} ({parsed[after].info.label}) follows it instead"
                if after is not None
                else "nothing follows it"
            )
            ctx.add(
                "wrong_order",
                "warning",
                f"Certificate #{child} ({parsed[child].info.label}) is issued by certificate #{issuer} "
                f"({parsed[issuer].info.label}), but {follower}. TLS 1.2 requires each certificate to be "
                "followed by its issuer; TLS 1.3 clients should tolerate other orders, older ones may fail.",
                [child, issuer],
            )


def unrelated_certificates(ctx: _ChainContext, path: IssuerPath, usable: list[int]) -> None:
    """``unrelated_certificate``: certificates that are not part of the path (not judged when a
    signature on the path is bad)."""
    if path.broken:
        return
    parsed, indexes = ctx.parsed, path.indexes
    for i in usable:
        if i not in indexes:
            ctx.add(
                "unrelated_certificate",
                "warning",
                f"Certificate #{i} ({parsed[i].info.label}) does not belong to the chain of "
                f"{parsed[0].info.label}; clients ignore it or fail on it.",
                [i],
            )
