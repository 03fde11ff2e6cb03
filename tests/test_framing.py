"""TLS inside another protocol's units (tlsdissect.framing): OpenVPN's control channel over TCP, GSSAPI tokens,
WebSocket frames after an HTTP upgrade, Geneve tunnels.

Two kinds of check. Struct level: packets and frames built here byte by byte from the
protocols' layouts (OpenVPN's ssl_pkt.h/reliable.h layout, RFC 6455 section 5.2, RFC 8926
section 3) go through the unwrappers, whose output must be exactly the payload bytes put in.
Capture level: the TLS bytes of real lab captures (captures/*: real peers) are wrapped into
OpenVPN packets or WebSocket frames and written back as a capture (tests/segmenting.py, which
does not use tlsdissect); the TLS found inside must be what tlsdissect finds in the original
(the same decoded connection, frame numbers and framing aside). Public traces with what their
projects report about them: tests/data/encapsulation/README.md.
"""

from __future__ import annotations

import base64
import io
import random
import struct
from pathlib import Path

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tlsdissect
from tests import segmenting as sg
from tlsdissect.framing import detect, gssapi, openvpn, websocket
from tlsdissect.framing.unwrapper import MAX_HELD

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "encapsulation"
LAB = ["mtls_success_tls12", "tls12_missing_intermediate_openssl", "tls12_no_shared_cipher", "mtls_success_tls13"]

CLIENT_SID = bytes.fromhex("1122334455667788")
SERVER_SID = bytes.fromhex("99aabbccddeeff00")


# -- OpenVPN packets, as ssl_pkt.h lays them out ------------------------------------------------

def ovpn(opcode: int, sid: bytes, msg_id: int | None, payload: bytes = b"", acks: tuple[int, ...] = (),
         peer: bytes = b"", auth: bytes = b"", key_id: int = 0) -> bytes:
    """opcode|key id, session id, [tls-auth: HMAC, packet-id, time], ack array, [peer session id],
    [message packet-id], payload."""
    out = bytes([opcode << 3 | key_id]) + sid + auth + bytes([len(acks)])
    out += b"".join(struct.pack(">I", a) for a in acks) + (peer if acks else b"")
    if msg_id is not None:
        out += struct.pack(">I", msg_id)
    return out + payload


def tls_auth(hmac_size: int, packet_id: int) -> bytes:
    return bytes(range(7, 7 + hmac_size)) + struct.pack(">II", packet_id, 1_700_000_000)


def tcp_framed(packets: list[bytes]) -> bytes:
    return b"".join(struct.pack(">H", len(p)) + p for p in packets)


def control_packets(sid: bytes, data: bytes, first_id: int, size: int = 100, auth_size: int = 0,
                    peer: bytes = b"") -> list[bytes]:
    """``data`` cut into P_CONTROL_V1 packets of ``size`` bytes, message packet-ids from ``first_id``."""
    out = []
    for n, i in enumerate(range(0, len(data), size)):
        auth = tls_auth(auth_size, 100 + first_id + n) if auth_size else b""
        out.append(ovpn(openvpn.P_CONTROL_V1, sid, first_id + n, data[i:i + size], auth=auth))
    return out


def _unwrap(reader: object, stream: bytes, cut: int = 7) -> bytes:
    got = b""
    for i in range(0, len(stream), cut):
        for piece, _frame in reader.feed(stream[i:i + cut], i):  # type: ignore[attr-defined]
            got += piece
    return got


