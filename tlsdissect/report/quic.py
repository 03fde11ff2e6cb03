"""The text view's QUIC part: one block per QUIC handshake, failures first.

What a QUIC failure looks like from outside: a CONNECTION_CLOSE in an Initial packet. Its
CRYPTO_ERROR (0x100 + a TLS alert) is read with the same alert model as TLS over TCP
(diagnosis.alerts), so "CRYPTO_ERROR 0x178" becomes no_application_protocol (120) with what it
means and its likely causes. Capture strings go out through render_lines (report.safe.shown).
"""

from __future__ import annotations

from typing import Any

from tlsdissect.diagnosis import alerts

Line = tuple[str, str]

# What the reason phrase of a CONNECTION_CLOSE says, when a stack puts its certificate
# verification error there (aioquic and others pass OpenSSL's verify strings): phrase -> reading.
REASON_HINTS: tuple[tuple[str, str], ...] = (
    ("unable to get local issuer", "the client could not build a chain to a root it trusts: the server's root "
                                   "is not in the client's trust store, or the server does not send its "
                                   "intermediate CA certificate"),
    ("self signed", "the server's certificate (or its root) is self-signed and not trusted by the client"),
    ("certificate has expired", "the server's certificate has expired"),
    ("not yet valid", "the server's certificate is not valid yet (check the clocks)"),
    ("hostname", "the server's certificate does not cover the name the client asked for"),
    ("no common alpn", "no application protocol (ALPN) in common"),
)


def _phase(q: Any) -> str:
    """The handshake phase a close interrupts: before the ServerHello; after the server's
    Handshake packets (its encrypted certificate flight) reached the client; or in between."""
    if q.server_hello is None:
        return "client_hello"
    if q.close is not None and q.close.sender == "client" and q.packets["server"].get("handshake"):
        return "server_certificate"
    return "server_hello"


def _offered_alpn(q: Any) -> list[str]:
    ch = q.client_hello
    ext = ch.ext(16) if ch is not None else None
    decoded = ext.decoded if ext is not None else None
    names = decoded.get("protocols") if decoded else None
    return [str(n) for n in names] if isinstance(names, list) else []


def quic_block(q: Any, verbose: bool) -> list[Line]:
    outcome = q.outcome()
    mark, style = {"failed": ("✗", "bold red"), "established": ("✓", "bold green")}.get(outcome, ("?", "bold yellow"))
    d = q.to_dict()
    head = f"{mark} QUIC  {q.client} → {q.server}"
    if q.server_name:
        head += f"  {q.server_name}"
    if d["version"]:
        head += f"  {d['version']}"
    out: list[Line] = [("", ""), (head + f"  {outcome.upper()}", style)]
    if q.version_negotiation:
        out.append((f"    the server answered with Version Negotiation: it supports "
                    f"{', '.join(d['version_negotiation'])}", "yellow"))
    if q.retry_frame is not None:
        out.append((f"    frame {q.retry_frame}: the server sent a Retry (address validation); the client "
                    "retried with a new connection ID", "dim"))
    close = q.close
    if close is not None:
        text = f"    frame {close.frame}: the {close.sender} closed the connection: {close.error_name}"
        if close.tls_alert is not None:
            text += f" = TLS alert {alerts.alert_name(close.tls_alert)} ({close.tls_alert})"
        if close.reason:
            text += f', reason "{close.reason}"'
        out.append((text, "bold"))
        hint = next((reading for phrase, reading in REASON_HINTS if phrase in close.reason.lower()), None)
        if hint:
            out.append((f"    the reason phrase says: {hint}", "yellow"))
        if close.tls_alert is not None:
            out.append(("    " + alerts.describe(close.tls_alert, close.sender, _phase(q)), ""))
            offered = _offered_alpn(q)
            if close.tls_alert == 120 and offered:
                out.append((f"    the client offered ALPN {', '.join(offered)}: the server speaks none of them "
                            "(HTTP/3 needs h3 on both sides)", "yellow"))
        elif not close.application:
            out.append(("    a QUIC transport error (RFC 9000 §20.1), not a TLS alert", "dim"))
    elif outcome == "incomplete":
        sent = d["packets"]
        out.append((f"    no 1-RTT packets from both sides and no close the capture can read "
                    f"(client sent {_count(sent['client'])}, server sent {_count(sent['server'])}); a close at the "
                    "Handshake level is encrypted: a key log would show it", "dim"))
    if verbose:
        fp = q.fingerprints or {}
        if fp.get("ja4"):
            out.append((f"    fingerprints  JA4 {fp['ja4']}  JA4S {fp.get('ja4s') or '-'}", "dim"))
        for problem in q.problems[:5]:
            out.append((f"    note: {problem}", "dim"))
    return out


def _count(packets: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in packets.items()) or "nothing"


def quic_lines(handshakes: list[Any], verbose: bool = False) -> list[Line]:
    """The QUIC part of the text view: a headline, then each handshake, failures first."""
    order = {"failed": 0, "incomplete": 1, "established": 2}
    counts: dict[str, int] = {}
    for q in handshakes:
        counts[q.outcome()] = counts.get(q.outcome(), 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 3)))
    out: list[Line] = [("", ""), (f"QUIC: {len(handshakes)} handshake(s) ({summary}), read from their Initial "
                                  "packets", "bold")]
    for q in sorted(handshakes, key=lambda q: (order.get(q.outcome(), 3), q.first_frame)):
        out += quic_block(q, verbose)
    return out
