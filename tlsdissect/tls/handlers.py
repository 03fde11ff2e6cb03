"""What the session keeps of each handshake message: one handler per kept message type.

TlsSession.on_handshake records every message (timeline, ssl_history) and hands the types it
keeps something of to their handler here by one look-up in :data:`ON_MESSAGE`; the other types
are only parsed, for the error of a malformed one (:func:`parse_in_context`), or not at all
(:data:`NOT_PARSED`). A handler parses its message and writes what it says into the session:
the hellos, the negotiated version and suite (which change how the record layers read on),
certificates, the key exchange, the Finished frames; the ServerHello also starts decryption.

Functions of the session rather than a class of their own: they run once per message, and what
they write is the session's own state, read by the pipeline (pipeline.assemble) and by the
session's conclusions; an object in between would cost a hop on each of those reads.
"""

from __future__ import annotations

from typing import Any, Optional

from tlsdissect.directions import pair_with
from tlsdissect.errors import ParseError
from tlsdissect.results.listcaps import MAX_HANDSHAKE_TYPES
from tlsdissect.tls import handshake as hs
from tlsdissect.tls import tables
from tlsdissect.tls.decryption import decryption_of
from tlsdissect.tls.handshake import (CERTIFICATE, CERTIFICATE_REQUEST, CERTIFICATE_STATUS, CLIENT_HELLO,
                                      CLIENT_KEY_EXCHANGE, FINISHED, SERVER_HELLO, SERVER_KEY_EXCHANGE)
from tlsdissect.tls.recordevents import RecordEvent

# A session.TlsSession, typed loosely (the session imports this module): ``s`` below.
Session = Any

# Shared default of a per-direction pair of lists that most connections never write (the
# session's certificates and protected_log): a tuple replaced by lists of their own on first write.
EMPTY2: Any = ((), ())
# Parse contexts by (version, cipher suite): read-only, shared by the connections that negotiate
# the same pair (two per connection otherwise: before and after the ServerHello). Bounded: cleared
# when full.
_CONTEXTS_MAX = 1024
_CONTEXTS: dict[tuple[Optional[int], Optional[int]], hs.ParseContext] = {}
# Messages whose parse cannot fail and whose parsed form the session does not keep: not parsed.
NOT_PARSED = frozenset((hs.HELLO_REQUEST, hs.SERVER_HELLO_DONE, CLIENT_KEY_EXCHANGE, FINISHED, hs.END_OF_EARLY_DATA))


def _parse_hello(parse: Any, body: bytes, info: dict[str, Any]) -> Any:
    """A hello parsed (it needs no parse context), or None with the error in ``info``."""
    try:
        return parse(body)
    except ParseError as e:
        info["error"] = str(e)
        return None


def _context(s: Session) -> hs.ParseContext:
    """The parse context for the next message: one object per (version, suite), shared by
    every connection (parse_message only reads it)."""
    ctx: Optional[hs.ParseContext] = s.ctx
    if ctx is None or ctx.version != s.version or ctx.cipher_suite != s.cipher:
        key = (s.version, s.cipher)
        ctx = _CONTEXTS.get(key)
        if ctx is None:
            if len(_CONTEXTS) >= _CONTEXTS_MAX:
                _CONTEXTS.clear()
            ctx = _CONTEXTS[key] = hs.ParseContext(s.version, s.cipher)
        s.ctx = ctx
    return ctx


def parse_in_context(s: Session, t: int, body: bytes, info: dict[str, Any]) -> Any:
    """The message parsed in the current context, or None with the error in ``info``."""
    ctx: Optional[hs.ParseContext] = s.ctx
    if ctx is None or ctx.version != s.version or ctx.cipher_suite != s.cipher:
        ctx = _context(s)
    try:
        return hs.parse_message(t, body, ctx)
    except ParseError as e:
        info["error"] = str(e)
        return None


