"""OpenVPN's control channel: the TLS session an OpenVPN tunnel negotiates its keys with.

An OpenVPN packet starts with a byte of opcode (high 5 bits) and key id (low 3 bits). Control
packets go on with the sender's 8-byte session id, with tls-auth an HMAC and a 4-byte
packet-id and 4-byte time, then the reliability layer: an array of acknowledged message
packet-ids (a count byte, 4 bytes each, then the peer's session id when the count is not 0)
and, except in P_ACK_V1, the packet's own 4-byte message packet-id; the rest of a P_CONTROL_V1
packet is TLS bytes. Over TCP every packet has a 2-byte length before it (``OpenVpnTcp``);
over UDP a datagram is one packet. Data-channel packets (P_DATA_V1/V2) are the tunnel's
traffic, encrypted with keys TLS exported: skipped.

The layout (whether tls-auth is on, and the HMAC's size) is learnt from the direction's first
packet, a hard reset with message packet-id 0: the one layout it parses with. TLS bytes are
handed out in order of message packet-id; a packet whose id was handed out already is a
retransmission and dropped; later ones wait (bounded). Only key id 0 is followed: a soft reset
starts another TLS session (a renegotiation of the tunnel's keys) in the same stream, counted
and not read. With tls-crypt the control channel is encrypted: recognised, and reported so.
"""

from __future__ import annotations

import struct
from typing import Optional

from tlsdissect.framing.unwrapper import MAX_HELD, Piece, lost

P_CONTROL_HARD_RESET_CLIENT_V1 = 1
P_CONTROL_HARD_RESET_SERVER_V1 = 2
P_CONTROL_SOFT_RESET_V1 = 3
P_CONTROL_V1 = 4
P_ACK_V1 = 5
P_DATA_V1 = 6
P_CONTROL_HARD_RESET_CLIENT_V2 = 7
P_CONTROL_HARD_RESET_SERVER_V2 = 8
P_DATA_V2 = 9
P_CONTROL_HARD_RESET_CLIENT_V3 = 10  # tls-crypt-v2: the client's wrapped key follows
P_CONTROL_WKC_V1 = 11

HARD_RESETS = frozenset({P_CONTROL_HARD_RESET_CLIENT_V1, P_CONTROL_HARD_RESET_SERVER_V1,
                         P_CONTROL_HARD_RESET_CLIENT_V2, P_CONTROL_HARD_RESET_SERVER_V2,
                         P_CONTROL_HARD_RESET_CLIENT_V3})
CONTROL = HARD_RESETS | {P_CONTROL_SOFT_RESET_V1, P_CONTROL_V1, P_ACK_V1, P_CONTROL_WKC_V1}
DATA = frozenset({P_DATA_V1, P_DATA_V2})

# tls-auth's fields after the session id: an HMAC (MD5, SHA-1, SHA-256, SHA-384, SHA-512) and the
# 4-byte packet-id and 4-byte time of its replay protection; 0 = no tls-auth.
AUTH_SIZES = (0, 20 + 8, 32 + 8, 16 + 8, 48 + 8, 64 + 8)
TLS_CRYPT_TAG = 32  # tls-crypt: packet-id, time, a 32-byte tag, then the encrypted rest
MAX_ACKS = 8  # RELIABLE_ACK_SIZE: the most acknowledgements a packet carries
MAX_HARD_RESET = 2048  # a hard reset is small (a tls-crypt-v2 wrapped key at most ~1 kB)
MAX_WAITING = 64  # control packets held while an earlier message packet-id is missing
EARLIEST_TIME = 946684800  # tls-auth's time field: 2000-01-01, no OpenVPN is older
_MIN_CONTROL = 1 + 8 + 1 + 4  # opcode, session id, empty ack array, message packet-id
_u32 = struct.Struct(">I").unpack_from
_u16 = struct.Struct(">H").unpack_from


def parse_control(pkt: bytes, auth: int) -> Optional[tuple[int, int, bytes, Optional[int], bytes]]:
    """A control packet with ``auth`` bytes of tls-auth fields: (opcode, key id, session id,
    message packet-id or None for P_ACK_V1, payload), or None when it does not parse."""
    p = 9 + auth
    if len(pkt) <= p:
        return None
    opcode = pkt[0] >> 3
    acks = pkt[p]
    if acks > MAX_ACKS:
        return None
    p += 1 + 4 * acks + (8 if acks else 0)
    if opcode == P_ACK_V1:
        return (opcode, pkt[0] & 7, pkt[1:9], None, b"") if p <= len(pkt) else None
    if p + 4 > len(pkt):
        return None
    return opcode, pkt[0] & 7, pkt[1:9], _u32(pkt, p)[0], pkt[p + 4:]


