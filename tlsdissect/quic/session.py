"""One QUIC connection's handshake as its packets show it: a sans-I/O state machine fed
datagrams (``datagram``), summed up by ``result``.

Who is the client: the sender of the first Initial packet (a long header whose Destination
Connection ID the keys come from). The server's Initial packets are protected with keys from
the same client DCID (RFC 9001 §5.2); after a Retry the client's next Initial carries a new DCID,
and the keys follow it. CRYPTO frames are put back in order per direction (by offset, across
packets and datagrams, bounded by MAX_CRYPTO) and read as TLS handshake messages by the TLS
stage's parsers.

With a key log, the Handshake packets are opened with the handshake traffic secrets and the
1-RTT (short-header) packets with ``CLIENT_TRAFFIC_SECRET_0`` / ``SERVER_TRAFFIC_SECRET_0``,
following key updates (quic.protection.KeyPhases). A short header does not say how long its
Destination Connection ID is: it is one the receiver issued (the Source Connection ID of its
long headers, or a NEW_CONNECTION_ID frame it sent), so those are remembered per side and the
packet is read with the one it starts with (else with each length they have). The 1-RTT packets
show the server's HANDSHAKE_DONE (the handshake completed, RFC 9001 §4.1.2) and the closes sent
after the handshake: application closes (0x1d, with HTTP/3's error names when ALPN chose h3)
and transport closes (a late CRYPTO_ERROR), and on HTTP/3 connections the status of the server's
first response (its first request stream's HEADERS, read with QPACK's static table: quic.h3).
A resuming client's 0-RTT packets are opened with ``CLIENT_EARLY_TRAFFIC_SECRET`` (the suite is
the resumed session's: the ServerHello's when it is read, else each TLS 1.3 suite the
ClientHello offers, tried in turn).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from tlsdissect.errors import ParseError
from tlsdissect.quic.frames import ConnectionClose, CryptoFrame, HandshakeDone, NewConnectionId, StreamFrame, frames
from tlsdissect.quic.h3 import h3_error_name, is_http3, response_status
from tlsdissect.quic.initial import initial_keys, open_packet
from tlsdissect.quic.packets import QuicFormatError, parse_long_header, version_name
from tlsdissect.quic.protection import SUITES, KeyPhases, PacketKeys, keys_from_secret, open_payload
from tlsdissect.quic.zeek_history import ZeekHistory
from tlsdissect.tls.handshake import (
    CERTIFICATE, CERTIFICATE_REQUEST, ENCRYPTED_EXTENSIONS, ParseContext, message_name, parse_certificate,
    parse_client_hello, parse_message, parse_server_hello)
from tlsdissect.tls.tables import alert_name

MAX_CRYPTO = 64 * 1024  # bytes of Initial CRYPTO data kept per direction (a ClientHello is < 16 KB)
MAX_DATAGRAMS_READ = 64  # datagrams per direction opened and parsed; later ones are only counted
MAX_MESSAGES = 32  # handshake messages listed per connection (a handshake has about ten)
MAX_CIDS = 16  # connection IDs remembered per side (the short headers sent to it carry one)
# 1-RTT packets opened per side; after that only small ones (a CONNECTION_CLOSE is small, a
# bulk transfer's packets are not), so a long download costs no decryption per packet.
MAX_ONERTT_OPENED = 10_000
SMALL_PACKET = 256
MAX_RESPONSE_HEAD = 16 * 1024  # bytes of the first response stream kept to read its HEADERS

# RFC 9000 §20.1 (and RFC 9368 §10.2): transport error codes; 0x100-0x1ff carry a TLS alert.
TRANSPORT_ERRORS: dict[int, str] = {
    0x00: "NO_ERROR", 0x01: "INTERNAL_ERROR", 0x02: "CONNECTION_REFUSED", 0x03: "FLOW_CONTROL_ERROR",
    0x04: "STREAM_LIMIT_ERROR", 0x05: "STREAM_STATE_ERROR", 0x06: "FINAL_SIZE_ERROR", 0x07: "FRAME_ENCODING_ERROR",
    0x08: "TRANSPORT_PARAMETER_ERROR", 0x09: "CONNECTION_ID_LIMIT_ERROR", 0x0A: "PROTOCOL_VIOLATION",
    0x0B: "INVALID_TOKEN", 0x0C: "APPLICATION_ERROR", 0x0D: "CRYPTO_BUFFER_EXCEEDED", 0x0E: "KEY_UPDATE_ERROR",
    0x0F: "AEAD_LIMIT_REACHED", 0x10: "NO_VIABLE_PATH", 0x11: "VERSION_NEGOTIATION_ERROR",
}


APPLICATION_ERROR = 0x0C
EARLY_DATA = 42  # the TLS extension: in EncryptedExtensions, the server accepted 0-RTT


def error_name(code: int, application: bool, alpn: Optional[str] = None) -> str:
    """RFC 9000's name of a transport error; an application error's HTTP/3 name (RFC 9114 §8.1)
    when the connection's protocol (``alpn``) is HTTP/3."""
    if application:
        h3 = h3_error_name(code) if is_http3(alpn) else None
        return f"{h3} (0x{code:x})" if h3 else f"application error 0x{code:x}"
    if 0x100 <= code <= 0x1FF:
        return f"CRYPTO_ERROR (0x{code:x})"
    return TRANSPORT_ERRORS.get(code, f"0x{code:x}")


