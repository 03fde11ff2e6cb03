"""TLS extensions: every extension is kept (type, name, length); the common ones decoded.

A malformed extension does not fail its message: it is kept with ``error`` set, because a
ClientHello with one odd extension still tells us the SNI, versions and suites the diagnosis
needs. A malformed extensions *block* (lengths that do not add up) does raise ParseError.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Optional

from tlsdissect.results import jsontext

from tlsdissect.tls import tables
from tlsdissect.errors import ParseError
from tlsdissect.tls.cursor import Cursor


# A repeated decode, shared read-only by every extension that carries the same bytes: the
# decoded dict, the keys whose values are lists (copied whenever it is handed out), and a
# one-slot list for the whole extension's JSON, made the first time one is written out.
_Template = tuple[dict[str, Any], tuple[str, ...], list[Any]]


def _from_template(template: _Template) -> dict[str, Any]:
    d = template[0].copy()
    for k in template[1]:
        d[k] = d[k].copy()
    return d


class Extension:
    """One extension: type, name, length; the common ones decoded (``decoded``), a malformed
    one with ``error``, small undecoded ones with their ``raw`` bytes.

    Why not a plain dataclass: most extensions repeat byte for byte across a capture's
    connections, so one decode is shared as a read-only template and copied into this
    extension's own ``decoded`` dict only when someone reads it; a repeat found by its bytes is
    one read-only SharedExtension in every message that carries it. An open connection then
    holds no per-extension dicts and lists (less memory, less for the garbage collector to
    walk), and no two connections ever see the same mutable object. Equality and repr are a
    dataclass's."""

    # The four attributes every extension sets are slots; the rarely set ones (a decode of its
    # own, an error, GREASE, raw bytes) live in an instance dict made only when one is set, and
    # read their defaults from the class otherwise.
    __slots__ = ("type", "name", "length", "_template", "__dict__")
    __match_args__ = ("type", "name", "length", "decoded", "error", "grease", "raw")
    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces
    _decoded: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    grease: bool = False
    raw: bytes = b""  # kept for small extensions we do not decode (<= 64 bytes)

    def __init__(self, type: int, name: str, length: int, decoded: Optional[dict[str, Any]] = None,
                 error: Optional[str] = None, grease: bool = False, raw: bytes = b"") -> None:
        self.type = type
        self.name = name
        self.length = length
        self._template: Optional[_Template] = None
        if decoded is not None:
            self._decoded = decoded
        if error is not None:
            self.error = error
        if grease:
            self.grease = grease
        if raw:
            self.raw = raw

    @property
    def decoded(self) -> Optional[dict[str, Any]]:
        if self._template is not None:  # first read: this extension's own copy
            self._decoded = _from_template(self._template)
            self._template = None
        return self._decoded

    @decoded.setter
    def decoded(self, value: Optional[dict[str, Any]]) -> None:
        self._decoded = value
        self._template = None

    def _set_shared(self, etype: int, name: str, length: int, template: Optional[_Template], grease: bool,
                    raw: bytes) -> None:
        """SharedExtension's attributes, set past its __setattr__ (which refuses). Here in the base
        class, where mypyc knows the attributes: the compiled build cannot do it in the subclass."""
        object.__setattr__(self, "type", etype)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "_template", template)
        if grease:
            object.__setattr__(self, "grease", grease)
        if raw:
            object.__setattr__(self, "raw", raw)

    def _view(self) -> Optional[dict[str, Any]]:
        """``decoded`` for reading only (this package's own look-ups): no copy of a shared decode."""
        template = self._template
        return template[0] if template is not None else self._decoded

    def __reduce__(self) -> Any:
        # (pickled by its fields: the compiled build's native class cannot be made without them)
        return (Extension, self._fields())

    def _fields(self) -> tuple[Any, ...]:
        return (self.type, self.name, self.length, self.decoded, self.error, self.grease, self.raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Extension):  # (a shared repeat equals the same extension of its own)
            return self._fields() == other._fields()
        return NotImplemented

    def __repr__(self) -> str:
        return (f"Extension(type={self.type!r}, name={self.name!r}, length={self.length!r}, "
                f"decoded={self.decoded!r}, error={self.error!r}, grease={self.grease!r}, raw={self.raw!r})")

    def json_form(self) -> Any:
        """``to_dict()`` in jsontext's ``shared`` form: an extension that repeats across
        connections is serialised once, and the form is shared."""
        template = self._template
        if template is None:
            if self._decoded is None and self.error is None:
                # Undecoded (GREASE, padding, unknown types): as repetitive as the decoded ones.
                key = (self.type, self.name, self.length, self.grease, self.raw)
                form = _undecoded_json.get(key)
                if form is None:
                    form = jsontext.shared(self.to_dict())
                    if len(_undecoded_json) >= _UNDECODED_JSON_MAX:
                        _undecoded_json.clear()
                    _undecoded_json[key] = form
                return form
            return jsontext.shared(self.to_dict())
        slot = template[2]
        if not slot:
            slot.append(jsontext.shared(self.to_dict()))
        return slot[0]

    def to_dict(self) -> dict[str, Any]:
        template = self._template
        if template is not None:  # straight from the shared decode, with fresh lists
            d = {"type": self.type, "name": self.name, "length": self.length, **template[0]}
            for k in template[1]:
                d[k] = d[k].copy()
            return d
        decoded = self._decoded
        if decoded is not None and not self.grease and not self.error:  # the common case, in one go
            return {"type": self.type, "name": self.name, "length": self.length, **decoded}
        d = {"type": self.type, "name": self.name, "length": self.length}
        if self.grease:
            d["grease"] = True
        if decoded is not None:
            d.update(decoded)
        if self.error:
            d["error"] = self.error
        if self.raw and decoded is None:
            d["data"] = self.raw.hex()
        return d


