"""QUIC's own ways to stall before any TLS alert, read from a flow's path evidence
(quic.flows.QuicPath) and its handshake: address validation that never completes (Retry, RFC
9000 §8.1.2), a server stopped at its anti-amplification limit (RFC 9000 §8.1), Version
Negotiation with no version in common (RFC 9000 §6).

Each reading returns a diagnosis.udp_path.PathReading or None; diagnosis.quic orders them.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.diagnosis.udp_path import PathReading, _frames, sizes_line
from tlsdissect.quic.packets import version_name

AMPLIFICATION_FACTOR = 3  # RFC 9000 §8.1
INVALID_TOKEN = 0x0B  # RFC 9000 §20.1
# The server's bytes over the client's that count as "stopped at the limit": at least this
# share of the limit (a server whose flight ends well below it was not held back by it).
NEAR_LIMIT = 2.5


def retry_failed(q: Any) -> Optional[PathReading]:
    """The server sent a Retry and never accepted the client afterwards."""
    p = q.path
    if p is None or not getattr(p, "retry_frames", None) or q.server_hello is not None or q.handshake_progressed:
        return None
    first = p.retry_frames[0]
    evidence = [(f"The server answered with a Retry (token of {len(p.retry_token)} bytes).", [first])]
    if len(p.retry_frames) > 1:
        evidence.append((f"The server sent {len(p.retry_frames)} Retry packets for this connection; a client "
                         "accepts only the first (RFC 9000 §17.2.5.2).", p.retry_frames[1:]))
        text = (f"The server sent Retry {len(p.retry_frames)} times: it did not accept the token of its own "
                "first Retry, so the client's address is never validated and the handshake cannot start. "
                "Typically servers behind one address that do not share their token key.")
        return PathReading("quic_address_validation_failed", "likely", text, evidence, ["server_no_response"])
    close = q.close
    if close is not None and close.sender == "server" and close.error_code == INVALID_TOKEN:
        evidence.append((f"The client sent its Initial again with the Retry's token ({p.initials_with_token} time(s)); "
                         "the server closed with INVALID_TOKEN.", [close.frame]))
        text = ("The client returned the Retry's token and the server refused it (INVALID_TOKEN, RFC 9000 §8.1.3): "
                "the server that received the token is not the one that made it (servers behind one address that "
                "do not share their token key), or the client's address changed in between.")
        return PathReading("quic_address_validation_failed", "likely", text, evidence, ["tls_implementation_bug"])
    if p.initials_after_retry == 0:
        text = (f"The client sent no Initial after the server's Retry (frame {first}): it did not act on the Retry "
                "(a client that does not support address validation, or one that gave up).")
        return PathReading("quic_address_validation_failed", "possible", text, evidence, ["handshake_canceled"])
    tail = p.unanswered_tail("client")
    if p.initials_with_token < p.initials_after_retry:
        evidence.append((f"{p.initials_after_retry - p.initials_with_token} of the client's "
                         f"{p.initials_after_retry} Initial packets after the Retry lack its token.", []))
        text = ("The client's Initials after the Retry do not carry the Retry's token (RFC 9000 §17.2.5.2 requires "
                "it), so the server cannot validate the client's address.")
        return PathReading("quic_address_validation_failed", "likely", text, evidence, ["tls_implementation_bug"])
    if not tail:
        return None
    evidence.append((f"The client sent {p.initials_after_retry} Initial packet(s) with the Retry's token; nothing "
                     "came back.", _frames(tail)))
    text = (f"After the server's Retry (frame {first}) the client sent its Initial again with the token, "
            f"{len(tail)} time(s), and got no answer: the server that receives it does not accept the token "
            "(servers behind one address that do not share their token key, or a token bound to an address "
            "that changed).")
    return PathReading("quic_address_validation_failed", "likely", text, evidence, ["server_no_response"])


def amplification_stall(q: Any) -> Optional[PathReading]:
    """The server sent about three times what it had received from the client and then nothing,
    while the client went on sending unanswered: the client's later datagrams never reach it."""
    p = q.path
    if p is None or q.handshake_progressed or (q.close is not None and q.close.handshake_error):
        return None
    last_server = max((i for i, s in enumerate(p.log) if s.side == "server"), default=None)
    if last_server is None:
        return None
    received = sum(s.size for s in p.log[:last_server] if s.side == "client")
    sent = sum(s.size for s in p.log if s.side == "server")
    tail = p.unanswered_tail("client")
    if not received or len(tail) < 2 or not NEAR_LIMIT * received <= sent <= AMPLIFICATION_FACTOR * received * 1.01:
        return None
    server_frames = [s.frame for s in p.log if s.side == "server"]
    text = (f"The server sent {sent} bytes for the {received} bytes the client had sent: "
            f"{sent / received:.2f} times as much, at the limit of {AMPLIFICATION_FACTOR} times a QUIC server keeps "
            "to until it has validated the client's address (RFC 9000 §8.1), and then nothing, while the client "
            f"sent {len(tail)} more datagram(s): the client's later datagrams never reach the server, which waits "
            "with the rest of its first flight unsent.")
    return PathReading("amplification_limit_stall", "likely", text,
                       [(f"The server's datagrams: {sizes_line(p, 'server')}, {sent} bytes.", server_frames[:6]),
                        (f"The client's {len(tail)} datagram(s) after the server's last one, unanswered.",
                         _frames(tail))],
                       ["packets_dropped_on_path", "server_no_response"])


def no_common_version(q: Any) -> Optional[PathReading]:
    """The server's Version Negotiation lists none of the versions the client used, and no
    handshake followed."""
    if not q.version_negotiation or q.server_hello is not None:
        return None
    listed = ", ".join(version_name(v) for v in q.version_negotiation)
    tried = list(getattr(q.path, "client_versions", None) or ([q.version] if q.version is not None else []))
    common = [v for v in tried if v in q.version_negotiation]
    if common:
        return None  # (the server lists the client's version: not a lack of one in common)
    used = ", ".join(version_name(v) for v in tried) if tried else "a version this tool does not read"
    text = (f"The client offered QUIC {used}; the server answered with Version Negotiation listing {listed}: no "
            "QUIC version in common, and no handshake followed (RFC 9000 §6).")
    return PathReading("protocol_version_mismatch", "certain" if tried else "likely", text,
                       [(f"The server's Version Negotiation lists {listed}.",
                         [f for f in [getattr(q.path, "version_negotiation_frame", None)] if f is not None]),
                        (f"The client's Initial used {used}.", [q.first_frame])])
