"""The issuer path from the leaf up, linked by names, key identifiers and signatures, and how it
ends; the signatures that do not verify (``bad_signature``) or cannot be checked here."""

from __future__ import annotations

from typing import NamedTuple

from tlsdissect.x509.findings import _cap, _ChainContext
from tlsdissect.x509.signatures import _verify_pair


class IssuerPath(NamedTuple):
    """The certificates from the leaf up, as issuers link them, and why the path stops."""

    indexes: list[int]
    top_is_root: bool  # at a self-signed certificate (or one whose self-signature cannot be checked)
    missing_issuer: bool  # the top's issuer was not sent
    broken: bool  # a signature on the way does not verify


def build_path(ctx: _ChainContext, usable: list[int]) -> IssuerPath:
    """Build the issuer path from the leaf using names and signatures."""
    parsed = ctx.parsed
    path = [0]
    while True:
        cur = path[-1]
        cur_p = parsed[cur]
        if cur_p.info.self_signed:
            return IssuerPath(path, top_is_root=True, missing_issuer=False, broken=False)
        issuer, failed, unknown = _find_issuer_in_chain(ctx, cur, usable, set(path))
        if issuer is None and not failed and cur_p.info.self_issued:
            top_is_root = _self_issued_top(ctx, cur)
            return IssuerPath(path, top_is_root=top_is_root, missing_issuer=False, broken=not top_is_root)
        if issuer is None:
            if failed:
                _bad_signatures(ctx, cur, failed)
            return IssuerPath(path, top_is_root=False, missing_issuer=not failed, broken=bool(failed))
        if unknown and issuer in unknown:
            ctx.add(
                "signature_not_checked",
                "info",
                f"The signature on {ctx.who(cur)} by {parsed[issuer].info.label} could not be checked here "
                f"({_verify_pair(cur_p, parsed[issuer])[1]}).",
                [cur, issuer],
            )
        path.append(issuer)


def _self_issued_top(ctx: _ChainContext, cur: int) -> bool:
    """Same subject and issuer but no other certificate of that name: a root whose own signature
    either fails (``bad_signature``; False) or cannot be checked here (True)."""
    cur_p = ctx.parsed[cur]
    assert cur_p.cert is not None
    ok, why = _verify_pair(cur_p, cur_p)
    if ok is None:
        ctx.add(
            "signature_not_checked",
            "info",
            f"The self-signature of {ctx.who(cur)} could not be checked here ({why}).",
            [cur],
        )
        return True
    ctx.add(
        "bad_signature",
        "error",
        f"{_cap(ctx.who(cur))} names itself as issuer but its signature does not verify with "
        f"its own key ({why}); it was altered or is not the self-signed certificate it claims to be.",
        [cur],
    )
    return False


def _bad_signatures(ctx: _ChainContext, cur: int, failed: list[tuple[int, str]]) -> None:
    """``bad_signature`` for each certificate of the issuer's name whose key did not sign ``cur``."""
    parsed, role = ctx.parsed, ctx.role
    cur_p = parsed[cur]
    for j, why in failed:
        key_note = ""
        aki, ski = cur_p.info.authority_key_id, parsed[j].info.subject_key_id
        if aki and ski and aki != ski:
            key_note = (
                f" It was issued by a different key of that CA (authority key id {aki}, the "
                f"sent certificate has key id {ski}): the {role} sends the wrong version of "
                f"{parsed[j].info.label}."
            )
        ctx.add(
            "bad_signature",
            "error",
            f"The signature on {ctx.who(cur)} does not verify with the key of its issuer "
            f"{parsed[j].info.label} (certificate #{j}): {why}.{key_note}",
            [cur, j],
        )


def _find_issuer_in_chain(
    ctx: _ChainContext, child: int, candidates: list[int], exclude: set[int]
) -> tuple[int | None, list[tuple[int, str]], list[int]]:
    """Pick the chain certificate that issued ``child``: (index, failed candidates, unverifiable ones)."""
    child_p = ctx.parsed[child]
    names = [j for j in candidates if j not in exclude and ctx.parsed[j].subject_key == child_p.issuer_key]
    # Prefer the certificate right after the child, then an AKI/SKI match.
    aki = child_p.info.authority_key_id
    names.sort(key=lambda j: (j != child + 1, not (aki and ctx.parsed[j].info.subject_key_id == aki), j))
    failed: list[tuple[int, str]] = []
    unknown: list[int] = []
    assert child_p.cert is not None
    for j in names:
        ok, why = _verify_pair(child_p, ctx.parsed[j])
        if ok is True:
            return j, failed, unknown
        if ok is None:
            unknown.append(j)
        else:
            failed.append((j, why))
    if unknown:
        return unknown[0], failed, unknown
    return None, failed, unknown