class SharedExtension(Extension):
    """A repeated extension as parse_extensions finds it by its bytes: one read-only object in
    the lists of every message that carries those bytes, instead of a new object per message
    (most of a ClientHello's extensions, on a busy capture). Its attributes cannot be set, and
    ``decoded`` is a new copy of the shared decode at every read, so no connection can change
    what another sees; it equals, copies and pickles as the Extension it stands for."""

    __slots__ = ()

    def __init__(self, etype: int, name: str, length: int, template: Optional[_Template], grease: bool = False,
                 raw: bytes = b"") -> None:
        # (made once per distinct extension bytes, not per message: see parse_extensions)
        self._set_shared(etype, name, length, template, grease, raw)

    @property
    def decoded(self) -> Optional[dict[str, Any]]:
        template = self._template
        return None if template is None else _from_template(template)

    @decoded.setter
    def decoded(self, value: Optional[dict[str, Any]]) -> None:  # (__setattr__ refuses first)
        raise AttributeError("a repeated extension is shared and read-only: set 'decoded' on copy.copy() of it")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a repeated extension is shared and read-only: set {name!r} on copy.copy() of it")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a repeated extension is shared and read-only")

    def __reduce__(self) -> Any:
        return (Extension, (self.type, self.name, self.length, self.decoded, self.error, self.grease, self.raw))


# The shared JSON form of undecoded extensions by (type, name, length, grease, raw bytes): most
# are GREASE or padding, repeated by every client. Bounded: cleared when full.
_UNDECODED_JSON_MAX = 4096
_undecoded_json: dict[tuple[int, str, int, bool, bytes], Any] = {}


def json_forms(extensions: list[Extension]) -> list[Any]:
    """``[e.json_form() for e in extensions]``, without a method call for an extension whose
    shared form is made already (most of them, on a busy capture)."""
    # (a shared decode's form made already: template[2] holds it)
    return [t[2][0] if (t := e._template) is not None and t[2] else e.json_form() for e in extensions]


def _c(data: bytes, what: str) -> "Cursor":

    return Cursor(data, what)


def _u16s(raw: bytes) -> list[int]:
    if len(raw) % 2:
        raise ParseError(f"odd list length {len(raw)}")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]


def _server_name(data: bytes, where: str) -> dict[str, Any]:
    if not data:
        return {"host_names": []}  # the server's empty acknowledgement
    c = _c(data, "server_name")
    lst = c.sub16("server_name_list")
    names = []
    while lst.remaining():
        name_type = lst.u8("name_type")
        name = lst.vec16("host_name")
        if name_type == 0:
            names.append(name.decode("ascii", "replace"))
    return {"host_names": names}


