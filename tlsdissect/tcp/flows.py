"""TCP connection tracking: the table of conversations, their numbering and their end.

Every TCP conversation gets a stream number the way Wireshark assigns ``tcp.stream``: in the
order conversations are first seen, all TCP counted (TLS or not), and a SYN whose initial
sequence number differs from the one already seen in that direction starts a new
conversation on the same addresses and ports (port reuse).

A connection is handed out (``finished``) when it has closed (RST, or FIN from both sides)
and stayed quiet for a short linger time, when it idles out, when port reuse replaces it, or
when the capture ends; that is what lets ``iter_connections`` run in bounded memory. Memory
stays bounded whatever the timestamps do: the open-connection cap is enforced on every new
connection (not only when capture time moves), the open connections' estimated bytes are
held to a budget (MEMORY_BUDGET) as well as their count, the table of retired addresses
(tombstones) is capped, and out-of-order bytes of all connections share one budget.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from heapq import heapify, heappop, heappush
from typing import Any, Callable, Optional, Union

from tlsdissect.capture.icmp import IcmpError
from tlsdissect.capture.packet import _SPLIT_KEY, ACK, FIN, ICMP_QUOTE, PSH, RST, SYN, TcpSegment, flow_key, format_host
from tlsdissect.directions import NONE_PAIR, pair_with
from tlsdissect.tcp.consumer import StreamConsumer
from tlsdissect.tcp.reassembly import LAST_BYTES, Chunk, ReassemblyBudget, StreamReassembler
from tlsdissect.tcp.relays import OPENING_BYTES, Leg, RelayIndex, StreamDigest, first_reset
from tlsdissect.tcp.stall import LOG_PACKETS, Stall, new_log, stalled
from tlsdissect.tcp.window import PROBE_IDLE_SECONDS, WindowWatch

# Ports where TLS is expected (a connection to them is reported even if no TLS appeared).
TLS_PORTS = frozenset((443, 465, 563, 585, 614, 636, 853, 989, 990, 992, 993, 994, 995, 1443,
                       2376, 3269, 4443, 5061, 5223, 5986, 6443, 6697, 8443, 8883, 9443, 10443))
CLOSED_LINGER = 2.0  # seconds of capture time a closed connection waits for stragglers
IDLE_TIMEOUT = 300.0  # seconds without a packet before an open connection is handed out
SWEEP_INTERVAL = 1.0  # seconds of capture time between sweeps of the table
TOMBSTONE_TTL = 120.0  # a retired connection's addresses keep its stream number this long
# ... but no more of them than this (the oldest go first): 32,768 at ~175 bytes each is 5.6 MB, what
# keeps a busy front end's 1 GB capture within 150 MB (docs/limits.md; 100,000 took 17.5 MB).
MAX_TOMBSTONES = 32_768
# Memory budget (like Suricata's flow memcap and emergency timeouts): with more than
# BUSY_ACTIVE connections open, those idle for BUSY_IDLE_TIMEOUT are handed out at once (and
# say so), closed ones after BUSY_CLOSED_LINGER; a new connection beyond MAX_ACTIVE first hands
# out the longest idle one, whatever its idle time (and whether or not capture time moves).
BUSY_ACTIVE = 2_000
BUSY_IDLE_TIMEOUT = 5.0
BUSY_CLOSED_LINGER = 0.5  # and closed connections wait this long instead of CLOSED_LINGER
MAX_ACTIVE = 20_000
# The same on bytes: the open connections' estimated memory (estimated_bytes) above
# MEMORY_BUDGET hands out closed connections, then the longest idle ones, until it is back
# under; above 7/8 of it the busy rule applies. The estimate counts packets, not bytes kept,
# so that every worker of a sharded run (which sees the other workers' connections only as
# shadows) makes the same choice: an open connection holds about CONNECTION_COST bytes plus
# PACKET_COST per packet of its first CHARGED_PACKETS (the handshake, its certificates and
# timeline; after it, bulk data adds next to nothing: protected records are skipped, only their
# first few listed). Measured with tracemalloc on the lab's handshakes (docs/limits.md).
MEMORY_BUDGET = 40 << 20
CONNECTION_COST = 3 << 10
PACKET_COST = 900
CHARGED_PACKETS = 24

_CONTROL = SYN | FIN | RST
MAX_ICMP_EVENTS = 4  # ICMP errors noted per conversation (docs/limits.md)
SYN_OR_QUOTE = SYN | ICMP_QUOTE  # (an ICMP quote has no other flag)
# TCP flags byte -> (any of SYN/FIN/RST, ACK, RST) as booleans: TcpConnection.packet indexes this
# once per packet instead of computing three ``&`` (each a generic binary operation in CPython).
_FLAG_BITS: tuple[tuple[bool, bool, bool], ...] = tuple(
    (bool(f & _CONTROL), bool(f & ACK), bool(f & RST)) for f in range(256))
# And for a control packet: TCP flags byte -> (SYN, FIN) as booleans.
_SYN_FIN: tuple[tuple[bool, bool], ...] = tuple((bool(f & SYN), bool(f & FIN)) for f in range(256))
# A segment's flags (an ICMP quote's included) -> whether it needs FlowTable.flow even for a known
# conversation (SYN, or an ICMP quote): pipeline.packet_loop's test per packet, without the "&".
NEEDS_FLOW_TABLE: tuple[bool, ...] = tuple(bool(f & SYN_OR_QUOTE) for f in range(ICMP_QUOTE + 1))
_ZERO_PAIR = (0, 0)
_NO_ENTRY = (None, 0)  # FlowTable._retire's stand-in for a flow key not in the table

class TcpConnection:
    """One TCP conversation being tracked."""

    transport = "tcp"  # (pipeline.openvpn_udp's flows, read by the same assemble, say "udp")
    __slots__ = (
        "stream", "addr", "port", "reasm", "client_dir", "role_source", "isn", "first_frame",
        "last_frame", "first_ts", "last_ts", "packets", "payload_bytes", "tcp_events", "fin",
        "rst", "consumer", "ttls", "closed_at", "syn_seen", "midstream", "rst_ttl", "rst_mid_record", "after_own_reset", "rst_seq",
        "tentative", "early_retire", "retire_seq", "keys", "log", "opening", "relay_legs", "watch",
        "digest",
    )
    shadow = False  # analysed here (see ShadowConnection)
    keys: tuple[bytes, bytes]  # its two flow keys, set by the FlowTable that made it (for _retire)

    def __init__(self, stream: int, src: bytes, sport: int, dst: bytes, dport: int, frame: int, ts: float,
                 consumer: StreamConsumer, budget: Optional[ReassemblyBudget] = None):
        self.stream = stream
        self.addr = (src, dst)
        self.port = (sport, dport)
        # (budget: the out-of-order memory this conversation shares with the table's others)
        self.reasm = (StreamReassembler(budget=budget), StreamReassembler(budget=budget))
        self.client_dir: Optional[int] = None
        self.role_source = "port"
        self.isn: list[Optional[int]] = [None, None]
        self.first_frame = frame
        self.last_frame = frame
        self.first_ts = ts
        self.last_ts = ts
        self.packets = [0, 0]
        self.payload_bytes = [0, 0]
        self.tcp_events: list[tuple[int, int, float, str, dict[str, Any]]] = []
        # fin, rst, rst_ttl, rst_mid_record and tentative: per direction, immutable pairs that
        # start shared and are replaced on write (directions.pair_with): most stay untouched.
        self.fin: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.rst: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.consumer = consumer  # what the reassembled bytes go to (the pipeline's choice)
        self.ttls: list[list[int]] = [[], []]  # first TTLs per direction (middlebox evidence)
        self.rst_ttl: tuple[Optional[int], Optional[int]] = NONE_PAIR
        self.after_own_reset: tuple[Optional[int], Optional[int]] = NONE_PAIR  # first frame a side sent after its RST
        self.rst_seq: tuple[int, int] = (0, 0)  # the sequence number of each side's first RST
        self.rst_mid_record: tuple[int, int] = _ZERO_PAIR
        self.tentative: tuple[Any, Any] = NONE_PAIR  # (seq, zeros, frame, time) held per direction
        self.closed_at: Optional[float] = None
        self.syn_seen = False
        self.midstream = False
        self.early_retire: Optional[str] = None  # why it was handed out before its idle timeout
        self.retire_seq = -1  # position in the table's retirement order (the order results come out)
        self.log = (new_log(), new_log())  # each direction's first packets (see stall())
        # Each direction's first OPENING_BYTES (tcp.relays: the legs of a relayed connection).
        self.opening: tuple[Optional[bytes], Optional[bytes]] = NONE_PAIR
        self.relay_legs: list[Leg] = []  # set when handed out (FlowTable.relay_legs)
        self.watch: Optional[WindowWatch] = None  # zero windows and probes, when there are any
        self.digest = (StreamDigest(), StreamDigest())  # each direction's first bytes (tcp.relays)

    def icmp_error(self, d: int, frame: int, ts: float, error: int, source: int) -> None:
        """An ICMP error quoting a packet of direction ``d`` (``error``: version << 16 | type << 8 |
        code; ``source``: the address it came from, as an integer): an event of the other
        direction, the answer the packet got (the first MAX_ICMP_EVENTS)."""
        self.last_frame = frame
        self.last_ts = ts
        if sum(1 for e in self.tcp_events if e[3] == "icmp") < MAX_ICMP_EVENTS:
            address = source.to_bytes(4 if error >> 16 == 4 else 16, "big")
            icmp = IcmpError(b"", address, error >> 16, (error >> 8) & 0xFF, error & 0xFF, 0, 0)
            self.tcp_events.append((1 - d, frame, ts, "icmp", {"name": icmp.name, "kind": icmp.kind,
                                                               "source": format_host(address)}))

    def packet(self, d: int, frame: int, ts: float, seq: int, ack: int, flags: int, payload: bytes, ttl: int,
               window: int) -> None:
        self.last_frame = frame
        idle_since = self.last_ts  # (the conversation's previous packet: how long it was quiet)
        self.last_ts = ts
        count = self.packets[d] = self.packets[d] + 1
        if count <= LOG_PACKETS:  # (tcp.stall.new_log's layout)
            self.log[d].extend((seq, len(payload), ack if flags & ACK else -1, flags, frame, ts))
        control, acks, rst = _FLAG_BITS[flags]
        if window:
            if self.watch is not None and self.watch.open[d] is not None:  # (a spell to end: no call otherwise)
                self.watch.opened(d, frame, ts)
        elif not rst:  # (a reset's window means nothing; Linux sends 0)
            self._watch().closed(d, frame, ts)
        if self.rst is not NONE_PAIR and not rst and self.rst[d] is not None and self.after_own_reset[d] is None \
                and (payload or flags & FIN) and ((seq - self.rst_seq[d]) & 0xFFFFFFFF) < 0x80000000:
            # A side that sends on after "its" reset did not send it: a device on the path did.
            # (New bytes or a FIN at or beyond the reset's sequence number: not a late copy of
            # something sent before it, which a capture may show after the reset.)
            self.after_own_reset = pair_with(self.after_own_reset, d, frame)
        ttls = self.ttls[d]
        if len(ttls) < 4 and not rst:
            ttls.append(ttl)
        if control:
            # SYN, FIN and RST: sequence origins, roles and the end of the conversation (here, not
            # in a method of their own: a call less for each of a short connection's five or so).
            syn, fin = _SYN_FIN[flags]
            if syn:
                if self.isn[d] is None:
                    self.isn[d] = seq
                    self.reasm[d].syn(seq)
                    self.digest[d].syn(seq)
                    kind = "syn_ack" if acks else "syn"
                    self.tcp_events.append((d, frame, ts, kind, {}))
                elif self.isn[d] != seq and not self.payload_bytes[d]:
                    # A repeated SYN(-ACK) with another ISN before any data: which one counts is
                    # decided by the first data segment (see StreamReassembler.syn_candidate).
                    self.reasm[d].syn_candidate(seq)
                if not self.syn_seen and self.packets[d] + self.packets[1 - d] <= 2:
                    self.syn_seen = True
                if self.client_dir is None or self.role_source != "syn":
                    self.client_dir = (1 - d) if acks else d
                    self.role_source = "syn"
            if fin and self.fin[d] is None:
                self.fin = pair_with(self.fin, d, (frame, ts))
                self.reasm[d].fin(seq, len(payload))
                self.tcp_events.append((d, frame, ts, "fin", {}))
                if self.fin[1 - d] is not None and self.closed_at is None:  # FIN from both sides
                    self.closed_at = ts
            if rst:
                if self.rst[d] is None:
                    self.rst = pair_with(self.rst, d, (frame, ts))
                    self.rst_ttl = pair_with(self.rst_ttl, d, ttl)
                    self.rst_seq = pair_with(self.rst_seq, d, seq)
                    missing = self.consumer.mid_record(d)
                    if missing > 0 and not self.reasm[d].pending:
                        # The sender resets while its own TLS record is unfinished: no TLS stack
                        # does that (it would finish the record or send an alert).
                        self.rst_mid_record = pair_with(self.rst_mid_record, d, missing)
                    # A reset without the ACK flag is the RFC 9293 3.10.7.1 answer for a connection
                    # that does not exist: kept, it tells a device that never tracked the
                    # connection from an endpoint aborting its own (which sets ACK).
                    self.tcp_events.append((d, frame, ts, "rst", {"ttl": ttl} if acks else {"ttl": ttl, "no_ack": True}))
                self.closed_at = ts
        if acks:
            other = self.reasm[1 - d]
            if other.pending:
                # The ACK may prove that bytes beyond a hole were received: release them now.
                self._deliver(1 - d, other.acked(ack, frame, ts))
            else:
                other.peer_ack = ack
        if payload and not rst:
            digest = self.digest[d]
            if not digest.done:
                digest.data(seq, payload, frame)  # (raw segments, as a shadow reads them)
            n = len(payload)
            if n <= 6 and not flags & PSH and not any(payload):
                # Maybe Ethernet padding counted as payload by a broken IP length (some taps do
                # it even on SYN-ACKs), maybe real zeros (the end of a ClientHello's padding
                # extension). Hold them: if the next segment starts at the same sequence
                # number, they were padding; otherwise they are delivered first.
                tseq = (seq + 1) & 0xFFFFFFFF if flags & SYN else seq
                held = self.tentative[d]
                if held is None or held[0] == tseq:  # (a repeat of the same zeros changes nothing)
                    if held is None:
                        self.tentative = pair_with(self.tentative, d, (tseq, payload, frame, ts))
                    return
            if not self.payload_bytes[d]:
                self.opening = pair_with(self.opening, d, payload[:OPENING_BYTES])
            self.payload_bytes[d] += n
            held = self.tentative[d]
            if held is not None:
                self.tentative = pair_with(self.tentative, d, None)
                if held[0] != seq:
                    self._feed(d, held[0], held[1], held[2], held[3])
            if control and syn:  # (syn is set when control is)
                seq = (seq + 1) & 0xFFFFFFFF  # data on a SYN (TCP Fast Open) follows the SYN
            elif not self.syn_seen and self.packets[d] == 1 and not self.midstream:
                self._start_midstream()
            r = self.reasm[d]
            if seq == r.next_seq and not r.pending:
                # In order with nothing buffered (next_seq cannot match before the stream's
                # origin is known): what StreamReassembler.segment would do, without the
                # bookkeeping; the bytes go straight to the consumer.
                nxt = seq + n  # (seq + n) & 0xFFFFFFFF, without the slower "&" (n < 2**32)
                r.next_seq = nxt if nxt <= 0xFFFFFFFF else nxt - 0x100000000
                r.next_abs += n
                # What a later copy of these bytes is compared with (a reference: no copy, no hash).
                r.last = payload if n <= LAST_BYTES else payload[-LAST_BYTES:]
                r.last_frame = frame
                self.consumer.data(d, payload, frame, ts)
                return
            if n == 1 and ((seq + 1) & 0xFFFFFFFF) == r.next_seq and not r.pending \
                    and ts - idle_since >= PROBE_IDLE_SECONDS:  # (sooner: a retransmission)
                self._watch().probe(d, frame, ts, self.packets[1 - d])  # (Windows' keep-alive: one old byte)
            self._deliver(d, r.segment(seq, payload, frame, ts))
        elif not payload and not control and ((seq + 1) & 0xFFFFFFFF) == self.reasm[d].next_seq:
            # One byte before what this side has sent, and empty: a keep-alive or window probe.
            self._watch().probe(d, frame, ts, self.packets[1 - d])

    def _watch(self) -> WindowWatch:
        """The connection's zero windows and probes (tcp.window), made when the first appears."""
        watch = self.watch
        if watch is None:
            watch = self.watch = WindowWatch()
        return watch

    def _deliver(self, d: int, chunks: list[Chunk]) -> None:
        """Hand reassembled bytes (and holes, as ints) of direction ``d`` to the consumer."""
        consumer = self.consumer
        for data, cframe, cts in chunks:
            if isinstance(data, int):
                consumer.gap(d, data, cframe, cts)
            else:
                consumer.data(d, data, cframe, cts)

    def _feed(self, d: int, seq: int, payload: bytes, frame: int, ts: float) -> None:
        self.payload_bytes[d] += len(payload)
        self._deliver(d, self.reasm[d].segment(seq, payload, frame, ts))

    def _start_midstream(self) -> None:
        self.midstream = True
        self.consumer.set_midstream(0)
        self.consumer.set_midstream(1)

    # -- the end ------------------------------------------------------------------------
    def flush(self, d: int) -> None:
        """Hand out everything still held for direction ``d``: zeros that nothing contradicted
        (they were data after all), then whatever the reassembler buffers, holes included."""
        held = self.tentative[d]
        if held is not None:
            self.tentative = pair_with(self.tentative, d, None)
            self._feed(d, held[0], held[1], held[2], held[3])
        reasm = self.reasm[d]
        if reasm.pending:
            self._deliver(d, reasm.flush(self.last_frame, self.last_ts))

    def notes(self, d: int) -> list[dict[str, Any]]:
        """What went wrong at the TCP level in direction ``d``: anomalies' fields (name, detail,
        and the frames involved where there are some)."""
        rs = self.reasm[d]
        out: list[dict[str, Any]] = []
        if rs.overlap_conflicts:
            note: dict[str, Any] = {"name": "conflicting_retransmission", "detail":
                                    f"{rs.overlap_conflicts} retransmitted segment(s) carried different bytes "
                                    "(possible injection)"}
            if rs.first_conflict is not None:
                first, other, seq = rs.first_conflict
                note["detail"] += (f"; the first: frame {other} carried other bytes than frame {first} "
                                   f"from sequence number {seq}")
                note["frames"] = [first, other]
            out.append(note)
        if rs.cap_hits:
            out.append(_cap_note("out-of-order buffer cap", rs.cap_hits))
        if rs.segment_cap_hits:
            out.append(_cap_note(f"out-of-order segment cap ({rs.max_segments} segments)", rs.segment_cap_hits))
        if rs.budget_hits:
            out.append(_cap_note("out-of-order memory budget shared by all connections", rs.budget_hits))
        return out

    def stall(self, d: int) -> Optional[Stall]:
        """Direction ``d``'s stall (tcp.stall): bytes from some point on sent again and again and
        never acknowledged, with the segment sizes that did get through; None when there is
        none (looked for only when the direction retransmitted)."""
        rs = self.reasm[d]
        if rs.retransmitted < 2:
            return None
        isn = rs.isn
        return stalled(self.log[d], self.log[1 - d], None if isn is None else (isn + 1) & 0xFFFFFFFF,
                       rs.peer_ack)

    def client_side(self) -> int:
        """The client's direction: from the SYN, else the consumer's hint (who sent a
        ClientHello), else the ports. Sets ``role_source`` to say which."""
        if self.role_source == "syn" and self.client_dir is not None:
            return self.client_dir
        hint = self.consumer.client_dir_hint
        if hint is not None:
            self.role_source = "client_hello"
            return hint
        self.role_source = "port"
        p0, p1 = self.port
        if (p1 in TLS_PORTS) != (p0 in TLS_PORTS):
            return 0 if p1 in TLS_PORTS else 1
        return 0 if p0 >= p1 else 1  # the ephemeral (higher) port is the client's

    def first_close(self) -> Optional[tuple[int, str, int, float]]:
        """(direction, "fin" or "rst", frame, time) of the first FIN or RST (an RST before a FIN
        of the same frame, direction 0 first)."""
        first: Optional[tuple[int, float]] = None
        by = 0
        how = ""
        for d in (0, 1):
            mark = self.rst[d]
            if mark is not None and (first is None or mark[0] < first[0]):
                first, by, how = mark, d, "rst"
            mark = self.fin[d]
            if mark is not None and (first is None or mark[0] < first[0]):
                first, by, how = mark, d, "fin"
        if first is None:
            return None
        return by, how, first[0], first[1]


