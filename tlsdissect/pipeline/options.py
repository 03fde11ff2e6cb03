"""What one analysis run is given (:class:`Options`) and what it hands back beside its
connections (:class:`RunState`, and a sharded run's :class:`ShardResult`).

Plain Python classes on purpose, apart from the pipeline that uses them (pipeline.analyzer),
which the compiled build compiles (docs/compiled.md): callers hang attributes of their own on
an Options (pipeline.enrich's trust store, tlsdissect.dask's shipped anchors), and ``--jobs``
pickles ShardResults between processes, neither of which a native (compiled) class allows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from tlsdissect.results.model import Connection

if TYPE_CHECKING:  # (a type only: a run without a key log never imports the keys stage)
    from tlsdissect.keys.keylog import KeyLog

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
