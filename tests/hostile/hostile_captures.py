"""Captures an attacker wrote: TLS connections built field by field (struct), whose server names,
certificate names, ALPN strings and plain-text lines carry terminal escapes, newlines that forge a
line of our output, bidi overrides, shell syntax and sheer length.

Each scenario is one TCP conversation; :func:`hostile_pcap` puts them all in one capture (one
stream each, in the order of ``SCENARIOS``) so a test runs the CLI once per view. The strings
are kept here as the truth the JSON must still hold exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from tests.certs_factory import build
from tests.segmenting import Close, Conversation, Flight, build_pcap

# What an attacker puts in a string. "FAKE" marks text that must never start a line.
ESCAPES = "\x1b]0;pwned title\x07\x1b[2J\x1b[H\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"
FORGED_LINE = "\nFAKE: Handshake OK\r\nFAKE stream 9  ESTABLISHED"
BIDI = "\u202egnp.exe\u202c\u2066x\u2069\u200e\u200f\u061c"
C1 = "\x85\x9b2J\x9d0;title\x9c"
MARKUP = "[bold red]FAKE[/bold red] :thumbs_up: [link=https://evil.example]x[/link]"

# Server names (the SNI is ASCII on the wire: tlsdissect decodes it as ASCII, so no C1 or bidi).
SNI_SHELL = "a.example;touch pwned;#"
SNI_SUBST = "$(id>pwned)`id`.example"
SNI_TERMINAL = "www.example" + ESCAPES + FORGED_LINE + "\x7f\x00\x08"
SNI_MARKUP = "x.example" + MARKUP
SNI_LONG = "a" * 5000 + ".example" + "\x1b[2J"
SNI_VALID = "www.lab.test"

CERT_NAME = "evil" + ESCAPES + BIDI + C1 + FORGED_LINE + MARKUP
CERT_CN = "evil\x1b[2J\u202egnp.exe\x9b2J\nFAKE: Handshake OK"  # a CN has at most 64 characters
ALPN = "h2" + ESCAPES + FORGED_LINE
HTTP_REQUEST = ("GET /" + ESCAPES + " HTTP/1.1\r\nHost: " + "x" * 30 + "\r\n\r\n").encode("latin-1")
HTTP_ANSWER = ("HTTP/1.1 400 " + C1 + ESCAPES + FORGED_LINE + "\r\n\r\n").encode("latin-1")

ALERT_UNRECOGNIZED_NAME = 112
ALERT_BAD_CERTIFICATE = 42
ALERT_HANDSHAKE_FAILURE = 40


def record(content_type: int, payload: bytes) -> bytes:
    """A TLSPlaintext record (RFC 5246 6.2.1): type, version, 16-bit length."""
    return struct.pack("!BHH", content_type, 0x0303, len(payload)) + payload


def handshake(msg_type: int, body: bytes) -> bytes:
    return record(22, bytes([msg_type]) + len(body).to_bytes(3, "big") + body)


def _vec(width: int, data: bytes) -> bytes:
    return len(data).to_bytes(width, "big") + data


def _extension(ext_type: int, body: bytes) -> bytes:
    return struct.pack("!H", ext_type) + _vec(2, body)


def _alpn(protocols: list[str]) -> bytes:
    return _extension(16, _vec(2, b"".join(_vec(1, p.encode("utf-8")) for p in protocols)))


def client_hello(server_name: str, alpn: list[str] | None = None) -> bytes:
    """A TLS 1.2 ClientHello (RFC 5246 7.4.1.2) with server_name (RFC 6066 3) and ALPN (RFC 7301)."""
    exts = _extension(0, _vec(2, b"\x00" + _vec(2, server_name.encode("ascii"))))
    if alpn:
        exts += _alpn(alpn)
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + _vec(2, b"\xc0\x2f\x00\x2f") + b"\x01\x00" + _vec(2, exts)
    return handshake(1, body)


def server_hello(alpn: str | None = None) -> bytes:
    exts = _alpn([alpn]) if alpn else b""
    body = b"\x03\x03" + bytes(range(32, 64)) + b"\x00" + b"\xc0\x2f" + b"\x00" + (_vec(2, exts) if exts else b"")
    return handshake(2, body)


def certificate(ders: list[bytes]) -> bytes:
    return handshake(11, _vec(3, b"".join(_vec(3, d) for d in ders)))


def alert(description: int) -> bytes:
    return record(21, bytes([2, description]))


def hostile_certificate() -> bytes:
    """A leaf whose subject (CN and O) and whose SAN carry the hostile text: UTF8String holds any
    character; a dNSName must be ASCII, so it gets the escapes and the forged line."""
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, CERT_NAME),
                         x509.NameAttribute(NameOID.COMMON_NAME, CERT_CN)])
    issued = build(None, subject=subject, dns=["san" + ESCAPES + FORGED_LINE + ".example", "www.other.test"])
    return issued.cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class Scenario:
    """One hostile connection: what it tests and the flights that make it."""

    name: str
    flights: Callable[[], list[Flight | Close]]
    server_name: str | None = None  # what the JSON's server_name must be


def _refused_name(sni: str) -> Callable[[], list[Flight | Close]]:
    """The server refuses the name (unrecognized_name): the explanation quotes the SNI, and the
    check command would carry it."""
    return lambda: [Flight(0, client_hello(sni)), Flight(1, alert(ALERT_UNRECOGNIZED_NAME)), Close(1, "fin")]


def _bad_certificate() -> list[Flight | Close]:
    """The client rejects a certificate whose names are hostile: the evidence quotes them."""
    return [Flight(0, client_hello(SNI_VALID)),
            Flight(1, server_hello() + certificate([hostile_certificate()]) + handshake(14, b"")),
            Flight(0, alert(ALERT_BAD_CERTIFICATE)), Close(0, "fin")]


def _hostile_alpn() -> list[Flight | Close]:
    """The server picks a hostile ALPN protocol (shown on the connection's first line), then fails."""
    return [Flight(0, client_hello(SNI_VALID, alpn=[ALPN, "http/1.1"])),
            Flight(1, server_hello(alpn=ALPN) + handshake(14, b"")),
            Flight(0, alert(ALERT_HANDSHAKE_FAILURE)), Close(0, "fin")]


def _http_to_tls_port() -> list[Flight | Close]:
    return [Flight(0, HTTP_REQUEST), Flight(1, HTTP_ANSWER), Close(1, "fin")]


def _tls_to_plain_server() -> list[Flight | Close]:
    return [Flight(0, client_hello(SNI_VALID)), Flight(1, HTTP_ANSWER), Close(1, "fin")]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("sni_shell", _refused_name(SNI_SHELL), SNI_SHELL),
    Scenario("sni_substitution", _refused_name(SNI_SUBST), SNI_SUBST),
    Scenario("sni_terminal", _refused_name(SNI_TERMINAL), SNI_TERMINAL),
    Scenario("sni_markup", _refused_name(SNI_MARKUP), SNI_MARKUP),
    Scenario("sni_long", _refused_name(SNI_LONG), SNI_LONG),
    Scenario("sni_valid", _refused_name(SNI_VALID), SNI_VALID),
    Scenario("certificate_names", _bad_certificate, SNI_VALID),
    Scenario("alpn", _hostile_alpn, SNI_VALID),
    Scenario("http_to_tls_port", _http_to_tls_port),
    Scenario("tls_to_plain_server", _tls_to_plain_server, SNI_VALID),
)


def hostile_pcap(scenarios: tuple[Scenario, ...] = SCENARIOS) -> bytes:
    """One capture, one TCP conversation per scenario (stream i is scenarios[i]), one after the other."""
    parts: list[bytes] = []
    for i, scenario in enumerate(scenarios):
        conv = Conversation(ports=(40000 + i, 443), isn=[1000 + i, 5000 + i], items=scenario.flights())
        pcap = build_pcap(conv)
        parts.append(pcap if i == 0 else pcap[_PCAP_HEADER_SIZE:])
    return _retimed(b"".join(parts))


_PCAP_HEADER_SIZE = 24


def _retimed(pcap: bytes) -> bytes:
    """Every record's timestamp rewritten to rise by 100 µs from the first: each conversation
    was built from the same start time."""
    out = bytearray(pcap)
    pos, usec = _PCAP_HEADER_SIZE, 1_700_000_000 * 1_000_000
    while pos < len(out):
        caplen = struct.unpack_from("<I", out, pos + 8)[0]
        struct.pack_into("<II", out, pos, usec // 1_000_000, usec % 1_000_000)
        usec += 100
        pos += 16 + caplen
    return bytes(out)

