"""The text view's QUIC part: one block per QUIC handshake, failures first.

What a QUIC failure looks like from outside: a CONNECTION_CLOSE in an Initial packet (or, with
the key log, a Handshake packet). Its CRYPTO_ERROR (0x100 + a TLS alert) is read with the same
alert model as TLS over TCP, so "CRYPTO_ERROR 0x178" becomes no_application_protocol (120); the
diagnosis (diagnosis.quic) names the cause, what shows it and what to change. Capture strings go
out through render_lines (report.safe.shown).
"""

from __future__ import annotations

from typing import Any

from tlsdissect.diagnosis import alerts
from tlsdissect.diagnosis.quic import phase_of

Line = tuple[str, str]


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
        if close.late:
            text += " (late: after the server's HANDSHAKE_DONE, the handshake had completed)"
        out.append((text, "bold"))
        if q.diagnosis is None and close.tls_alert is not None:  # (run without the diagnosis)
            out.append(("    " + alerts.describe(close.tls_alert, close.sender, phase_of(q)), ""))
        elif q.diagnosis is None and close.tls_alert is None and not close.application_level:
            out.append(("    a QUIC transport error (RFC 9000 §20.1), not a TLS alert", "dim"))
    elif outcome == "incomplete" and q.diagnosis is None:
        sent = d["packets"]
        out.append((f"    no 1-RTT packets from both sides and no close the capture can read "
                    f"(client sent {_count(sent['client'])}, server sent {_count(sent['server'])}); a close at the "
                    "Handshake level is encrypted: a key log would show it", "dim"))
    if q.diagnosis is not None:
        out += _diagnosis_lines(q, q.diagnosis, outcome)
    if verbose:
        fp = q.fingerprints or {}
        if fp.get("ja4"):
            out.append((f"    fingerprints  JA4 {fp['ja4']}  JA4S {fp.get('ja4s') or '-'}", "dim"))
        for problem in q.problems[:5]:
            out.append((f"    note: {problem}", "dim"))
    return out


def _diagnosis_lines(q: Any, dg: Any, outcome: str) -> list[Line]:
    """The verdict, what shows it, what is hidden and what to change (diagnosis.quic)."""
    out: list[Line] = []
    if outcome == "established":
        return out  # (as a TCP connection that succeeded: the headline says it)
    out.append((f"    {dg.verdict}", "bold red" if outcome == "failed" else "bold yellow"))
    out.append((f"    {dg.explanation}", ""))
    close_frame = q.close.frame if q.close is not None else None
    for e in dg.evidence:
        if e.frames == [close_frame] and e.text.startswith("The ") and "closed the connection" in e.text:
            continue  # (the close line above says it)
        frames = f"frame {', '.join(str(x) for x in e.frames)}: " if e.frames else ""
        out.append((f"    {frames}{e.text}", "dim"))
    for h in dg.hidden:
        out.append((f"    hidden: {h}", "yellow"))
    if dg.remedy and outcome == "failed":
        out.append(("    what to change:", "bold"))
        out += [(f"      - {r}", "") for r in dg.remedy[:4]]
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
