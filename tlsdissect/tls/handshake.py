"""Handshake messages as typed objects.

``parse_message(msg_type, body, ctx)`` turns the body of one reassembled handshake message
into a dataclass. Malformed bodies raise :class:`~tlsdissect.errors.ParseError` with what was
wrong; the caller keeps the raw message either way. Parsing never trusts a length field: every
read is bounds-checked by :class:`Cursor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Optional

from tlsdissect.tls import tables
from tlsdissect.errors import ParseError
from tlsdissect.tls.cursor import Cursor
from tlsdissect.tls.jsonforms import certificate_request_dict, hello_dict
from tlsdissect.tls.extensions import Extension, parse_extension_block, parse_extensions

# The fixed ServerHello.random that marks a HelloRetryRequest (RFC 8446, 4.1.3).
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# The last 8 bytes of ServerHello.random that signal a TLS 1.3 server was downgraded.
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")
DOWNGRADE_TLS11 = bytes.fromhex("444f574e47524400")

HELLO_REQUEST = 0
CLIENT_HELLO = 1
SERVER_HELLO = 2
HELLO_VERIFY_REQUEST = 3
NEW_SESSION_TICKET = 4
END_OF_EARLY_DATA = 5
HELLO_RETRY_REQUEST = 6
ENCRYPTED_EXTENSIONS = 8
CERTIFICATE = 11
SERVER_KEY_EXCHANGE = 12
CERTIFICATE_REQUEST = 13
SERVER_HELLO_DONE = 14
CERTIFICATE_VERIFY = 15
CLIENT_KEY_EXCHANGE = 16
FINISHED = 20
CERTIFICATE_URL = 21
CERTIFICATE_STATUS = 22
SUPPLEMENTAL_DATA = 23
KEY_UPDATE = 24
COMPRESSED_CERTIFICATE = 25
MESSAGE_HASH = 254


def _u16_list(raw: bytes, what: str) -> list[int]:
    if len(raw) % 2:
        raise ParseError(f"{what}: odd length {len(raw)}")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]


_EXTENSION_TYPE = attrgetter("type")


def find_extension(extensions: list[Extension], ext_type: int) -> Optional[Extension]:
    """The first extension of a type in a hello's list, or None."""
    for e in extensions:
        if e.type == ext_type:
            return e
    return None


# ClientHello._facts: (extensions list, its length, server name, offered versions, highest real one)
_HelloFacts = tuple[list[Extension], int, Optional[str], tuple[int, ...], Optional[int]]


@dataclass(slots=True)
class ClientHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    compression_methods: list[int]
    extensions: list[Extension] = field(default_factory=list)
    sslv2: bool = False  # sent in the SSLv2-compatible format
    malformed: list[str] = field(default_factory=list)  # what was wrong but could be read past
    # (extensions list, its length, server name, offered versions, highest real one): the
    # session, diagnosis and output each ask for these; worked out once per extension list.
    _facts: Optional[_HelloFacts] = field(default=None, init=False, repr=False, compare=False)

    def json_form(self, shared: bool = False) -> dict[str, Any]:
        """The JSON form (docs/schema.md); ``shared``: see results.model.Connection.json_value."""
        return hello_dict(self, True, shared)

    def ext(self, ext_type: int) -> Optional[Extension]:
        return find_extension(self.extensions, ext_type)

    def _known(self) -> _HelloFacts:
        facts = self._facts
        exts = self.extensions
        if facts is None or facts[0] is not exts or facts[1] != len(exts):
            name: Optional[str] = None
            versions: tuple[int, ...] = ()
            # The first of each of the two types, found in C (a hello has a dozen extensions,
            # supported_versions among the last).
            types = list(map(_EXTENSION_TYPE, exts))
            sni = exts[types.index(0)] if 0 in types else None
            sv = exts[types.index(43)] if 43 in types else None
            d = sni._view() if sni else None
            if d:
                names = d.get("host_names") or []
                name = names[0] if names else None
            d = sv._view() if sv else None
            top = None
            if d:
                versions = tuple(d.get("versions", ()))
                # (the decoder's versions are 16-bit ints: tables.is_grease's test, inline)
                real = [v for v in versions if (v & 0x0F0F) != 0x0A0A or (v >> 8) != (v & 0xFF)]
                top = max(real) if real else None
            facts = self._facts = (exts, len(exts), name, versions, top)
        return facts

    @property
    def server_name(self) -> Optional[str]:
        return self._known()[2]

    @property
    def supported_versions(self) -> list[int]:
        return list(self._known()[3])

    @property
    def max_version(self) -> int:
        """Highest version offered: supported_versions if present, else legacy_version."""
        top = self._known()[4]
        return self.legacy_version if top is None else top

    @property
    def alpn(self) -> list[str]:
        e = self.ext(16)
        d = e._view() if e else None
        return list(d.get("protocols", [])) if d else []


