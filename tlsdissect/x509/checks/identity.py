"""The leaf's names against the server name the client asked for (SNI), as RFC 6125 clients match them."""

from __future__ import annotations

from tlsdissect.x509.findings import _ChainContext
from tlsdissect.x509.hostname import match_hostname, parse_ip_literal


def host_name(ctx: _ChainContext, server_name: str | None) -> None:
    """``hostname_mismatch`` or ``hostname_cn_only`` for a server's leaf whose extensions could be read."""
    role, leaf = ctx.role, ctx.parsed[0].info
    extensions_unreadable = leaf.extensions_read == "none"
    if role == "server" and server_name and not extensions_unreadable:
        result = match_hostname(
            server_name, dns_names=leaf.san_dns, ip_addresses=leaf.san_ip, common_name=leaf.subject_common_name
        )
        if not result.matched and parse_ip_literal(server_name) is not None:
            dns_note = f" (it names {', '.join(leaf.san_dns)})" if leaf.san_dns else ""
            ctx.add(
                "hostname_mismatch",
                "error",
                f"The server's certificate {leaf.label} is not valid for the IP address {server_name}: "
                f"{result.reason}{dns_note}.",
                [0],
            )
        elif not result.matched:
            names = ", ".join(result.checked_identities) or "no name at all"
            source = "its common name (it has no DNS SAN)" if result.used_common_name else "its SAN entries"
            ctx.add(
                "hostname_mismatch",
                "error",
                f"The server's certificate {leaf.label} is valid for {names} ({source}), not for the "
                f"requested name {server_name}"
                + (f" ({result.reason})." if result.reason and result.reason != "no entry matches" else "."),
                [0],
            )
        elif result.used_common_name:
            ctx.add(
                "hostname_cn_only",
                "warning",
                f"The server's certificate {leaf.label} names {server_name} only in its common name and has "
                "no subjectAltName; browsers and RFC 6125 clients ignore the common name and reject it.",
                [0],
            )