# Per kept message type (ON_MESSAGE): (s, d, frame, body, info) -> is it a HelloRetryRequest.
# A hello needs no parse context: its parser is called directly (what parse_message does).
def on_client_hello(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = _parse_hello(hs.parse_client_hello, body, info)
    if msg is None:
        return False
    facts = msg._known()  # (server name, highest version: one look-up for both)
    keep_client_hello(s, d, msg, facts[2])
    if facts[2]:
        info["server_name"] = facts[2]
    top = facts[4]  # (ClientHello.max_version, from the facts at hand)
    info["max_version"] = tables.version_name(msg.legacy_version if top is None else top)
    info["cipher_suites"] = len(msg.cipher_suites)
    if msg.malformed:
        info["malformed"] = msg.malformed
    return False


def on_server_hello(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = _parse_hello(hs.parse_server_hello, body, info)
    if msg is None:
        return False
    if s.client_dir_hint is None:
        s.client_dir_hint = 1 - d
    version = msg.version
    if msg.is_hello_retry_request:
        s.hrr = msg
        info["message"] = "hello_retry_request"
        info["hello_retry_request"] = True
        ks = msg.ext(51)
        decoded = ks.decoded if ks else None  # (read once: a shared extension's is a copy)
        if decoded:
            info["selected_group"] = decoded.get("group_name")
        set_version(s, version)
        return True
    s.server_hellos_seen += 1
    s.latest_server_hello = msg
    if s.server_hello is None:
        s.server_hello = msg
        s.server_hello_dir = d
    elif s.keylog is not None and not s.tls13:
        decryption_of(s).renegotiated()  # new keys at the next CCS
    set_version(s, version)
    s.cipher = msg.cipher_suite
    info["version"] = tables.version_name(version)
    info["cipher"] = tables.cipher_name(msg.cipher_suite)
    if msg.malformed:
        info["malformed"] = msg.malformed
    if s.keylog is not None:
        decryption_of(s).server_hello(s, d, msg)
    return False


def on_certificate(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = parse_in_context(s, CERTIFICATE, body, info)
    if msg is not None:
        certs = s.certificates
        if certs is EMPTY2:
            certs = s.certificates = ([], [])
        if not certs[d]:  # (only each side's first is reported: later ones are not kept)
            certs[d].append(msg)
        info["certificates"] = len(msg.entries)
        if msg.tls13 and s.certificate_status is None and msg.entries and msg.entries[0].extensions \
                and any(e.type == 5 for e in msg.entries[0].extensions) and d == s.server_hello_dir:
            s.certificate_status = hs.tls13_leaf_status(body)  # the server's stapled OCSP response
    return False


def on_certificate_request(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = parse_in_context(s, CERTIFICATE_REQUEST, body, info)
    if msg is not None:
        s.certificate_request = msg
        info["certificate_authorities"] = len(msg.certificate_authorities)
    return False


def on_server_key_exchange(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = parse_in_context(s, SERVER_KEY_EXCHANGE, body, info)
    if msg is not None:
        s.server_key_exchange = msg
        if msg.signature_length:
            sh = s.latest_server_hello
            ch = s.client_hellos[-1][1] if s.client_hellos else None
            s.server_key_exchange_signed = (ch.random if ch is not None else b"",
                                            sh.random if sh is not None else b"", bytes(body))
        else:
            s.server_key_exchange_signed = None
        if msg.named_group is not None:
            info["group"] = tables.name_of(tables.SUPPORTED_GROUPS, msg.named_group)
        if msg.dh_prime_bits:
            info["dh_bits"] = msg.dh_prime_bits
    return False


def on_certificate_status(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    msg = parse_in_context(s, CERTIFICATE_STATUS, body, info)
    if msg is not None:
        s.certificate_status = msg
    return False


def on_client_key_exchange(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    s.client_key_exchange_body = body
    return False


def on_finished(s: Session, d: int, frame: int, body: bytes, info: dict[str, Any]) -> bool:
    if s.finished[d] is None:
        s.finished = pair_with(s.finished, d, frame)
    return False


def keep_client_hello(s: Session, d: int, msg: Any, server_name: Optional[str]) -> None:
    """Record a ClientHello and its server name (a property: the caller reads it once)."""
    hellos = s.client_hellos
    if len(hellos) < 2:
        hellos.append((d, msg))
    else:  # the first (what is reported) and the latest (whose random decryption needs) only
        hellos[1] = (d, msg)
    if s.client_dir_hint is None:
        s.client_dir_hint = d
    if len(s.client_hellos) == 1:
        s.server_name = server_name


def set_version(s: Session, version: int) -> None:
    """The negotiated version, which decides how both directions read their next records."""
    s.version = version
    for layer in s.layers:
        layer.version_known = True
    if version == 0x0304 or (version >> 8) == 0x7F or (version >> 8) == 0xFB:
        for layer in s.layers:
            layer.tls13 = True  # CCS no longer switches; content type 23 is protected


def on_sslv2_hello(s: Session, d: int, ev: RecordEvent) -> None:
    """An SSLv2-format hello ("sslv2_client_hello" or "sslv2_server_hello" event)."""
    try:
        if ev.kind == "sslv2_client_hello":
            msg = hs.parse_sslv2_client_hello(ev.body)
            keep_client_hello(s, d, msg, msg.server_name)
            s.note(d, "c")
            s.add_event((d, ev.frame, ev.time, "handshake",
                               {"message": "client_hello", "code": 1, "length": ev.length,
                                "encrypted": False, "sslv2_format": True,
                                "max_version": tables.version_name(msg.legacy_version)}))
            if len(s.handshake_messages[d]) < MAX_HANDSHAKE_TYPES:
                s.handshake_messages[d].append(1)
        else:
            sh = hs.parse_sslv2_server_hello(ev.body)
            s.sslv2_server_hello = sh
            s.layers[1 - d].to_sslv2()  # the client goes on in SSLv2 records
            s.version = 0x0002
            if s.client_dir_hint is None:
                s.client_dir_hint = 1 - d
            s.note(d, "s")
            s.add_event((d, ev.frame, ev.time, "handshake",
                               {"message": "server_hello", "code": 4, "length": ev.length,
                                "encrypted": False, "sslv2": True}))
    except ParseError as e:
        s.add_anomaly((d, ev.frame, ev.time, "anomaly", {"name": "malformed_sslv2_message", "detail": str(e)}))


# Handshake message types the session keeps something of, by type: their handler (on_handshake).
ON_MESSAGE: dict[int, Any] = {
    CLIENT_HELLO: on_client_hello,
    SERVER_HELLO: on_server_hello,
    CERTIFICATE: on_certificate,
    CERTIFICATE_REQUEST: on_certificate_request,
    SERVER_KEY_EXCHANGE: on_server_key_exchange,
    CERTIFICATE_STATUS: on_certificate_status,
    CLIENT_KEY_EXCHANGE: on_client_key_exchange,
    FINISHED: on_finished,
}