@dataclass(slots=True)
class ServerHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: list[Extension] = field(default_factory=list)
    is_hello_retry_request: bool = False
    malformed: list[str] = field(default_factory=list)  # what was wrong but could be read past

    def json_form(self, shared: bool = False) -> dict[str, Any]:
        """The JSON form (docs/schema.md); ``shared``: see results.model.Connection.json_value."""
        return hello_dict(self, False, shared)

    def ext(self, ext_type: int) -> Optional[Extension]:
        return find_extension(self.extensions, ext_type)

    @property
    def version(self) -> int:
        """The negotiated version: supported_versions when present (TLS 1.3), else legacy."""
        for e in self.extensions:  # (find_extension inline: read for every connection, often twice)
            if e.type == 43:
                d = e._view()
                if d and d.get("selected_version") is not None:
                    selected: int = d["selected_version"]
                    return selected
                break
        return self.legacy_version

    @property
    def downgrade_sentinel(self) -> Optional[str]:
        tail = self.random[-8:]
        if tail == DOWNGRADE_TLS12:
            return "TLSv1.2"
        if tail == DOWNGRADE_TLS11:
            return "TLSv1.1 or below"
        return None


@dataclass
class Sslv2ServerHello:
    session_id_hit: int
    certificate_type: int
    version: int
    certificate: bytes
    cipher_specs: list[int]
    connection_id: bytes


@dataclass(slots=True)
class CertificateEntry:
    der: bytes
    extensions: list[Extension] = field(default_factory=list)


@dataclass(slots=True)
class Certificate:
    entries: list[CertificateEntry]
    request_context: bytes = b""
    tls13: bool = False

    @property
    def ders(self) -> list[bytes]:
        return [e.der for e in self.entries]


@dataclass
class CertificateRequest:
    certificate_types: list[int] = field(default_factory=list)
    signature_algorithms: list[int] = field(default_factory=list)
    certificate_authorities: list[bytes] = field(default_factory=list)  # DER DistinguishedNames
    request_context: bytes = b""
    extensions: list[Extension] = field(default_factory=list)
    tls13: bool = False

    def json_form(self) -> dict[str, Any]:
        """The JSON form (docs/schema.md)."""
        return certificate_request_dict(self)


@dataclass
class ServerKeyExchange:
    kind: str  # "ecdhe" | "dhe" | "rsa_export" | "psk" | "unknown"
    named_group: Optional[int] = None
    public_key_length: int = 0
    dh_prime_bits: Optional[int] = None
    signature_algorithm: Optional[int] = None
    signature_length: int = 0
    psk_identity_hint: bytes = b""


@dataclass
class ClientKeyExchange:
    length: int


@dataclass
class CertificateStatus:
    status_type: int
    ocsp_response: bytes


@dataclass
class NewSessionTicket:
    lifetime: int
    ticket_length: int
    age_add: Optional[int] = None
    nonce: bytes = b""
    extensions: list[Extension] = field(default_factory=list)
    tls13: bool = False