def _plausible_replay_fields(pkt: bytes, at: int) -> bool:
    """tls-auth/tls-crypt's packet-id (from 1, small at a session's start) and time at ``at``."""
    if at + 8 > len(pkt):
        return False
    packet_id, when = int(_u32(pkt, at)[0]), int(_u32(pkt, at + 4)[0])
    return 1 <= packet_id < 0x10000 and when >= EARLIEST_TIME


def _acks_only_the_peers_reset(pkt: bytes, auth: int) -> bool:
    """A direction's first packet can acknowledge nothing but the peer's hard reset (message
    packet-id 0): an empty ack array, or one entry, 0."""
    p = 9 + auth
    return pkt[p] == 0 or (pkt[p] == 1 and pkt[p + 1:p + 5] == b"\x00\x00\x00\x00")


def first_packet_layout(pkt: bytes) -> Optional[int]:
    """The tls-auth size (an AUTH_SIZES entry) a direction's first packet parses with: a hard
    reset of key id 0 with message packet-id 0 (and, with tls-auth, plausible replay fields);
    -1 for a hard reset whose control channel is encrypted (tls-crypt, tls-crypt-v2); None for
    bytes that are no OpenVPN hard reset."""
    if len(pkt) < _MIN_CONTROL or len(pkt) > MAX_HARD_RESET or pkt[0] >> 3 not in HARD_RESETS or pkt[0] & 7:
        return None
    if pkt[0] >> 3 != P_CONTROL_HARD_RESET_CLIENT_V3:
        for auth in AUTH_SIZES:
            if auth and not _plausible_replay_fields(pkt, 9 + auth - 8):
                continue
            parsed = parse_control(pkt, auth)
            if parsed is not None and parsed[3] == 0 and _acks_only_the_peers_reset(pkt, auth):
                return auth
    # tls-crypt: the replay fields straight after the session id, then the tag and ciphertext
    if len(pkt) >= 9 + 8 + TLS_CRYPT_TAG + 5 and _plausible_replay_fields(pkt, 9):
        return -1
    return None


class OpenVpnControl:
    """One direction's control channel, packet by packet: its TLS bytes in order."""

    __slots__ = ("auth", "session_id", "next_id", "waiting", "waiting_bytes", "retransmissions",
                 "other_keys", "problem")

    def __init__(self, auth: int) -> None:
        self.auth = auth  # an AUTH_SIZES entry; -1: encrypted (tls-crypt)
        self.session_id: Optional[bytes] = None  # the sender's, from its first packet
        self.next_id = 0  # the message packet-id whose payload comes next
        self.waiting: dict[int, bytes] = {}  # later packets' payloads by message packet-id
        self.waiting_bytes = 0
        self.retransmissions = 0
        self.other_keys = 0  # control packets of another key id (a renegotiation), not read
        self.problem: Optional[str] = None
        if auth < 0:
            self.problem = ("the OpenVPN control channel is encrypted (tls-crypt): the TLS handshake inside "
                            "cannot be read without the tunnel's static key")

    def packet(self, pkt: bytes, frame: int) -> list[Piece]:
        """One OpenVPN packet (without the TCP length); the TLS bytes it releases."""
        if self.problem is not None or not pkt:
            return []
        opcode = pkt[0] >> 3
        if opcode in DATA:
            return []
        if opcode not in CONTROL:
            return lost(self, f"an OpenVPN packet with opcode {opcode}, which OpenVPN does not define")
        parsed = parse_control(pkt, self.auth)
        if parsed is None:
            return lost(self, f"an OpenVPN control packet (opcode {opcode}, {len(pkt)} bytes) that does not parse "
                              "with the layout of the first one")
        opcode, key_id, session_id, msg_id, payload = parsed
        if self.session_id is None:
            self.session_id = session_id
        elif session_id != self.session_id:
            return lost(self, "an OpenVPN control packet of another session id (a new session in the same stream)")
        if key_id:
            self.other_keys += 1
            return []
        if msg_id is None:  # P_ACK_V1
            return []
        if msg_id < self.next_id or msg_id in self.waiting:
            self.retransmissions += 1
            return []
        if opcode != P_CONTROL_V1:
            payload = b""  # a reset's payload (early negotiation) is no TLS
        if msg_id > self.next_id:
            return self._wait(msg_id, payload)
        out = [(payload, frame)] if payload else []
        self.next_id += 1
        self._release(out, frame)
        return out

    def _wait(self, msg_id: int, payload: bytes) -> list[Piece]:
        waiting = self.waiting
        waiting[msg_id] = payload
        self.waiting_bytes += len(payload)
        if len(waiting) > MAX_WAITING or self.waiting_bytes > MAX_HELD:
            return lost(self, f"OpenVPN control packet {self.next_id} never arrived ({len(waiting)} later ones "
                              "waited for it)")
        return []

    def _release(self, out: list[Piece], frame: int) -> None:
        """Hand out the waiting packets that follow on now, with ``frame``, the one that filled
        the hole: their bytes are in order from there (as TCP reassembly dates bytes that
        waited behind a hole)."""
        waiting = self.waiting
        while self.next_id in waiting:
            payload = waiting.pop(self.next_id)
            self.waiting_bytes -= len(payload)
            if payload:
                out.append((payload, frame))
            self.next_id += 1


