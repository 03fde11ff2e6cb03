"""The text view's DTLS part: one block per DTLS association, failures first.

What a DTLS failure looks like from outside: an alert in clear (before the epoch change) with
its sender, read with the same alert model as TLS over TCP (diagnosis.alerts) and the server
chain's findings; an encrypted alert (its description hidden without keys); or a side that
resends its flight and gets no answer. Capture strings go out through render_lines
(report.safe.shown), cut to VALUE_LIMIT.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.report.safe import VALUE_LIMIT, shown

Line = tuple[str, str]

_MARKS = {"failed": ("✗", "bold red"), "established": ("✓", "bold green")}


def _head(a: Any, d: dict[str, Any]) -> Line:
    mark, style = _MARKS.get(d["outcome"], ("?", "bold yellow"))
    head = f"{mark} DTLS  {a.client} → {a.server}"
    if a.server_name:
        head += f"  {shown(a.server_name, VALUE_LIMIT)}"
    if d["version"]:
        head += f"  {d['version']}"
    if d["cipher"]:
        head += f"  {d['cipher']}"
    return head + f"  {d['outcome'].upper()}", style


def _steps(a: Any, d: dict[str, Any]) -> list[Line]:
    out: list[Line] = []
    if a.client_hello_sends > 1 and (a.failure is None or a.failure.kind != "no_answer"):
        out.append((f"    the client sent its ClientHello {a.client_hello_sends} times", "dim"))
    if a.hello_verify_request_frame is not None:
        out.append((f"    frame {a.hello_verify_request_frame}: the server asked for a cookie (HelloVerifyRequest); "
                    + ("the client sent its ClientHello again with it" if a.client_hellos > 1
                       else "the client did not come back with it"), "dim"))
    if a.hello_retry_request_frame is not None:
        out.append((f"    frame {a.hello_retry_request_frame}: the server sent a HelloRetryRequest", "dim"))
    certs = d.get("server_certificates") or []
    if a.server_certificate_frame is not None:
        leaf = certs[0] if certs else {}
        name = leaf.get("subject") or "?"
        out.append((f"    frame {a.server_certificate_frame}: server certificate {shown(name, VALUE_LIMIT)} "
                    f"({len(a.server_certificates)} in the chain)", ""))
    for f in d.get("chain_findings") or []:
        if f.get("severity") in ("error", "warning"):
            out.append((f"    chain ({f.get('role')}): {shown(f.get('text', ''), 2 * VALUE_LIMIT)}", "yellow"))
    return out


def _failure(a: Any) -> list[Line]:
    f = a.failure
    if f is None:
        if a.outcome() == "incomplete" and not a.messages:
            return [("    no handshake message in the capture: it starts after the handshake (only protected "
                     "records are seen)", "dim")]
        if a.outcome() == "incomplete":
            sent = a.datagrams
            return [(f"    no Finished from both sides and no alert (client sent {sent['client']} datagram(s), "
                     f"server {sent['server']}): the capture may start late, end early or see one direction", "dim")]
        return []
    out: list[Line] = []
    if f.kind == "alert":
        al = f.alert
        level = {1: "warning", 2: "fatal"}.get(al.level, str(al.level))
        out.append((f"    frame {f.frame}: the {f.sender} sent a {level} alert {al.to_dict()['name']} ({al.code}) "
                    f"in clear, at {f.phase.replace('_', ' ')}", "bold"))
    elif f.kind == "encrypted_alert":
        out.append((f"    frame {f.frame}: the {f.sender} sent an encrypted alert (epoch {f.alert.epoch}) before "
                    "the handshake completed", "bold"))
    elif f.kind == "icmp_error":
        n = next((x for x in a.path.icmp if x.frame == f.frame), None) if a.path is not None else None
        out.append((f"    frame {f.frame}: {n.name if n else 'an ICMP error'} answered the {f.sender}'s datagram", "bold"))
    else:
        what = "ClientHello" if f.sender == "client" and a.server_hello is None and not a.hello_verify_request_frame \
            else "flight"
        out.append((f"    frame {f.frame}: the {f.sender} sent its {what} {f.sends} times and got no answer", "bold"))
    diagnosis = a.diagnosis
    if diagnosis is not None:
        out.append((f"    cause: {diagnosis.title} ({diagnosis.cause}, {diagnosis.likelihood})", "yellow"))
        out.append(("    " + diagnosis.explanation, ""))
    return out


def dtls_block(a: Any, verbose: bool) -> list[Line]:
    d = a.to_dict()
    out: list[Line] = [("", ""), _head(a, d)]
    out += _steps(a, d)
    out += _failure(a)
    if verbose:
        fp = a.fingerprints or {}
        if fp.get("ja4"):
            out.append((f"    fingerprint JA4 {fp['ja4']}", "dim"))
        if fp.get("ja4s"):
            out.append((f"    fingerprint JA4S {fp['ja4s']}", "dim"))
        for m in d["messages"][:32]:
            out.append((f"    frame {m['frame']}: {m['sender']} {m['type']} (message_seq {m['message_seq']})", "dim"))
        for problem in a.problems[:5]:
            out.append((f"    note: {problem}", "dim"))
    return out


def dtls_lines(associations: list[Any], verbose: bool = False) -> list[Line]:
    """The DTLS part of the text view: a headline, then each association, failures first."""
    order = {"failed": 0, "incomplete": 1, "established": 2}
    counts: dict[str, int] = {}
    for a in associations:
        counts[a.outcome()] = counts.get(a.outcome(), 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 3)))
    out: list[Line] = [("", ""), (f"DTLS: {len(associations)} handshake(s) ({summary}), over UDP", "bold")]
    for a in sorted(associations, key=lambda a: (order.get(a.outcome(), 3), a.first_frame)):
        out += dtls_block(a, verbose)
    return out
