"""What a connection's outcome is: one place for the views (text, notebook, exit status, failures()).

Both functions read a results.model.Connection and its diagnosis by their fields only
(``outcome``, ``cause``): the model imports this module, and nothing from the diagnosis stage.
"""

from __future__ import annotations

from typing import Any


def outcome_of(conn: Any) -> str:
    if getattr(conn, "protocol", "tls") != "tls":  # a QUIC handshake or DTLS association: its own reading
        udp_outcome: str = conn.outcome()
        return udp_outcome
    diag = conn.diagnosis
    if diag is not None and getattr(diag, "outcome", None):
        if diag.outcome in ("established", "not_tls", "incomplete") and diag.cause not in ("ok", "not_tls", "unknown"):
            return "failed"  # e.g. a request refused after the handshake, TLS sent to a plain port
        outcome: str = diag.outcome
        return outcome
    if conn.established:
        return "established"
    if not conn.is_tls:
        starttls = getattr(conn, "starttls", None)
        return "failed" if starttls is not None and starttls.failed else "not_tls"
    if any(a.fatal for a in conn.alerts) or conn.tcp_close is not None:
        return "failed"
    return "incomplete"


def is_failure(conn: Any) -> bool:
    """Whether the exit status counts this connection as a failure: the same as the views'
    ``outcome == "failed"`` (one meaning of failed)."""
    return outcome_of(conn) == "failed"