def _supported_versions(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "supported_versions")
    if where == "client_hello":
        versions = _u16s(c.vec8("versions"))
        return {"versions": versions, "version_names": [tables.version_name(v) for v in versions]}
    v = c.u16("selected_version")
    return {"selected_version": v, "version_name": tables.version_name(v)}


def _u16_named_list(table: dict[int, str], key: str, length_bytes: int = 2) -> Callable[[bytes, str], dict[str, Any]]:
    def parse(data: bytes, where: str) -> dict[str, Any]:
        c = _c(data, key)
        raw = c.vec16(key) if length_bytes == 2 else c.vec8(key)
        values = _u16s(raw)
        return {key: values, key + "_names": [tables.name_of(table, v, 4) for v in values]}

    return parse


def _u8_list(table: dict[int, str], key: str) -> Callable[[bytes, str], dict[str, Any]]:
    def parse(data: bytes, where: str) -> dict[str, Any]:
        values = list(_c(data, key).vec8(key))
        return {key: values, key + "_names": [tables.name_of(table, v, 2) for v in values]}

    return parse


def _alpn(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "alpn")
    lst = c.sub16("protocol_name_list")
    raw = []
    while lst.remaining():
        raw.append(lst.vec8("protocol_name"))
    protos = [p.decode("ascii", "replace") for p in raw]
    if not all(p.isascii() for p in raw):  # the exact bytes too: "replace" loses them
        return {"protocols": protos, "protocols_hex": [p.hex() for p in raw]}
    return {"protocols": protos}


def _key_share(data: bytes, where: str) -> dict[str, Any]:
    """Never cached (the keys differ on every connection), so the common well-formed client
    list is walked directly; anything odd goes to the Cursor reads, which word the errors."""
    if where == "client_hello" and len(data) >= 2:
        end = 2 + ((data[0] << 8) | data[1])
        groups, lengths = [], []
        pos = 2
        while pos + 4 <= end and pos + 4 <= len(data):
            ln = (data[pos + 2] << 8) | data[pos + 3]
            groups.append((data[pos] << 8) | data[pos + 1])
            lengths.append(ln)
            pos += 4 + ln
        if pos == end <= len(data):
            return {"groups": groups, "group_names": [tables.name_of(tables.SUPPORTED_GROUPS, g) for g in groups],
                    "key_lengths": lengths}
    elif where == "server_hello" and len(data) >= 4 and 4 + ((data[2] << 8) | data[3]) == len(data):
        group = (data[0] << 8) | data[1]
        return {"group": group, "group_name": tables.name_of(tables.SUPPORTED_GROUPS, group),
                "key_length": len(data) - 4}
    return _key_share_careful(data, where)


def _key_share_careful(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "key_share")
    if where == "client_hello":
        lst = c.sub16("client_shares")
        groups, lengths = [], []
        while lst.remaining():
            groups.append(lst.u16("group"))
            lengths.append(len(lst.vec16("key_exchange")))
        return {"groups": groups, "group_names": [tables.name_of(tables.SUPPORTED_GROUPS, g) for g in groups],
                "key_lengths": lengths}
    group = c.u16("group")
    out: dict[str, Any] = {"group": group, "group_name": tables.name_of(tables.SUPPORTED_GROUPS, group)}
    if where != "hello_retry_request":
        out["key_length"] = len(c.vec16("key_exchange"))
    return out


def _status_request(data: bytes, where: str) -> dict[str, Any]:
    if not data:
        return {"acknowledged": True}
    c = _c(data, "status_request")
    status_type = c.u8("status_type")
    if where == "certificate":  # TLS 1.3: the stapled OCSP response rides in the Certificate
        return {"status_type": status_type, "ocsp_response_length": len(c.vec24("response"))}
    return {"status_type": status_type}


def _pre_shared_key(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "pre_shared_key")
    if where == "client_hello":
        ids = c.sub16("identities")
        n = 0
        while ids.remaining():
            ids.vec16("identity")
            ids.u32("obfuscated_ticket_age")
            n += 1
        binders = c.sub16("binders")
        b = 0
        while binders.remaining():
            binders.vec8("binder")
            b += 1
        return {"identities": n, "binders": b}
    return {"selected_identity": c.u16("selected_identity")}


def _session_ticket(data: bytes, where: str) -> dict[str, Any]:
    return {"ticket_length": len(data)}