@pytest.mark.parametrize("auth_size", [0, 20, 32, 64])
def test_openvpn_tcp_unwraps_payloads_in_message_id_order(auth_size: int) -> None:
    inner = bytes(range(256)) * 5
    auth = tls_auth(auth_size, 1) if auth_size else b""
    reset = ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0, auth=auth)
    packets = control_packets(CLIENT_SID, inner, 1, auth_size=auth_size)
    # the network reorders: 3 before 2; 1 is sent again after 2 (a retransmission); acks between
    ack_auth = tls_auth(auth_size, 99) if auth_size else b""
    ack = ovpn(openvpn.P_ACK_V1, CLIENT_SID, None, acks=(0, 1), peer=SERVER_SID, auth=ack_auth)
    data = ovpn(openvpn.P_DATA_V2, b"\x00\x00\x01", None, b"tunnel traffic")  # (skipped)
    order = [reset, packets[0], packets[2], ack, packets[1], packets[0], data] + packets[3:]
    stream = tcp_framed(order)
    found = detect.recognise(stream)
    assert isinstance(found, openvpn.OpenVpnTcp)
    assert found.control.auth == (auth_size + 8 if auth_size else 0)
    assert _unwrap(found, stream) == inner
    assert found.control.retransmissions == 1
    assert found.problem is None


def test_openvpn_server_reset_with_ack_and_early_negotiation_payload() -> None:
    reset = ovpn(openvpn.P_CONTROL_HARD_RESET_SERVER_V2, SERVER_SID, 0, acks=(0,), peer=CLIENT_SID)
    assert openvpn.first_packet_layout(reset) == 0
    client_v2 = ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0, b"\x00\x0f\x00\x02\x00\x01")
    stream = tcp_framed([client_v2] + control_packets(CLIENT_SID, b"\x16\x03\x01hello", 1))
    found = detect.recognise(stream)
    assert isinstance(found, openvpn.OpenVpnTcp)
    assert _unwrap(found, stream) == b"\x16\x03\x01hello"  # (the reset's TLV is no TLS)


def test_openvpn_other_key_ids_are_not_read() -> None:
    stream = tcp_framed([ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0)]
                        + control_packets(CLIENT_SID, b"first session", 1)
                        + [ovpn(openvpn.P_CONTROL_SOFT_RESET_V1, CLIENT_SID, 0, key_id=1),
                           ovpn(openvpn.P_CONTROL_V1, CLIENT_SID, 1, b"renegotiation", key_id=1)])
    found = detect.recognise(stream)
    assert isinstance(found, openvpn.OpenVpnTcp)
    assert _unwrap(found, stream) == b"first session"
    assert found.control.other_keys == 2


def test_openvpn_tls_crypt_is_recognised_and_reported_unreadable() -> None:
    # tls-crypt: opcode, session id, packet-id 1, time, 32-byte tag, then ciphertext
    pkt = bytes([openvpn.P_CONTROL_HARD_RESET_CLIENT_V2 << 3]) + CLIENT_SID + struct.pack(">II", 1, 1_674_530_805)
    pkt += bytes(range(100, 132)) + bytes(range(200, 226))
    found = detect.recognise(tcp_framed([pkt]))
    assert isinstance(found, openvpn.OpenVpnTcp)
    assert found.problem is not None and "tls-crypt" in found.problem
    assert found.feed(tcp_framed([pkt]), 4) == []


@pytest.mark.parametrize("first", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS record
    b"GET / HTTP/1.1\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b"\x00\x0e\x30" + bytes(14),  # opcode 6 (P_DATA_V1): no stream starts with data
    b"\x00\x0e\x39" + bytes(14),  # a hard reset with key id 1
    b"\x00\x0e\x38" + CLIENT_SID + b"\x09" + bytes(4),  # an ack count over 8
])
def test_no_framing_recognised_in_other_starts(first: bytes) -> None:
    assert detect.recognise(first) is None


def test_detection_waits_for_a_whole_hard_reset() -> None:
    stream = tcp_framed([ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0)])
    for n in range(2, len(stream)):
        assert detect.recognise(stream[:n]) == detect.WAIT
    assert isinstance(detect.recognise(stream), openvpn.OpenVpnTcp)


# -- WebSocket frames, RFC 6455 section 5.2 ------------------------------------------------------

