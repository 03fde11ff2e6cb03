"""Whether a TLS-inspection product issued the chain (x509.interception's table of CA names)."""

from __future__ import annotations

from tlsdissect.x509.checks.path import IssuerPath
from tlsdissect.x509.findings import _ChainContext
from tlsdissect.x509.interception import interceptor_on_path

_KIND_TEXT = {
    "gateway": "a secure web gateway or firewall that decrypts traffic",
    "antivirus": "an antivirus web shield on the client's machine",
    "debugging proxy": "a debugging proxy",
}


def intercepted(ctx: _ChainContext, path: IssuerPath) -> None:
    """``tls_interception``: a certificate on the server's path was issued by an interception
    product's CA, so the client was talking to that product, not to the server."""
    if ctx.role != "server":
        return
    found = interceptor_on_path([ctx.parsed[i].info for i in path.indexes])
    if found is None:
        return
    product, at = found
    index = path.indexes[at]
    info = ctx.parsed[index].info
    ctx.add(
        "tls_interception",
        "warning",
        f"{ctx.who(index)[:1].upper()}{ctx.who(index)[1:]} was issued by {info.issuer_label}, the CA of {product.product} "
        f"({_KIND_TEXT.get(product.kind, product.kind)}): the connection was intercepted and re-signed, and only "
        "clients that trust that CA accept it.",
        [index],
    )
