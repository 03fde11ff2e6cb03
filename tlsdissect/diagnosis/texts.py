"""The diagnosis's sentences that depend only on values real traffic repeats, remembered.

Bounded memo tables (cleared when full) for text that depends only on values real traffic
repeats: the versions a client offers (and the name it asks for), the CA list a server
requests, the server (and name) a failure's check command is for, an alert, a shared chain
analysis. Never keyed on whole hellos or randoms.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from tlsdissect.diagnosis.causes import suggested_check
from tlsdissect.results.model import Alert
from tlsdissect.tls import tables

_MEMO_MAX = 2048
_offer_texts: dict[tuple[tuple[int, ...], int], str] = {}
_hello_texts: dict[tuple[Any, ...], str] = {}  # (server name, suite count, *offered versions)
_ca_names: dict[tuple[bytes, ...], tuple[tuple[str, ...], str]] = {}
_checks: dict[tuple[str, str, str, str], tuple[Optional[str], Optional[str]]] = {}
_alert_texts: dict[tuple[Any, ...], str] = {}  # (sender, level, code, name, encrypted, length)
_chain_evidence: dict[int, tuple[Any, tuple[str, ...]]] = {}  # id(analysis) -> (analysis, texts)


def _memo_put(table: dict[Any, Any], key: Any, value: Any) -> Any:
    if len(table) >= _MEMO_MAX:
        table.clear()
    table[key] = value
    return value


def _offer_text(offered: Sequence[int], suites: int) -> str:
    """' offers TLSv1.3, TLSv1.2 and 17 cipher suites.' for a ClientHello (GREASE left out)."""
    key = (tuple(offered), suites)
    text = _offer_texts.get(key)
    if text is None:
        names = [tables.version_name(v) for v in offered if not tables.is_grease(v)]
        text = _memo_put(_offer_texts, key, f" offers {', '.join(names)} and {suites} cipher suites.")
    return text


def hello_text(sni: Optional[str], offered: Sequence[int], suites: int) -> str:
    """'ClientHello for www.example.com offers TLSv1.3, TLSv1.2 and 17 cipher suites.'"""
    key = (sni, suites, *offered)
    text = _hello_texts.get(key)
    if text is None:
        text = _memo_put(_hello_texts, key, ("ClientHello for " + sni if sni else "ClientHello without SNI")
                         + _offer_text(offered, suites))
    return text


def requested_cas(ders: list[bytes]) -> tuple[tuple[str, ...], str]:
    """A CertificateRequest's CA names and the evidence sentence about them, memoised on the
    DER names: a server sends the same list on every connection (decoding them is costly)."""
    try:
        hit = _ca_names.get(key := tuple(ders))
    except TypeError:  # unhashable (not bytes): decode without the memo
        hit = key = None
    if hit is None:
        from tlsdissect.x509.names import decode_distinguished_names

        names = tuple(decode_distinguished_names(ders))
        text = ("The server's CertificateRequest accepts certificates issued by: " + "; ".join(names) + "."
                if names else "The server requests a client certificate.")
        hit = (names, text)
        if key is not None:
            _memo_put(_ca_names, key, hit)
    return hit


def _alert_text(a: Alert) -> str:
    code = a.code
    if code is None:
        return f"The {a.sender} sends an encrypted alert record ({a.length} bytes); its content is hidden without keys."
    if a.encrypted:
        return f"The {a.sender} sends a {a.level} alert {a.name} ({a.hex}) (decrypted with the key log)."
    # The record as on the wire: type 21 (alert), the record's version (not kept: named, not
    # quoted), length 2, then the alert's level and description.
    return (f"The {a.sender} sends a {a.level} alert {a.name} ({a.hex}); record bytes "
            f"15 [version] 00 02 | {1 if a.level == 'warning' else 2:02x} {code:02x} (type, version, length | level, "
            "description).")


def alert_text(a: Alert) -> str:
    """The evidence sentence for an alert (remembered in _alert_texts by what it quotes)."""
    key = (a.sender, a.level, a.code, a.name, a.encrypted, a.length)
    text = _alert_texts.get(key)
    if text is None:
        text = _memo_put(_alert_texts, key, _alert_text(a))
    return text


def chain_texts(chain: Any) -> tuple[str, ...]:
    """The server chain's evidence sentences: what its Certificate message carries, then its
    errors and warnings (remembered in _chain_evidence per analysis: cached analyses are shared)."""
    hit = _chain_evidence.get(id(chain))
    if hit is not None and hit[0] is chain:
        return hit[1]
    certs = chain.certificates
    names = " → ".join(ci.label for ci in certs)
    texts = (f"The server's Certificate message carries {len(certs)} certificate(s): {names}.",
             *[f.text for f in chain.findings if f.severity in ("error", "warning") or f.id in ("root_included",)])
    _memo_put(_chain_evidence, id(chain), (chain, texts))  # (the entry holds the chain: its id stays its own)
    return texts


def check_for(cause: str, server: str, sni: str, starttls: str = "smtp") -> tuple[Optional[str], Optional[str]]:
    """(command, why withheld): the cause's check command filled in for the server
    ("host:port", IPv6 in brackets), name and plain-text protocol (a STARTTLS cause's), or why
    it is withheld, remembered."""
    key = (cause, server, sni, starttls)
    found = _checks.get(key)
    if found is None:
        host, _, port = server.rpartition(":")
        found = _memo_put(_checks, key, suggested_check(cause, host.strip("[]"), port, sni, starttls))
    return found


def earlier_attempt_text(stream: int, max_version: str, ended: str, fallback_scsv: bool) -> str:
    """The evidence line that links a retry at a lower version to the attempt before it (rare:
    not memoised)."""
    return (f"Stream {stream} was this client's earlier attempt at the same server and name, offering up to "
            f"{max_version}; it ended: {ended} This connection retries at a lower version"
            + (" with TLS_FALLBACK_SCSV" if fallback_scsv else "") + ": why stream "
            f"{stream} failed is the real cause (tcp.stream eq {stream}).")
