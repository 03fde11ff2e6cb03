"""QUIC handshakes and DTLS associations in the terms of a TCP connection's row.

The DataFrame, ``--csv`` and ``--parquet`` have one row per connection (results.model
DATAFRAME_COLUMNS); a handshake over UDP gets a row with the same columns where they mean the
same thing (docs/schema.md, DataFrame): ``stream`` is Wireshark's ``udp.stream`` there, and the
``transport`` and ``protocol`` columns tell the rows apart. ``version`` is the TLS (or DTLS)
version the ServerHello chose, as for TCP; QUIC's own version is ``quic_version``. Registered
with the model (results.model.ROW_MAKERS) when imported, as the notebook views are.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.results.model import ROW_MAKERS, certificate_columns, starttls_columns
from tlsdissect.tls.handshake import message_name
from tlsdissect.tls.session import HISTORY_LETTERS, MAX_HISTORY
from tlsdissect.tls.tables import HANDSHAKE_TYPES, alert_name, cipher_name
from tlsdissect.tls.tables import version_name as tls_version_name

PSK_EXTENSION = 41  # pre_shared_key: a TLS 1.3 (QUIC, DTLS 1.3) ServerHello that resumes


def _resumed(ch: Any, sh: Any) -> bool:
    """The server resumed a session (docs/schema.md, Definitions, as for TCP): a pre_shared_key
    in its ServerHello, or (DTLS <= 1.2) the client's non-empty session id echoed."""
    if sh is None:
        return False
    if sh.ext(PSK_EXTENSION) is not None:
        return True
    return ch is not None and bool(sh.session_id) and sh.session_id == ch.session_id


# Handshake type names as the DTLS and QUIC stages write them (tls.handshake.message_name) -> code.
_TYPE_CODES = {message_name(code): code for code in HANDSHAKE_TYPES}


def _letter(name: str, client: bool) -> str:
    """Zeek's ssl_history letter of a handshake message named ``name`` (tls.tables' names)."""
    letter = "j" if name == "hello_retry_request" else HISTORY_LETTERS.get(_TYPE_CODES.get(name, -1), "z")
    return letter.upper() if client else letter


def ssl_history(h: Any) -> Optional[str]:
    """The handshake in Zeek's ssl_history letters (docs/schema.md, Definitions): for DTLS the
    handshake messages read, the ChangeCipherSpecs (I) and the alerts in clear (L), in frame
    order; for QUIC the hellos and, with the key log, the messages of the encrypted flights
    (QUIC has no ChangeCipherSpec and its alerts are CRYPTO_ERROR closes, not records)."""
    steps: list[tuple[int, int, str]] = []  # (frame, rank within the frame, letter)
    if h.protocol == "dtls":
        steps += [(m["frame"], 0, _letter(m["type"], m["sender"] == "client")) for m in h.messages]
        steps += [(f, 1, "I" if side == "client" else "i") for side, f in h.change_cipher_spec.items() if f is not None]
        steps += [(a.frame, 2, "L" if a.sender == "client" else "l") for a in h.alerts if a.code is not None]
    else:
        if h.client_hello_frame is not None:
            steps.append((h.client_hello_frame, 0, "C"))
        if h.server_hello_frame is not None:
            steps.append((h.server_hello_frame, 0, "s"))
        steps += [(frame, 1, _letter(name, sender == "client")) for sender, frame, name in h.handshake_messages]
    letters = "".join(letter for _, _, letter in sorted(steps, key=lambda s: (s[0], s[1])))
    return letters[:MAX_HISTORY] or None


def last_alert(h: Any) -> Optional[str]:
    """The name of the last readable TLS alert: a QUIC close's CRYPTO_ERROR, a DTLS alert in clear."""
    if h.protocol == "quic":
        close = h.close
        return alert_name(close.tls_alert) if close is not None and close.tls_alert is not None else None
    named = [a for a in h.alerts if a.code is not None]
    return alert_name(named[-1].code) if named else None