@dataclass
class Finished:
    verify_data: bytes


@dataclass
class EncryptedExtensions:
    extensions: list[Extension]


@dataclass
class CertificateVerify:
    algorithm: int
    signature_length: int


@dataclass
class KeyUpdate:
    request_update: int


@dataclass
class HelloRequest:
    pass


@dataclass
class ServerHelloDone:
    pass


@dataclass
class EndOfEarlyData:
    pass


@dataclass
class OpaqueMessage:
    """A message we keep raw: unknown type, or one we do not decode."""

    length: int


@dataclass
class ParseContext:
    """What a message's meaning depends on: the negotiated version and cipher suite."""

    version: Optional[int] = None
    cipher_suite: Optional[int] = None
    sender: str = "client"

    @property
    def tls13(self) -> bool:
        return self.version is not None and (self.version == 0x0304 or (self.version >> 8) == 0x7F)


# Cipher-suite lists by their raw bytes: a client sends the same list on every connection.
# Values are tuples (immutable); each ClientHello gets its own list. Bounded: cleared when full.
_SUITES_MAX = 4096
_suites_cache: dict[bytes, tuple[int, ...]] = {}


def _suites(raw: bytes) -> list[int]:
    """The 16-bit codes of an even-length cipher_suites vector."""
    t = _suites_cache.get(raw)
    if t is None:
        t = tuple([(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)])
        if len(_suites_cache) >= _SUITES_MAX:
            _suites_cache.clear()
        _suites_cache[raw] = t
    return list(t)


def parse_client_hello(body: bytes) -> ClientHello:
    """Fast path for a well-formed ClientHello: offsets computed directly, no Cursor per field.
    Anything unusual (short, odd or lying lengths, a bad extensions block) goes to the careful
    parser, which words the errors."""
    if type(body) is not bytes:
        body = bytes(body)
    n = len(body)
    if n >= 38:
        p = 35 + body[34]  # after the session_id
        if p + 2 <= n:
            q = p + 2 + ((body[p] << 8) | body[p + 1])  # after the cipher suites
            if q < n and not (q - p) % 2:
                r = q + 1 + body[q]  # after the compression methods
                if r <= n:
                    exts: list[Extension] = []
                    if n - r >= 2:
                        e = r + 2 + ((body[r] << 8) | body[r + 1])
                        if e > n:
                            return _parse_client_hello_careful(body)
                        try:
                            exts = parse_extension_block(body, r + 2, e, "ClientHello extensions", "client_hello")
                        except ParseError:
                            return _parse_client_hello_careful(body)
                    return ClientHello((body[0] << 8) | body[1], body[2:34], body[35:p],  # (positional:
                                       _suites(body[p + 2:q]), list(body[q + 1:r]), exts, False, [])  # field order)
    return _parse_client_hello_careful(body)


def _parse_client_hello_careful(body: bytes) -> ClientHello:
    c = Cursor(body, "ClientHello")
    version = c.u16("legacy_version")
    random = c.bytes(32, "random")
    session_id = c.vec8("session_id")
    malformed = []
    declared = c.u16("cipher_suites length")
    if declared > c.remaining():
        # A lying length (seen from fuzzers and broken clients): keep what is there, say so,
        # and stop — the version, random and offered suites are still worth reporting.
        malformed.append(f"cipher_suites length {declared} exceeds the {c.remaining()} bytes left")
        raw = c.bytes(c.remaining() - c.remaining() % 2)
        return ClientHello(version, random, session_id, _u16_list(raw, "cipher_suites"), [], [], malformed=malformed)
    raw_suites = c.bytes(declared, "cipher_suites")
    if len(raw_suites) % 2:
        malformed.append(f"cipher_suites length {len(raw_suites)} is odd; last byte ignored")
        raw_suites = raw_suites[:-1]
    suites = _u16_list(raw_suites, "ClientHello cipher_suites")
    comp = list(c.vec8("compression_methods"))
    exts: list[Extension] = []
    if c.remaining() >= 2:
        try:
            exts = parse_extensions(c.sub16("extensions"), "client_hello")
        except ParseError as e:
            malformed.append(str(e))
    return ClientHello(version, random, session_id, suites, comp, exts, malformed=malformed)