def _cap_note(cap: str, hits: int) -> dict[str, Any]:
    return {"name": "out_of_order_cap", "detail": f"{cap} reached {hits} time(s); bytes skipped as a gap"}


class ShadowConnection:
    """A conversation another worker analyses (a sharded run, ``--jobs`` on one file).

    Every worker reads every packet; it tracks the other workers' conversations only as far
    as the shared decisions need them — where a conversation starts (stream numbers), when it
    closes or idles out (retirement order, the open-connection budget) and its tombstone — so
    that all workers number and order connections exactly as a single process does.
    """

    __slots__ = ("stream", "addr", "port", "isn", "packets", "fin", "closed_at", "last_frame", "last_ts",
                 "early_retire", "retire_seq", "keys", "first_ts", "opening", "rst", "digest")
    shadow = True
    keys: tuple[bytes, bytes]  # as TcpConnection's

    def __init__(self, stream: int, src: bytes, sport: int, dst: bytes, dport: int, frame: int, ts: float):
        self.stream = stream
        self.addr = (src, dst)
        self.port = (sport, dport)
        self.isn: list[Optional[int]] = [None, None]
        self.packets = [0, 0]
        self.fin = [False, False]
        self.closed_at: Optional[float] = None
        self.last_frame = frame
        self.last_ts = ts
        self.early_retire: Optional[str] = None
        self.retire_seq = -1
        # What the relay index registers (tcp.relays), as TcpConnection keeps it.
        self.first_ts = ts
        self.opening: tuple[Optional[bytes], Optional[bytes]] = NONE_PAIR
        self.rst: tuple[Optional[tuple[int, float]], Optional[tuple[int, float]]] = NONE_PAIR
        self.digest = (StreamDigest(), StreamDigest())

    def icmp_error(self, d: int, frame: int, ts: float, error: int, source: int) -> None:
        self.last_frame = frame  # (as TcpConnection.icmp_error changes these fields)
        self.last_ts = ts

    def packet(self, d: int, frame: int, ts: float, seq: int, ack: int, flags: int, payload: bytes, ttl: int,
               window: int) -> None:
        # The same state changes as TcpConnection.packet makes to these fields.
        self.last_frame = frame
        self.last_ts = ts
        self.packets[d] += 1
        if payload and not flags & RST:
            if self.opening[d] is None and (len(payload) > 6 or flags & PSH or any(payload)):
                self.opening = pair_with(self.opening, d, payload[:OPENING_BYTES])
            digest = self.digest[d]
            if not digest.done:
                digest.data(seq, payload, frame)
        if flags & (SYN | FIN | RST):
            if flags & SYN and self.isn[d] is None:
                self.isn[d] = seq
                self.digest[d].syn(seq)
            if flags & FIN:
                self.fin[d] = True
            if flags & RST:
                self.closed_at = ts
                if self.rst[d] is None:
                    self.rst = pair_with(self.rst, d, (frame, ts))
            if self.fin[0] and self.fin[1] and self.closed_at is None:
                self.closed_at = ts