@dataclass
class Close:
    sender: str
    frame: int
    time: float
    error_code: int
    error_name: str
    frame_type: Optional[int]
    reason: str
    application: bool
    tls_alert: Optional[int]  # CRYPTO_ERROR 0x100 + alert
    level: str = "initial"  # the packet number space it was read in: initial | handshake | 0rtt | 1rtt
    late: bool = False  # it came after the server's HANDSHAKE_DONE: the handshake had completed

    @property
    def application_level(self) -> bool:
        """An application's close: a 0x1d frame, or the transport close with APPLICATION_ERROR
        that stands in for one in Initial and Handshake packets (RFC 9000 §10.2.3)."""
        return self.application or self.error_code == APPLICATION_ERROR

    @property
    def handshake_error(self) -> bool:
        """A close that ends a handshake: a TLS alert or a transport error other than NO_ERROR,
        before the handshake completed (a late one ends only the connection)."""
        return not self.late and not self.application_level and (self.tls_alert is not None or self.error_code != 0)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"sender": self.sender, "frame": self.frame, "time": round(self.time, 6),
                             "error_code": self.error_code, "error_name": self.error_name,
                             "frame_type": self.frame_type, "reason": self.reason, "application": self.application,
                             "tls_alert": None, "level": self.level, "late": self.late}
        if self.tls_alert is not None:
            d["tls_alert"] = {"code": self.tls_alert, "name": alert_name(self.tls_alert)}
        return d