def ws_frame(payload: bytes, opcode: int = 2, key: bytes | None = None, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    mask = 0x80 if key is not None else 0
    n = len(payload)
    if n < 126:
        head += bytes([mask | n])
    elif n < 65536:
        head += bytes([mask | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask | 127]) + struct.pack(">Q", n)
    if key is None:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("cut", [1, 3, 14, 1000])
def test_websocket_unmasks_data_frames_and_skips_control_frames(cut: int) -> None:
    rng = random.Random(cut)
    parts = [rng.randbytes(n) for n in (5, 125, 126, 300, 70000, 0, 17)]
    stream = b""
    for i, p in enumerate(parts):
        key = rng.randbytes(4) if i % 2 else None
        stream += ws_frame(p, opcode=2 if i == 0 else 0, key=key, fin=i == len(parts) - 1)
        if i == 2:
            stream += ws_frame(b"ping!", opcode=9, key=b"abcd")  # control frames between fragments
    reader = websocket.WebSocketFrames()
    assert _unwrap(reader, stream, cut) == b"".join(parts)
    assert reader.problem is None


def test_websocket_compressed_or_undefined_frames_stop_the_reader() -> None:
    reader = websocket.WebSocketFrames()
    assert reader.feed(ws_frame(b"abc") + bytes([0xC2, 3]) + b"xyz" + ws_frame(b"later"), 1) == [(b"abc", 1)]
    assert reader.problem is not None and "permessage-deflate" in reader.problem
    reader = websocket.WebSocketFrames()
    assert reader.feed(bytes([0x83, 1]) + b"x", 1) == []
    assert reader.problem is not None and "opcode 3" in reader.problem


def test_websocket_upgrade_end() -> None:
    request = (b"GET /v1/events HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUPGRADE: WebSocket\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
    response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    assert websocket.upgrade_end(request + b"\x82\x00") == len(request)
    assert websocket.upgrade_end(response) == len(response)
    assert websocket.upgrade_end(request[:-2]) is None  # the header block has not ended
    assert websocket.upgrade_end(response.replace(b"101", b"400")) is None
    assert websocket.upgrade_end(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nUpgrade: websocket\r\n") is None  # (in the body)


# -- hostile framing: never an exception, never unbounded memory --------------------------------

@settings(max_examples=sg.examples(300), deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_hostile_openvpn_bytes(noise: bytes, cut: int) -> None:
    good = tcp_framed([ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0)])
    for stream in (noise, good + noise, good + noise[:2] + b"\xff\xff" + noise):
        found = detect.recognise(stream)
        if not isinstance(found, openvpn.OpenVpnTcp):
            continue
        for i in range(0, len(stream), cut):
            found.feed(stream[i:i + cut], i)
            assert len(found.buf) <= 2 + 0xFFFF
            assert found.control.waiting_bytes <= MAX_HELD + 0xFFFF
            assert len(found.control.waiting) <= openvpn.MAX_WAITING + 1


@settings(max_examples=sg.examples(300), deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_hostile_websocket_bytes(noise: bytes, cut: int) -> None:
    reader = websocket.WebSocketFrames()
    for i in range(0, len(noise), cut):
        for piece, _ in reader.feed(noise[i:i + cut], i):
            assert len(piece) <= cut
        assert len(reader.buf) <= 14


@settings(max_examples=sg.examples(40), deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.sampled_from(["tcp", "udp", "websocket", "gssapi"]))
def test_hostile_framing_through_the_pipeline(seed: int, flips: int, kind: str) -> None:
    """A framed capture with bytes of its packets changed: a result, never a traceback."""
    make = {"tcp": lambda: _openvpn_capture(LAB[0], auth_size=20), "udp": lambda: _openvpn_udp_capture(LAB[0]),
            "websocket": lambda: _websocket_capture(LAB[0]), "gssapi": lambda: _gssapi_capture(LAB[0])}[kind]
    data = bytearray(_captures_cache.get(kind) or _captures_cache.setdefault(kind, make()))
    rng = random.Random(seed)
    for _ in range(flips):
        i = rng.randrange(200, len(data))  # (past the pcap header and the first packets' headers)
        data[i] = rng.randrange(256)
    report = tlsdissect.analyze(bytes(data))
    for conn in report:
        conn.to_dict()


_captures_cache: dict[str, bytes] = {}


# -- real TLS bytes, wrapped --------------------------------------------------------------------

def _conversation(name: str) -> sg.Conversation:
    convs = sg.extract_conversations(ROOT / "captures" / name / "capture.pcap")
    assert len(convs) == 1
    return convs[0]


def _openvpn_capture(name: str, auth_size: int = 0, reorder: bool = False) -> bytes:
    conv = _conversation(name)
    sids = (CLIENT_SID, SERVER_SID)
    next_id = [1, 1]
    auth = [tls_auth(auth_size, 1) if auth_size else b"", tls_auth(auth_size, 1) if auth_size else b""]
    items: list[sg.Item] = [
        sg.Flight(0, tcp_framed([ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0, auth=auth[0])])),
        sg.Flight(1, tcp_framed([ovpn(openvpn.P_CONTROL_HARD_RESET_SERVER_V2, SERVER_SID, 0, acks=(0,),
                                      peer=CLIENT_SID, auth=auth[1])])),
    ]
    for item in conv.items:
        if isinstance(item, sg.Flight):
            d = item.direction
            packets = control_packets(sids[d], item.data, next_id[d], auth_size=auth_size)
            next_id[d] += len(packets)
            if reorder and len(packets) > 2:
                packets[0], packets[1] = packets[1], packets[0]
                packets.append(packets[1])  # and the first one again (a retransmission)
            items.append(sg.Flight(d, tcp_framed(packets)))
        else:
            items.append(item)
    conv.items = items
    conv.ports = (conv.ports[0], 1194)
    return sg.build_pcap(conv)


def _websocket_capture(name: str) -> bytes:
    conv = _conversation(name)
    rng = random.Random(name)
    items: list[sg.Item] = [
        sg.Flight(0, b"GET /tunnel HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
        sg.Flight(1, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
    ]
    for item in conv.items:
        if isinstance(item, sg.Flight):
            key = rng.randbytes(4) if item.direction == 0 else None
            frames = b"".join(ws_frame(item.data[i:i + 700], key=key) for i in range(0, len(item.data), 700))
            items.append(sg.Flight(item.direction, frames))
        else:
            items.append(item)
    conv.items = items
    conv.ports = (conv.ports[0], 8080)
    return sg.build_pcap(conv)


def _plain_capture(name: str) -> bytes:
    conv = _conversation(name)
    return sg.build_pcap(conv)


def _same_tls(framed: dict, plain: dict, framing: str) -> None:
    assert framed["encapsulation"] == framing
    assert "encapsulation" not in plain
    got, want = sg.decoded_view(framed), sg.decoded_view(plain)
    for d in (got, want):
        d.pop("encapsulation", None)
        d.pop("server", None)  # (another port)
        d["events"] = [e for e in d["events"] if e["type"] not in ("encapsulation", "not_tls")]
        d.pop("stats", None)  # (the framed one has more bytes and packets)
        d.pop("diagnosis", None)  # (its evidence lines name frames; compared below)
        d.pop("relay_legs", None)
    assert got == want
    fd, pd = framed.get("diagnosis") or {}, plain.get("diagnosis") or {}
    assert (fd.get("cause"), fd.get("outcome"), fd.get("aborted_by")) == (
        pd.get("cause"), pd.get("outcome"), pd.get("aborted_by"))


@pytest.mark.parametrize("name", LAB)
@pytest.mark.parametrize("auth_size,reorder", [(0, False), (20, True), (64, False)])
def test_tls_inside_openvpn_is_the_tls_of_the_capture(name: str, auth_size: int, reorder: bool) -> None:
    framed = tlsdissect.analyze(_openvpn_capture(name, auth_size, reorder)).connections
    plain = tlsdissect.analyze(_plain_capture(name)).connections
    assert len(framed) == len(plain) == 1
    _same_tls(framed[0].to_dict(), plain[0].to_dict(), "openvpn")


@pytest.mark.parametrize("name", LAB)
def test_tls_inside_websocket_is_the_tls_of_the_capture(name: str) -> None:
    framed = tlsdissect.analyze(_websocket_capture(name)).connections
    plain = tlsdissect.analyze(_plain_capture(name)).connections
    assert len(framed) == len(plain) == 1
    _same_tls(framed[0].to_dict(), plain[0].to_dict(), "websocket")


def _flight_of_frame(data: bytes, flights: list[bytes]) -> dict[int, int]:
    """Frame number -> the index of the flight its TCP payload is (one segment per flight)."""
    index = {f: i for i, f in enumerate(flights)}
    out = {}
    for n, (_ts, frame) in enumerate(dpkt.pcap.Reader(io.BytesIO(data)), 1):
        payload = bytes(dpkt.ethernet.Ethernet(frame).data.data.data)
        if payload in index:
            out[n] = index[payload]
    return out


def test_evidence_frames_name_the_packets_that_carry_the_messages() -> None:
    """Each inner message's frame is the frame of the OpenVPN packets made of the flight that
    carried it in the original: the frames evidence lines name are the right ones."""
    name = LAB[1]
    plain_data, framed_data = _plain_capture(name), _openvpn_capture(name)
    plain_flights = [i.data for i in _conversation(name).items if isinstance(i, sg.Flight)]
    framed_conv = sg.extract_conversations(framed_data)[0]
    framed_flights = [i.data for i in framed_conv.items if isinstance(i, sg.Flight)]
    in_plain = _flight_of_frame(plain_data, plain_flights)
    in_framed = _flight_of_frame(framed_data, framed_flights)
    plain_events = [e for e in tlsdissect.analyze(plain_data).connections[0].events if e.type == "handshake"]
    framed_events = [e for e in tlsdissect.analyze(framed_data).connections[0].events if e.type == "handshake"]
    assert [e.info["message"] for e in framed_events] == [e.info["message"] for e in plain_events]
    assert len(plain_events) >= 5
    for p, f in zip(plain_events, framed_events):
        assert in_framed[f.frame] == in_plain[p.frame] + 2  # (after the two hard resets)
    conn = tlsdissect.analyze(framed_data).connections[0]
    for line in conn.diagnosis.evidence:
        assert all(frame in in_framed or frame <= 3 for frame in line.frames), line


# -- Geneve (RFC 8926) ---------------------------------------------------------------------------

def _geneve_wrapped(name: str, inner_type: int, options: bytes) -> bytes:
    """Every frame of a lab capture inside Ethernet/IPv4/UDP 6081/Geneve (an Ethernet frame, or
    the IP packet alone with protocol type 0x0800)."""
    linktype, frames = sg.read_frames(ROOT / "captures" / name / "capture.pcap")
    assert linktype == 1
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=1)
    for ts, frame in frames:
        inner = frame if inner_type == 0x6558 else bytes(dpkt.ethernet.Ethernet(frame).data)
        geneve = bytes([len(options) // 4, 0]) + struct.pack(">H", inner_type) + b"\x00\x01\x23\x00" + options + inner
        udp = dpkt.udp.UDP(sport=47101, dport=6081, data=geneve)
        udp.ulen = 8 + len(geneve)
        ip = dpkt.ip.IP(src=bytes([10, 9, 0, 1]), dst=bytes([10, 9, 0, 2]), p=17, data=udp)
        ip.len = 20 + udp.ulen
        eth = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800, data=ip)
        writer.writepkt(bytes(eth), ts)
    return out.getvalue()


@pytest.mark.parametrize("inner_type,options", [(0x6558, b""), (0x0800, bytes(range(12)))])
def test_geneve_tunnelled_capture_gives_the_same_connection(inner_type: int, options: bytes) -> None:
    name = LAB[1]
    plain = tlsdissect.analyze(str(ROOT / "captures" / name / "capture.pcap")).to_dict()["connections"]
    wrapped = tlsdissect.analyze(_geneve_wrapped(name, inner_type, options)).to_dict()["connections"]
    for conn in plain + wrapped:
        conn.pop("ttl", None)
    assert wrapped == plain


def test_geneve_trace_from_zeek() -> None:
    """Zeek's geneve-47101.pcap: its conn.log baseline has the inner TCP connection
    192.168.0.107:45474 -> 145.40.68.75:443 as service ssl; tshark shows SNI www.kernel.org,
    TLS 1.2 (0x0303) and cipher 0xc02f."""
    conns = tlsdissect.analyze(str(DATA / "geneve-47101.pcap")).connections
    assert [(c.client, c.server) for c in conns] == [("192.168.0.107:45474", "145.40.68.75:443")]
    c = conns[0]
    assert (c.server_name, c.version, c.cipher_code, c.established) == ("www.kernel.org", "TLSv1.2", 0xC02F, True)


def test_websocket_trace_from_zeek() -> None:
    """Zeek's wstunnel-https.pcap: its ssl.log baseline says TLSv13, zeek.org, ssl_history CsiI."""
    conns = tlsdissect.analyze(str(DATA / "wstunnel-https.pcap")).connections
    assert len(conns) == 1
    c = conns[0]
    assert (c.version, c.server_name, c.ssl_history, c.encapsulation) == ("TLSv1.3", "zeek.org", "CsiI", "websocket")
    assert c.established and c.not_tls is None


# -- GSSAPI tokens on FTP lines (RFC 2228; GridFTP's GSI) ----------------------------------------

def test_gssapi_tokens_are_the_base64_of_token_lines() -> None:
    records = [b"\x16\x03\x01\x00\x05hello", b"\x17\x03\x01\x00\x03abc", b"\x15\x03\x01\x00\x02\x01\x00"]
    stream = (b"ADAT " + base64.b64encode(records[0]) + b"\r\n" + b"NOOP\r\n"
              + b"ENC " + base64.b64encode(records[1]) + b"\r\n" + b"MIC " + base64.b64encode(records[2]) + b"\n")
    assert gssapi.starts_tokens(stream)
    for cut in (1, 5, 1000):
        reader = gssapi.GssapiTokens()
        assert _unwrap(reader, stream, cut) == b"".join(records)
        assert reader.problem is None
    server = b"335 ADAT=" + base64.b64encode(records[0]) + b"\r\n631 " + base64.b64encode(records[1]) + b"\r\n"
    assert gssapi.starts_tokens(server)
    assert _unwrap(gssapi.GssapiTokens(), server) == records[0] + records[1]
    assert not gssapi.starts_tokens(b"AUTH GSSAPI\r\n") and not gssapi.starts_tokens(b"334 Using authentication\r\n")


def test_gssapi_token_that_is_not_base64_stops_the_reader() -> None:
    reader = gssapi.GssapiTokens()
    assert reader.feed(b"ADAT FgMB\r\nADAT Fg*B\r\nADAT FgMB\r\n", 3) == [(b"\x16\x03\x01", 3)]
    assert reader.problem is not None and "not base64" in reader.problem


def _gssapi_capture(name: str) -> bytes:
    conv = _conversation(name)
    items: list[sg.Item] = [
        sg.Flight(1, b"220 alpha GridFTP Server ready.\r\n"),
        sg.Flight(0, b"AUTH GSSAPI\r\n"),
        sg.Flight(1, b"334 Using authentication type; ADAT must follow.\r\n"),
    ]
    for item in conv.items:
        if isinstance(item, sg.Flight):
            prefix = b"ADAT " if item.direction == 0 else b"335 ADAT="
            items.append(sg.Flight(item.direction, prefix + base64.b64encode(item.data) + b"\r\n"))
        else:
            items.append(item)
    conv.items = items
    conv.ports = (conv.ports[0], 2811)
    return sg.build_pcap(conv)


@pytest.mark.parametrize("name", LAB)
def test_tls_inside_gssapi_tokens_is_the_tls_of_the_capture(name: str) -> None:
    framed = tlsdissect.analyze(_gssapi_capture(name)).connections
    plain = tlsdissect.analyze(_plain_capture(name)).connections
    assert len(framed) == len(plain) == 1
    _same_tls(framed[0].to_dict(), plain[0].to_dict(), "gssapi")


def test_gridftp_trace_from_zeek() -> None:
    """Zeek's globus-url-copy.pcap: its ssl.log baseline has the control connection
    192.168.57.103:60108 -> 192.168.57.101:2811 as TLSv10, TLS_RSA_WITH_AES_256_CBC_SHA,
    established, ssl_history CsxrnXGYIti (and the data connection on 55968, TLS itself)."""
    conns = {c.stream: c for c in tlsdissect.analyze(str(DATA / "globus-url-copy.pcap")).connections}
    c = conns[0]
    assert (c.client, c.server, c.encapsulation) == ("192.168.57.103:60108", "192.168.57.101:2811", "gssapi")
    assert (c.version, c.cipher, c.established, c.ssl_history) == (
        "TLSv1.0", "TLS_RSA_WITH_AES_256_CBC_SHA", True, "CsxrnXGYIti")
    assert c.not_tls is None and c.starttls is None
    assert conns[1].encapsulation is None and conns[1].version == "TLSv1.0"


def test_gridftp_bad_token_is_a_marked_partial_result() -> None:
    """Zeek's globus-url-copy-bad-encoding.pcap (weird ftp_adat_bad_first_token_encoding): the
    client's first ADAT token is damaged, so its ClientHello cannot be read; the server's side
    still is, and the diagnosis says which framing hid the client's."""
    c = tlsdissect.analyze(str(DATA / "globus-url-copy-bad-encoding.pcap")).connections[0]
    assert c.encapsulation == "gssapi" and c.client_hello is None and c.version == "TLSv1.0"
    lost = [a for a in c.anomalies if a.info["name"] == "encapsulation_lost"]
    assert [a.sender for a in lost] == ["client"] and "not base64" in lost[0].info["detail"]
    assert "framing" in c.diagnosis.explanation


# -- OpenVPN over UDP ------------------------------------------------------------------------------

def _openvpn_udp_capture(name: str, auth_size: int = 20) -> bytes:
    """The lab capture's TLS flights in OpenVPN control packets, one per UDP datagram, after a
    DNS-like datagram of another conversation (so that this one is udp.stream 1)."""
    conv = _conversation(name)
    addrs = (bytes([10, 1, 0, 1]), bytes([10, 0, 0, 1]))
    ports = (40000, 1194)
    sids = (CLIENT_SID, SERVER_SID)
    next_id = [1, 1]
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=1)
    t = [1_700_000_000.0]

    def send(d: int, payload: bytes, sport: int = 0, dport: int = 0) -> None:
        udp = dpkt.udp.UDP(sport=sport or ports[d], dport=dport or ports[1 - d], data=payload)
        udp.ulen = 8 + len(payload)
        ip = dpkt.ip.IP(src=addrs[d], dst=addrs[1 - d], p=17, data=udp)
        ip.len = 20 + udp.ulen
        writer.writepkt(bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800, data=ip)), t[0])
        t[0] += 0.001

    send(0, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x00\x00\x01\x00\x01", 5353, 53)
    auth = tls_auth(auth_size, 1)
    send(0, ovpn(openvpn.P_CONTROL_HARD_RESET_CLIENT_V2, CLIENT_SID, 0, auth=auth))
    send(1, ovpn(openvpn.P_CONTROL_HARD_RESET_SERVER_V2, SERVER_SID, 0, acks=(0,), peer=CLIENT_SID, auth=auth))
    for item in conv.items:
        if isinstance(item, sg.Flight):
            d = item.direction
            packets = control_packets(sids[d], item.data, next_id[d], size=1000, auth_size=auth_size)
            next_id[d] += len(packets)
            for p in packets[1:] + packets[:1]:  # (the first one late: the order comes from the packet-ids)
                send(d, p)
            send(d, packets[0])  # (and again: a retransmission)
    return out.getvalue()


@pytest.mark.parametrize("name", LAB)
def test_tls_inside_openvpn_over_udp_is_the_tls_of_the_capture(name: str) -> None:
    conns = tlsdissect.analyze(_openvpn_udp_capture(name)).connections
    plain = tlsdissect.analyze(_plain_capture(name)).connections
    assert len(conns) == len(plain) == 1
    c = conns[0]
    assert (c.transport, c.stream, c.client, c.server) == ("udp", 1, "10.1.0.1:40000", "10.0.0.1:1194")
    assert c.wireshark_filter == "udp.stream eq 1" and c.partial and c.tcp_close is None
    got = c.to_dict()
    assert got["transport"] == "udp"
    want = plain[0].to_dict()
    for d in (got, want):
        for key in ("client", "transport", "tcp_close", "partial", "role_source", "stream", "capture_after_last_packet"):
            d.pop(key, None)
        d["events"] = [e for e in d["events"] if e["type"] not in ("syn", "syn_ack", "fin", "rst")]
    want_diag, got_diag = want.pop("diagnosis"), got.pop("diagnosis")
    _same_tls(got, want, "openvpn")
    if plain[0].established:  # (how a failed one ended differs: UDP has no FIN or RST)
        assert got_diag["cause"] == want_diag["cause"]


def test_udp_datagrams_that_are_no_openvpn_give_no_connection() -> None:
    data = _openvpn_udp_capture(LAB[0])
    records = list(dpkt.pcap.Reader(io.BytesIO(data)))
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=1)
    for ts, frame in records:  # every datagram's first byte an opcode no stream starts with
        eth = dpkt.ethernet.Ethernet(frame)
        eth.data.data.data = b"\x30" + bytes(eth.data.data.data)[1:]
        writer.writepkt(bytes(eth), ts)
    assert tlsdissect.analyze(out.getvalue()).connections == []


def test_openvpn_over_udp_in_ndpi_capture() -> None:
    """nDPI's openvpn.pcap: 7 UDP conversations, each OpenVPN; tshark numbers them udp.stream 0-6
    with these endpoints and, decoded as OpenVPN (-d udp.port==443,openvpn, ...,1194,...,13680),
    shows these ServerHello cipher suites (0x1302 TLS_AES_256_GCM_SHA384, 0xc030
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, 0x009f TLS_DHE_RSA_WITH_AES_256_GCM_SHA384; udp.stream 6, on
    port 1234, with -o openvpn.tls_auth:TRUE -o openvpn.tls_auth_hmac_size:64 as well); 0 holds only
    the client's side, 1 only the server's (the same session seen before and after a NAT)."""
    import shared_captures as sc  # (tests/ on the path: conftest)

    path = sc.shared_captures_dir() / "ntop+nDPI/tests/cfgs/default/pcap/openvpn.pcap"
    if not path.is_file():
        pytest.skip("shared captures not available")
    udp = {c.stream: c for c in tlsdissect.analyze(str(path)).connections if c.transport == "udp"}
    want = {0: ("192.168.75.18:60201", "166.161.181.18:443", None),
            1: ("10.0.2.15:60201", "69.197.143.179:443", 0x1302),
            2: ("192.168.43.12:41507", "139.59.151.137:13680", 0xC030),
            3: ("192.168.43.18:13680", "139.59.151.137:13680", 0xC030),
            4: ("3.111.166.78:51146", "85.134.13.165:1194", 0x009F),
            5: ("192.168.12.156:41133", "107.161.86.131:443", 0x1302),
            6: ("192.168.12.156:37383", "217.138.197.43:1234", 0x1302)}
    assert {n: (c.client, c.server, c.cipher_code) for n, c in udp.items()} == want
    assert udp[0].client_hello is not None and udp[1].client_hello is None
    assert all(udp[n].established for n in (2, 3, 4, 5, 6))
