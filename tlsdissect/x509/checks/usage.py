"""Key usage: the issuers on the path must be CAs allowed to sign certificates (basicConstraints,
keyCertSign, pathLenConstraint), and the leaf's extended key usage must allow its TLS role."""

from __future__ import annotations

from tlsdissect.x509.checks.path import IssuerPath
from tlsdissect.x509.findings import _ChainContext


def ca_constraints(ctx: _ChainContext, path: IssuerPath) -> None:
    """``not_a_ca`` and ``path_len_exceeded``: the CA constraints of the issuers on the path."""
    parsed, indexes = ctx.parsed, path.indexes
    for k in range(1, len(indexes)):
        idx = indexes[k]
        info = parsed[idx].info
        child = indexes[k - 1]
        if info.self_signed and info.version == "v1":
            pass  # legacy v1 roots carry no extensions; clients accept them as anchors
        elif info.basic_constraints_ca is not True:
            ctx.add(
                "not_a_ca",
                "error",
                f"Certificate #{idx} ({info.label}) issued {parsed[child].info.label} but is not a CA "
                'certificate (no basicConstraints CA:TRUE); clients reject the chain ("invalid CA certificate").',
                [idx, child],
            )
        elif info.key_usage is not None and "keyCertSign" not in info.key_usage:
            ctx.add(
                "not_a_ca",
                "error",
                f"Certificate #{idx} ({info.label}) issued {parsed[child].info.label} but its key usage "
                f"({', '.join(info.key_usage) or 'empty'}) lacks keyCertSign; clients reject the chain.",
                [idx, child],
            )
        below = sum(1 for m in indexes[1:k] if not parsed[m].info.self_issued)
        if info.basic_constraints_path_len is not None and below > info.basic_constraints_path_len:
            ctx.add(
                "path_len_exceeded",
                "error",
                f"Certificate #{idx} ({info.label}) allows at most {info.basic_constraints_path_len} "
                f"intermediate CA(s) below it (pathLenConstraint) but the chain has {below}.",
                [idx],
            )


def extended_key_usage(ctx: _ChainContext) -> None:
    """``eku_not_server_auth`` / ``eku_not_client_auth``: the leaf's extended key usage, when it
    has one that could be read, must allow TLS authentication in the peer's role."""
    role, leaf = ctx.role, ctx.parsed[0].info
    wanted = "serverAuth" if role == "server" else "clientAuth"
    if (
        leaf.extensions_read != "none"
        and leaf.extended_key_usage is not None
        and not (wanted in leaf.extended_key_usage or "anyExtendedKeyUsage" in leaf.extended_key_usage)
    ):
        ctx.add(
            f"eku_not_{'server' if role == 'server' else 'client'}_auth",
            "error",
            f"The {role}'s certificate {leaf.label} is not allowed for TLS {role} authentication: its extended "
            f"key usage lists {', '.join(leaf.extended_key_usage) or 'nothing'} but not {wanted}.",
            [0],
        )
