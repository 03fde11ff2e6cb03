"""The pipeline's loop over a capture's segments: each TCP segment to its conversation (the flow
table), each UDP datagram to the QUIC, DTLS and OpenVPN stages, and every finished conversation,
once its relay window has passed, to ``finish``.

It is a module of its own, apart from ``analyzer`` (the library's entry points and their
dataclasses), so that the compiled build (docs/compiled.md) can compile it: the loop runs once per
packet, and with the flow table's types known here its common case, a packet of a known
conversation, is a dict look-up and a direct call of the conversation's ``packet``. The entry
points stay uncompiled, where ``inspect`` reads their signatures and docstrings and ``pickle``
(``--jobs``) and ``tlsdissect.dask`` take their dataclasses as written.
"""

from __future__ import annotations

import gc
from itertools import chain
from typing import Any, Callable, Iterator, Optional

from tlsdissect.capture.packet import SUPPORTED_LINKTYPES, SYN, TICK, UDP_DATAGRAM, UDP_ICMP_ERROR
from tlsdissect.capture.reader import DecryptionSecrets
from tlsdissect.pipeline.openvpn_udp import OpenVpnUdpFlows
from tlsdissect.pipeline.quic_results import finish_quic
from tlsdissect.pipeline.relays import RelayHold
from tlsdissect.dtls.flows import DtlsFlows
from tlsdissect.quic.flows import QuicFlows
from tlsdissect.pipeline.udp_streams import UdpStreams
from tlsdissect.tcp.flows import NEEDS_FLOW_TABLE, TOMBSTONE_TTL, FlowTable, TcpConnection
from tlsdissect.tls.session import TlsSession

GC_YOUNG_LIMIT = 200_000  # young container objects that trigger a collection while automatic GC is off

# What a reader's ``segments()`` yields: (frame, time, linktype) and packet.decode_flow's result
# (key, seq, ack, flags, payload, ttl, window); key None for a frame without a TCP segment (a UDP
# datagram has its flow key in seq, an ICMP error quoting one its IcmpError).
Segment = tuple[int, float, int, Any, Any, Any, int, Any, Any, Any]

# Below this snap length a full-size Ethernet frame is cut short (1514 bytes with its header).
FULL_FRAME = 1514


def _end_warnings(reader: Any, table: FlowTable) -> list[str]:
    """What the end of the capture tells about it: a short snap length, stream numbers forgotten."""
    out = []
    short = _short_snaplen(reader)
    if short:
        out.append(short)
    if table.tombstones_dropped:
        out.append(f"{table.tombstones_dropped} retired connections forgot their stream number early "
                   f"(more than {table.max_tombstones} were retired within {TOMBSTONE_TTL:g} s, "
                   "docs/limits.md): a late packet of one of them started a new stream number")
    return out


def _short_snaplen(reader: Any) -> Optional[str]:
    """A warning when the capture was made with a snap length that cuts full-size frames short
    (tcpdump -s 68/96/128, old defaults and "headers only" setups): the TLS messages in the
    cut frames are incomplete, which shows as bytes missing from the capture, not as silence."""
    info = getattr(reader, "info", None)
    sizes = sorted({i.snaplen for i in getattr(info, "interfaces", ()) if 0 < i.snaplen < FULL_FRAME})
    if not sizes:
        return None
    return (f"the capture was made with a snap length of {', '.join(map(str, sizes))} bytes: longer frames are cut "
            "short, so the TLS messages in them are incomplete and show as bytes missing from the capture (capture "
            "again with `tcpdump -s 0`)")


def _absorb_secrets(table: FlowTable, sessions: Any, secrets: list[DecryptionSecrets]) -> None:
    """Key material of Decryption Secrets Blocks (``secrets``, emptied) into the table's key log."""
    from tlsdissect.keys.keylog import KeyLog, keylog_from_dsb

    for dsb in secrets:
        log = keylog_from_dsb(dsb.secrets_type, dsb.data)
        if log is None:
            continue
        if sessions.keylog is None:
            sessions.keylog = KeyLog()
        sessions.keylog.merge(log)
        for conn in table.active.values():  # connections already open get the keys too
            if isinstance(conn, TcpConnection) and isinstance(conn.consumer, TlsSession):
                conn.consumer.keylog = sessions.keylog
    secrets.clear()


def _udp_results(st: Any, opts: Any, quic: Optional[QuicFlows], dtls: Optional[DtlsFlows],
                 udp_streams: UdpStreams) -> None:
    """The QUIC handshakes and DTLS associations of the capture, finished, into ``st``, each
    with its UDP stream number."""
    if quic is not None:
        for key, session in quic.sessions.items():
            session.result.stream = udp_streams.number(key)
        st.quic = quic.results()
        for q in st.quic:
            finish_quic(q, opts)
    if dtls is not None:
        st.dtls = dtls.results()  # (one per session, in the sessions' order)
        for key, association in zip(dtls.sessions, st.dtls):
            association.stream = udp_streams.number(key)
        if st.dtls:
            from tlsdissect.pipeline.dtls import finish_dtls

            for a in st.dtls:
                finish_dtls(a, opts)


