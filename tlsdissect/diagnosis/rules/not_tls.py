"""Not TLS: plain HTTP to a TLS port, TLS to a plain-text server, or no TLS at all."""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.candidate import Candidate, candidate
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.framing.unwrapper import TITLES as FRAMING_TITLES
from tlsdissect.results.model import Connection


def _end(c: Connection) -> tuple[Optional[str], Optional[str]]:
    """(how, by whom) the connection ended."""
    close = c.tcp_close
    return (close.how if close else ("capture_ended" if c.partial else None)), (close.by if close else None)


def plaintext_http_client(f: Facts) -> Optional[Candidate]:
    """The client speaks plain HTTP where a ClientHello was due (not the HTTP upgrade that
    starts WebSocket frames, nor plain text inside them: no ClientHello was due there)."""
    if f.c.encapsulation is not None:
        return None
    client_plain = f.first_event("not_tls", "client")
    if client_plain is None or not client_plain.info.get("looks_like", "").startswith("HTTP"):
        return None
    c = f.c
    how, by = _end(c)
    server_plain = f.first_event("not_tls", "server")
    text = client_plain.info.get("first_bytes", "")[:40].split("\r")[0]
    evidence = [make_evidence(f"The client sends plain text, not a ClientHello: {text!r}.", [client_plain.frame])]
    conf = "likely"
    if server_plain is not None:
        sample = server_plain.info.get("first_bytes", "")
        evidence.append(make_evidence(f"The server answers in plain text: {sample[:40].splitlines()[0] if sample else ''!r}.",
                                      [server_plain.frame]))
        conf = "certain" if "HTTP/1." in sample else "likely"
    return candidate("not_tls", "plaintext_http_on_tls_port", conf, failure_point="client_hello",
                     aborted_by=by, how=how, evidence=evidence,
                     explanation=(f"The client spoke plain HTTP to {c.server}, a port that expects TLS; "
                                  "the server could not make sense of it and the exchange ended there."))


def plaintext_server(f: Facts) -> Optional[Candidate]:
    """The server answers in plain text while the client does not (outside any framing)."""
    if f.c.encapsulation is not None:
        return None
    server_plain = f.first_event("not_tls", "server")
    if server_plain is None or f.first_event("not_tls", "client") is not None:
        return None
    c = f.c
    how, by = _end(c)
    sample = server_plain.info.get("first_bytes", "")
    looks = server_plain.info.get("looks_like", "")
    line = f"The server answers in plain text ({looks}): {sample[:40].splitlines()[0] if sample else ''!r}."
    return candidate("not_tls", "tls_to_plaintext_server", "certain" if looks.startswith("HTTP") else "likely",
                     failure_point="client_hello", aborted_by=by or "server", how=how,
                     evidence=[make_evidence(line, [server_plain.frame])],
                     explanation=(f"The client started a TLS handshake with {c.server}, but the server on "
                                  f"that port speaks plain text ({looks}), not TLS."))


def not_tls(f: Facts) -> Candidate:
    """Anything else that carries no TLS (always applies: the family's last rule)."""
    c = f.c
    how, by = _end(c)
    what = c.not_tls or "no payload"
    if c.encapsulation is not None:
        inside = FRAMING_TITLES.get(c.encapsulation, c.encapsulation)
        lost = next((a for a in c.anomalies if a.info.get("name") == "encapsulation_lost"), None)
        if c.not_tls is None and lost is not None:  # (an encrypted control channel, damage)
            return candidate("not_tls", "not_tls", "likely", aborted_by=by, how=how,
                             evidence=[make_evidence(_sentence(str(lost.info.get("detail"))), [lost.frame])],
                             explanation=f"No TLS could be read inside {inside}.")
        what += f" inside {inside}"
    return candidate("not_tls", "not_tls", "certain", aborted_by=by, how=how,
                     explanation=f"This connection does not carry TLS (it looks like {what}).")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
