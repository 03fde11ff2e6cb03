"""One capture, several processes: ``tlsdissect --jobs N FILE``.

Every worker reads the whole file (reading is cheap next to analysis) and analyses only the
conversations whose endpoints hash to it (``flows.shard_of``); the others it tracks as
``ShadowConnection``s, just far enough to number streams, retire connections and apply the
memory budget exactly as a single process would. Each result carries its place in the
single-process retirement order (``retire_seq``), so the parent merges the workers' streams
with a heap and gets the single-process output, byte for byte, in bounded memory: a worker
that runs ahead blocks on its pipe until the parent needs its results.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import struct
import sys
import traceback
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, BinaryIO, Callable, Iterator, Optional

from tlsdissect.pipeline.analyzer import RunState, iter_shard
from tlsdissect.errors import TlsDissectError
from tlsdissect.results.jsontext import dumps_bytes
from tlsdissect.results.outcome import is_failure

BATCH = 64  # results per pipe message
_LEN = struct.Struct("<I")


@dataclass
class Row:
    """A result as the command line prints it (see cli.py)."""

    retire_seq: int
    stream: int
    failed: bool
    payload: Any  # JSON text as UTF-8 bytes (want="json") or the Connection (want="connection"); None if filtered out
    tls_port: Optional[int]
    candidate_ports: Optional[tuple[int, ...]]


def _send(out: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)))
    out.write(data)


def _recv(inp: BinaryIO) -> Any:
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        raise RuntimeError("a worker process ended without finishing its part")
    (n,) = _LEN.unpack(head)
    data = inp.read(n)
    if len(data) < n:
        raise RuntimeError("a worker process ended in the middle of a message")
    return pickle.loads(data)


def _state_of(st: RunState) -> dict[str, Any]:
    reader = st.reader
    return {"name": reader.name if reader else None, "info": reader.info if reader else None,
            "tcp_connections": st.tcp_connections, "undecoded_frames": st.undecoded_frames,
            "linktypes": set(st.linktypes), "warnings": list(st.warnings), "quic": list(st.quic),
            "dtls": list(st.dtls)}


def _worker(path: str, k: int, n: int, options: dict[str, Any], streams: Optional[list[int]], want: str,
            fd: int) -> None:

    out = os.fdopen(fd, "wb", buffering=1 << 16)
    st = RunState()
    batch: list[Row] = []
    try:
        for item in iter_shard(path, (k, n), state=st, **options):
            conn = item.connection
            payload: Any = None
            failed = False
            if not streams or conn.stream in streams:
                failed = is_failure(conn)
                payload = dumps_bytes(conn.json_value()) if want == "json" else conn
            batch.append(Row(item.retire_seq, conn.stream, failed, payload, item.tls_port, item.candidate_ports))
            if len(batch) >= BATCH:
                _send(out, ("rows", batch, _state_of(st)))
                batch = []
        _send(out, ("rows", batch, _state_of(st)))
        _send(out, ("end", None, _state_of(st)))
    except TlsDissectError as e:
        _send(out, ("error", str(e), None))
    except BaseException:  # noqa: BLE001 — reported by the parent, never lost
        _send(out, ("crash", traceback.format_exc(), None))
    finally:
        try:
            out.close()
        except OSError:
            pass
        os._exit(0)


def _rows_of(inp: BinaryIO, on_state: Callable[[dict[str, Any]], None]) -> Iterator[Row]:
    while True:
        kind, body, state = _recv(inp)
        if kind == "rows":
            on_state(state)
            yield from body
        elif kind == "end":
            on_state(state)
            return
        elif kind == "error":
            raise TlsDissectError(body)
        else:
            raise RuntimeError("a worker process failed:\n" + body)


def iter_sharded(path: str, jobs: int, options: dict[str, Any], st: RunState,
                 streams: Optional[list[int]], want: str) -> Iterator[tuple[int, bool, Any]]:
    """(stream, failed, payload) in the single-process order, from ``jobs`` worker processes.

    ``st`` is filled as the workers report (capture name and info, connection counts), as
    ``iter_connections`` fills it. ``want`` is "json" (payload: the connection's JSON text) or
    "connection" (the Connection object).
    """
    options = {k: v for k, v in options.items() if k != "progress"}
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork") if "fork" in methods else multiprocessing.get_context("spawn")
    procs = []
    readers = []
    try:
        for k in range(jobs):
            r, w = os.pipe()
            p = ctx.Process(target=_worker, args=(path, k, jobs, options, streams, want, w), daemon=True)
            p.start()
            os.close(w)
            procs.append(p)
            readers.append(os.fdopen(r, "rb", buffering=1 << 16))

        def on_state(state: dict[str, Any]) -> None:
            # Every worker reads the same file: the latest report of any of them will do.
            st.reader = SimpleNamespace(name=state["name"], info=state["info"])
            st.tcp_connections = state["tcp_connections"]
            st.undecoded_frames = state["undecoded_frames"]
            st.linktypes = state["linktypes"]
            st.warnings = state["warnings"]
            if state.get("quic"):  # (the first worker's: the only one that reads QUIC)
                st.quic = state["quic"]
            if state.get("dtls"):  # (the first worker's too)
                st.dtls = state["dtls"]

        tls_ports: set[int] = set()
        merged = heapq.merge(*(_rows_of(f, on_state) for f in readers), key=lambda row: row.retire_seq)
        for row in merged:
            if row.tls_port is not None:
                tls_ports.add(row.tls_port)
            if row.candidate_ports is not None and not tls_ports.intersection(row.candidate_ports):
                continue
            if row.payload is None:
                continue
            yield row.stream, row.failed, row.payload
    finally:
        for f in readers:
            f.close()
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()


def can_shard(path: str) -> bool:
    """Sharding needs a file every worker can read on its own (not standard input)."""
    return path != "-" and os.path.isfile(path) and sys.platform != "win32"