@dataclass
class QuicHandshake:
    """What the capture shows of one QUIC connection's handshake (docs/schema.md, quic)."""

    client: str
    server: str
    first_frame: int
    last_frame: int
    start_time: float
    end_time: float
    version: Optional[int] = None
    original_dcid: bytes = b""
    client_hello: Any = None  # tls.handshake.ClientHello
    server_hello: Any = None  # tls.handshake.ServerHello
    client_hello_frame: Optional[int] = None
    server_hello_frame: Optional[int] = None
    retry_frame: Optional[int] = None
    version_negotiation: tuple[int, ...] = ()  # the versions a Version Negotiation packet offered
    close: Optional[Close] = None  # the first CONNECTION_CLOSE readable (Initial level, or Handshake with keys)
    # With a key log (the TLS 1.3 handshake traffic secrets): the Handshake packets opened.
    handshake_keys: bool = False  # the key log held this connection's handshake secrets
    handshake_messages: list[tuple[str, int, str]] = field(default_factory=list)  # (sender, frame, name)
    server_certificates: list[bytes] = field(default_factory=list)  # DER, as sent
    server_certificates_frame: Optional[int] = None
    client_certificates: Optional[list[bytes]] = None  # None: no client Certificate message read
    certificate_requested: bool = False
    alpn_selected: Optional[str] = None  # from EncryptedExtensions
    # With a key log (the TLS 1.3 application traffic secrets): the 1-RTT packets opened.
    application_keys: bool = False  # the key log held this connection's *_TRAFFIC_SECRET_0
    handshake_done_frame: Optional[int] = None  # the server's HANDSHAKE_DONE
    key_updates: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    onertt_opened: dict[str, int] = field(default_factory=lambda: {"client": 0, "server": 0})
    zero_rtt_opened: int = 0  # the client's 0-RTT packets opened with CLIENT_EARLY_TRAFFIC_SECRET
    early_data_accepted: Optional[bool] = None  # the client offered 0-RTT and EncryptedExtensions accepted it
    http3_status: Optional[int] = None  # the :status of the server's first HTTP/3 response
    http3_status_frame: Optional[int] = None
    chain: Any = None  # x509.chain.ChainAnalysis of server_certificates (the pipeline fills it in)
    diagnosis: Any = None  # diagnosis.quic.QuicDiagnosis (the pipeline fills it in)
    packets: dict[str, dict[str, int]] = field(default_factory=lambda: {"client": {}, "server": {}})
    problems: list[str] = field(default_factory=list)
    fingerprints: Optional[dict[str, Any]] = None  # JA4/JA3 of the hellos (the pipeline fills it in)
    path: Any = None  # capture.udp_path.UdpPath: sizes, ICMP errors, client addresses (quic.flows fills it in)
    stream: Optional[int] = None  # Wireshark's udp.stream of the flow it began on (the pipeline numbers them)
    # As Zeek's quic.log has them: the source connection IDs of each side's last long-header packet
    # (Initial, Handshake, 0-RTT), and the history letters (quic.zeek_history).
    client_scid: Optional[bytes] = None
    server_scid: Optional[bytes] = None
    zeek_history: str = ""

    # What carries the handshake and what it is (as results.model.Connection's "tcp", "tls").
    transport: ClassVar[str] = "udp"
    protocol: ClassVar[str] = "quic"

    @property
    def server_name(self) -> Optional[str]:
        ch = self.client_hello
        return ch.server_name if ch is not None and hasattr(ch, "server_name") else None

    @property
    def handshake_progressed(self) -> bool:
        """Both sides sent 1-RTT (short-header) packets: the handshake completed (as far as a
        capture without keys can tell)."""
        return bool(self.packets["client"].get("1rtt") and self.packets["server"].get("1rtt"))

    def outcome(self) -> str:
        """failed: a CONNECTION_CLOSE with a TLS alert or a transport error before the handshake
        completed (a close at the Initial level ends a handshake, whatever 1-RTT packets the
        server sent ahead), or an ICMP error saying the client's datagrams cannot arrive;
        established: the server's HANDSHAKE_DONE (read with the key log), or 1-RTT packets both
        ways, and no such close (a close after HANDSHAKE_DONE is late: it ends the connection, not
        the handshake); incomplete otherwise."""
        c = self.close
        if c is not None and c.handshake_error:
            return "failed"
        if self.handshake_done_frame is not None or self.handshake_progressed:
            return "established"
        if self.path is not None and self.path.refused:
            return "failed"  # an ICMP error quoting the client's datagrams (capture.udp_path)
        return "failed" if c is not None and c.error_code != 0 and not c.application_level else "incomplete"

    def to_dict(self) -> dict[str, Any]:
        ch, sh = self.client_hello, self.server_hello
        return {
            "transport": "udp", "protocol": "quic", "stream": self.stream,
            "wireshark_filter": f"udp.stream eq {self.stream}" if self.stream is not None else None,
            "client": self.client, "server": self.server, "first_frame": self.first_frame,
            "last_frame": self.last_frame, "start_time": round(self.start_time, 6), "end_time": round(self.end_time, 6),
            "version": version_name(self.version) if self.version is not None else None,
            "version_code": self.version, "original_dcid": self.original_dcid.hex(),
            "server_name": self.server_name, "outcome": self.outcome(),
            "client_hello_frame": self.client_hello_frame, "server_hello_frame": self.server_hello_frame,
            "client_hello": ch.json_form() if ch is not None else None,
            "server_hello": sh.json_form() if sh is not None else None,
            "retry_frame": self.retry_frame,
            "version_negotiation": [version_name(v) for v in self.version_negotiation] or None,
            "close": self.close.to_dict() if self.close is not None else None,
            "packets": self.packets, "problems": self.problems, "fingerprints": self.fingerprints,
            "handshake_keys": self.handshake_keys,
            "handshake_messages": [{"sender": s, "frame": f, "type": n} for s, f, n in self.handshake_messages],
            "alpn_selected": self.alpn_selected,
            "application_keys": self.application_keys, "handshake_done_frame": self.handshake_done_frame,
            "key_updates": dict(self.key_updates), "onertt_opened": dict(self.onertt_opened),
            "zero_rtt_opened": self.zero_rtt_opened, "early_data_accepted": self.early_data_accepted,
            "http3_status": self.http3_status, "http3_status_frame": self.http3_status_frame,
            "certificate_requested": self.certificate_requested,
            "server_certificates": self.chain.to_dict()["certificates"] if self.chain is not None else None,
            "chain_findings": [f.to_dict() for f in self.chain.findings] if self.chain is not None else None,
            "trust": self.chain.trust if self.chain is not None else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis is not None else None,
            "path": self.path.to_dict() if self.path is not None else None,
        }


