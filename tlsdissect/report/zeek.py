"""Zeek logs: ssl.log, x509.log and a small conn.log, as Zeek writes them (TSV or JSON lines).

The field names, types, separators, ``#fields``/``#types`` headers and the ``-``/``(empty)``
markers are Zeek's (base/protocols/ssl/main.zeek, base/files/x509/main.zeek,
base/protocols/conn/main.zeek; the ja3 and ja4 packages' ``ja3``, ``ja3s``, ``ja4``, ``ja4s``),
so that zeek-cut, zat and a SIEM's Zeek parser read them and a join with a Zeek deployment's logs
works on the same names. What only we know comes in fields of our own, prefixed
``tlsdissect_``. The uid links the three logs; it is derived from the capture's name and the
stream number (the same run gives the same uids), not random as Zeek's.

Each writer takes connections as the run reports them (results.model.Connection: its JSON
form, docs/schema.md) and writes a line at once; files and terminals are the caller's.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import IO, Any, Optional, Sequence, Union

from tlsdissect.report.udp_rows import connection_form
from tlsdissect.results.model import Connection

UNSET = "-"
EMPTY = "(empty)"
SET_SEPARATOR = ","

# (name, Zeek type) per log, in Zeek's order; ours last.
SSL_FIELDS: tuple[tuple[str, str], ...] = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
    ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"), ("curve", "string"),
    ("server_name", "string"), ("resumed", "bool"), ("last_alert", "string"), ("next_protocol", "string"),
    ("established", "bool"), ("ssl_history", "string"), ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"), ("sni_matches_cert", "bool"), ("validation_status", "string"),
    ("ja3", "string"), ("ja3s", "string"), ("ja4", "string"), ("ja4s", "string"),
    ("tlsdissect_outcome", "string"), ("tlsdissect_cause", "string"), ("tlsdissect_stream", "count"),
    ("tlsdissect_protocol", "string"), ("tlsdissect_starttls_result", "string"),
    ("tlsdissect_starttls_answer", "string"),
)
# quic.log, as Zeek's base/protocols/quic/main.zeek writes it.
QUIC_FIELDS: tuple[tuple[str, str], ...] = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
    ("id.resp_p", "port"), ("version", "string"), ("client_initial_dcid", "string"), ("client_scid", "string"),
    ("server_scid", "string"), ("server_name", "string"), ("client_protocol", "string"), ("history", "string"),
    ("tlsdissect_outcome", "string"), ("tlsdissect_cause", "string"), ("tlsdissect_stream", "count"),
)
X509_FIELDS: tuple[tuple[str, str], ...] = (
    ("ts", "time"), ("fingerprint", "string"), ("certificate.version", "count"), ("certificate.serial", "string"),
    ("certificate.subject", "string"), ("certificate.issuer", "string"), ("certificate.not_valid_before", "time"),
    ("certificate.not_valid_after", "time"), ("certificate.key_alg", "string"), ("certificate.sig_alg", "string"),
    ("certificate.key_type", "string"), ("certificate.key_length", "count"), ("certificate.exponent", "string"),
    ("certificate.curve", "string"), ("san.dns", "vector[string]"), ("san.uri", "vector[string]"),
    ("san.email", "vector[string]"), ("san.ip", "vector[addr]"), ("basic_constraints.ca", "bool"),
    ("basic_constraints.path_len", "count"), ("host_cert", "bool"), ("client_cert", "bool"),
)
CONN_FIELDS: tuple[tuple[str, str], ...] = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
    ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"), ("duration", "interval"),
    ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string"), ("missed_bytes", "count"),
    ("history", "string"), ("orig_pkts", "count"), ("resp_pkts", "count"),
)

# Zeek's version strings (ssl/consts.zeek version_strings).
_VERSIONS = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLSv1.0": "TLSv10", "TLSv1.1": "TLSv11", "TLSv1.2": "TLSv12",
             "TLSv1.3": "TLSv13", "DTLSv1.0": "DTLSv10", "DTLSv1.2": "DTLSv12", "DTLSv1.3": "DTLSv13"}
# Zeek's QUIC version strings (quic/consts.zeek version_strings; others are "unknown-<hex>").
QUIC_VERSIONS = {0x00000001: "1", 0x6B3343CF: "quicv2", **{0xFF000000 + n: f"draft-{n}" for n in range(22, 35)},
                 0xFF00001F: "draft-30", 0xFACEB001: "mvfst (faceb001)", 0xFACEB002: "mvfst (faceb002)",
                 0xFACEB00E: "mvfst (faceb00e)", 0xFACEB011: "mvfst (faceb011)", 0xFACEB012: "mvfst (faceb012)",
                 0xFACEB013: "mvfst (faceb013)"}
# Zeek's key types and algorithms (x509: OpenSSL's object names).
_KEY_TYPES = {"RSA": ("rsa", "rsaEncryption"), "EC": ("ecdsa", "id-ecPublicKey"), "DSA": ("dsa", "dsaEncryption"),
              "Ed25519": ("ed25519", "ED25519"), "Ed448": ("ed448", "ED448")}
# Our certificate findings -> the OpenSSL verify string Zeek's validation_status holds.
_VALIDATION = (
    ("expired", "certificate has expired"), ("not_yet_valid", "certificate is not yet valid"),
    ("self_signed", "self signed certificate"), ("chain_incomplete", "unable to get local issuer certificate"),
    ("untrusted_root", "self signed certificate in certificate chain"),
)


def uid_of(capture: str, stream: Union[int, str]) -> str:
    """A Zeek-shaped uid ('C' and 17 base62 characters), the same for the same capture and
    stream in every run."""
    n = int.from_bytes(hashlib.sha256(f"{capture}\0{stream}".encode("utf-8", "surrogateescape")).digest()[:13], "big")
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(17):
        n, r = divmod(n, 62)
        out.append(alphabet[r])
    return "C" + "".join(out)


def udp_uid_of(capture: str, first_frame: int) -> str:
    """The uid of a QUIC handshake's or DTLS association's flow (its first frame names it in
    the capture), the same in every run, never one a TCP connection's uid_of gives."""
    return uid_of(capture, f"udp {first_frame}")


