"""Which step of the handshake a connection was at: when a side gave up, or when it ended.

The step is read from what the aborting side had received from the other one (a client that
has the server's Certificate is judging it), not from the alert it sent.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.facts import Facts
from tlsdissect.results.model import Event


def phase_at(f: Facts, frame: int, sender: str) -> str:
    """Which step the aborting side was at: what it had received from the other side. (A
    capture cut after the ClientHello still has the server's answer to go by.)"""
    sh = f.has("server_hello", "server", frame) or f.has("hello_retry_request", "server", frame)
    if sh is None and f.has("client_hello", "client", frame) is None:
        return "client_hello"
    if f.c.established:
        return post_handshake_phase(f, frame)
    if sh is None:
        if sender == "client" and any(e.sender == "server" and e.frame <= frame for e in f.by_type.get("gap", ())):
            # The server's answer was there, but its bytes are missing from the capture (frames
            # cut short by the snap length, or lost): the client was judging that answer.
            return "server_certificate"
        return "client_hello"
    if sender == "client":
        # What the server sent last decides: its certificate, its key exchange, its Finished.
        peer_msgs = f.names("server", frame)
        if "certificate" in peer_msgs or (f.tls13 and f.protected("server", 0, frame)):
            return "server_certificate"
        if peer_msgs and peer_msgs[-1] in ("server_hello", "hello_retry_request"):
            return "server_hello"
        return "server_certificate" if "server_key_exchange" not in peer_msgs else "key_exchange"
    # The server aborts after the client's second flight.
    client_names = [e.info.get("message") for e in f.hs
                    if e.sender == "client" and sh.frame < e.frame <= frame]
    if client_names and client_names[-1] == "client_hello":
        return "client_hello"  # the second ClientHello, after a HelloRetryRequest
    if "certificate" in client_names or f.has("certificate_request", "server", frame) is not None:
        return "client_certificate"
    if "client_key_exchange" in client_names:
        return "key_exchange" if "finished" not in client_names else "finished"
    if f.tls13 and f.protected("client", sh.frame, frame):
        return "client_certificate"
    return "server_hello" if sender == "server" and not client_names else "finished"


def post_handshake_phase(f: Facts, frame: int) -> str:
    """After both Finished: a renegotiation (TLS <= 1.2), post-handshake auth (1.3), or data."""
    # The first handshake ends with the first application data (or, failing that, the
    # second Finished): handshake messages after that point are post-handshake.
    data = f.app_data()
    if data:
        last_fin = data[0].frame
    else:
        fin = [e for e in f.hs if e.info.get("message") == "finished"]
        if len(fin) < 2:
            return "renegotiation" if not f.tls13 and _renegotiated_before_data(f, frame) else "application_data"
        last_fin = fin[1].frame
    names = [e.info.get("message") for e in f.hs if last_fin < e.frame <= frame]
    if f.tls13:
        return "post_handshake_auth" if "certificate_request" in names else "application_data"
    if "hello_request" in names or "client_hello" in names:
        return "renegotiation"
    enc_hs = [e for e in f.enc if last_fin < e.frame <= frame and e.info.get("content_type") == "handshake"
              and f.after_app_data(e.frame)]
    if enc_hs:
        # Data flowing again after the renegotiation means it succeeded.
        last = enc_hs[-1].frame
        if any(last < e.frame < frame for e in data):
            return "application_data"
        return "renegotiation"
    return "application_data"


def renegotiation_start(f: Facts) -> Optional[Event]:
    """TLS <= 1.2: the first protected handshake record of a renegotiation, None if none: one
    after application data, or, before any, a side's second one (each side's first protected
    handshake record is its Finished). Its sender started the renegotiation (a server's
    HelloRequest, a client's ClientHello under the first keys)."""
    seen: set[str] = set()
    for e in f.enc:
        if e.info.get("content_type") != "handshake":
            continue
        if e.sender in seen or f.after_app_data(e.frame):
            return e
        seen.add(e.sender)
    return None


def _renegotiated_before_data(f: Facts, frame: int) -> bool:
    """Without data and without readable Finished messages: a renegotiation began by ``frame``."""
    start = renegotiation_start(f)
    return start is not None and start.frame <= frame


def hidden_alert_phase(f: Facts, frame: int, sender: str) -> str:
    """The step at an encrypted alert: after the handshake, which post-handshake step."""
    phase = phase_at(f, frame, sender)
    if f.c.established or phase in ("renegotiation", "application_data"):
        phase = post_handshake_phase(f, frame)
    return phase


def next_step(f: Facts) -> str:
    """The handshake step that was due when the capture ended."""
    names = {(e.sender, e.info.get("message")) for e in f.hs}
    if ("client", "client_hello") not in names or not (("server", "server_hello") in names or ("server", "hello_retry_request") in names):
        return "client_hello"
    if f.c.established:
        return "application_data"
    if f.tls13:
        return "finished"
    if ("client", "client_key_exchange") in names or f.first_event("change_cipher_spec", "client") is not None:
        return "finished"
    if ("server", "server_hello_done") in names:
        return "key_exchange"
    return "server_certificate"