def negotiated_version(h: Any) -> Optional[str]:
    """The version the ServerHello chose: TLS 1.3 for QUIC (RFC 9001 §4.2), DTLSv1.x for DTLS."""
    if h.protocol == "dtls":
        version: Optional[str] = h.to_dict()["version"] if h.server_hello is not None else None
        return version
    return tls_version_name(h.server_hello.version) if h.server_hello is not None else None


def server_certificates(h: Any) -> list[dict[str, Any]]:
    """The server's certificates as the JSON gives them (QUIC: read with a key log)."""
    if h.protocol == "quic":
        return [c.to_dict() for c in h.chain.certificates] if h.chain is not None else []
    return list((h.certificates_json or {}).get("server_certificates") or [])


def handshake_row(h: Any, capture: str) -> dict[str, Any]:
    """A QUIC handshake's or DTLS association's DataFrame row (results.model.DATAFRAME_COLUMNS)."""
    diag = h.diagnosis
    outcome = h.outcome()
    fp = h.fingerprints or {}
    sh = h.server_hello
    alpn = h.alpn_selected if h.protocol == "quic" else h.alpn
    quic_version = None
    if h.protocol == "quic":
        quic_version = h.to_dict()["version"] if h.version is not None else None
    return {
        "capture": capture, "stream": h.stream if h.stream is not None else -1, "client": h.client,
        "server": h.server, "server_name": h.server_name, "version": negotiated_version(h),
        "cipher": cipher_name(sh.cipher_suite) if sh is not None else None, "alpn": alpn, "established": outcome == "established",
        "resumed": _resumed(h.client_hello, sh), "ssl_history": ssl_history(h), "last_alert": last_alert(h),
        "outcome": outcome, "cause": getattr(diag, "cause", None), "confidence": getattr(diag, "confidence", None),
        "aborted_by": getattr(diag, "aborted_by", None), "failure_point": getattr(diag, "failure_point", None),
        "start_time": h.start_time, "end_time": h.end_time, "duration": h.end_time - h.start_time,
        "first_frame": h.first_frame, **certificate_columns(server_certificates(h)),
        "ja3": fp.get("ja3"), "ja3s": fp.get("ja3s"), "ja4": fp.get("ja4"), "ja4s": fp.get("ja4s"),
        "transport": h.transport, "protocol": h.protocol, "quic_version": quic_version,
        **starttls_columns(None),
    }


ROW_MAKERS["udp"] = handshake_row


def connection_form(h: Any) -> dict[str, Any]:
    """A QUIC handshake or DTLS association as the fields of a connection's JSON that the Zeek
    logs read (report.zeek: ssl.log, x509.log), with the same meanings as for TCP."""
    d = h.to_dict()
    out: dict[str, Any] = {
        "transport": "udp", "protocol": h.protocol, "stream": h.stream, "client": h.client, "server": h.server,
        "start_time": d["start_time"], "end_time": d["end_time"], "server_name": h.server_name,
        "version": negotiated_version(h), "cipher": cipher_name(h.server_hello.cipher_suite) if h.server_hello else None,
        "resumed": _resumed(h.client_hello, h.server_hello),
        "alerts": [{"name": name}] if (name := last_alert(h)) else [],
        "alpn": h.alpn_selected if h.protocol == "quic" else h.alpn,
        "established": h.outcome() == "established", "ssl_history": ssl_history(h),
        "server_hello": d["server_hello"], "fingerprints": h.fingerprints, "outcome": h.outcome(),
        "diagnosis": {"cause": getattr(h.diagnosis, "cause", None)},
    }
    if h.protocol == "dtls" or h.chain is not None:
        out["server_certificates"] = server_certificates(h)
        out["chain_findings"] = d.get("chain_findings") or []
        out["trust"] = d.get("trust")
    if h.protocol == "dtls" and h.server_certificate_frame is None:
        del out["server_certificates"]  # (no Certificate message seen: Zeek leaves cert_chain_fps unset)
    if h.protocol == "dtls" and h.client_certificates:
        out["client_certificates"] = d.get("client_certificates") or []
    return out