def quic_record(q: Any, uid: str) -> dict[str, Any]:
    """quic.log's fields (Zeek's base/protocols/quic/main.zeek) of a QUIC handshake."""
    client_h, client_p = _host_port(q.client)
    server_h, server_p = _host_port(q.server)
    version = q.version
    offered = q.client_hello.alpn if q.client_hello is not None else []
    return {
        "ts": q.start_time, "uid": uid, "id.orig_h": client_h, "id.orig_p": client_p, "id.resp_h": server_h,
        "id.resp_p": server_p,
        "version": None if version is None else QUIC_VERSIONS.get(version, f"unknown-{version:x}"),
        "client_initial_dcid": q.original_dcid.hex() or None,
        "client_scid": _hex(q.client_scid), "server_scid": _hex(q.server_scid),
        "server_name": q.server_name, "client_protocol": str(offered[0]) if offered else None,
        "history": q.zeek_history,
        "tlsdissect_outcome": q.outcome(), "tlsdissect_cause": getattr(q.diagnosis, "cause", None),
        "tlsdissect_stream": q.stream,
    }


def _hex(value: Optional[bytes]) -> Optional[str]:
    return value.hex() if value is not None else None


def udp_conn_record(h: Any, uid: str) -> dict[str, Any]:
    """conn.log's fields of a UDP flow that carried a QUIC handshake or DTLS association: proto
    udp, Zeek's service names (``quic,ssl``; ``dtls``), its UDP conn_state (SF: both sides sent,
    S0: only the client, SHR: only the server) and history (D, d: each side's data)."""
    client_h, client_p = _host_port(h.client)
    server_h, server_p = _host_port(h.server)
    if h.protocol == "quic":
        sent = {side: sum(h.packets[side].values()) for side in ("client", "server")}
        pkts: dict[str, Optional[int]] = {"client": None, "server": None}  # (packets, not datagrams: not counted)
    else:
        sent = dict(h.datagrams)
        pkts = {"client": sent["client"], "server": sent["server"]}
    state = ("SF" if sent["server"] else "S0") if sent["client"] else ("SHR" if sent["server"] else "OTH")
    history = ("D" if sent["client"] else "") + ("d" if sent["server"] else "")
    return {
        "ts": h.start_time, "uid": uid, "id.orig_h": client_h, "id.orig_p": client_p,
        "id.resp_h": server_h, "id.resp_p": server_p, "proto": "udp",
        "service": "quic,ssl" if h.protocol == "quic" else "dtls",
        "duration": round(h.end_time - h.start_time, 6), "orig_bytes": None, "resp_bytes": None,
        "conn_state": state, "missed_bytes": 0, "history": history or None,
        "orig_pkts": pkts["client"], "resp_pkts": pkts["server"],
    }