def parse_sslv2_client_hello(body: bytes) -> ClientHello:
    """The SSLv2-compatible ClientHello (RFC 5246 Appendix E.2): 3-byte cipher kinds."""
    c = Cursor(body, "SSLv2 ClientHello")
    if c.u8("msg_type") != 1:
        raise ParseError("SSLv2 ClientHello: not a client hello")
    version = c.u16("version")
    spec_len = c.u16("cipher_spec_length")
    sid_len = c.u16("session_id_length")
    chal_len = c.u16("challenge_length")
    if spec_len % 3:
        raise ParseError(f"SSLv2 ClientHello: cipher_spec_length {spec_len} not a multiple of 3")
    specs_raw = c.bytes(spec_len, "cipher_specs")
    sid = c.bytes(sid_len, "session_id")
    challenge = c.bytes(chal_len, "challenge")
    specs = [int.from_bytes(specs_raw[i:i + 3], "big") for i in range(0, spec_len, 3)]
    # TLS suites are sent as 0x00XXXX; true SSLv2 kinds keep their 24-bit value (>= 0x010000).
    random = challenge.rjust(32, b"\0")[-32:]
    return ClientHello(version, random, sid, specs, [0], [], sslv2=True)


def parse_sslv2_server_hello(body: bytes) -> Sslv2ServerHello:
    c = Cursor(body, "SSLv2 ServerHello")
    if c.u8("msg_type") != 4:
        raise ParseError("SSLv2 ServerHello: not a server hello")
    hit = c.u8("session_id_hit")
    ctype = c.u8("certificate_type")
    version = c.u16("version")
    cert_len = c.u16("certificate_length")
    spec_len = c.u16("cipher_specs_length")
    cid_len = c.u16("connection_id_length")
    cert = c.bytes(cert_len, "certificate")
    specs_raw = c.bytes(spec_len, "cipher_specs")
    cid = c.bytes(cid_len, "connection_id")
    specs = [int.from_bytes(specs_raw[i:i + 3], "big") for i in range(0, spec_len - spec_len % 3, 3)]
    return Sslv2ServerHello(hit, ctype, version, cert, specs, cid)


def parse_server_hello(body: bytes) -> ServerHello:
    """Fast path for a well-formed ServerHello (TLS 1.3 final or earlier); drafts before -22
    and anything unusual go to the careful parser, which words the errors."""
    if type(body) is not bytes:
        body = bytes(body)
    n = len(body)
    if n >= 38 and not (body[0] == 0x7F and body[1] < 22):
        p = 35 + body[34]  # after the session_id
        if p + 3 <= n:
            random = body[2:34]
            hrr = random == HRR_RANDOM
            exts: list[Extension] = []
            r = p + 3
            if r < n:
                if r + 2 > n:
                    return _parse_server_hello_careful(body)
                e = r + 2 + ((body[r] << 8) | body[r + 1])
                if e > n:
                    return _parse_server_hello_careful(body)
                try:
                    exts = parse_extension_block(body, r + 2, e, "ServerHello extensions",
                                                 "hello_retry_request" if hrr else "server_hello")
                except ParseError:
                    return _parse_server_hello_careful(body)
            return ServerHello((body[0] << 8) | body[1], random, body[35:p], (body[p] << 8) | body[p + 1],
                               body[p + 2], exts, hrr, [])  # (positional: the field order)
    return _parse_server_hello_careful(body)