def run_stages(reader: Any, st: Any, opts: Any, table: FlowTable, sessions: Any,
               finish: Callable[..., Any], hold: Optional[RelayHold] = None
               ) -> Iterator[Any]:
    """The stages over the segments of ``reader`` (a CaptureReader, or a LiveCapture whose ticks
    sweep the table as capture time passes without packets), for analyzer._run, which opened it
    and loaded the key log into ``sessions`` (an analyzer.Sessions); ``st``: the
    analyzer.RunState to fill in, ``opts`` the analyzer.Options; ``hold``: how finished
    connections wait for their relay legs (by default, a RELAY_WINDOW of retirements)."""
    secrets: list[DecryptionSecrets] = reader.new_secrets  # (the reader appends to this list)
    conversations = table.table
    needs_flow_table = NEEDS_FLOW_TABLE
    undecoded = 0
    # UDP datagrams go to the QUIC and DTLS stages (in a sharded run, the first worker's: each
    # reads them all)
    udp_reader = table.shard is None or table.shard[0] == 0
    quic = QuicFlows(sessions.keylog) if udp_reader else None
    dtls = DtlsFlows(sessions.keylog) if udp_reader else None
    udp_streams = UdpStreams() if udp_reader else None
    openvpn_udp = OpenVpnUdpFlows(sessions.keylog) if udp_reader else None
    next_sweep_frame = 0
    frame = 0
    ts = 0.0
    progress = opts.progress
    if hold is None:
        hold = RelayHold(table)  # each connection waits until its relay legs can be known
    segments: Iterator[Segment] = reader.segments()
    try:
        try:
            for frame, ts, linktype, key, seq, ack, flags, payload, ttl, window in segments:
                if key is None:
                    if flags == TICK:  # a live capture's clock: time passed without packets
                        table.sweep(ts)
                        for conn, ended in hold.release(table.take_done(), False, now=ts):
                            result = finish(conn, sessions, ended, opts)
                            if result is not None:
                                yield result
                        continue
                    undecoded += 1  # (not TCP: a UDP datagram counts too, as documented)
                    if flags == UDP_DATAGRAM:
                        if udp_streams is not None:
                            udp_streams.see(seq)
                        if quic is not None:
                            quic.datagram(frame, ts, seq, payload)  # (a datagram's flow key is in seq)
                        if dtls is not None:
                            dtls.datagram(frame, ts, seq, payload)
                        if openvpn_udp is not None:
                            openvpn_udp.datagram(frame, ts, seq, payload)
                        continue
                    if flags == UDP_ICMP_ERROR:  # (the IcmpError is in seq, the quoted UDP payload in payload)
                        if quic is not None:
                            quic.icmp_error(frame, ts, seq, payload)
                        if dtls is not None:
                            dtls.icmp_error(frame, ts, seq, payload)
                        st.linktypes.add(linktype)  # (as for any frame that is no TCP segment)
                        continue
                    if linktype not in SUPPORTED_LINKTYPES and linktype not in st.linktypes:
                        st.warnings.append(f"link type {linktype} is not supported; its frames are skipped")
                    st.linktypes.add(linktype)
                    continue
                if secrets:  # a pcapng Decryption Secrets Block
                    _absorb_secrets(table, sessions, secrets)
                    if quic is not None:
                        quic.keylog = sessions.keylog
                    if openvpn_udp is not None:
                        openvpn_udp.keylog = sessions.keylog
                # FlowTable.flow, its common case here (no call): a packet of a known conversation
                # without SYN (nor an ICMP quote) goes straight to the conversation.
                entry = conversations.get(key)
                if entry is None or needs_flow_table[flags]:
                    if quic is not None and flags & 0x12 == SYN:  # a client's SYN: QUIC's fall-back to TCP
                        quic.tcp_connect(frame, ts, key)
                    table.flow(frame, ts, (key, seq, ack, flags, payload, ttl, window))
                else:
                    conversation_of, d = entry  # (a TcpConnection, or a sharded run's shadow of one)
                    conversation_of.packet(d, frame, ts, seq, ack, flags, payload, ttl, window)
                if frame >= next_sweep_frame:
                    next_sweep_frame = frame + 2048
                    st.linktypes.add(linktype)
                    table.sweep(ts)
                    if progress is not None:
                        progress(frame, reader.position)
                    for conn, ended in hold.release(table.take_done(), False, now=ts):
                        result = finish(conn, sessions, ended, opts)
                        if result is not None:
                            yield result
                    if gc.get_count()[0] > GC_YOUNG_LIMIT and not gc.isenabled():
                        gc.collect(1)  # see analyzer.quiet_gc
        except KeyboardInterrupt:
            # Stopped (Ctrl-C; the command line turns SIGTERM into this too): the connections
            # still open are handed out as at the end of a cut capture (partial), then the stop
            # goes on.
            st.interrupted = True
        table.retire_all()
        sessions.capture_end = ts
        st.warnings += _end_warnings(reader, table)
        udp_flows: Any = ((f, True) for f in openvpn_udp.finished(table.retired, udp_streams)) if openvpn_udp else ()
        # (OpenVPN/UDP last; a pipeline.openvpn_udp.UdpFlow is no TcpConnection, hence Any)
        finished: Iterator[Any] = chain(hold.release(table.take_done(), True, final=True), udp_flows)
        for last, last_ended in finished:
            result = finish(last, sessions, last_ended, opts)
            if result is not None:
                yield result
    finally:
        st.undecoded_frames = undecoded
        st.tcp_connections = table.next_stream
        if udp_streams is not None:
            _udp_results(st, opts, quic, dtls, udp_streams)
        reader.close()
    if st.interrupted:
        raise KeyboardInterrupt