def _host_port(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 0


def _epoch(iso: Optional[str]) -> Optional[float]:
    if not iso:
        return None
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def ssl_record(d: dict[str, Any], uid: str) -> dict[str, Any]:
    """ssl.log's fields from a connection's JSON form."""
    client_h, client_p = _host_port(d["client"])
    server_h, server_p = _host_port(d["server"])
    certs = d.get("server_certificates") or []
    client_certs = d.get("client_certificates") or []
    fp = d.get("fingerprints") or {}
    alerts = d.get("alerts") or []
    named = [a for a in alerts if a.get("name")]
    diag = d.get("diagnosis") or {}
    starttls = d.get("starttls") or {}
    return {
        "ts": d["start_time"], "uid": uid, "id.orig_h": client_h, "id.orig_p": client_p,
        "id.resp_h": server_h, "id.resp_p": server_p,
        "version": _VERSIONS.get(d.get("version") or "", d.get("version")),
        "cipher": d.get("cipher"), "curve": _curve(d), "server_name": d.get("server_name"),
        "resumed": d.get("resumed"), "last_alert": named[-1]["name"] if named else None,
        "next_protocol": d.get("alpn"), "established": d.get("established"),
        "ssl_history": d.get("ssl_history") or None,
        "cert_chain_fps": [c.get("der_sha256") for c in certs] if "server_certificates" in d else None,
        "client_cert_chain_fps": [c.get("der_sha256") for c in client_certs] if "client_certificates" in d else None,
        "sni_matches_cert": _sni_matches(d, certs), "validation_status": _validation(d),
        "ja3": fp.get("ja3"), "ja3s": fp.get("ja3s"), "ja4": fp.get("ja4"), "ja4s": fp.get("ja4s"),
        "tlsdissect_outcome": d.get("outcome"), "tlsdissect_cause": diag.get("cause"),
        "tlsdissect_stream": d.get("stream"), "tlsdissect_protocol": d.get("protocol", "tls"),
        "tlsdissect_starttls_result": starttls.get("result"), "tlsdissect_starttls_answer": _starttls_answer(starttls),
    }


def _starttls_answer(starttls: dict[str, Any]) -> Optional[str]:
    """The server's answer to a STARTTLS-type request: its code and words ('454 4.7.0 TLS not available')."""
    words = " ".join(str(x) for x in (starttls.get("answer_code"), starttls.get("answer_text")) if x)
    return words or None


def _curve(d: dict[str, Any]) -> Optional[str]:
    """The key-exchange group: the ServerHello's key_share (TLS 1.3), else the
    ServerKeyExchange's named curve (TLS 1.2 ECDHE), by its IANA name as Zeek prints it."""
    for hello in (d.get("server_hello"),):
        for ext in (hello or {}).get("extensions") or []:
            if isinstance(ext, dict) and ext.get("type") == 51 and ext.get("group_name"):
                return str(ext["group_name"])
    ske = d.get("server_key_exchange") or {}
    group = ske.get("named_group")
    if group is None:
        return None
    from tlsdissect.tls import tables  # (report may read the TLS stage's tables)

    return tables.name_of(tables.SUPPORTED_GROUPS, group)


def _sni_matches(d: dict[str, Any], certs: list[dict[str, Any]]) -> Optional[bool]:
    """Zeek's sni_matches_cert: set only with both a server name and a server certificate."""
    if not d.get("server_name") or not certs:
        return None
    return not any(f.get("id") == "hostname_mismatch" for f in d.get("chain_findings") or [])


def _validation(d: dict[str, Any]) -> Optional[str]:
    """Zeek's validation_status (OpenSSL's verify strings): only when the chain was checked
    against trust anchors (--ca-file, --ca-path, --system-trust)."""
    trust = d.get("trust")
    if trust in (None, "not_checked"):
        return None
    ids = {f.get("id") for f in d.get("chain_findings") or [] if f.get("role", "server") == "server"}
    for finding, text in _VALIDATION:
        if finding in ids:
            return text
    return "ok" if trust == "trusted" else "unable to get local issuer certificate"


def x509_records(d: dict[str, Any]) -> list[dict[str, Any]]:
    """x509.log's fields, one per certificate the connection carried (server's, then client's)."""
    out = []
    for role, certs in (("host", d.get("server_certificates") or []), ("client", d.get("client_certificates") or [])):
        for c in certs:
            kind, alg = _KEY_TYPES.get(c.get("key_type") or "", (None, None))
            version = c.get("version")
            out.append({
                "ts": d["start_time"], "fingerprint": c.get("der_sha256"),
                "certificate.version": int(version[1:]) if isinstance(version, str) and version[1:].isdigit() else None,
                "certificate.serial": (c.get("serial_hex") or "").upper() or None,
                "certificate.subject": c.get("subject"), "certificate.issuer": c.get("issuer"),
                "certificate.not_valid_before": _epoch(c.get("not_before")),
                "certificate.not_valid_after": _epoch(c.get("not_after")),
                "certificate.key_alg": alg, "certificate.sig_alg": c.get("signature_algorithm"),
                "certificate.key_type": kind, "certificate.key_length": c.get("key_size"),
                "certificate.exponent": None, "certificate.curve": c.get("key_curve"),
                "san.dns": c.get("san_dns") or None, "san.uri": None, "san.email": None,
                "san.ip": c.get("san_ip") or None,
                "basic_constraints.ca": c.get("basic_constraints_ca"),
                "basic_constraints.path_len": c.get("basic_constraints_path_len"),
                "host_cert": role == "host", "client_cert": role == "client",
            })
    return out


def conn_record(d: dict[str, Any], uid: str) -> dict[str, Any]:
    """conn.log's fields that a TLS capture answers (the rest of Zeek's conn.log is left out)."""
    client_h, client_p = _host_port(d["client"])
    server_h, server_p = _host_port(d["server"])
    stats = d.get("stats") or {}
    cs, ss = stats.get("client") or {}, stats.get("server") or {}
    return {
        "ts": d["start_time"], "uid": uid, "id.orig_h": client_h, "id.orig_p": client_p,
        "id.resp_h": server_h, "id.resp_p": server_p, "proto": d.get("transport", "tcp"), "service": "ssl" if d.get("is_tls") else None,
        "duration": round(d["end_time"] - d["start_time"], 6), "orig_bytes": cs.get("bytes"),
        "resp_bytes": ss.get("bytes"), "conn_state": conn_state(d),
        "missed_bytes": (cs.get("gap_bytes") or 0) + (ss.get("gap_bytes") or 0),
        "history": _history(d), "orig_pkts": cs.get("packets"), "resp_pkts": ss.get("packets"),
    }


def _tcp_marks(d: dict[str, Any]) -> dict[str, bool]:
    seen = {"syn": False, "syn_ack": False, "fin_c": False, "fin_s": False, "rst_c": False, "rst_s": False}
    for e in d.get("events") or []:
        t, who = e.get("type"), e.get("sender")
        if t in ("syn", "syn_ack"):
            seen[t] = True
        elif t in ("fin", "rst"):
            seen[f"{t}_{'c' if who == 'client' else 's'}"] = True
    return seen


def conn_state(d: dict[str, Any]) -> str:
    """Zeek's conn_state from the SYNs, FINs and RSTs each side sent (conn/main.zeek)."""
    m = _tcp_marks(d)
    if not m["syn"]:
        return "OTH"
    if not m["syn_ack"]:
        if m["rst_s"]:
            return "REJ"
        return "S0"
    if m["rst_c"]:
        return "RSTO"
    if m["rst_s"]:
        return "RSTR"
    if m["fin_c"] and m["fin_s"]:
        return "SF"
    if m["fin_c"]:
        return "S2"
    if m["fin_s"]:
        return "S3"
    return "S1"


def _history(d: dict[str, Any]) -> Optional[str]:
    """Zeek's history letters for what we record: S (client SYN), h (server SYN-ACK), D/d (data
    from the client/server), F/f (FIN), R/r (RST), in the order first seen. Zeek's A/a (pure
    ACKs) and the repeat counts are not tracked, so this is a subsequence of Zeek's string."""
    letters: list[str] = []

    def add(ch: str) -> None:
        if ch not in letters:
            letters.append(ch)

    for e in d.get("events") or []:
        t, client = e.get("type"), e.get("sender") == "client"
        if t == "syn":
            add("S")
        elif t == "syn_ack":
            add("h")
        elif t == "fin":
            add("F" if client else "f")
        elif t == "rst":
            add("R" if client else "r")
        elif t in ("handshake", "alert", "encrypted_record", "change_cipher_spec", "application_data", "not_tls"):
            add("D" if client else "d")
    return "".join(letters) or None


def _tsv_value(value: Any, zeek_type: str) -> str:
    if value is None:
        return UNSET
    if zeek_type.startswith(("vector", "set")):
        if not value:
            return EMPTY
        return SET_SEPARATOR.join(_escape(str(v)).replace(",", "\\x2c") for v in value)
    if zeek_type == "bool":
        return "T" if value else "F"
    if zeek_type in ("time", "interval"):
        return f"{float(value):.6f}"
    if zeek_type in ("string", "enum") and value == "":
        return EMPTY
    return _escape(str(value))


def _escape(s: str) -> str:
    """Zeek's ASCII writer: non-printable bytes and the separator as \\xNN."""
    out = []
    for ch in s:
        code = ord(ch)
        if code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code > 0x7E:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape"))
        else:
            out.append(ch)
    return "".join(out)


class ZeekLog:
    """One log file, TSV (with Zeek's header and ``#close``) or JSON lines (Zeek's
    ``LogAscii::use_json``: unset fields left out, times as epoch seconds)."""

    def __init__(self, out: IO[str], path: str, fields: Sequence[tuple[str, str]], json_lines: bool,
                 opened: datetime) -> None:
        self.out, self.fields, self.json_lines = out, fields, json_lines
        self.lines = 0
        if not json_lines:
            stamp = opened.strftime("%Y-%m-%d-%H-%M-%S")
            out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                      f"#path\t{path}\n#open\t{stamp}\n"
                      "#fields\t" + "\t".join(n for n, _ in fields) + "\n"
                      "#types\t" + "\t".join(t for _, t in fields) + "\n")

    def write(self, record: dict[str, Any]) -> None:
        if self.json_lines:
            obj = {n: record[n] for n, _ in self.fields if record.get(n) is not None}
            self.out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            self.out.write("\t".join(_tsv_value(record.get(n), t) for n, t in self.fields) + "\n")
        self.lines += 1

    def close(self, closed: datetime) -> None:
        if not self.json_lines:
            self.out.write(f"#close\t{closed.strftime('%Y-%m-%d-%H-%M-%S')}\n")