def _renegotiation_info(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "renegotiation_info")
    return {"renegotiated_connection_length": len(c.vec8("renegotiated_connection"))}


def _padding(data: bytes, where: str) -> dict[str, Any]:
    return {"padding_length": len(data)}


def _record_size_limit(data: bytes, where: str) -> dict[str, Any]:
    return {"record_size_limit": _c(data, "record_size_limit").u16("limit")}


def _max_fragment_length(data: bytes, where: str) -> dict[str, Any]:
    return {"max_fragment_length": _c(data, "max_fragment_length").u8("value")}


def _early_data(data: bytes, where: str) -> dict[str, Any]:
    if where == "new_session_ticket" and len(data) >= 4:
        return {"max_early_data_size": int.from_bytes(data[:4], "big")}
    return {}


def _empty(data: bytes, where: str) -> dict[str, Any]:
    return {}


def _certificate_authorities(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "certificate_authorities")
    lst = c.sub16("authorities")
    names = []
    while lst.remaining():
        names.append(lst.vec16("DistinguishedName").hex())
    return {"names_der": names}


def _ech(data: bytes, where: str) -> dict[str, Any]:
    c = _c(data, "encrypted_client_hello")
    if where != "client_hello":
        return {"retry_configs_length": len(data)}
    ech_type = c.u8("type")
    if ech_type == 1:
        return {"ech_type": "inner"}
    kdf = c.u16("kdf_id")
    aead = c.u16("aead_id")
    config_id = c.u8("config_id")
    enc = c.vec16("enc")
    payload = c.vec16("payload")
    return {"ech_type": "outer", "kdf_id": kdf, "aead_id": aead, "config_id": config_id,
            "enc_length": len(enc), "payload_length": len(payload)}


def _cookie(data: bytes, where: str) -> dict[str, Any]:
    return {"cookie_length": len(_c(data, "cookie").vec16("cookie"))}


def _alps(data: bytes, where: str) -> dict[str, Any]:
    return _alpn(data, where) if where == "client_hello" else {}


_DECODERS: dict[int, Callable[[bytes, str], dict[str, Any]]] = {
    0: _server_name,
    1: _max_fragment_length,
    5: _status_request,
    10: _u16_named_list(tables.SUPPORTED_GROUPS, "groups"),
    11: _u8_list(tables.EC_POINT_FORMATS, "formats"),
    13: _u16_named_list(tables.SIGNATURE_SCHEMES, "algorithms"),
    16: _alpn,
    21: _padding,
    22: _empty,  # encrypt_then_mac
    23: _empty,  # extended_master_secret
    27: _u16_named_list({}, "algorithms", length_bytes=1),  # compress_certificate
    28: _record_size_limit,
    35: _session_ticket,
    41: _pre_shared_key,
    42: _early_data,
    43: _supported_versions,
    44: _cookie,
    45: _u8_list(tables.PSK_KEY_EXCHANGE_MODES, "modes"),
    47: _certificate_authorities,
    49: _empty,  # post_handshake_auth
    50: _u16_named_list(tables.SIGNATURE_SCHEMES, "algorithms"),
    51: _key_share,
    17513: _alps,
    17613: _alps,
    65037: _ech,
    65281: _renegotiation_info,
}


# Extensions whose bytes differ on every connection (keys, tickets, PSK identities, cookies,
# ECH): not worth caching, unless empty (a session_ticket extension asking for a ticket).
# Padding is cached: its length follows the rest of the hello, which a client repeats.
_UNCACHED = frozenset((35, 41, 44, 51, 65037))
_CACHE_MAX = 8192
# A cached decode is its read-only template (see Extension) or its error: an Extension reads
# its own copy of the dict and of its lists, so no two connections ever share a mutable
# object (a user may change one connection's result).
_Cached = tuple[Optional[_Template], Optional[str]]  # (template, None) or (None, error)
_decode_cache: dict[tuple[int, bytes, str], _Cached] = {}
_UNDECODED: _Cached = (None, None)  # an undecoded extension's entry (parse_extensions), never read
# The hit path of parse_extensions: per message kind, an extension's whole bytes (type and
# length included) -> the SharedExtension of a good cached decode: one slice and one look-up per
# repeated extension. Bounded with _decode_cache (both cleared when it is full).
_repeats: dict[str, dict[bytes, SharedExtension]] = {}
# type -> (name, grease, decoder or None): one look-up per extension instead of three.
_type_info: dict[int, tuple[str, bool, Optional[Callable[[bytes, str], dict[str, Any]]]]] = {}


