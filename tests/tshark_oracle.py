"""tshark as an independent oracle for the plaintext TLS handshake/alert sequence of each TCP stream.

Used only by tests (and by the debugging command below), never by the library.
For every TCP stream (Wireshark's ``tcp.stream``) it returns the two endpoints,
which one is the client, and, per direction, the ordered plaintext handshake
messages ``("handshake", code)`` and plaintext alerts ``("alert", level, code)``
that tshark decodes, each with the frame number tshark reports it in.

How tshark is driven, and the tshark behaviour worked around (checked on
tshark 4.0.17):

* One ``-T fields`` run per capture with all fields together: tshark's start-up
  (~0.4 s) dominates, so one run per file is the budget.  Frame-level fields
  with ``-E occurrence=a`` list every record/message of a frame in tree order.
* The field lists of one frame say in which order its handshake messages come
  and in which order its alerts come, but not how the two interleave.  The
  order of ``tls.record.content_type`` settles it unless an alert record sits
  between two handshake records (or the reverse); only for such frames a
  second, ``-T json`` run reads the protocol tree itself (duplicate JSON keys
  kept in order) for exactly those frames.
* Encrypted handshake messages ("Encrypted Handshake Message") and encrypted
  alerts ("Encrypted Alert") carry no ``tls.handshake.type`` /
  ``tls.alert_message.*`` fields, so they drop out by themselves.  No key log
  is ever passed (``tls.keylog_file`` and ``tls.keys_list`` forced empty) so a
  user's Wireshark preferences cannot make tshark decrypt; the run also uses an
  empty ``WIRESHARK_CONFIG_DIR`` for the same reason.
* SSLv2 records (e.g. an SSLv2-compatible ClientHello) have no
  ``tls.record.content_type``; tshark puts their message type in the same
  ``tls.handshake.type`` field, with SSLv2 codes (client_hello is 1, but an
  SSLv2 server_hello is 4, client_master_key 2).  They are reported as-is.
* tshark dissects TLS only on ports it knows plus its TLS heuristic, which does
  not accept SSLv2 hellos and loses to other protocols registered on the port
  (e.g. HTTP on 80).  So after the first run, every stream in which tshark saw
  no TLS but whose first payload bytes (lowest sequence number, per direction)
  look like a TLS record header (type 20-24, version 3.x) or an SSLv2
  ClientHello is re-dissected with ``-d tcp.port==P,tls`` for both of its
  ports.  Results from that second run are used only for those streams, so
  the Decode-As cannot disturb other streams sharing a port.  The decision
  reads the bytes tshark prints (``tcp.payload``), not our engine.
* A pcapng may embed TLS key logs (Decryption Secrets Blocks); tshark then
  decrypts silently, whatever the preferences say, and shows encrypted
  handshake messages as plaintext.  Such files are first copied without their
  secrets (their pcapng blocks are copied minus the secrets blocks; frame
  numbers are unchanged; ``editcap --discard-all-secrets`` refuses some files).
  Records of a NULL-cipher suite are still shown: their content is in clear
  on the wire and tshark reads it without keys.
* Frames carrying TCP inside an ICMP error are excluded (``not icmp``): their
  embedded TCP header is not part of any stream.
* Reassembly preferences forced on: ``tcp.desegment_tcp_streams``,
  ``tcp.reassemble_out_of_order``, ``tls.desegment_ssl_records``,
  ``tls.desegment_ssl_application_data``.  A message reassembled from several
  segments is reported in the frame where tshark completes it.
* tshark exits non-zero on a capture "cut short in the middle of a packet"
  but still prints every complete frame; that is accepted (noted in
  ``warnings``), any other failure raises :class:`OracleError`.

Results are cached per capture in ``$TMPDIR/tlsdissect-tshark-oracle`` (or
``$TLSDISSECT_ORACLE_CACHE``) keyed by the file's sha256, the tshark version and
a hash of the code that builds results, so identical files share one tshark run.

Command line (for debugging the engine)::

    python tests/tshark_oracle.py FILE            # tshark's view, per stream
    python tests/tshark_oracle.py --compare FILE  # our engine vs tshark, per stream
    python tests/tshark_oracle.py --survey [DIR]  # run over every capture, with timings
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import ipaddress
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

TSHARK_TIMEOUT_S = 600
PREFS = (
    "tcp.desegment_tcp_streams:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
    "tcp.analyze_sequence_numbers:TRUE",
    "tls.desegment_ssl_records:TRUE",
    "tls.desegment_ssl_application_data:TRUE",
    "tls.keylog_file:",
    "tls.keys_list:",
)
DISPLAY_FILTER = "tcp and not icmp and not icmpv6"
FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "tcp.stream",
    "_ws.col.Source",
    "_ws.col.Destination",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.seq",
    "tcp.len",
    "frame.protocols",
    "tls.record.content_type",
    "tls.handshake.type",
    "tls.alert_message.level",
    "tls.alert_message.desc",
    "tcp.payload",
)
CT_HANDSHAKE = 22
CT_ALERT = 21
STRONG_ROLE_EVIDENCE = ("syn", "syn_ack", "client_hello", "server_hello")
CACHE_DIR = Path(
    os.environ.get("TLSDISSECT_ORACLE_CACHE")
    or Path(tempfile.gettempdir()) / "tlsdissect-tshark-oracle"
)

# Names for readable diffs only (RFC 8446 section 4, RFC 5246, RFC 8446 section 6).
HANDSHAKE_NAMES = {
    0: "hello_request",
    1: "client_hello",
    2: "server_hello",
    3: "hello_verify_request",
    4: "new_session_ticket",
    5: "end_of_early_data",
    6: "hello_retry_request",
    8: "encrypted_extensions",
    11: "certificate",
    12: "server_key_exchange",
    13: "certificate_request",
    14: "server_hello_done",
    15: "certificate_verify",
    16: "client_key_exchange",
    20: "finished",
    21: "certificate_url",
    22: "certificate_status",
    24: "key_update",
    25: "compressed_certificate",
    254: "message_hash",
}
ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}
LEVEL_NAMES = {1: "warning", 2: "fatal"}


class OracleError(RuntimeError):
    """tshark could not be run on a capture, or printed something we cannot read."""


@dataclass(frozen=True)
class OracleEvent:
    """One plaintext handshake message or alert as tshark decodes it."""

    kind: str  # "handshake" | "alert"
    code: int
    frame: int
    level: int | None = None
    sslv2: bool = False  # from an SSLv2 record: codes are SSLv2 message types

    def key(self) -> tuple:
        """The comparison key: ("handshake", code), ("alert", level, code), or ("sslv2", code).

        An SSLv2 ClientHello (SSLv2 message type 1, also the SSLv2-compatible
        hello of RFC 5246 appendix E.2) is ("handshake", 1) like a TLS one; the
        other SSLv2 messages get their own kind, since their codes mean other
        things in TLS (SSLv2 SERVER-HELLO is 4, TLS new_session_ticket is 4).
        """
        if self.kind == "handshake" and self.sslv2 and self.code != 1:
            return ("sslv2", self.code)
        if self.kind == "handshake":
            return ("handshake", self.code)
        return ("alert", self.level, self.code)


@dataclass
class OracleStream:
    """One TCP stream: endpoints, who is the client and why, and per-sender event lists."""

    stream: int
    client: str
    server: str
    role_evidence: str  # syn | syn_ack | client_hello | server_hello | first_packet
    events: dict[str, list[OracleEvent]] = field(
        default_factory=dict
    )  # by sender endpoint
    tls_frames: int = 0
    decoded_as: tuple[
        int, ...
    ] = ()  # ports given to -d tcp.port==P,tls for this stream

    def sequence(self, role: str) -> list[OracleEvent]:
        """Events sent by "client" or "server"."""
        return self.events.get(self.client if role == "client" else self.server, [])

    @property
    def has_events(self) -> bool:
        return any(self.events.values())


@dataclass
class OracleResult:
    """tshark's view of one capture."""

    capture: str
    tshark_version: str
    streams: dict[int, OracleStream]
    decode_as_ports: tuple[int, ...] = ()
    json_frames: tuple[int, ...] = ()  # frames whose order was read from the JSON tree
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    secrets_discarded: bool = (
        False  # the pcapng embedded TLS secrets, removed before dissection
    )

    @property
    def sees_tls(self) -> bool:
        return any(s.tls_frames for s in self.streams.values())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["streams"] = {str(k): v for k, v in d["streams"].items()}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OracleResult:
        streams = {}
        for k, s in d["streams"].items():
            events = {
                ep: [OracleEvent(**e) for e in evs] for ep, evs in s["events"].items()
            }
            streams[int(k)] = OracleStream(
                stream=s["stream"],
                client=s["client"],
                server=s["server"],
                role_evidence=s["role_evidence"],
                events=events,
                tls_frames=s["tls_frames"],
                decoded_as=tuple(s["decoded_as"]),
            )
        return cls(
            capture=d["capture"],
            tshark_version=d["tshark_version"],
            streams=streams,
            decode_as_ports=tuple(d["decode_as_ports"]),
            json_frames=tuple(d["json_frames"]),
            warnings=tuple(d["warnings"]),
            seconds=d["seconds"],
            secrets_discarded=d["secrets_discarded"],
        )