def connection_estimate(conn: Conversation) -> int:
    """Bytes an open connection is estimated to hold (see MEMORY_BUDGET): from its packet
    count, which a shadow counts as its worker does."""
    packets = conn.packets[0] + conn.packets[1]
    return CONNECTION_COST + PACKET_COST * (packets if packets < CHARGED_PACKETS else CHARGED_PACKETS)


def estimated_bytes(conns: Any) -> int:
    """The estimate of ``conns`` together (connection_estimate summed, in one pass)."""
    n = 0
    packets = 0
    for conn in conns:
        n += 1
        p = conn.packets[0] + conn.packets[1]
        packets += p if p < CHARGED_PACKETS else CHARGED_PACKETS
    return CONNECTION_COST * n + PACKET_COST * packets


def shard_of(src: bytes, sport: int, dst: bytes, dport: int, shards: int) -> int:
    """Which of ``shards`` workers analyses this conversation (the same for both directions,
    and in every process: crc32, not Python's per-process salted hash)."""
    return zlib.crc32(_tomb_key(src, sport, dst, dport)) % shards


def _reverse(key: bytes) -> bytes:
    """The flow key of the other direction."""
    n = (len(key) - 4) >> 1
    return key[n:2 * n] + key[:n] + key[-2:] + key[-4:-2]


