"""How the issuer path ends: at a root the peer also sent, at a self-signed leaf, or short of its
issuer (an intermediate missing, or a root the trust store does not hold)."""

from __future__ import annotations

from tlsdissect.x509.checks.path import IssuerPath
from tlsdissect.x509.findings import _ChainContext
from tlsdissect.x509.info import CertificateInfo, _Parsed
from tlsdissect.x509.trust import TrustStore


def top_of_path(ctx: _ChainContext, path: IssuerPath, trust: TrustStore | None, anchor_name: str | None) -> None:
    """``self_signed_leaf``, ``root_included``, ``untrusted_root`` or ``chain_incomplete``, as the
    path ends; ``anchor_name`` is what ``anchor.trust_anchor`` found (None without a trust store)."""
    if path.top_is_root:
        _root_at_top(ctx, path.indexes, trust, anchor_name)
    elif path.missing_issuer:
        _issuer_missing(ctx, path.indexes, trust, anchor_name)


def _root_at_top(ctx: _ChainContext, path: list[int], trust: TrustStore | None, anchor_name: str | None) -> None:
    parsed, role, leaf = ctx.parsed, ctx.role, ctx.parsed[0].info
    top = path[-1]
    top_info = parsed[top].info
    if len(path) == 1:
        ctx.add(
            "self_signed_leaf",
            "warning" if anchor_name else "error",
            f"The {role} sent a self-signed certificate {leaf.label}; peers accept it only if they "
            "have pinned or imported exactly this certificate.",
            [0],
        )
    else:
        ctx.add(
            "root_included",
            "info",
            f"The {role} also sends the self-signed root {top_info.label} (certificate #{top}); "
            "peers must already have it, so sending it only costs bytes.",
            [top],
        )
    if trust is not None and anchor_name is None:
        ctx.add(
            "untrusted_root",
            "error",
            f"The chain of {leaf.label} ends at the self-signed {top_info.label}, which is not in the "
            f"trust store ({trust.source}).",
            [top],
        )


def _issuer_missing(ctx: _ChainContext, path: list[int], trust: TrustStore | None, anchor_name: str | None) -> None:
    parsed, role, leaf = ctx.parsed, ctx.role, ctx.parsed[0].info
    top = path[-1]
    top_info = parsed[top].info
    if trust is not None and anchor_name is None and top_info.basic_constraints_ca is True:
        ctx.add(
            "untrusted_root",
            "error",
            f"The chain of {leaf.label} ends at the CA {top_info.label}, whose issuer "
            f"{top_info.issuer_label} is neither in the chain nor in the trust store ({trust.source}): "
            f"that root is not trusted, or an intermediate is missing ({_issuer_url_text(top_info)}).",
            [top],
        )
    elif trust is not None and anchor_name is None:
        ctx.add(
            "chain_incomplete",
            "error",
            _incomplete_text(role, parsed, path) + " It is neither in the chain nor in the trust store "
            f"({trust.source}).",
            [top],
        )
    elif trust is None and top_info.basic_constraints_ca is not True:
        ctx.add(
            "chain_incomplete",
            "warning",
            _incomplete_text(role, parsed, path)
            + " Clients that do not fetch missing intermediates (OpenSSL, curl, Java, most non-browser"
            ' clients) fail with "unable to get local issuer certificate" unless that issuer is a root'
            " they trust.",
            [top],
        )


def _incomplete_text(role: str, parsed: list[_Parsed], path: list[int]) -> str:
    top = parsed[path[-1]].info
    if len(path) == 1:
        return (
            f"The {role} sent only {top.label}; its issuer {top.issuer_label} is missing from the chain "
            f"({_issuer_url_text(top)})."
        )
    sent = " → ".join(parsed[i].info.label for i in path)
    return (
        f"The {role}'s chain ({sent}) stops at {top.label}; its issuer {top.issuer_label} is missing from "
        f"the chain ({_issuer_url_text(top)})."
    )


def _issuer_url_text(info: CertificateInfo) -> str:
    if info.aia_ca_issuers:
        return "issuer URL " + ", ".join(info.aia_ca_issuers)
    return "the certificate gives no issuer URL"