# ---------------------------------------------------------------- running tshark


def tshark_path() -> str | None:
    return shutil.which("tshark")


def frame_senders(capture_dir: Path) -> dict[int, str]:
    """Frame number -> 'address:port' of its sender, from the tshark listing (tshark.txt) kept
    beside a lab capture."""
    out = {}
    for line in (capture_dir / "tshark.txt").read_text().splitlines():
        f = line.split()
        if len(f) > 4 and f[0].isdigit() and f[3].isdigit():
            out[int(f[0])] = f"{f[2]}:{f[3]}"
    return out


def require_tshark() -> str:
    """Path of tshark, or skip the calling test with a reason."""
    path = tshark_path()
    if path is None:
        import pytest

        pytest.skip(
            "tshark not installed (apt-get install tshark); it is the independent oracle for these tests"
        )
    return path


@lru_cache(maxsize=1)
def _config_dir() -> str:
    """An empty Wireshark configuration folder, so user preferences cannot change the dissection."""
    return tempfile.mkdtemp(prefix="tlsdissect-wsconf-")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = _config_dir()
    env.pop("SSLKEYLOGFILE", None)
    return env


@lru_cache(maxsize=1)
def tshark_version() -> str:
    """e.g. "4.0.17" (the first line of ``tshark --version``)."""
    exe = tshark_path()
    if exe is None:
        raise OracleError("tshark not found on PATH")
    out = subprocess.run(
        [exe, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        check=False,
    ).stdout
    first = out.splitlines()[0] if out else ""
    parts = first.split()
    return (
        parts[2]
        if len(parts) > 2 and parts[0] == "TShark"
        else first.strip() or "unknown"
    )


def _run(args: list[str], path: Path, warnings: list[str]) -> str:
    exe = tshark_path()
    if exe is None:
        raise OracleError("tshark not found on PATH")
    cmd = [exe, "-n", "-r", str(path)]
    for pref in PREFS:
        cmd += ["-o", pref]
    cmd += args
    try:
        proc = subprocess.run(
            cmd, capture_output=True, timeout=TSHARK_TIMEOUT_S, env=_env(), check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(
            f"tshark took more than {TSHARK_TIMEOUT_S}s on {path}"
        ) from exc
    stderr = proc.stderr.decode("utf-8", "replace")
    noise = [
        ln for ln in stderr.splitlines() if ln.strip() and "Running as user" not in ln
    ]
    if proc.returncode != 0:
        if (
            "cut short in the middle of a packet" in stderr
            or "appears to be damaged or corrupt" in stderr
        ):
            warnings.append(" ".join(noise)[:300])
        else:
            raise OracleError(
                f"tshark failed (exit {proc.returncode}) on {path}: {' '.join(noise)[:500]}"
            )
    return proc.stdout.decode("utf-8", "replace")


# ---------------------------------------------------------------- parsing fields output


@dataclass
class _Frame:
    number: int
    time: float
    stream: int
    src: str
    dst: str
    syn: bool
    ack: bool
    seq: int
    length: int
    has_tls: bool
    content_types: list[int]
    hs_types: list[int]
    alert_levels: list[int]
    alert_descs: list[int]
    payload_head: bytes


def endpoint(addr: str, port: int | str) -> str:
    """Canonical "ip:port" / "[v6]:port" (RFC 5952 text for IPv6)."""
    ip = ipaddress.ip_address(addr.strip().strip("[]"))
    return f"[{ip.compressed}]:{int(port)}" if ip.version == 6 else f"{ip}:{int(port)}"


def parse_endpoint(text: str) -> str:
    """Canonicalise an endpoint string written as "ip:port" or "[v6]:port"."""
    host, _, port = text.strip().rpartition(":")
    return endpoint(host, port)


def _ints(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(int(part, 0))
    return out


def _flag(text: str) -> bool:
    return text.split(",")[0].strip().lower() in ("1", "true")


def _first(text: str) -> str:
    """First occurrence of a field (a frame has one TCP header; see the ICMP note in the module doc)."""
    return text.split(",")[0].strip()


def _parse_fields(text: str) -> list[_Frame]:
    frames = []
    n = len(FIELDS)
    for line in text.splitlines():
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < n:
            cols += [""] * (n - len(cols))
        (
            num,
            ts,
            stream,
            src,
            dst,
            sport,
            dport,
            syn,
            ack,
            seq,
            length,
            protos,
            cts,
            hss,
            levels,
            descs,
            payload,
        ) = cols[:n]
        if not stream or not sport:
            continue
        try:
            frames.append(
                _Frame(
                    number=int(num),
                    time=float(ts or 0),
                    stream=int(_first(stream)),
                    src=endpoint(_first(src), _first(sport)),
                    dst=endpoint(_first(dst), _first(dport)),
                    syn=_flag(syn),
                    ack=_flag(ack),
                    seq=int(_first(seq) or 0),
                    length=int(_first(length) or 0),
                    has_tls="tls" in protos.split(":"),
                    content_types=_ints(cts),
                    hs_types=_ints(hss),
                    alert_levels=_ints(levels),
                    alert_descs=_ints(descs),
                    payload_head=bytes.fromhex(_first(payload)[:16])
                    if payload
                    else b"",
                )
            )
        except ValueError as exc:
            raise OracleError(
                f"unreadable tshark fields line {line[:200]!r}: {exc}"
            ) from exc
    return frames


def _frame_events(fr: _Frame) -> list[OracleEvent] | None:
    """Events of one frame in stream order, or None when the field lists cannot say (see module doc)."""
    sslv2 = CT_HANDSHAKE not in fr.content_types
    hs = [OracleEvent("handshake", c, fr.number, sslv2=sslv2) for c in fr.hs_types]
    if len(fr.alert_levels) != len(fr.alert_descs):
        return None
    al = [
        OracleEvent("alert", d, fr.number, lv)
        for lv, d in zip(fr.alert_levels, fr.alert_descs)
    ]
    if not hs or not al:
        return hs + al
    kinds = [c for c in fr.content_types if c in (CT_HANDSHAKE, CT_ALERT)]
    changes = sum(1 for a, b in itertools.pairwise(kinds) if a != b)
    if changes != 1:
        return None
    return hs + al if kinds[0] == CT_HANDSHAKE else al + hs


# ---------------------------------------------------------------- the JSON tree, for ambiguous frames


def _tree_events(
    node: Any, frame: int, out: list[OracleEvent], sslv2: bool = False
) -> None:
    """Walk a tshark JSON subtree (kept as ordered (key, value) pairs) collecting events in order.

    A ``tls.record`` without ``tls.record.content_type`` is an SSLv2 record.
    """
    if not isinstance(node, list):
        return
    for key, value in node:
        if key == "tls.handshake.type" and isinstance(value, str):
            out.append(OracleEvent("handshake", int(value, 0), frame, sslv2=sslv2))
        elif key == "tls.alert_message" and isinstance(value, list):
            d = dict(value)
            if "tls.alert_message.level" in d and "tls.alert_message.desc" in d:
                out.append(
                    OracleEvent(
                        "alert",
                        int(d["tls.alert_message.desc"], 0),
                        frame,
                        int(d["tls.alert_message.level"], 0),
                    )
                )
        elif key == "tls.record" and isinstance(value, list):
            _tree_events(
                value, frame, out, sslv2="tls.record.content_type" not in dict(value)
            )
        else:
            _tree_events(value, frame, out, sslv2)


def _json_events(
    path: Path, frames: Sequence[int], decode_args: list[str], warnings: list[str]
) -> dict[int, list[OracleEvent]]:
    """Events of the given frames read from tshark's JSON protocol tree."""
    out: dict[int, list[OracleEvent]] = {}
    for i in range(0, len(frames), 200):
        chunk = frames[i : i + 200]
        flt = " || ".join(f"frame.number == {n}" for n in chunk)
        text = _run(
            decode_args + ["-T", "json", "-J", "frame tcp tls", "-Y", flt],
            path,
            warnings,
        )
        try:
            packets = json.loads(text or "[]", object_pairs_hook=lambda pairs: pairs)
        except json.JSONDecodeError as exc:
            raise OracleError(f"tshark JSON for {path} unreadable: {exc}") from exc
        for pkt in packets:
            pairs = dict(dict(pkt)["_source"])["layers"]
            number = int(dict(dict(pairs)["frame"])["frame.number"])
            events: list[OracleEvent] = []
            for key, value in pairs:
                if key == "tls":
                    _tree_events(
                        value if isinstance(value, list) else [], number, events
                    )
            out[number] = events
    return out


# ---------------------------------------------------------------- deciding roles and Decode-As


def _looks_like_tls(head: bytes) -> bool:
    """A TLS record header (type 20-24, version 3.0-3.4, sane length) or an SSLv2 ClientHello header."""
    if len(head) >= 5 and 20 <= head[0] <= 24 and head[1] == 3 and head[2] <= 4:
        return int.from_bytes(head[3:5], "big") <= 16384 + 2048
    return (
        len(head) >= 5 and head[0] & 0x80 != 0 and head[2] == 1 and head[3] in (0, 2, 3)
    )


def _streams_needing_decode_as(frames: list[_Frame]) -> dict[int, tuple[int, ...]]:
    """Streams without TLS in tshark whose first payload in some direction looks like TLS -> their ports."""
    tls_streams = {f.stream for f in frames if f.has_tls}
    first: dict[tuple[int, str], _Frame] = {}
    for f in frames:
        if f.stream in tls_streams or f.length <= 0 or not f.payload_head:
            continue
        k = (f.stream, f.src)
        if k not in first or f.seq < first[k].seq:
            first[k] = f
    out: dict[int, tuple[int, ...]] = {}
    for (stream, _src), f in first.items():
        if _looks_like_tls(f.payload_head):
            ports = sorted({int(f.src.rsplit(":", 1)[1]), int(f.dst.rsplit(":", 1)[1])})
            out[stream] = tuple(ports)
    return out


# OpenVPN's hard-reset opcodes (P_CONTROL_HARD_RESET_CLIENT_V1/V2/V3, _SERVER_V1/V2: OpenVPN's
# ssl_pkt.h), the first packet of each direction of an OpenVPN session.
_OPENVPN_HARD_RESETS = (1, 2, 7, 8, 10)
# tls-auth HMAC sizes to try when tshark's own tls-auth guess finds no TLS (SHA-1, SHA-256, SHA-512)
_OPENVPN_HMAC_SIZES = (20, 32, 64)


def _looks_like_openvpn(f: _Frame) -> bool:
    """A TCP payload that starts with an OpenVPN packet length and a hard reset of key id 0
    (the packet may go on in later segments: some clients send it in 9-byte pieces)."""
    head = f.payload_head
    return (len(head) >= 3 and head[2] >> 3 in _OPENVPN_HARD_RESETS and not head[2] & 7
            and 14 <= int.from_bytes(head[:2], "big") <= 2048)


def _streams_needing_openvpn(frames: list[_Frame]) -> dict[int, tuple[int, ...]]:
    """Streams without TLS in tshark whose first payload both ways is an OpenVPN hard reset ->
    their ports (tshark's OpenVPN dissector is registered on 1194 only; on 443 its TLS
    dissector takes the packets for unreadable TLS)."""
    tls_streams = {f.stream for f in frames if f.hs_types}
    first: dict[tuple[int, str], _Frame] = {}
    for f in frames:
        if f.stream in tls_streams or f.length <= 0 or not f.payload_head:
            continue
        k = (f.stream, f.src)
        if k not in first or f.seq < first[k].seq:
            first[k] = f
    by_stream: dict[int, list[_Frame]] = {}
    for (stream, _src), f in first.items():
        by_stream.setdefault(stream, []).append(f)
    return {stream: tuple(sorted({int(fs[0].src.rsplit(":", 1)[1]), int(fs[0].dst.rsplit(":", 1)[1])}))
            for stream, fs in by_stream.items() if len(fs) == 2 and all(_looks_like_openvpn(g) for g in fs)}


def _decode_openvpn(path: Path, frames: list[_Frame], field_args: list[str], events: dict[int, list[OracleEvent]],
                    warnings: list[str], json_frames: list[int]) -> tuple[list[_Frame], dict[int, tuple[int, ...]]]:
    """TLS inside OpenVPN over TCP: the streams that start with OpenVPN hard resets, decoded as
    OpenVPN (``-d tcp.port==N,openvpn``); where tshark's guess of the tls-auth layout finds no
    TLS, again with tls-auth set and each usual HMAC size. Their frames replace the first pass's."""
    todo = _streams_needing_openvpn(frames)
    decoded: dict[int, tuple[int, ...]] = {}
    by_number = {f.number: f for f in frames}
    layouts: list[list[str]] = [[]] + [["-o", "openvpn.tls_auth_detection_override:TRUE", "-o", "openvpn.tls_auth:TRUE",
                                        "-o", f"openvpn.tls_auth_hmac_size:{n}"] for n in _OPENVPN_HMAC_SIZES]
    for layout in layouts:
        if not todo:
            break
        decode_args = list(layout)
        for p in sorted({p for ps in todo.values() for p in ps}):
            decode_args += ["-d", f"tcp.port=={p},openvpn"]
        frames2 = [f for f in _parse_fields(_run(decode_args + field_args, path, warnings)) if f.stream in todo]
        found = {f.stream for f in frames2 if f.hs_types}  # (a handshake message: the layout was right)
        redo_frames = [f for f in frames2 if f.stream in found]
        events2 = _events_by_frame(path, redo_frames, decode_args, warnings, json_frames)
        for f in redo_frames:
            by_number[f.number] = f
            events.pop(f.number, None)
            if f.number in events2:
                events[f.number] = events2[f.number]
        for stream in found:
            decoded[stream] = todo.pop(stream)
    return [by_number[n] for n in sorted(by_number)], decoded


def _roles(
    frames: list[_Frame], events: dict[int, list[OracleEvent]]
) -> tuple[str, str, str]:
    """(client, server, evidence): SYN sender; else SYN-ACK receiver; else ClientHello sender; else ServerHello receiver."""
    for f in frames:
        if f.syn and not f.ack:
            return f.src, f.dst, "syn"
    for f in frames:
        if f.syn and f.ack:
            return f.dst, f.src, "syn_ack"
    for wanted, evidence in ((1, "client_hello"), (2, "server_hello")):
        for f in frames:
            if any(
                e.kind == "handshake" and e.code == wanted
                for e in events.get(f.number, [])
            ):
                return (
                    (f.src, f.dst, evidence)
                    if wanted == 1
                    else (f.dst, f.src, evidence)
                )
    return frames[0].src, frames[0].dst, "first_packet"


def _events_by_frame(
    path: Path,
    frames: list[_Frame],
    decode_args: list[str],
    warnings: list[str],
    json_frames: list[int],
) -> dict[int, list[OracleEvent]]:
    events: dict[int, list[OracleEvent]] = {}
    ambiguous = []
    for f in frames:
        ev = _frame_events(f)
        if ev is None:
            ambiguous.append(f.number)
        elif ev:
            events[f.number] = ev
    if ambiguous:
        json_frames.extend(ambiguous)
        events.update(_json_events(path, ambiguous, decode_args, warnings))
    return events


PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_DSB = 0x0000000A


def _open_capture(path: Path):
    """Binary handle on a capture, gunzipping when it starts with the gzip magic (tshark reads .gz too)."""
    fh = path.open("rb")
    if fh.read(2) == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")
    fh.seek(0)
    return fh


def _pcapng_blocks(path: Path, keep_bodies: bool):
    """Yield (block type, raw block bytes or b"") of a pcapng; nothing for other formats; stops at damage."""
    with _open_capture(path) as fh:
        order = None
        while True:
            head = fh.read(12)
            if len(head) < 12:
                return
            if (
                int.from_bytes(head[:4], "little") == PCAPNG_SHB
            ):  # same value in both byte orders
                order = "little" if head[8:12] == b"\x4d\x3c\x2b\x1a" else "big"
            elif order is None:
                return  # not pcapng (pcap has no place for secrets)
            btype = int.from_bytes(head[:4], order)
            blen = int.from_bytes(head[4:8], order)
            if blen < 12 or blen % 4:
                return  # damaged; tshark will say so itself
            if keep_bodies or btype == PCAPNG_DSB:
                body = fh.read(blen - 12)
                yield btype, head + body
            else:
                fh.seek(blen - 12, os.SEEK_CUR)
                yield btype, b""


def has_embedded_secrets(path: Path) -> bool:
    """True when a pcapng holds a Decryption Secrets Block (type 0x0A), which tshark would use to decrypt."""
    return any(
        btype == PCAPNG_DSB for btype, _ in _pcapng_blocks(path, keep_bodies=False)
    )


def _without_secrets(path: Path, workdir: str) -> Path:
    """A copy of the pcapng with every Decryption Secrets Block dropped (editcap --discard-all-secrets refuses
    some files, e.g. TraceWrangler-sanitised ones, so the blocks are copied here)."""
    out = Path(workdir) / "nosecrets.pcapng"
    with out.open("wb") as dst:
        for btype, raw in _pcapng_blocks(path, keep_bodies=True):
            if btype != PCAPNG_DSB:
                dst.write(raw)
    return out


def _build(path: Path) -> OracleResult:
    try:
        secrets = has_embedded_secrets(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise OracleError(f"cannot read {path}: {exc}") from exc
    if not secrets:
        return _build_from(path, path, False)
    with tempfile.TemporaryDirectory(prefix="tlsdissect-oracle-") as tmp:
        return _build_from(_without_secrets(path, tmp), path, True)


def _build_from(path: Path, original: Path, secrets_discarded: bool) -> OracleResult:
    started = time.monotonic()
    warnings: list[str] = []
    json_frames: list[int] = []
    field_args = [
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "separator=/t",
        "-E",
        "header=n",
        "-Y",
        DISPLAY_FILTER,
    ]
    for f in FIELDS:
        field_args += ["-e", f]
    frames = _parse_fields(_run(field_args, path, warnings))
    events = _events_by_frame(path, frames, [], warnings, json_frames)
    redo = _streams_needing_decode_as(frames)
    ports = tuple(sorted({p for ps in redo.values() for p in ps}))
    if redo:
        decode_args = []
        for p in ports:
            decode_args += ["-d", f"tcp.port=={p},tls"]
        frames2 = _parse_fields(_run(decode_args + field_args, path, warnings))
        redo_frames = [f for f in frames2 if f.stream in redo]
        events2 = _events_by_frame(
            path, redo_frames, decode_args, warnings, json_frames
        )
        by_number = {f.number: f for f in frames}
        for f in redo_frames:
            by_number[f.number] = f
            events.pop(f.number, None)
            if f.number in events2:
                events[f.number] = events2[f.number]
        frames = [by_number[n] for n in sorted(by_number)]
    frames, openvpn_ports = _decode_openvpn(path, frames, field_args, events, warnings, json_frames)
    redo.update(openvpn_ports)
    per_stream: dict[int, list[_Frame]] = {}
    for f in frames:
        per_stream.setdefault(f.stream, []).append(f)
    streams: dict[int, OracleStream] = {}
    for sid, sframes in sorted(per_stream.items()):
        client, server, evidence = _roles(sframes, events)
        st = OracleStream(
            sid,
            client,
            server,
            evidence,
            {client: [], server: []},
            tls_frames=sum(1 for f in sframes if f.has_tls),
            decoded_as=redo.get(sid, ()),
        )
        for f in sframes:
            for ev in events.get(f.number, []):
                st.events.setdefault(f.src, []).append(ev)
        streams[sid] = st
    return OracleResult(
        capture=str(original),
        tshark_version=tshark_version(),
        streams=streams,
        decode_as_ports=ports,
        json_frames=tuple(sorted(set(json_frames))),
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
        secrets_discarded=secrets_discarded,
    )


# ---------------------------------------------------------------- caching


COMPARISON_MARKER = "# " + "-" * 64 + " comparison with our engine"


@lru_cache(maxsize=1)
def _self_hash() -> str:
    """Hash of the code that produces oracle results (everything above the comparison section)."""
    text = Path(__file__).read_text(encoding="utf-8")
    return hashlib.sha256(text.split(COMPARISON_MARKER)[0].encode()).hexdigest()[:12]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_memory: dict[str, OracleResult] = {}


def oracle(path: str | os.PathLike[str]) -> OracleResult:
    """tshark's per-stream view of a capture (cached on disk and in memory)."""
    p = Path(path)
    if not p.is_file():
        raise OracleError(f"no such capture file: {p}")
    key = f"{_sha256(p)}-{tshark_version()}-{_self_hash()}"
    if key in _memory:
        return _with_capture(_memory[key], p)
    cache_file = CACHE_DIR / f"{key}.json"
    if cache_file.is_file():
        try:
            result = OracleResult.from_json(json.loads(cache_file.read_text()))
            _memory[key] = result
            return _with_capture(result, p)
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is simply recomputed
    result = _build(p)
    _memory[key] = result
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(result.to_json()))
        tmp.replace(cache_file)
    except OSError:
        pass  # caching is an optimisation only
    return result


def _with_capture(result: OracleResult, p: Path) -> OracleResult:
    """Identical files share a cache entry; report the path that was asked for."""
    if result.capture == str(p):
        return result
    return OracleResult(
        str(p),
        result.tshark_version,
        result.streams,
        result.decode_as_ports,
        result.json_frames,
        result.warnings,
        result.seconds,
        result.secrets_discarded,
    )


def prefetch(
    paths: Iterable[str | os.PathLike[str]], workers: int | None = None
) -> dict[str, OracleResult | OracleError]:
    """Run the oracle over many captures in parallel threads (tshark runs as separate processes)."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    plist = [str(p) for p in paths]

    def one(p: str) -> OracleResult | OracleError:
        try:
            return oracle(p)
        except OracleError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(plist, pool.map(one, plist)))


# ---------------------------------------------------------------- comparison with our engine


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between our report and tshark, on one stream."""

    stream: int
    kind: str  # sequence | frames | role | stream_number | extra_stream | missing_stream | bad_report
    direction: str  # "client" | "server" | ""
    text: str


SSL2_NAMES = {
    0: "error",
    1: "client_hello",
    2: "client_master_key",
    3: "client_finished",
    4: "server_hello",
    5: "server_verify",
    6: "server_finished",
    7: "request_certificate",
    8: "client_certificate",
}


def describe(key: tuple, sslv2: bool = False) -> str:
    if key[0] == "sslv2" or (key[0] == "handshake" and sslv2):
        return f"SSLv2 {SSL2_NAMES.get(key[1], '?')}({key[1]})"
    if key[0] == "handshake":
        return f"handshake {HANDSHAKE_NAMES.get(key[1], '?')}({key[1]})"
    level = LEVEL_NAMES.get(key[1], str(key[1])) if key[1] is not None else "?"
    return f"alert {level} {ALERT_NAMES.get(key[2], '?')}({key[2]})"


def _level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return {"warning": 1, "fatal": 2}.get(str(value).lower())


def our_events(conn: dict[str, Any]) -> dict[str, list[tuple[tuple, int | None]]]:
    """Our plaintext handshake/alert events of one connection: sender endpoint -> [(key, frame)].

    A handshake event flagged ``"sslv2": true`` (or whose message name starts
    with "sslv2") is an SSLv2 message, keyed like the oracle's SSLv2 events.
    """
    ends = {
        "client": parse_endpoint(conn["client"]),
        "server": parse_endpoint(conn["server"]),
    }
    out: dict[str, list[tuple[tuple, int | None]]] = {
        ends["client"]: [],
        ends["server"]: [],
    }
    for ev in conn.get("events", []):
        if ev.get("encrypted") is not False or ev.get("sender") not in ends:
            continue
        if ev.get("type") == "handshake":
            sslv2 = bool(ev.get("sslv2")) or str(
                ev.get("message", "")
            ).lower().startswith("sslv2")
            key: tuple = (
                "sslv2" if sslv2 and ev.get("code") != 1 else "handshake",
                ev.get("code"),
            )
        elif ev.get("type") == "alert":
            key = ("alert", _level(ev.get("level")), ev.get("code"))
        else:
            continue
        out[ends[ev["sender"]]].append((key, ev.get("frame")))
    return out


def _table(
    ours: list[tuple[tuple, int | None]], theirs: list[OracleEvent], first: int
) -> str:
    rows = [f"    {'pos':>3}  {'ours':<44} {'frame':>6} | {'tshark':<44} {'frame':>6}"]
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        mark = ">>" if i == first else "  "
        rows.append(
            f"  {mark}{i:>3}  {describe(a[0]) if a else '-':<44} {str(a[1]) if a else '':>6} | "
            f"{describe(b.key(), b.sslv2) if b else '-':<44} {str(b.frame) if b else '':>6}"
        )
    return "\n".join(rows)


def _pair_streams(
    result: OracleResult, ours: list[dict[str, Any]]
) -> list[tuple[OracleStream | None, dict[str, Any] | None]]:
    """Pair our connections with tshark's streams by their two endpoints, in stream order when a
    pair of endpoints is reused.  Pairing by endpoints rather than by number keeps one numbering
    difference from cascading into every later stream; numbers are compared separately."""
    theirs_by: dict[frozenset[str], list[OracleStream]] = {}
    for sid in sorted(result.streams):
        st = result.streams[sid]
        theirs_by.setdefault(frozenset((st.client, st.server)), []).append(st)
    ours_by: dict[frozenset[str], list[dict[str, Any]]] = {}
    for conn in sorted(ours, key=lambda c: c["stream"]):
        ends = frozenset(
            (parse_endpoint(conn["client"]), parse_endpoint(conn["server"]))
        )
        ours_by.setdefault(ends, []).append(conn)
    pairs: list[tuple[OracleStream | None, dict[str, Any] | None]] = []
    for ends in set(theirs_by) | set(ours_by):
        t, o = theirs_by.get(ends, []), ours_by.get(ends, [])
        for i in range(max(len(t), len(o))):
            pairs.append((t[i] if i < len(t) else None, o[i] if i < len(o) else None))
    return sorted(pairs, key=lambda p: p[0].stream if p[0] else p[1]["stream"])  # type: ignore[index]


def _valid_connections(
    report: dict[str, Any], problems: list[Mismatch]
) -> list[dict[str, Any]]:
    out, seen = [], set()
    for conn in report.get("connections", []):
        if conn.get("transport", "tcp") != "tcp":
            continue  # (TLS inside OpenVPN over UDP: the oracle compares TCP streams)
        sid = conn.get("stream")
        try:
            (
                parse_endpoint(str(conn.get("client"))),
                parse_endpoint(str(conn.get("server"))),
            )
        except ValueError:
            sid = None
        if not isinstance(sid, int) or sid in seen:
            why = (
                "reported twice"
                if sid in seen
                else "without an integer stream and ip:port endpoints"
            )
            problems.append(
                Mismatch(-1, "bad_report", "", f"connection {why}: {str(conn)[:200]}")
            )
            continue
        seen.add(sid)
        out.append(conn)
    return out


def compare(
    result: OracleResult, report: dict[str, Any], check_frames: bool = True
) -> list[Mismatch]:
    """Every disagreement between our report dict and tshark, stream by stream.

    Kinds: ``sequence`` (a direction's plaintext handshake/alert list differs),
    ``frames`` (same list, other frame numbers), ``role`` (we call the other side
    the client although tshark saw its SYN/ClientHello), ``stream_number``
    (same endpoints, other ``stream``), ``extra_stream`` / ``missing_stream``
    (plaintext TLS messages on one side only), ``bad_report``.  A mismatch's
    ``stream`` is tshark's stream number when tshark has the stream.
    """
    problems: list[Mismatch] = []
    conns = _valid_connections(report, problems)
    for st, conn in _pair_streams(result, conns):
        mine = our_events(conn) if conn else {}
        if not (st and st.has_events) and not any(mine.values()):
            continue
        if st is None or not st.has_events:
            assert conn is not None
            lines = [
                f"  {d} {describe(k)} frame {fr}"
                for d, evs in mine.items()
                for k, fr in evs
            ]
            where = (
                f"tshark stream {st.stream} has none"
                if st
                else "tshark has no TCP stream between these endpoints"
            )
            problems.append(
                Mismatch(
                    st.stream if st else conn["stream"],
                    "extra_stream",
                    "",
                    f"our stream {conn['stream']} ({conn['client']} -> {conn['server']}): we report plaintext "
                    f"TLS messages, {where}:\n" + "\n".join(lines),
                )
            )
            continue
        if conn is None:
            lines = [
                f"  {role} {describe(e.key(), e.sslv2)} frame {e.frame}"
                for role in ("client", "server")
                for e in st.sequence(role)
            ]
            problems.append(
                Mismatch(
                    st.stream,
                    "missing_stream",
                    "",
                    f"tshark stream {st.stream} ({st.client} -> {st.server}): tshark decodes plaintext TLS "
                    "messages, we report no connection between these endpoints:\n"
                    + "\n".join(lines),
                )
            )
            continue
        sid = st.stream
        if conn["stream"] != sid:
            problems.append(
                Mismatch(
                    sid,
                    "stream_number",
                    "",
                    f"{st.client} <-> {st.server}: our stream {conn['stream']}, tshark's tcp.stream {sid}",
                )
            )
        if (
            st.role_evidence in STRONG_ROLE_EVIDENCE
            and parse_endpoint(conn["client"]) != st.client
        ):
            problems.append(
                Mismatch(
                    sid,
                    "role",
                    "",
                    f"stream {sid}: our client {conn['client']} but tshark's evidence "
                    f"({st.role_evidence}) makes {st.client} the client",
                )
            )
        for role in ("client", "server"):
            sender = st.client if role == "client" else st.server
            a_ev = mine.get(sender, [])
            b_ev = st.events.get(sender, [])
            keys_a, keys_b = [k for k, _ in a_ev], [e.key() for e in b_ev]
            head = f"stream {sid}, {role} {sender} -> {st.server if role == 'client' else st.client}"
            if keys_a != keys_b:
                first = next(
                    (i for i, (x, y) in enumerate(zip(keys_a, keys_b)) if x != y),
                    min(len(keys_a), len(keys_b)),
                )
                text = f"{head}: sequences differ at position {first}\n" + _table(
                    a_ev, b_ev, first
                )
                problems.append(Mismatch(sid, "sequence", role, text))
            elif check_frames and [fr for _, fr in a_ev] != [e.frame for e in b_ev]:
                first = next(
                    i for i, ((_, x), y) in enumerate(zip(a_ev, b_ev)) if x != y.frame
                )
                text = (
                    f"{head}: same messages, frame numbers differ at position {first}\n"
                    + _table(a_ev, b_ev, first)
                )
                problems.append(Mismatch(sid, "frames", role, text))
    return problems


def format_mismatches(problems: Sequence[Mismatch]) -> str:
    return "\n\n".join(p.text for p in problems)


# ---------------------------------------------------------------- command line


def _print_oracle(result: OracleResult) -> None:
    print(
        f"{result.capture}: tshark {result.tshark_version}, {len(result.streams)} TCP streams, "
        f"{result.seconds:.2f}s"
        + (
            f", decode-as ports {list(result.decode_as_ports)}"
            if result.decode_as_ports
            else ""
        )
    )
    for w in result.warnings:
        print(f"  warning: {w}")
    for sid, st in result.streams.items():
        if not st.tls_frames and not st.has_events:
            continue
        print(
            f"stream {sid}: client {st.client} server {st.server} ({st.role_evidence}), {st.tls_frames} TLS frames"
        )
        for role in ("client", "server"):
            for e in st.sequence(role):
                print(f"  {role:<6} frame {e.frame:>6}  {describe(e.key(), e.sslv2)}")


def _analyze_with_engine(path: str) -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[1]
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    import tlsdissect

    return tlsdissect.analyze(path).to_dict()


def _survey(root: Path) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from shared_captures import list_captures

    caps = list_captures(root)
    started = time.monotonic()
    results = prefetch([c.path for c in caps])
    wall = time.monotonic() - started
    no_tls, failed, redo, amb = [], [], [], []
    total = 0.0
    for c in caps:
        r = results[str(c.path)]
        if isinstance(r, OracleError):
            failed.append(f"{c.relpath}: {r}")
            continue
        total += r.seconds
        if not r.sees_tls:
            no_tls.append(c.relpath)
        if r.decode_as_ports:
            redo.append(f"{c.relpath}: ports {list(r.decode_as_ports)}")
        if r.json_frames:
            amb.append(f"{c.relpath}: frames {list(r.json_frames)[:10]}")
    print(
        f"tshark {tshark_version()}: {len(caps)} captures, wall {wall:.1f}s, sum of per-file tshark time {total:.1f}s"
    )
    for title, items in (
        ("no TLS over TCP seen by tshark", no_tls),
        ("decode-as needed", redo),
        ("frames read from JSON", amb),
        ("failed", failed),
    ):
        print(f"\n{title} ({len(items)}):")
        for it in items:
            print(f"  {it}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="tshark oracle for tlsdissect tests")
    ap.add_argument("capture", nargs="?", help="capture file (or folder with --survey)")
    ap.add_argument(
        "--compare",
        action="store_true",
        help="compare our engine's report with tshark, per stream",
    )
    ap.add_argument(
        "--no-frames",
        action="store_true",
        help="with --compare: ignore frame-number differences",
    )
    ap.add_argument(
        "--survey",
        action="store_true",
        help="run the oracle over every capture in a folder",
    )
    args = ap.parse_args(argv)
    if tshark_path() is None:
        print("tshark not found on PATH", file=sys.stderr)
        return 2
    try:
        if args.survey:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from shared_captures import shared_captures_dir

            return _survey(
                Path(args.capture) if args.capture else shared_captures_dir()
            )
        if not args.capture:
            ap.error("a capture file is required")
        result = oracle(args.capture)
        if not args.compare:
            _print_oracle(result)
            return 0
        problems = compare(
            result, _analyze_with_engine(args.capture), check_frames=not args.no_frames
        )
    except OracleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not problems:
        print(
            f"{args.capture}: our plaintext handshake/alert sequences match tshark on all "
            f"{sum(1 for s in result.streams.values() if s.has_events)} TLS streams"
        )
        return 0
    print(format_mismatches(problems))
    print(f"\n{len(problems)} mismatch(es)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