def _tomb_key(src: bytes, sport: int, dst: bytes, dport: int) -> bytes:
    """One compact key for both directions of a conversation (shard_of's)."""
    a = src + sport.to_bytes(2, "big")
    b = dst + dport.to_bytes(2, "big")
    return a + b if a <= b else b + a


Conversation = Union[TcpConnection, ShadowConnection]


class FlowTable:
    """All TCP conversations of a capture, keyed by both directions' 4-tuples."""

    def __init__(self, new_consumer: Callable[[], StreamConsumer], busy_active: int = BUSY_ACTIVE,
                 max_active: Optional[int] = None, shard: Optional[tuple[int, int]] = None,
                 max_tombstones: Optional[int] = None, memory_budget: Optional[int] = None) -> None:
        self.new_consumer = new_consumer  # makes each analysed conversation's consumer
        self.busy_active = busy_active
        # (the caps are read when the table is made, not when this module is: tests lower them)
        self.max_active = MAX_ACTIVE if max_active is None else max_active
        self.max_tombstones = MAX_TOMBSTONES if max_tombstones is None else max_tombstones
        self._over_cap_note = (f"handed out because more than {self.max_active} connections were open "
                               "(memory budget); later packets of this connection are not analysed")
        self.memory_budget = MEMORY_BUDGET if memory_budget is None else memory_budget
        # Below this many open connections the budget cannot be exceeded (each is estimated
        # at most CONNECTION_COST + CHARGED_PACKETS * PACKET_COST): no estimate is made.
        self._budget_safe = self.memory_budget // (CONNECTION_COST + CHARGED_PACKETS * PACKET_COST)
        self._budget_countdown = 0  # new connections until the next estimate
        self.estimated = 0  # the open connections' estimated bytes, as last worked out
        self._over_budget_note = (f"handed out because the open connections' estimated memory exceeded the "
                                  f"{self.memory_budget / (1 << 20):g} MiB budget (memory budget); later packets "
                                  "of this connection are not analysed")
        self.budget = ReassemblyBudget()  # out-of-order memory, shared by all the conversations
        self.relays = RelayIndex()  # the openings of conversations handed out lately (relay_legs)
        self.shard = shard  # (this worker, workers): analyse only the conversations shard_of gives us
        self.retired = 0  # connections retired so far (shadows included): the retire_seq counter
        self.table: dict[bytes, tuple[Conversation, int]] = {}  # flow key -> (conversation, direction)
        # The per-packet look-up, for the pipeline's loop: flow key -> (conversation, direction) or
        # None. A known conversation's packet without SYN (nor an ICMP quote: NEEDS_FLOW_TABLE)
        # may go straight to that conversation's packet(); anything else goes through flow().
        self.conversation = self.table.get
        self.active: dict[int, Conversation] = {}
        self.next_stream = 0
        self.done: list[TcpConnection] = []
        # Addresses of retired connections (the lesser of the two directions' flow keys) ->
        # retired at, in retirement order so that expiry pops from the front (an OrderedDict:
        # a plain dict's first key costs a scan over the slots its deletions left at the front).
        self.tombstones: OrderedDict[bytes, float] = OrderedDict()
        self.tombstones_dropped = 0  # dropped before TOMBSTONE_TTL because there were too many
        self.stragglers = 0
        self.early_retired = 0  # connections handed out early by the memory budget
        # (last_ts, stream) of the open conversations, a heap kept lazily: an entry is checked
        # against its conversation's last_ts only when popped (see _hand_out_idlest).
        self._idle_heap: list[tuple[float, int]] = []
        self._last_sweep = None  # type: Optional[float]

    def packet(self, frame: int, ts: float, seg: TcpSegment) -> None:
        """One segment in decode_tcp's form (src, dst, sport, dport, seq, ack, flags, payload, ttl, window)."""
        src, dst, sport, dport, seq, ack, flags, payload, ttl, window = seg
        self.flow(frame, ts, (flow_key(src, dst, sport, dport), seq, ack, flags, payload, ttl, window))

    def flow(self, frame: int, ts: float, seg: tuple[bytes, int, int, int, bytes, int, int]) -> None:
        """One segment in decode_flow's form (key, seq, ack, flags, payload, ttl, window): the per-packet
        path (pipeline.packet_loop handles its commonest case, a known conversation's packet without SYN,
        itself)."""
        key, seq, ack, flags, payload, ttl, window = seg
        entry = self.table.get(key)
        if entry is None:
            if self.tombstones and not (flags & SYN and not flags & ACK) \
                    and min(key, _reverse(key)) in self.tombstones:
                # A straggler (late ACK, retransmitted FIN) of a connection already handed out:
                # it belongs to that stream number, and carries nothing we still need.
                self.stragglers += 1
                return
            conn = self._new(key, frame, ts)
            if flags & ICMP_QUOTE:  # Wireshark numbers the quoted conversation; so do we
                return
            d = 0
        else:
            conn, d = entry
            if flags & SYN_OR_QUOTE and not flags & ACK:
                if flags & ICMP_QUOTE:
                    conn.icmp_error(d, frame, ts, ack, ttl)
                    return
                isn = conn.isn[d]
                if (isn is not None and isn != seq) or (isn is None and conn.packets[d] and conn.closed_at is not None):
                    # A new connection on the same addresses and ports.
                    self._retire(conn, ts)
                    conn = self._new(key, frame, ts)
                    d = 0
        conn.packet(d, frame, ts, seq, ack, flags, payload, ttl, window)

    def _new(self, key: bytes, frame: int, ts: float) -> Conversation:
        """A conversation whose first packet went ``key``'s way (that is direction 0)."""
        src, dst, sport, dport = _SPLIT_KEY[len(key)](key)  # split_key(key), without the call
        conn: Conversation
        active = self.active
        if len(active) >= self.max_active:
            self._hand_out_idlest(ts, self._over_cap_note)
        if len(active) > self._budget_safe:
            self._budget_countdown -= 1
            if self._budget_countdown <= 0:
                self._keep_to_budget(ts)
        if self.shard is not None and shard_of(src, sport, dst, dport, self.shard[1]) != self.shard[0]:
            conn = ShadowConnection(self.next_stream, src, sport, dst, dport, frame, ts)
        else:
            conn = TcpConnection(self.next_stream, src, sport, dst, dport, frame, ts, self.new_consumer(),
                                 self.budget)
        self.next_stream += 1
        back = dst + src + key[-2:] + key[-4:-2]  # _reverse(key), without the call
        conn.keys = (key, back)  # (for _retire)
        self.table[key] = (conn, 0)
        self.table[back] = (conn, 1)
        active[conn.stream] = conn
        heap = self._idle_heap
        heappush(heap, (ts, conn.stream))
        if len(heap) > 2 * len(active) + 64:  # mostly entries of retired conversations: rebuild
            heap[:] = [(c.last_ts, c.stream) for c in active.values()]
            heapify(heap)
        return conn

    def _hand_out_idlest(self, now: float, why: str) -> Optional[Conversation]:
        """The open-connection cap (MAX_ACTIVE) and the memory budget: hand out the conversation
        idle longest (the oldest of those idle as long), in O(log n), saying ``why``. Shadows
        count the same, so every worker of a sharded run makes the same choice."""
        heap = self._idle_heap
        active = self.active
        while heap:
            last_ts, stream = heappop(heap)
            conn = active.get(stream)
            if conn is None:
                continue  # retired already
            if conn.last_ts != last_ts:  # it had packets since: back in at its new place
                heappush(heap, (conn.last_ts, stream))
                continue
            self._early(conn, why)
            self._retire(conn, now)
            return conn
        return None

    def _keep_to_budget(self, now: float) -> None:
        """The memory budget: the open connections' estimate worked out (O(open connections),
        so only every len(active) / 16 new connections: at most 16 estimates per new one), and
        while it exceeds MEMORY_BUDGET closed connections are handed out, then the longest idle
        (marked)."""
        active = self.active
        total = estimated_bytes(active.values())
        budget = self.memory_budget
        if total > budget:
            # Closed connections first, oldest first, as the busy rule's shorter linger would
            # hand them out (not marked: only stragglers of theirs go unanalysed). Within a
            # burst of capture time no sweep runs, so they are most of what is open.
            for conn in [c for c in active.values() if c.closed_at is not None]:
                self._retire(conn, now)
                total -= connection_estimate(conn)
                if total <= budget:
                    break
        while total > budget and active:
            idlest = self._hand_out_idlest(now, self._over_budget_note)
            if idlest is None:
                break
            total -= connection_estimate(idlest)
        self.estimated = total
        # The next estimate when a sixteenth of the open connections have been added (or 64).
        self._budget_countdown = max(64, len(active) >> 4)

    def _retire(self, conn: Conversation, now: float) -> None:
        """Hand ``conn`` out at capture time ``now``; its addresses keep a tombstone from then."""
        self.active.pop(conn.stream, None)
        conn.retire_seq = self.retired
        self.retired += 1
        self.relays.register(conn.retire_seq, conn.opening, conn.stream, conn.first_ts, conn.last_ts,
                             first_reset(conn.rst), (conn.digest[0].points, conn.digest[1].points))
        table = self.table
        key, back = conn.keys
        # Both directions' entries go, when they are still this conversation's (a later one on the
        # same addresses and ports may hold them by now); _NO_ENTRY stands for a missing one.
        mine = table.get(key, _NO_ENTRY)[0] is conn
        if mine:
            del table[key]
        if table.get(back, _NO_ENTRY)[0] is conn:
            del table[back]
            mine = True
        if mine:
            tkey = key if key <= back else back
            tombs = self.tombstones
            tombs.pop(tkey, None)  # re-inserted at the end: the dict stays in time order
            tombs[tkey] = now
            if len(tombs) > self.max_tombstones:
                tombs.popitem(last=False)
                self.tombstones_dropped += 1
        if isinstance(conn, TcpConnection):  # (not a ShadowConnection)
            self.done.append(conn)

    def sweep(self, now: float) -> None:
        """Retire connections that closed a while ago or went idle (capture time)."""
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_INTERVAL:
            return
        self._last_sweep = now
        busy = len(self.active) > self.busy_active or (
            len(self.active) > self._budget_safe * 7 // 8
            and estimated_bytes(self.active.values()) > self.memory_budget * 7 // 8)
        idle_timeout = BUSY_IDLE_TIMEOUT if busy else IDLE_TIMEOUT
        linger = BUSY_CLOSED_LINGER if busy else CLOSED_LINGER
        quiet = min(linger, idle_timeout)  # a connection quiet for less stays, closed or not
        for conn in list(self.active.values()):
            idle = now - conn.last_ts
            if idle <= quiet:
                continue
            if idle > linger and conn.closed_at is not None:
                self._retire(conn, now)
            elif idle > idle_timeout:
                if busy and idle <= IDLE_TIMEOUT:
                    self._early(conn, f"handed out after {idle:.1f} s without packets because more "
                                      f"than {self.busy_active} connections were open (memory budget); later packets "
                                      "of this connection are not analysed")
                self._retire(conn, now)
        tombs = self.tombstones
        while tombs:
            k = next(iter(tombs))
            if now - tombs[k] <= TOMBSTONE_TTL:
                break
            del tombs[k]

    def _early(self, conn: Conversation, why: str) -> None:
        conn.early_retire = why
        self.early_retired += 1

    def retire_all(self) -> None:
        for conn in list(self.active.values()):
            self._retire(conn, conn.last_ts)

    def relay_legs(self, conn: TcpConnection) -> list[Leg]:
        """Set and return ``conn``'s other legs (tcp.relays): call once the table has retired
        RELAY_WINDOW conversations after it, or at the end, for the same answer in a sharded run."""
        conn.relay_legs = legs = self.relays.legs(conn.retire_seq, conn.stream, conn.opening, conn.first_ts,
                                                  conn.last_ts, (conn.digest[0].points, conn.digest[1].points))
        return legs

    def take_done(self) -> list[TcpConnection]:
        done = self.done
        self.done = []
        return done