def _parse_server_hello_careful(body: bytes) -> ServerHello:
    c = Cursor(body, "ServerHello")
    version = c.u16("legacy_version")
    random = c.bytes(32, "random")
    if (version >> 8) == 0x7F and (version & 0xFF) < 22:
        # TLS 1.3 drafts before -22 had no session_id and no compression_method.
        suite = c.u16("cipher_suite")
        draft_exts = parse_extensions(c.sub16("extensions"), "server_hello") if c.remaining() >= 2 else []
        return ServerHello(version, random, b"", suite, 0, draft_exts)
    session_id = c.vec8("session_id")
    suite = c.u16("cipher_suite")
    comp = c.u8("compression_method")
    hrr = random == HRR_RANDOM
    exts: list[Extension] = []
    malformed: list[str] = []
    if c.remaining():
        # A broken extensions block does not hide the version and suite the server chose.
        try:
            exts = parse_extensions(c.sub16("extensions"), "hello_retry_request" if hrr else "server_hello")
        except ParseError as e:
            malformed.append(str(e))
    return ServerHello(version, random, session_id, suite, comp, exts, is_hello_retry_request=hrr,
                       malformed=malformed)


def parse_certificate(body: bytes, tls13: bool) -> Certificate:
    """Fast path for a well-formed TLS 1.2 Certificate (the DERs sliced straight out of the body);
    TLS 1.3 and anything unusual go to the careful parser, which words the errors."""
    if tls13 or len(body) < 3:
        return _parse_certificate_careful(body, tls13)
    if type(body) is not bytes:
        body = bytes(body)
    end = 3 + ((body[0] << 16) | (body[1] << 8) | body[2])
    if end > len(body):
        return _parse_certificate_careful(body, tls13)
    entries: list[CertificateEntry] = []
    pos = 3
    while pos < end:
        if pos + 3 > end:
            return _parse_certificate_careful(body, tls13)
        start = pos + 3
        pos = start + ((body[pos] << 16) | (body[pos + 1] << 8) | body[pos + 2])
        if pos > end:
            return _parse_certificate_careful(body, tls13)
        entries.append(CertificateEntry(body[start:pos], []))
    return Certificate(entries, b"", False)


def _parse_certificate_careful(body: bytes, tls13: bool) -> Certificate:
    c = Cursor(body, "Certificate")
    context = b""
    if tls13:
        context = c.vec8("certificate_request_context")
    lst = c.sub24("certificate_list")
    entries: list[CertificateEntry] = []
    while lst.remaining():
        der = lst.vec24("certificate")
        exts: list[Extension] = []
        if tls13:
            exts = parse_extensions(lst.sub16("extensions"), "certificate")
        entries.append(CertificateEntry(der, exts))
    return Certificate(entries, context, tls13)


def tls13_leaf_status(body: bytes) -> Optional[CertificateStatus]:
    """The OCSP response stapled to the leaf of a TLS 1.3 Certificate (its first entry's
    status_request extension, RFC 8446 §4.4.2.1), or None (none, or a malformed message: the
    Certificate's own parse reports that)."""
    try:
        c = Cursor(body, "Certificate")
        c.vec8("certificate_request_context")
        lst = c.sub24("certificate_list")
        if not lst.remaining():
            return None
        lst.vec24("certificate")
        exts = lst.sub16("extensions")
        while exts.remaining():
            ext_type = exts.u16("extension_type")
            data = exts.vec16("extension_data")
            if ext_type == 5:  # status_request: a CertificateStatus
                return parse_certificate_status(data)
    except ParseError:
        return None
    return None