class ZeekLogs:
    """ssl.log, x509.log, conn.log (and quic.log when asked) for every connection handed over
    (``add``) and every QUIC handshake and DTLS association (``add_udp``)."""

    def __init__(self, outs: dict[str, IO[str]], json_lines: bool = False) -> None:
        now = datetime.now(timezone.utc)
        self.ssl = ZeekLog(outs["ssl"], "ssl", SSL_FIELDS, json_lines, now)
        self.x509 = ZeekLog(outs["x509"], "x509", X509_FIELDS, json_lines, now)
        self.conn = ZeekLog(outs["conn"], "conn", CONN_FIELDS, json_lines, now)
        self.quic = ZeekLog(outs["quic"], "quic", QUIC_FIELDS, json_lines, now) if "quic" in outs else None
        self._x509_seen: set[str] = set()

    def add(self, conn: Connection, capture: str) -> None:
        d = conn.to_dict()
        uid = uid_of(capture, conn.stream)
        self.conn.write(conn_record(d, uid))
        if not d.get("is_tls"):
            return
        self._ssl(d, uid)

    def add_udp(self, handshake: Any, capture: str) -> None:
        """A QUIC handshake (conn.log, quic.log, ssl.log: Zeek logs QUIC's TLS there too) or a
        DTLS association (conn.log, ssl.log with version DTLSv10/DTLSv12/DTLSv13), with one uid."""
        uid = udp_uid_of(capture, handshake.first_frame)
        self.conn.write(udp_conn_record(handshake, uid))
        if handshake.protocol == "quic" and self.quic is not None:
            self.quic.write(quic_record(handshake, uid))
        self._ssl(connection_form(handshake), uid)

    def _ssl(self, d: dict[str, Any], uid: str) -> None:
        self.ssl.write(ssl_record(d, uid))
        for rec in x509_records(d):
            # Zeek logs a certificate once per fingerprint (its x509 caching), with the first
            # connection's time.
            if rec["fingerprint"] in self._x509_seen:
                continue
            if len(self._x509_seen) < 100_000:
                self._x509_seen.add(rec["fingerprint"])
            self.x509.write(rec)

    def close(self) -> None:
        now = datetime.now(timezone.utc)
        for log in (self.ssl, self.x509, self.conn, self.quic):
            if log is not None:
                log.close(now)