def _info(etype: int) -> tuple[str, bool, Optional[Callable[[bytes, str], dict[str, Any]]]]:
    info = _type_info.get(etype)
    if info is None:
        grease = tables.is_grease(etype)
        name = "GREASE" if grease else tables.name_of(tables.EXTENSION_TYPES, etype, 4)
        info = (name, grease, None if grease else _DECODERS.get(etype))
        _type_info[etype] = info
    return info


def _decode(etype: int, data: bytes, where: str) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """Decode one extension, remembering the result: the same client software sends the same
    extension bytes on every connection, so on a busy capture most decodes are repeats.
    The returned dict (and its lists) belong to the caller alone."""
    if etype in _UNCACHED and data:
        try:
            return _DECODERS[etype](data, where), None
        except ParseError as e:
            return None, str(e)
    key = (etype, data, where)
    hit = _decode_cache.get(key)
    if hit is None:
        try:
            decoded = _DECODERS[etype](data, where)
            hit = ((decoded, tuple([k for k, v in decoded.items() if type(v) is list]), []), None)
        except ParseError as e:
            hit = (None, str(e))
        if len(_decode_cache) >= _CACHE_MAX:
            _decode_cache.clear()
            _repeats.clear()
        _decode_cache[key] = hit
    template, error = hit
    return (None, error) if template is None else (_from_template(template), None)


_HEAD = struct.Struct(">HH")


def parse_extensions(c: "Cursor", where: str) -> list[Extension]:
    """Parse an extensions block (the cursor spans exactly the block)."""
    out = parse_extension_block(c.data, c.pos, c.end, c.what, where)
    c.pos = c.end
    return out


def parse_extension_block(buf: Any, pos: int, end: int, what: str, where: str) -> list[Extension]:
    """Parse the extensions block ``buf[pos:end]`` (``what`` names it in errors): the body of
    parse_extensions, for the hellos' fast paths without a Cursor."""
    out: list[Extension] = []
    if type(buf) is not bytes:
        buf = bytes(buf)  # slices below are then bytes already
    repeats = _repeats.get(where)
    if repeats is None:
        repeats = _repeats[where] = {}
    head, append = _HEAD.unpack_from, out.append
    while pos < end:
        try:
            etype, ln = head(buf, pos)
            nxt = pos + 4 + ln
        except struct.error:  # (fewer than 4 bytes left in the whole body)
            nxt = end + 1
        if nxt > end:  # (also when fewer than 4 bytes are left: the header itself does not fit)
            if end - pos < 4:

                c = Cursor(buf, what, pos, end)
                c.u16("extension_type")
                c.u16("extension length")  # raises ParseError with the position
            raise ParseError(f"{what}: extension {etype} data needs {ln} bytes at offset {pos + 4}, "
                             f"only {end - pos - 4} left")
        whole = buf[pos:nxt]
        pos = nxt
        hit = repeats.get(whole)
        if hit is not None:  # the common case: a repeat (type and length: fixed by the bytes)
            append(hit)
            continue
        data = whole[4:]
        name, grease, decoder = _type_info.get(etype) or _info(etype)
        if decoder is None:
            append(Extension(etype, name, ln, None, None, grease, data if ln <= 64 else b""))
            if ln <= 1:
                # GREASE (empty or one byte) and empty unknown extensions: every client repeats
                # them. Shared like a decode, and counted in _decode_cache's bound (a marker).
                if len(_decode_cache) >= _CACHE_MAX:
                    _decode_cache.clear()
                    _repeats.clear()
                    repeats = _repeats[where] = {}
                _decode_cache[(etype, data, where)] = _UNDECODED
                repeats[whole] = SharedExtension(etype, name, ln, None, grease, data)
            continue
        decoded, error = _decode(etype, data, where)
        append(Extension(etype, name, ln, decoded, error))
        if error is None and (ln == 0 or etype not in _UNCACHED):
            cached = _decode_cache.get((etype, data, where))
            if cached is not None and cached[0] is not None:
                repeats[whole] = SharedExtension(etype, name, ln, cached[0])
    return out
