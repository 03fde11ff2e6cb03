"""What the Certificate message holds: no certificate at all, certificates that do not parse, copies."""

from __future__ import annotations

from tlsdissect.x509.findings import _ChainContext


def empty_chain(ctx: _ChainContext) -> None:
    """``empty_chain``: the peer sent no certificate."""
    role = ctx.role
    if role == "server":
        ctx.add(
            "empty_chain",
            "error",
            "The server sent an empty Certificate message: it has no certificate to prove its identity.",
        )
    else:
        ctx.add("empty_chain", "info", "The client sent an empty Certificate message (no client certificate).")


def unparsable_certificates(ctx: _ChainContext) -> None:
    """``unparsable_certificate`` for each certificate ``cryptography`` could not read."""
    parsed, role = ctx.parsed, ctx.role
    for i, p in enumerate(parsed):
        if p.cert is None:
            ctx.add(
                "unparsable_certificate",
                "error",
                f"Certificate #{i} in the {role}'s chain ({p.info.der_length} bytes, sha256 "
                f"{p.info.der_sha256[:16]}…) cannot be parsed: {p.info.parse_error}.",
                [i],
            )


def first_copies(ctx: _ChainContext) -> list[int]:
    """``duplicate_certificate`` for each copy of an earlier certificate; the indexes of the
    parsed certificates that are not copies (the ones the other checks look at)."""
    parsed, role = ctx.parsed, ctx.role
    # Keep the first copy, flag the others.
    first_seen: dict[str, int] = {}
    duplicates: set[int] = set()
    for i, p in enumerate(parsed):
        if p.cert is None:
            continue
        if p.info.der_sha256 in first_seen:
            duplicates.add(i)
            j = first_seen[p.info.der_sha256]
            ctx.add(
                "duplicate_certificate",
                "warning",
                f"Certificate #{i} ({p.info.label}) is a copy of certificate #{j}; the {role} sends it twice.",
                [j, i],
            )
        else:
            first_seen[p.info.der_sha256] = i
    return [i for i, p in enumerate(parsed) if p.cert is not None and i not in duplicates]