class _CryptoStream:
    """One direction's Initial CRYPTO data put back in order (by offset), bounded."""

    def __init__(self) -> None:
        self.pieces: dict[int, bytes] = {}
        self.contiguous = b""
        self.dropped = 0

    def add(self, frame: CryptoFrame) -> None:
        if frame.offset + len(frame.data) > MAX_CRYPTO:
            self.dropped += len(frame.data)
            return
        self.pieces[frame.offset] = frame.data
        while True:
            have = len(self.contiguous)
            nxt = next((o for o in self.pieces if o <= have < o + len(self.pieces[o])), None)
            if nxt is None:
                break
            data = self.pieces.pop(nxt)
            self.contiguous += data[have - nxt:]
        for o in [o for o in self.pieces if o + len(self.pieces[o]) <= len(self.contiguous)]:
            del self.pieces[o]

    def messages(self, start: int) -> tuple[list[tuple[int, bytes]], int]:
        """The whole handshake messages from offset ``start`` on, and the offset after them."""
        buf, out = self.contiguous, []
        while len(buf) >= start + 4:
            length = int.from_bytes(buf[start + 1:start + 4], "big")
            if len(buf) < start + 4 + length:
                break
            out.append((buf[start], buf[start + 4:start + 4 + length]))
            start += 4 + length
        return out, start

    def first_message(self, msg_type: int) -> Optional[bytes]:
        """The body of the stream's first handshake message when it is whole and of this type."""
        buf = self.contiguous
        if len(buf) < 4 or buf[0] != msg_type:
            return None
        length = struct.unpack(">I", b"\x00" + buf[1:4])[0]
        return buf[4:4 + length] if len(buf) >= 4 + length else None