def parse_certificate_request(body: bytes, tls13: bool) -> CertificateRequest:
    c = Cursor(body, "CertificateRequest")
    if tls13:
        context = c.vec8("certificate_request_context")
        exts = parse_extensions(c.sub16("extensions"), "certificate_request")
        req = CertificateRequest(request_context=context, extensions=exts, tls13=True)
        for e in exts:
            if e.type == 13 and e.decoded:
                req.signature_algorithms = list(e.decoded.get("algorithms", []))
            elif e.type == 47 and e.decoded:
                req.certificate_authorities = [bytes.fromhex(h) for h in e.decoded.get("names_der", [])]
        return req
    types = list(c.vec8("certificate_types"))
    algs: list[int] = []
    # TLS 1.2 has supported_signature_algorithms; 1.0/1.1 do not. Tell them apart by whether
    # the rest parses as (algorithms, authorities) exactly.
    save = c.pos
    try:
        algs = _u16_list(c.vec16("supported_signature_algorithms"), "signature_algorithms")
        cas = _distinguished_names(c.sub16("certificate_authorities"))
        if c.remaining():
            raise ParseError("trailing bytes")
    except ParseError:
        c.pos = save
        algs = []
        cas = _distinguished_names(c.sub16("certificate_authorities"))
    return CertificateRequest(types, algs, cas)


def _distinguished_names(c: Cursor) -> list[bytes]:
    out = []
    while c.remaining():
        out.append(c.vec16("DistinguishedName"))
    return out


def parse_server_key_exchange(body: bytes, cipher_suite: Optional[int], version: Optional[int]) -> ServerKeyExchange:
    info = tables.suite_info(cipher_suite) if cipher_suite is not None else None
    kx = info.kx if info else ""
    if kx[:4] == "ECDH" and "PSK" not in kx and info is not None and not info.is_anonymous:
        # Fast path for the usual signed ECDHE message: offsets computed directly, no Cursor
        # per field. Anything unusual goes to the reads below, which word the errors.
        n = len(body)
        if n >= 4 and body[0] == 3:
            p = 4 + body[3]  # after the public key
            if p <= n:
                if p == n:  # (no signature: the careful reads stop there too)
                    return ServerKeyExchange("ecdhe", (body[1] << 8) | body[2], body[3])
                alg = None
                q = p
                if version is not None and version >= 0x0303:
                    alg = (body[p] << 8) | body[p + 1] if p + 2 <= n else -1
                    q = p + 2
                if alg != -1 and q + 2 <= n:
                    sig = (body[q] << 8) | body[q + 1]
                    if q + 2 + sig <= n:
                        return ServerKeyExchange("ecdhe", (body[1] << 8) | body[2], body[3], None, alg, sig)
    c = Cursor(body, "ServerKeyExchange")
    signed = version is not None and version >= 0x0303
    ske = ServerKeyExchange(kind="unknown")
    if "PSK" in kx:
        ske.psk_identity_hint = c.vec16("psk_identity_hint")
        ske.kind = "psk"
        if kx == "PSK":
            return ske
    if kx.startswith("ECDH") or (not kx and body[:1] == b"\x03"):
        ske.kind = "ecdhe"
        curve_type = c.u8("curve_type")
        if curve_type == 3:
            ske.named_group = c.u16("named_curve")
        else:
            raise ParseError(f"ServerKeyExchange: explicit curve type {curve_type} not decoded")
        ske.public_key_length = len(c.vec8("public"))
    elif kx.startswith("DH") or kx == "SRP":
        ske.kind = "dhe"
        prime = c.vec16("dh_p")
        ske.dh_prime_bits = len(prime.lstrip(b"\0")) * 8 if prime else 0
        if prime and prime.lstrip(b"\0"):
            ske.dh_prime_bits = int.from_bytes(prime, "big").bit_length()
        c.vec16("dh_g")
        ske.public_key_length = len(c.vec16("dh_Ys"))
    elif kx.startswith("RSA"):
        ske.kind = "rsa_export"
        c.vec16("rsa_modulus")
        c.vec16("rsa_exponent")
    else:
        return ske
    if info is not None and info.is_anonymous:
        return ske
    if c.remaining():
        if signed:
            ske.signature_algorithm = c.u16("signature_algorithm")
        ske.signature_length = len(c.vec16("signature"))
    return ske


