"""The pipeline: capture -> frames -> TCP segments -> connections -> results.

``iter_connections`` streams: it yields each connection as soon as it is over, so memory is
bounded by the connections open at one time, not by the size of the capture. ``analyze``
collects everything into a :class:`~tlsdissect.results.model.Report`.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from tlsdissect.capture.packet import SUPPORTED_LINKTYPES, UDP_DATAGRAM
from tlsdissect.capture.chain import open_capture
from tlsdissect.capture.reader import CaptureReader, Source
from tlsdissect.pipeline.assemble import assemble, reportable, server_port
from tlsdissect.results.model import Connection, Report
from tlsdissect.quic.flows import QuicFlows
from tlsdissect.tcp.flows import NEEDS_FLOW_TABLE, TOMBSTONE_TTL, FlowTable, TcpConnection
from tlsdissect.tls.session import TlsSession


GC_YOUNG_LIMIT = 200_000  # young container objects that trigger a collection while automatic GC is off


class quiet_gc:
    """Python's automatic cyclic GC off for the duration (a context manager).

    A long capture keeps a few hundred thousand container objects alive (open connections,
    caches), and the collector traverses them all again and again: a quarter of the CPU time
    on a handshake-heavy capture, for no gain, since the engine makes almost no reference
    cycles (none in the 11 221 connections of bench's 50 MB handshakes capture). While it is
    off, ``iter_connections`` still collects the young generations whenever more than
    GC_YOUNG_LIMIT new container objects have stayed alive since the last collection, so
    any cycles there are do not pile up."""

    def __enter__(self) -> "quiet_gc":
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.was_enabled:
            gc.enable()


@dataclass
class Options:
    """Knobs of one analysis run."""

    include_all: bool = False  # report every TCP connection, not only TLS ones
    keylog: Any = None  # tlsdissect.keys.keylog.KeyLog (or paths) for decryption
    diagnose: bool = True
    ca_file: Optional[str] = None
    ca_path: Optional[str] = None
    system_trust: bool = False
    progress: Optional[Callable[[int, int], None]] = None  # (frames, bytes) callback


@dataclass
class RunState:
    """What the pipeline learnt about the capture while streaming it."""

    reader: Optional[CaptureReader] = None
    tcp_connections: int = 0
    undecoded_frames: int = 0
    linktypes: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    quic: list[Any] = field(default_factory=list)  # tlsdissect.quic.QuicHandshake, in flow order
    interrupted: bool = False  # stopped before the capture's end (the open connections came out partial)


class Sessions:
    """The TCP stage's consumer factory: a TLS session per conversation, with the run's key log
    (which a pcapng's Decryption Secrets Blocks can extend while the capture is read)."""

    def __init__(self) -> None:
        self.keylog: Any = None  # tlsdissect.keys.keylog.KeyLog when decrypting
        self.tls_ports: set[int] = set()  # server ports TLS was seen on, in this capture
        # The cross-connection pass (pipeline.neighbours.Neighbours) of a single-process run
        # with diagnosis; None in a --jobs worker, which sees only its own connections.
        self.neighbours: Any = None

    def __call__(self) -> TlsSession:
        session = TlsSession()
        session.keylog = self.keylog
        return session


def _finish(conn: TcpConnection, sessions: Sessions, capture_ended: bool, opts: Options) -> Optional[Connection]:
    # assemble() first: TLS that only comes out of the final flush must count too.
    result = assemble(conn, capture_ended)
    port = server_port(conn)
    if port is not None:
        sessions.tls_ports.add(port)
    if not opts.include_all and not reportable(conn, sessions.tls_ports):
        return None
    if opts.diagnose:
        neighbours = sessions.neighbours
        if neighbours is None:
            _post_process(result, opts)
        else:
            _post_process(result, opts, neighbours.server_key(result))
            neighbours.link(result)
    return result


@dataclass
class ShardResult:
    """One connection from a worker of a sharded run, with what the merge needs.

    ``retire_seq`` is the connection's place in the single-process output order (every worker
    counts all retirements, see flows.ShadowConnection). Whether a connection without TLS is
    reported can depend on TLS seen on its port in *other* connections (FlowTable.tls_ports);
    a worker sees only its own, so it sends such a connection as a ``candidate`` with its ports
    and the merge decides with the TLS ports of all workers, in retirement order.
    """

    retire_seq: int
    connection: Connection
    tls_port: Optional[int] = None  # server port, when this connection spoke TLS
    candidate_ports: Optional[tuple[int, ...]] = None  # report only if one is a TLS port by then


def _finish_shard(conn: TcpConnection, sessions: Sessions, capture_ended: bool,
                  opts: Options) -> Optional[ShardResult]:
    result = assemble(conn, capture_ended)
    item = ShardResult(conn.retire_seq, result)
    item.tls_port = server_port(conn)
    if not opts.include_all and not reportable(conn, frozenset()):
        ports = frozenset(conn.port)
        if not reportable(conn, ports):
            return None
        item.candidate_ports = tuple(sorted(ports))
    if opts.diagnose:
        _post_process(result, opts)
    return item


_enrich: Optional[Callable[..., None]] = None


def _post_process(conn: Connection, opts: Options, peer_server_key: Optional[tuple[str, int]] = None) -> None:
    """Later stages (certificates, diagnosis) when they are installed (imported on first use:
    a run without diagnosis never loads cryptography)."""
    global _enrich
    if _enrich is None:
        try:
            from tlsdissect.pipeline.enrich import enrich
        except ImportError:
            return
        _enrich = enrich
    if peer_server_key is None:
        _enrich(conn, opts)
    else:
        _enrich(conn, opts, peer_server_key)


def _load_keylog(keylog: Any) -> Any:
    """Accept a KeyLog, a path, or a list of paths/KeyLogs."""
    if keylog is None or keylog == []:
        return None
    from tlsdissect.keys.keylog import KeyLog

    if isinstance(keylog, KeyLog):
        return keylog
    items = keylog if isinstance(keylog, (list, tuple)) else [keylog]
    merged = KeyLog()
    for item in items:
        merged.merge(item if isinstance(item, KeyLog) else KeyLog.from_file(item))
    return merged


def quic_fingerprints(q: Any) -> Optional[dict[str, Any]]:
    """JA4 (transport ``q``) and JA3 of a QUIC handshake's ClientHello, JA4S/JA3S of its
    ServerHello, as the fingerprint definitions give them for QUIC."""
    from tlsdissect.fingerprints import ja3, ja3s, ja4, ja4s

    if q.client_hello is None and q.server_hello is None:
        return None
    j4, j4s = ja4(q.client_hello, "q"), ja4s(q.server_hello, "q")
    j3, j3s = ja3(q.client_hello), ja3s(q.server_hello)
    return {"ja4": j4.ja4 if j4 else None, "ja4_r": j4.ja4_r if j4 else None, "ja4s": j4s.ja4s if j4s else None,
            "ja3": j3[0] if j3 else None, "ja3s": j3s[0] if j3s else None}


def _keylog_lines_ignored(lines: list[Any]) -> str:
    """The warning for key-log lines that were not understood: how many, and where and why for
    the first few (never the line's secret)."""
    shown = "; ".join(f"{m.source}:{m.line_no}: {m.reason}" for m in lines[:3])
    more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
    return f"key log: {len(lines)} line(s) not understood, ignored ({shown}{more})"


def _absorb_secrets(table: FlowTable, sessions: Sessions, secrets: list) -> None:
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
            if not conn.shadow:
                conn.consumer.keylog = sessions.keylog
    secrets.clear()


def iter_connections(source: Source, *, state: Optional[RunState] = None, **options: Any) -> Iterator[Connection]:
    """Yield each connection of the capture when it ends (streaming, bounded memory).

    ``source`` is a path, bytes or a binary file object; or a list of them, the files of a
    rotation set (``tcpdump -G``/``-C``) in order, read as one capture (capture/chain.py).

    Raises :class:`~tlsdissect.errors.CaptureError` when the input is not a capture at all.
    A capture cut short is not an error: the connections decoded before the cut are yielded,
    marked ``partial`` when they were still open, and ``state.reader.info.truncated`` is set.
    """
    opts = options.pop("opts", None) or Options(**options)
    sessions = Sessions()
    if opts.diagnose:
        from tlsdissect.pipeline.neighbours import Neighbours

        sessions.neighbours = Neighbours()
    return _run(source, state if state is not None else RunState(), opts, FlowTable(sessions), sessions, _finish)


def iter_shard(source: Source, shard: tuple[int, int], *, state: Optional[RunState] = None,
               **options: Any) -> Iterator[ShardResult]:
    """Worker ``shard[0]`` of ``shard[1]``: the connections this worker analyses, as ShardResults
    (see tlsdissect.parallel, which merges the workers into the single-process output)."""
    opts = options.pop("opts", None) or Options(**options)
    sessions = Sessions()
    return _run(source, state if state is not None else RunState(), opts, FlowTable(sessions, shard=shard), sessions,
                _finish_shard)


def _run(source: Source, st: RunState, opts: Options, table: FlowTable, sessions: Sessions,
         finish: Callable[[TcpConnection, Sessions, bool, Options], Any]) -> Iterator[Any]:
    reader = open_capture(source)  # (a list of files: a rotation set read as one capture, capture/chain.py)
    st.reader = reader
    sessions.keylog = _load_keylog(opts.keylog)
    if sessions.keylog is not None and sessions.keylog.malformed:
        st.warnings.append(_keylog_lines_ignored(sessions.keylog.malformed))
    secrets = reader.new_secrets  # (the reader appends to this list)
    table_flow = table.flow
    conversation = table.conversation
    needs_flow_table = NEEDS_FLOW_TABLE
    undecoded = 0
    # UDP datagrams go to the QUIC stage (in a sharded run, the first worker's: each reads them all)
    quic = QuicFlows() if table.shard is None or table.shard[0] == 0 else None
    next_sweep_frame = 0
    frame = 0
    ts = 0.0
    progress = opts.progress
    try:
        try:
            for frame, ts, linktype, key, seq, ack, flags, payload, ttl in reader.segments():
                if key is None:
                    undecoded += 1  # (not TCP: a UDP datagram counts too, as documented)
                    if flags == UDP_DATAGRAM:
                        if quic is not None:
                            quic.datagram(frame, ts, seq, payload)  # (a datagram's flow key is in seq)
                        continue
                    if linktype not in SUPPORTED_LINKTYPES and linktype not in st.linktypes:
                        st.warnings.append(f"link type {linktype} is not supported; its frames are skipped")
                    st.linktypes.add(linktype)
                    continue
                if secrets:  # a pcapng Decryption Secrets Block
                    _absorb_secrets(table, sessions, secrets)
                # FlowTable.flow, its common case here (no call): a packet of a known conversation
                # without SYN (nor an ICMP quote) goes straight to the conversation.
                entry = conversation(key)
                if entry is None or needs_flow_table[flags]:
                    table_flow(frame, ts, (key, seq, ack, flags, payload, ttl))
                else:
                    conn, d = entry
                    conn.packet(d, frame, ts, seq, ack, flags, payload, ttl)
                if frame >= next_sweep_frame:
                    next_sweep_frame = frame + 2048
                    st.linktypes.add(linktype)
                    table.sweep(ts)
                    if progress is not None:
                        progress(frame, reader.position)
                    for conn in table.take_done():
                        result = finish(conn, sessions, False, opts)
                        if result is not None:
                            yield result
                    if gc.get_count()[0] > GC_YOUNG_LIMIT and not gc.isenabled():
                        gc.collect(1)  # see quiet_gc
        except KeyboardInterrupt:
            # Stopped (Ctrl-C; the command line turns SIGTERM into this too): the connections
            # still open are handed out as at the end of a cut capture (partial), then the stop
            # goes on.
            st.interrupted = True
        table.retire_all()
        if table.tombstones_dropped:
            st.warnings.append(f"{table.tombstones_dropped} retired connections forgot their stream number early "
                               f"(more than {table.max_tombstones} were retired within {TOMBSTONE_TTL:g} s, "
                               "docs/limits.md): a late packet of one of them started a new stream number")
        for conn in table.take_done():
            result = finish(conn, sessions, True, opts)
            if result is not None:
                yield result
    finally:
        st.undecoded_frames = undecoded
        st.tcp_connections = table.next_stream
        if quic is not None:
            st.quic = quic.results()
            for q in st.quic:
                q.fingerprints = quic_fingerprints(q)
        reader.close()
    if st.interrupted:
        raise KeyboardInterrupt


def analyze(source: Source, **options: Any) -> Report:
    """Analyse a whole capture (path, bytes or binary file object) into a Report.

    Connections are listed by stream number. Options: ``include_all`` (every TCP connection,
    not only TLS), ``keylog`` (key log path(s) or KeyLog for decryption), ``diagnose``,
    ``ca_file`` / ``ca_path`` / ``system_trust`` (trust check of server chains).
    """
    st = RunState()
    with quiet_gc():
        conns = list(iter_connections(source, state=st, **options))
    conns.sort(key=lambda c: c.stream)
    reader = st.reader
    info = reader.info if reader else None
    report = Report(
        capture=reader.name if reader else str(source),
        connections=conns,
        frames=info.frames if info else 0,
        format=info.format if info else "",
        truncated=info.truncated if info else False,
        truncation_reason=info.truncation_reason if info else "",
        tcp_connections=st.tcp_connections,
        linktypes=sorted(st.linktypes),
        undecoded_frames=st.undecoded_frames,
        warnings=st.warnings,
        quic=st.quic,
    )
    return report
