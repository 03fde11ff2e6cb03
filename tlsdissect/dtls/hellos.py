"""The DTLS forms of the hello messages, read with the TLS stage's parsers.

A DTLS ClientHello is a TLS ClientHello with a ``cookie`` (opaque<0..255>) after the session_id
(RFC 6347 §4.2.1; kept as legacy_cookie in DTLS 1.3, RFC 9147 §5.3): without it, the body is a
TLS ClientHello. A HelloVerifyRequest is server_version (2) and the cookie. ServerHello and
Certificate are as in TLS.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsdissect.errors import ParseError
from tlsdissect.tls.handshake import ClientHello, parse_client_hello


@dataclass(frozen=True, slots=True)
class HelloVerifyRequest:
    server_version: int
    cookie: bytes


def split_cookie(body: bytes) -> tuple[bytes, bytes]:
    """(the body as a TLS ClientHello, the cookie) of a DTLS ClientHello body."""
    if len(body) < 35:
        raise ParseError(f"DTLS ClientHello: {len(body)} bytes, shorter than version, random and session_id")
    sid_end = 35 + body[34]
    if sid_end >= len(body):
        raise ParseError("DTLS ClientHello: cut short before its cookie")
    cookie_end = sid_end + 1 + body[sid_end]
    if cookie_end > len(body):
        raise ParseError(f"DTLS ClientHello: a cookie of {body[sid_end]} bytes runs past the message")
    return body[:sid_end] + body[cookie_end:], body[sid_end + 1:cookie_end]


def parse_dtls_client_hello(body: bytes) -> tuple[ClientHello, bytes]:
    """The ClientHello (parsed by the TLS stage) and its cookie."""
    tls_body, cookie = split_cookie(body)
    return parse_client_hello(tls_body), cookie


def parse_hello_verify_request(body: bytes) -> HelloVerifyRequest:
    if len(body) < 3 or 3 + body[2] > len(body):
        raise ParseError(f"HelloVerifyRequest: {len(body)} bytes do not hold a version and its cookie")
    return HelloVerifyRequest((body[0] << 8) | body[1], body[3:3 + body[2]])