class QuicSession:
    """Fed one UDP flow's datagrams in capture order."""

    def __init__(self, first_sender: str, client: str, server: str, frame: int, ts: float,
                 keylog: Any = None) -> None:
        self.result = QuicHandshake(client, server, frame, frame, ts, ts)
        self.client_key = first_sender  # the flow direction ("a" or "b") of the client
        self.dcid: Optional[bytes] = None  # the client's current Initial DCID (keys)
        self.streams = {"client": _CryptoStream(), "server": _CryptoStream()}
        self.opened = {"client": 0, "server": 0}
        self.keylog = keylog  # keys.keylog.KeyLog or None
        self.handshake_streams = {"client": _CryptoStream(), "server": _CryptoStream()}
        self.handshake_read = {"client": 0, "server": 0}  # offset of the next unread message
        self.handshake_keys: dict[str, Optional[PacketKeys]] = {}
        self.history = ZeekHistory()
        self.application_keys: dict[str, Optional[KeyPhases]] = {}
        self.cids: dict[str, list[bytes]] = {"client": [], "server": []}  # the CIDs each side issued
        self.version: Optional[int] = None  # the version of the server's latest long header (1-RTT keys)
        self.undecryptable = {"client": 0, "server": 0}  # 1-RTT packets that did not open
        self.response: Optional[tuple[int, bytes, dict[int, bytes]]] = None  # (stream, contiguous bytes, pieces)
        self.response_done = False
        self.early_keys: Optional[PacketKeys] = None  # the 0-RTT keys, once a packet opened with them
        self.early_largest = -1

    def datagram(self, direction: str, frame: int, ts: float, data: bytes) -> None:
        r = self.result
        r.last_frame, r.end_time = frame, ts
        sender = "client" if direction == self.client_key else "server"
        counts = r.packets[sender]
        if not data:
            return
        pos = 0
        while pos < len(data):
            if not data[pos] & 0x80:  # a short header: a 1-RTT packet, to the datagram's end
                self._not_long(sender, data[pos])  # (Zeek's history: X for padding, O for packets)
                if pos and not any(data[pos:]):
                    break  # zeros after the last long-header packet: padding of the datagram, no packet
                counts["1rtt"] = counts.get("1rtt", 0) + 1
                if self.keylog is not None:
                    self._short(sender, data, pos, frame, ts)
                break
            try:
                header = parse_long_header(data, pos)
            except QuicFormatError as e:
                self._problem(f"frame {frame}: {e}")
                break
            counts[header.kind] = counts.get(header.kind, 0) + 1
            self._zeek_packet(sender, header)
            self._packet(sender, header, data, frame, ts)
            if header.end <= pos:
                break
            pos = header.end

    def _zeek_packet(self, sender: str, header: Any) -> None:
        """What Zeek's quic.log keeps of a long-header packet: its letter, and the source
        connection ID of each side's last Initial, Handshake or 0-RTT packet."""
        self.history.long_packet(sender, header.kind)
        if header.kind in ("initial", "handshake", "0rtt"):
            if sender == "client":
                self.result.client_scid = header.scid
            else:
                self.result.server_scid = header.scid
        self.result.zeek_history = self.history.text

    def _not_long(self, sender: str, first_byte: int) -> None:
        self.history.not_long(sender, first_byte, decrypted=bool(self.opened["client"] or self.opened["server"]))
        self.result.zeek_history = self.history.text

    def _problem(self, text: str) -> None:
        if len(self.result.problems) < 20:
            self.result.problems.append(text)

    def _packet(self, sender: str, header: Any, data: bytes, frame: int, ts: float) -> None:
        r = self.result
        if header.kind == "version_negotiation":
            if sender == "server" and not r.version_negotiation:
                r.version_negotiation = header.supported_versions
            return
        if header.kind == "retry":
            if sender == "server" and r.retry_frame is None:
                r.retry_frame = frame
                # The client's next Initial goes to the Retry's connection ID, and the Initial
                # keys are derived from it from then on (RFC 9001 §5.2).
                self.dcid = header.scid
            return
        if header.kind in ("initial", "handshake"):
            self._issued(sender, bytes(header.scid))
            if sender == "server":
                self.version = header.version
        if header.kind == "0rtt":
            if self.keylog is not None and sender == "client" and r.zero_rtt_opened < MAX_ONERTT_OPENED:
                self._zero_rtt_packet(header, data, frame, ts)
            return
        if header.kind == "handshake":
            if self.keylog is not None and self.opened[sender] < MAX_DATAGRAMS_READ:
                self._handshake_packet(sender, header, data, frame, ts)
            return
        if header.kind != "initial":
            return
        if r.version is None:
            r.version = header.version
        if sender == "client" and self.dcid is None:
            # Keys come from the DCID of the client's first Initial, whatever DCID the client
            # moves to after the server's first Initial (RFC 9000 §7.2, RFC 9001 §5.2).
            r.original_dcid = header.dcid
            self.dcid = header.dcid
        if self.dcid is None or self.opened[sender] >= MAX_DATAGRAMS_READ:
            return
        keys = initial_keys(bytes(self.dcid), header.version, sender == "server")
        if keys is None:
            return
        self._read(sender, header, data, frame, ts, keys, "initial")

    def _read(self, sender: str, header: Any, data: bytes, frame: int, ts: float, keys: PacketKeys,
              level: str) -> None:
        """One protected packet of ``level`` (initial, handshake) opened with ``keys``: its CRYPTO
        frames to that level's stream (the hellos, or the encrypted flights), its CONNECTION_CLOSE."""
        self.opened[sender] += 1
        initial = level == "initial"
        try:
            _, payload = open_packet(data, header, keys)
            for f in frames(payload):
                if isinstance(f, CryptoFrame):
                    if initial:
                        self.streams[sender].add(f)
                        self._hellos(sender, frame)
                    else:
                        self.handshake_streams[sender].add(f)
                        self._flight(sender, frame)
                elif isinstance(f, ConnectionClose):
                    self._close(f, sender, frame, ts, level)
        except QuicFormatError as e:
            self._problem(f"frame {frame}: {e}" if initial else f"frame {frame}: Handshake packet: {e}")

    def _close(self, f: ConnectionClose, sender: str, frame: int, ts: float, level: str) -> None:
        """The first CONNECTION_CLOSE read is the connection's (a peer sends the same one at
        every level the other side may have keys for)."""
        r = self.result
        if r.close is not None:
            return
        alert = f.error_code - 0x100 if 0x100 <= f.error_code <= 0x1FF and not f.application else None
        if level == "initial":  # (Zeek reads the Initial packets only)
            self.history.close(sender)
            r.zeek_history = self.history.text
        r.close = Close(sender, frame, ts, f.error_code, error_name(f.error_code, f.application, self._alpn()),
                        f.frame_type, f.reason[:500], f.application, alert, level,
                        late=r.handshake_done_frame is not None)

    def _alpn(self) -> Optional[str]:
        """The connection's application protocol: the one the server selected, else the
        client's only offer."""
        r = self.result
        if r.alpn_selected is not None:
            return r.alpn_selected
        ext = r.client_hello.ext(16) if r.client_hello is not None else None
        names = (ext.decoded or {}).get("protocols") if ext is not None else None
        return str(names[0]) if isinstance(names, list) and len(names) == 1 else None

    # -- 1-RTT packets (with the key log) ----------------------------------------------------

    def _issued(self, sender: str, cid: bytes) -> None:
        """A connection ID ``sender`` issued: short headers sent to it may carry it."""
        known = self.cids[sender]
        if cid not in known and len(known) < MAX_CIDS:
            known.append(cid)

    def _dcid_lengths(self, receiver: str, data: bytes, pos: int) -> list[int]:
        """The lengths a short header's Destination Connection ID may have: that of a CID the
        receiver issued which the packet starts with, then the other lengths its CIDs have."""
        known = self.cids[receiver]
        exact = [len(c) for c in known if data[pos + 1:pos + 1 + len(c)] == c]
        out: list[int] = []
        for n in exact + [len(c) for c in known]:
            if n not in out:
                out.append(n)
        return out[:4]

    def _application_keys_for(self, sender: str) -> Optional[KeyPhases]:
        """The 1-RTT keys of ``sender`` from the key log (None until both hellos are read, or
        when the key log lacks this connection's application traffic secret)."""
        if sender in self.application_keys:
            return self.application_keys[sender]
        r = self.result
        if r.client_hello is None or r.server_hello is None:
            return None
        secrets = self.keylog.secrets_for(r.client_hello.random)
        secret = secrets.get("CLIENT_TRAFFIC_SECRET_0" if sender == "client" else "SERVER_TRAFFIC_SECRET_0")
        version = self.version if self.version is not None else r.version
        phases = KeyPhases(secret, r.server_hello.cipher_suite, version or 1) if secret else None
        if phases is not None and phases.current is None:
            phases = None
        self.application_keys[sender] = phases
        if phases is not None:
            r.application_keys = True
        return phases

    def _response_piece(self, f: StreamFrame, frame: int) -> None:
        """A piece of the server's data on a request stream (client-initiated, bidirectional: ID
        divisible by 4): the first such stream's start is kept until its HEADERS give the status."""
        if f.stream_id % 4 != 0 or not is_http3(self._alpn()):
            return
        if self.response is None:
            self.response = (f.stream_id, b"", {})
        stream_id, head, pieces = self.response
        if f.stream_id != stream_id or f.offset >= MAX_RESPONSE_HEAD:
            return
        if len(pieces) < 64:
            pieces[f.offset] = f.data
        while True:
            nxt = next((o for o in pieces if o <= len(head) < o + len(pieces[o])), None)
            if nxt is None:
                break
            data = pieces.pop(nxt)
            head = (head + data[len(head) - nxt:])[:MAX_RESPONSE_HEAD]
        self.response = (stream_id, head, pieces)
        status, done = response_status(head)
        if done or len(head) >= MAX_RESPONSE_HEAD:
            self.response_done, self.response = True, None
            r = self.result
            r.http3_status, r.http3_status_frame = status, frame if status is not None else None

    def _early_key_candidates(self, version: int) -> list[PacketKeys]:
        """The 0-RTT keys to try: the ones that opened a packet, else the early secret under the
        resumed session's suite (the ServerHello's, else each offered TLS 1.3 suite)."""
        if self.early_keys is not None:
            return [self.early_keys]
        r = self.result
        if r.client_hello is None:
            return []
        secret = self.keylog.secrets_for(r.client_hello.random).get("CLIENT_EARLY_TRAFFIC_SECRET")
        if secret is None:
            return []
        suites = [r.server_hello.cipher_suite] if r.server_hello is not None else \
            [c for c in getattr(r.client_hello, "cipher_suites", []) if c in SUITES][:3]
        return [k for k in (keys_from_secret(secret, suite, version) for suite in suites) if k is not None]

    def _zero_rtt_packet(self, header: Any, data: bytes, frame: int, ts: float) -> None:
        """A 0-RTT packet of the client opened with the key log's early traffic secret."""
        r = self.result
        for keys in self._early_key_candidates(header.version):
            try:
                pn, payload = open_payload(data, header.start, header.pn_offset, header.end, keys, True,
                                           self.early_largest)
            except QuicFormatError:
                continue
            self.early_keys, self.early_largest = keys, max(self.early_largest, pn)
            r.zero_rtt_opened += 1
            try:
                for f in frames(payload, one_rtt=True):
                    if isinstance(f, ConnectionClose):
                        self._close(f, "client", frame, ts, "0rtt")
            except QuicFormatError as e:
                self._problem(f"frame {frame}: 0-RTT packet: {e}")
            return

    def _short(self, sender: str, data: bytes, pos: int, frame: int, ts: float) -> None:
        """A 1-RTT packet opened with the key log's application secrets: HANDSHAKE_DONE, the
        CONNECTION_CLOSE, the connection IDs its sender issues."""
        r = self.result
        phases = self._application_keys_for(sender)
        if phases is None or (r.onertt_opened[sender] >= MAX_ONERTT_OPENED and len(data) - pos > SMALL_PACKET):
            return
        receiver = "server" if sender == "client" else "client"
        opened = None
        for n in self._dcid_lengths(receiver, data, pos):
            try:
                opened = phases.open(data, pos, pos + 1 + n, len(data))
                break
            except QuicFormatError:
                continue
        if opened is None:
            if not self.undecryptable[sender]:
                self._problem(f"frame {frame}: a 1-RTT packet from the {sender} does not decrypt with the key "
                              "log's application traffic secret")
            self.undecryptable[sender] += 1
            return
        r.onertt_opened[sender] += 1
        r.key_updates[sender] = max(r.key_updates[sender], opened.generation)
        try:
            for f in frames(opened.payload, one_rtt=True):
                if isinstance(f, HandshakeDone):
                    if sender == "server" and r.handshake_done_frame is None:
                        r.handshake_done_frame = frame
                elif isinstance(f, ConnectionClose):
                    self._close(f, sender, frame, ts, "1rtt")
                elif isinstance(f, NewConnectionId):
                    self._issued(sender, f.cid)
                elif isinstance(f, StreamFrame) and sender == "server" and not self.response_done:
                    self._response_piece(f, frame)
        except QuicFormatError as e:
            self._problem(f"frame {frame}: 1-RTT packet: {e}")

    def _keys_for(self, sender: str, version: int) -> Optional[PacketKeys]:
        """The Handshake keys of ``sender`` from the key log (None until both hellos are read,
        or when the key log lacks this connection)."""
        if sender in self.handshake_keys:
            return self.handshake_keys[sender]
        r = self.result
        if r.client_hello is None or r.server_hello is None:
            return None  # (not cached: the hellos may come later in the capture)
        secrets = self.keylog.secrets_for(r.client_hello.random)
        secret = secrets.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET" if sender == "client"
                             else "SERVER_HANDSHAKE_TRAFFIC_SECRET")
        keys = keys_from_secret(secret, r.server_hello.cipher_suite, version) if secret else None
        self.handshake_keys[sender] = keys
        if keys is not None:
            r.handshake_keys = True
        return keys

    def _handshake_packet(self, sender: str, header: Any, data: bytes, frame: int, ts: float) -> None:
        """A Handshake packet opened with the key log's secrets: its CRYPTO frames (the
        encrypted flights: EncryptedExtensions, Certificate...) and CONNECTION_CLOSE."""
        keys = self._keys_for(sender, header.version)
        if keys is not None:
            self._read(sender, header, data, frame, ts, keys, "handshake")

    def _flight(self, sender: str, frame: int) -> None:
        """The handshake messages of ``sender``'s encrypted flight that are now whole."""
        r = self.result
        msgs, self.handshake_read[sender] = self.handshake_streams[sender].messages(self.handshake_read[sender])
        for msg_type, body in msgs:
            if len(r.handshake_messages) < MAX_MESSAGES:
                r.handshake_messages.append((sender, frame, message_name(msg_type)))
            try:
                if msg_type == CERTIFICATE:
                    ders = [e.der for e in parse_certificate(body, True).entries]
                    if sender == "server" and not r.server_certificates:
                        r.server_certificates, r.server_certificates_frame = ders, frame
                    elif sender == "client" and r.client_certificates is None:
                        r.client_certificates = ders
                elif msg_type == CERTIFICATE_REQUEST and sender == "server":
                    r.certificate_requested = True
                elif msg_type == ENCRYPTED_EXTENSIONS and sender == "server":
                    exts = parse_message(msg_type, body, ParseContext(0x0304, None, "server")).extensions
                    if r.client_hello is not None and r.client_hello.ext(EARLY_DATA) is not None:
                        r.early_data_accepted = any(e.type == EARLY_DATA for e in exts)
                    ext = next((e for e in exts if e.type == 16), None)  # application_layer_protocol_negotiation
                    names = (ext.decoded or {}).get("protocols") if ext is not None else None
                    if names:
                        r.alpn_selected = str(names[0])
            except (ParseError, ValueError, IndexError, struct.error) as e:
                self._problem(f"frame {frame}: the {sender}'s {message_name(msg_type)} does not parse: {e}")

    def _hellos(self, sender: str, frame: int) -> None:
        r = self.result
        try:
            if sender == "client" and r.client_hello is None:
                body = self.streams["client"].first_message(1)
                if body is not None:
                    r.client_hello, r.client_hello_frame = parse_client_hello(body), frame
                    self.history.add("client", "S")
            elif sender == "server" and r.server_hello is None:
                body = self.streams["server"].first_message(2)
                if body is not None:
                    r.server_hello, r.server_hello_frame = parse_server_hello(body), frame
                    self.history.add("server", "S")
            r.zeek_history = self.history.text
        except (ParseError, ValueError, IndexError, struct.error) as e:
            self._problem(f"frame {frame}: the {sender}'s hello does not parse: {e}")