def parse_new_session_ticket(body: bytes, tls13: bool) -> NewSessionTicket:
    c = Cursor(body, "NewSessionTicket")
    lifetime = c.u32("ticket_lifetime")
    if tls13:
        age_add = c.u32("ticket_age_add")
        nonce = c.vec8("ticket_nonce")
        ticket = c.vec16("ticket")
        exts = parse_extensions(c.sub16("extensions"), "new_session_ticket")
        return NewSessionTicket(lifetime, len(ticket), age_add, nonce, exts, True)
    ticket = c.vec16("ticket")
    return NewSessionTicket(lifetime, len(ticket))


def parse_certificate_status(body: bytes) -> CertificateStatus:
    c = Cursor(body, "CertificateStatus")
    status_type = c.u8("status_type")
    resp = c.vec24("response") if status_type == 1 else c.bytes(c.remaining())
    return CertificateStatus(status_type, resp)


def parse_message(msg_type: int, body: bytes, ctx: ParseContext) -> Any:
    """Decode one handshake message body; raises ParseError when it is malformed."""
    if msg_type == CLIENT_HELLO:
        return parse_client_hello(body)
    if msg_type == SERVER_HELLO:
        return parse_server_hello(body)
    if msg_type == CERTIFICATE:
        return parse_certificate(body, ctx.tls13)
    if msg_type == CERTIFICATE_REQUEST:
        return parse_certificate_request(body, ctx.tls13)
    if msg_type == SERVER_KEY_EXCHANGE:
        return parse_server_key_exchange(body, ctx.cipher_suite, ctx.version)
    if msg_type == SERVER_HELLO_DONE:
        return ServerHelloDone()
    if msg_type == HELLO_REQUEST:
        return HelloRequest()
    if msg_type == CLIENT_KEY_EXCHANGE:
        return ClientKeyExchange(len(body))
    if msg_type == CERTIFICATE_STATUS:
        return parse_certificate_status(body)
    if msg_type == NEW_SESSION_TICKET:
        return parse_new_session_ticket(body, ctx.tls13)
    if msg_type == FINISHED:
        return Finished(bytes(body))
    if msg_type == ENCRYPTED_EXTENSIONS:
        return EncryptedExtensions(parse_extensions(Cursor(body, "EncryptedExtensions").sub16("extensions"), "encrypted_extensions"))
    if msg_type == CERTIFICATE_VERIFY:
        c = Cursor(body, "CertificateVerify")
        # TLS 1.2+ prefixes the signature with its algorithm; when the version is unknown
        # (no ServerHello seen) the lengths tell which layout this is.
        if (ctx.version is not None and ctx.version >= 0x0303) or (
            ctx.version is None and len(body) >= 4 and ((body[2] << 8) | body[3]) == len(body) - 4
        ):
            alg = c.u16("algorithm")
            return CertificateVerify(alg, len(c.vec16("signature")))
        return CertificateVerify(-1, len(c.vec16("signature")))
    if msg_type == KEY_UPDATE:
        return KeyUpdate(Cursor(body, "KeyUpdate").u8("request_update"))
    if msg_type == END_OF_EARLY_DATA:
        return EndOfEarlyData()
    return OpaqueMessage(len(body))


def message_name(msg_type: int, hrr: bool = False) -> str:
    """IANA name of a handshake type; a HelloRetryRequest (type 2 with the HRR random) is
    named 'hello_retry_request' (its code stays 2)."""
    if hrr:
        return "hello_retry_request"
    name = _MESSAGE_NAMES.get(msg_type) if type(msg_type) is int else None
    if name is not None:
        return name
    return _message_name(msg_type)


def _message_name(msg_type: int) -> str:
    name = tables.name_of(tables.HANDSHAKE_TYPES, msg_type, 2)
    # RFC 8446 marked the TLS 1.2-only types "_RESERVED" in the registry; people (and
    # Wireshark) still call them server_key_exchange etc. when they appear in TLS 1.2.
    return name[:-9] if name.endswith("_RESERVED") else name


# Every registered type's name worked out once (message_name runs for every handshake message).
_MESSAGE_NAMES: dict[int, str] = {t: _message_name(t) for t in tables.HANDSHAKE_TYPES}