class _OnControl:
    """An unwrapper whose problem is its control channel's (one state for both transports)."""

    __slots__ = ()
    control: OpenVpnControl

    @property
    def problem(self) -> Optional[str]:
        return self.control.problem

    @problem.setter
    def problem(self, why: Optional[str]) -> None:
        self.control.problem = why


class OpenVpnTcp(_OnControl):
    """OpenVPN over TCP: each packet after its 2-byte length (an Unwrapper)."""

    name = "openvpn"
    __slots__ = ("control", "buf")

    def __init__(self, control: OpenVpnControl) -> None:
        self.control = control
        self.buf = bytearray()

    def feed(self, data: bytes, frame: int) -> list[Piece]:
        control = self.control
        if control.problem is not None:
            return []
        buf = self.buf
        buf += data
        out: list[Piece] = []
        pos = 0
        while len(buf) - pos >= 2:
            n = _u16(buf, pos)[0]
            if len(buf) - pos - 2 < n:
                break
            if n:
                out += control.packet(bytes(buf[pos + 2:pos + 2 + n]), frame)
            pos += 2 + n
            if control.problem is not None:
                buf.clear()
                return out
        del buf[:pos]
        return out

    def gap(self) -> None:
        self.buf.clear()
        lost(self, "bytes of the OpenVPN stream are missing from the capture: its packets cannot be followed on")


def recognise_tcp(buf: bytes) -> Optional[OpenVpnTcp]:
    """An OpenVPN-over-TCP reader for a stream starting with these bytes (its whole first
    packet), or None when they are not an OpenVPN hard reset. See ``wait_tcp`` for when to
    ask."""
    n = _u16(buf, 0)[0]
    auth = first_packet_layout(bytes(buf[2:2 + n])) if len(buf) >= 2 + n else None
    return None if auth is None else OpenVpnTcp(OpenVpnControl(auth))


def wait_tcp(buf: bytes) -> bool:
    """Could these first bytes of a stream start an OpenVPN hard reset that has not arrived
    whole yet? (Then detection waits for it.)"""
    if len(buf) < 3:
        return len(buf) < 2 or _u16(buf, 0)[0] >= _MIN_CONTROL
    n = _u16(buf, 0)[0]
    return (_MIN_CONTROL <= n <= MAX_HARD_RESET and len(buf) < 2 + n and buf[2] >> 3 in HARD_RESETS
            and not buf[2] & 7)


class OpenVpnUdp(_OnControl):
    """OpenVPN over UDP: one packet per datagram (an Unwrapper whose unit is a datagram)."""

    name = "openvpn"
    __slots__ = ("control",)

    def __init__(self, control: OpenVpnControl) -> None:
        self.control = control

    def feed(self, data: bytes, frame: int) -> list[Piece]:
        """One datagram's payload."""
        return self.control.packet(bytes(data), frame)

    def gap(self) -> None:  # (datagrams have no gaps: a lost one is a missing message packet-id)
        pass


def recognise_udp(payload: bytes) -> Optional[OpenVpnUdp]:
    """A reader for a UDP flow direction whose first datagram is this, or None when it is no
    OpenVPN hard reset (an encrypted, tls-crypt, control channel is recognised too)."""
    auth = first_packet_layout(bytes(payload))
    return None if auth is None else OpenVpnUdp(OpenVpnControl(auth))
