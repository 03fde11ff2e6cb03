"""The pipeline: capture -> frames -> TCP segments -> connections -> results.

``iter_connections`` streams: it yields each connection as soon as it is over, so memory is
bounded by the connections open at one time, not by the size of the capture. ``analyze``
collects everything into a :class:`Report`.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence, Union

from tlsdissect.capture.chain import open_capture
from tlsdissect.capture.reader import CaptureReader, Source
from tlsdissect.pipeline.assemble import assemble, reportable, server_port
from tlsdissect.pipeline.packet_loop import run_stages
from tlsdissect.pipeline.relays import RelayHold
from tlsdissect.results.model import Connection, Report
from tlsdissect.tcp.flows import FlowTable, TcpConnection
from tlsdissect.tls.session import TlsSession

if TYPE_CHECKING:  # (a type only: a run without a key log never imports the keys stage)
    from tlsdissect.keys.keylog import KeyLog




class quiet_gc:
    """Python's automatic cyclic GC off for the duration (a context manager).

    A long capture keeps a few hundred thousand container objects alive (open connections,
    caches), and the collector traverses them all again and again: a quarter of the CPU time
    on a handshake-heavy capture, for no gain, since the engine makes almost no reference
    cycles (none in the 11 221 connections of bench's 50 MB handshakes capture). While it is
    off, ``iter_connections`` still collects the young generations whenever more than
    packet_loop.GC_YOUNG_LIMIT new container objects have stayed alive since the last collection, so
    any cycles there are do not pile up."""

    def __enter__(self) -> "quiet_gc":
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.was_enabled:
            gc.enable()


PathName = Union[str, os.PathLike[str]]
# What ``keylog=`` takes: a key log file's path, a parsed KeyLog, or a list of them (merged in order).
KeyLogSource = Union[PathName, "KeyLog", Sequence[Union[PathName, "KeyLog"]]]
# What ``progress=`` is called with: (frames read so far, bytes of the capture read so far).
ProgressCallback = Callable[[int, int], None]


@dataclass
class Options:
    """The knobs of one analysis run, as one object: what the keyword parameters of
    :func:`analyze` and :func:`iter_connections` make (their docstrings say what each does)."""

    include_all: bool = False  # report every TCP connection, not only TLS ones
    keylog: Optional[KeyLogSource] = None  # key log(s) for decryption
    diagnose: bool = True  # certificate analysis and diagnosis (off: the parsed handshake only)
    ca_file: Optional[PathName] = None  # trust anchors (PEM bundle) for server chains
    ca_path: Optional[PathName] = None  # a directory of trust anchors
    system_trust: bool = False  # the operating system's trust store
    progress: Optional[ProgressCallback] = None  # called every 2048 frames
    # Bytes the open connections may hold by estimate (tcp.flows.MEMORY_BUDGET when None): over it,
    # the longest idle are handed out early, each marked with a memory_budget anomaly.
    memory_budget: Optional[int] = None


@dataclass
class RunState:
    """What the pipeline learnt about the capture while streaming it."""

    reader: Any = None  # the CaptureReader (or capture.live.LiveCapture) read
    tcp_connections: int = 0
    undecoded_frames: int = 0
    linktypes: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    quic: list[Any] = field(default_factory=list)  # tlsdissect.quic.QuicHandshake, in flow order
    dtls: list[Any] = field(default_factory=list)  # tlsdissect.dtls.DtlsAssociation, in flow order
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
        # The capture's last packet time, once the capture has ended (the connections still open
        # then learn how long the capture went on after their own last packet).
        self.capture_end: Optional[float] = None

    def __call__(self) -> TlsSession:
        session = TlsSession()
        session.keylog = self.keylog
        return session


def _finish(conn: TcpConnection, sessions: Sessions, capture_ended: bool, opts: Options) -> Optional[Connection]:
    # assemble() first: TLS that only comes out of the final flush must count too.
    result = assemble(conn, capture_ended, sessions.capture_end)
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
    result = assemble(conn, capture_ended, sessions.capture_end)
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
        except ModuleNotFoundError as e:  # only a missing third-party package; our own errors surface
            if (e.name or "").partition(".")[0] != "cryptography":
                raise
            return
        _enrich = enrich
    if peer_server_key is None:
        _enrich(conn, opts)
    else:
        _enrich(conn, opts, peer_server_key)


def _load_keylog(keylog: Optional[KeyLogSource]) -> Optional[KeyLog]:
    """Accept a KeyLog, a path, or a list of paths/KeyLogs."""
    if keylog is None or keylog == []:
        return None
    from tlsdissect.keys.keylog import KeyLog

    if isinstance(keylog, KeyLog):
        return keylog
    items: Sequence[Union[PathName, KeyLog]] = (
        keylog if isinstance(keylog, (list, tuple)) else [keylog])  # type: ignore[list-item]
    merged = KeyLog()
    for item in items:
        merged.merge(item if isinstance(item, KeyLog) else KeyLog.from_file(item))
    return merged


def _keylog_lines_ignored(lines: list[Any]) -> str:
    """The warning for key-log lines that were not understood: how many, and where and why for
    the first few (never the line's secret)."""
    shown = "; ".join(f"{m.source}:{m.line_no}: {m.reason}" for m in lines[:3])
    more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
    return f"key log: {len(lines)} line(s) not understood, ignored ({shown}{more})"


def iter_connections(source: Source, *, include_all: bool = False, keylog: Optional[KeyLogSource] = None,
                     diagnose: bool = True, ca_file: Optional[PathName] = None, ca_path: Optional[PathName] = None,
                     system_trust: bool = False, progress: Optional[ProgressCallback] = None,
                     memory_budget: Optional[int] = None, state: Optional[RunState] = None) -> Iterator[Connection]:
    """Yield each connection of the capture when it ends (streaming, bounded memory).

    Connections come out in the order they end (close, reset, idle timeout, or the end of the
    capture), not by stream number; each is a :class:`Connection`
    whose ``diagnosis`` is filled in (unless ``diagnose=False``). Memory is bounded by the
    connections open at one time, so this suits captures too big for :func:`analyze`.

    Args:
        source: the capture: a path, its bytes, or a binary file object (pcap or pcapng,
            gzip'd or not); or a list of them, the files of a rotation set (``tcpdump -G``/``-C``)
            in order, read as one capture (capture/chain.py).
        include_all: report every TCP connection, not only those that carried TLS (or a
            failed attempt at it on a port where TLS was seen).
        keylog: an NSS key log (``SSLKEYLOGFILE``) to decrypt with: a path, a
            :class:`tlsdissect.keys.keylog.KeyLog`, or a list of them (merged). Keys embedded
            in a pcapng (``editcap --inject-secrets``) are used as well.
        diagnose: run the certificate analysis and the diagnosis (``False``: the parsed
            handshake only, faster, and ``diagnosis`` stays ``None``).
        ca_file: a PEM bundle of trust anchors to check the servers' chains against.
        ca_path: a directory of trust anchors (PEM or DER, as ``openssl rehash`` leaves it).
        system_trust: check the servers' chains against the system's trust store.
            (Without one of these three, chains are judged for completeness, names and dates,
            and ``trust`` is ``"not_checked"``.)
        progress: called as ``progress(frames, bytes_read)`` every few thousand frames.
        memory_budget: bytes the open connections may hold by estimate (default 40 MiB,
            docs/limits.md); over it the longest idle are handed out early, each marked with a
            ``memory_budget`` anomaly.
        state: a :class:`RunState` to fill in with what the run learnt about the capture
            (its reader and format, frame and TCP connection counts, warnings).

    Raises:
        CaptureError: the input is not a capture at all (a capture cut short is not an
            error: the connections decoded before the cut are yielded, marked ``partial``
            when they were still open, and ``state.reader.info.truncated`` is set).
        TypeError: an unknown keyword (a misspelt option is never silently ignored).
    """
    opts = Options(include_all=include_all, keylog=keylog, diagnose=diagnose, ca_file=ca_file, ca_path=ca_path,
                   system_trust=system_trust, progress=progress, memory_budget=memory_budget)
    return iter_with_options(source, opts, state)


def iter_with_options(source: Source, opts: Options, state: Optional[RunState] = None) -> Iterator[Connection]:
    """:func:`iter_connections` with its options as one :class:`Options` (internal: tlsdissect.dask
    ships one to its workers, with the trust anchors read where the run started)."""
    sessions = Sessions()
    if opts.diagnose:
        from tlsdissect.pipeline.neighbours import Neighbours

        sessions.neighbours = Neighbours()
    table = FlowTable(sessions, memory_budget=opts.memory_budget)
    return _run(lambda: open_capture(source), state if state is not None else RunState(), opts, table, sessions,
                _finish)


def iter_shard(source: Source, shard: tuple[int, int], *, state: Optional[RunState] = None,
               **options: Any) -> Iterator[ShardResult]:
    """Worker ``shard[0]`` of ``shard[1]``: the connections this worker analyses, as ShardResults
    (see tlsdissect.parallel, which merges the workers into the single-process output).
    ``options``: the keyword parameters of :func:`iter_connections`."""
    opts = options.pop("opts", None) or _options(options, "iter_shard")  # (an Options: tlsdissect.dask)
    sessions = Sessions()
    table = FlowTable(sessions, shard=shard, memory_budget=opts.memory_budget)
    return _run(lambda: open_capture(source), state if state is not None else RunState(), opts, table, sessions,
                _finish_shard)


def _options(options: dict[str, Any], caller: str) -> Options:
    """``Options(**options)``, with an unknown name reported as the caller's own TypeError."""
    unknown = sorted(set(options) - set(Options.__dataclass_fields__))
    if unknown:
        raise TypeError(f"{caller}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"its options are {', '.join(Options.__dataclass_fields__)}")
    return Options(**options)


def _run(open_reader: Callable[[], Any], st: RunState, opts: Options, table: FlowTable, sessions: Sessions,
         finish: Callable[[TcpConnection, Sessions, bool, Options], Any], hold: Optional[RelayHold] = None
         ) -> Iterator[Any]:
    """The stages over the segments of ``open_reader()`` (a CaptureReader, or a LiveCapture whose
    ticks sweep the table as capture time passes without packets); ``hold``: how finished
    connections wait for their relay legs (by default, a RELAY_WINDOW of retirements). The
    reader is opened and the key log loaded when the iteration starts; the loop itself is
    pipeline.packet_loop's (a module the compiled build compiles)."""
    reader = open_reader()
    st.reader = reader
    sessions.keylog = _load_keylog(opts.keylog)
    if sessions.keylog is not None and sessions.keylog.malformed:
        st.warnings.append(_keylog_lines_ignored(sessions.keylog.malformed))
    yield from run_stages(reader, st, opts, table, sessions, finish, hold)


def analyze(source: Source, *, include_all: bool = False, keylog: Optional[KeyLogSource] = None,
            diagnose: bool = True, ca_file: Optional[PathName] = None, ca_path: Optional[PathName] = None,
            system_trust: bool = False, progress: Optional[ProgressCallback] = None,
            memory_budget: Optional[int] = None) -> Report:
    """Analyse a whole capture into a :class:`Report`.

    The connections are listed by stream number (Wireshark's ``tcp.stream``); the report
    also says what the capture was (format, frames, whether it was cut short). Everything is
    held in memory: for a very big capture, :func:`iter_connections` streams instead.

        >>> report = tlsdissect.analyze("capture.pcap", keylog="sslkeys.log")
        >>> [c.diagnosis.verdict for c in report.failures()]

    Args:
        source: the capture: a path, its bytes, or a binary file object (pcap or pcapng,
            gzip'd or not).
        include_all: report every TCP connection, not only those that carried TLS.
        keylog: an NSS key log (``SSLKEYLOGFILE``) to decrypt with: a path, a
            :class:`tlsdissect.keys.keylog.KeyLog`, or a list of them (merged).
        diagnose: run the certificate analysis and the diagnosis (``False``: parsing only).
        ca_file: a PEM bundle of trust anchors to check the servers' chains against.
        ca_path: a directory of trust anchors.
        system_trust: check the servers' chains against the system's trust store.
        progress: called as ``progress(frames, bytes_read)`` every few thousand frames.
        memory_budget: bytes the open connections may hold by estimate (default 40 MiB,
            docs/limits.md); over it the longest idle are handed out early, marked.

    (The options in more detail: :func:`iter_connections`.)

    Raises:
        CaptureError: the input is not a capture at all (a capture cut short is not an
            error: ``Report.truncated`` says so).
        TypeError: an unknown keyword (a misspelt option is never silently ignored).
    """
    st = RunState()
    with quiet_gc():
        conns = list(iter_connections(source, include_all=include_all, keylog=keylog, diagnose=diagnose,
                                      ca_file=ca_file, ca_path=ca_path, system_trust=system_trust,
                                      progress=progress, memory_budget=memory_budget, state=st))
    conns.sort(key=lambda c: (c.transport != "tcp", c.stream))  # (OpenVPN over UDP after the TCP ones)
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
        dtls=st.dtls,
    )
    return report
