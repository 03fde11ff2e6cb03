"""The work of one task, and the merge of a group's parts: plain functions, no Dask here.

Every function is pure (its result depends on its arguments and the files only), so a worker
that dies and a task that is run again change nothing. ``analyse_part`` reads a part (a file,
a rotation set, or one connection-hash shard of either) and gives a ``PartResult``; ``merge``
puts a group's parts back into the single-process order and keeps what a single process would
report (a connection without TLS is reported when another connection spoke TLS on its port
before it, which only the whole group knows); ``rows_of`` and ``dicts_of`` make the table rows
and the full per-connection dicts. A file that cannot be read becomes an error entry of its
own group, never an exception out of the task.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Optional

from tlsdissect.dask.sources import CaptureFile, Part, is_url
from tlsdissect.errors import TlsDissectError
from tlsdissect.pipeline.analyzer import Options, RunState, iter_shard, iter_with_options, quiet_gc
from tlsdissect.results.jsontext import dumps_bytes
from tlsdissect.results.model import connection_row
from tlsdissect.results.outcome import is_failure

# What a task can hand back for each connection (``wants``): "row" (the table row, connection_row),
# "dict" (to_dict() with "capture") and "json" (the JSON text the command line writes).


@dataclass(frozen=True)
class ShippedOptions:
    """The run's options as the workers get them, once per worker: the key log already read (the
    files may exist only where the run started), trust anchors as DER certificates."""

    include_all: bool = False
    diagnose: bool = True
    keylog: Any = None  # tlsdissect.keys.keylog.KeyLog
    anchors: Optional[tuple[bytes, ...]] = None  # --ca-file / --ca-path, read where the run started
    anchors_source: str = ""
    system_trust: bool = False  # each worker's own system store


@dataclass
class Item:
    """One connection of a part: its place in the group's single-process order and its outputs."""

    retire_seq: int
    stream: int
    capture: str  # the file its first frame is in
    failed: bool
    out: dict[str, Any]  # by what was wanted: "row", "dict", "json"
    tls_port: Optional[int] = None
    candidate_ports: Optional[tuple[int, ...]] = None
    transport: str = "tcp"  # udp: a QUIC handshake or DTLS association (after the connections)


@dataclass
class PartResult:
    """What a task gives back: its connections and what went wrong with its files."""

    files: tuple[str, ...]
    items: list[Item] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, message)


_OPTIONS_CACHE: dict[int, Options] = {}  # a worker's Options (trust store parsed) per ShippedOptions


def _options(shipped: ShippedOptions) -> Options:
    key = id(shipped)
    opts = _OPTIONS_CACHE.get(key)
    if opts is None or getattr(opts, "_shipped", None) is not shipped:
        opts = Options(include_all=shipped.include_all, keylog=shipped.keylog, diagnose=shipped.diagnose,
                       system_trust=shipped.system_trust)
        if shipped.anchors is not None:
            from tlsdissect.x509.trust import TrustStore

            opts._trust_store = TrustStore.from_ders(shipped.anchors, source=shipped.anchors_source)  # type: ignore[attr-defined]
        opts._shipped = shipped  # type: ignore[attr-defined]
        _OPTIONS_CACHE.clear()
        _OPTIONS_CACHE[key] = opts
    return opts


@dataclass(frozen=True)
class _Remote:
    """An fsspec URL, opened when called: a rotation set's member when its turn comes
    (capture/chain.py), a single file at once."""

    name: str

    def __call__(self) -> Any:
        import fsspec

        try:
            handle = fsspec.open(self.name, "rb").open()
        except Exception as e:  # noqa: BLE001 — missing, no access, no fsspec back end for it (ImportError)
            raise TlsDissectError(f"{self.name}: cannot open ({type(e).__name__}: {e})") from None
        handle.name = self.name
        return handle


def _open(f: CaptureFile, now: bool) -> Any:
    """A local path as it is (the reader opens it); an fsspec URL as an open binary file
    (``now``) or as the _Remote that opens it."""
    if not (is_url(f.name) or f.name.startswith("file://")):
        return f.name
    return _Remote(f.name)() if now else _Remote(f.name)


def analyse_part(part: Part, shipped: ShippedOptions, wants: tuple[str, ...] = ("row",)) -> PartResult:
    """One task: the part's connections (with ``wants`` of each) and its files' errors."""
    names = tuple(f.name for f in part.files)
    result = PartResult(names)
    opts = _options(shipped)
    try:
        source: Any = _open(part.files[0], True) if len(part.files) == 1 else [_open(f, False) for f in part.files]
    except TlsDissectError as e:
        result.errors.append((names[0], str(e)))
        return result
    st = RunState()
    try:
        with quiet_gc():
            if part.shard is None:
                for seq, conn in enumerate(iter_with_options(source, opts, st)):
                    result.items.append(_item(seq, conn, st, wants))
            else:
                for shard_item in iter_shard(source, part.shard, state=st, opts=opts):
                    item = _item(shard_item.retire_seq, shard_item.connection, st, wants)
                    item.tls_port, item.candidate_ports = shard_item.tls_port, shard_item.candidate_ports
                    result.items.append(item)
        result.items += _udp_items(st, wants)
    except TlsDissectError as e:
        result.errors.append((names[0], str(e)))
        return result
    except Exception as e:  # noqa: BLE001 — a fault of ours on one file stays that file's error, not the run's
        result.errors.append((names[0], f"{names[0]}: analysis failed ({type(e).__name__}: {e})"))
        return result
    finally:
        _close(source)
    result.errors += _damage(st, names)
    return result


def _item(seq: int, conn: Any, st: Any, wants: tuple[str, ...]) -> Item:
    reader = st.reader
    capture = reader.member_of(conn.first_frame) if hasattr(reader, "member_of") else reader.name
    out: dict[str, Any] = {}
    if "row" in wants:
        out["row"] = connection_row(conn, capture)
    if "dict" in wants:
        d = conn.to_dict()
        d["capture"] = capture
        out["dict"] = d
    if "json" in wants:
        out["json"] = dumps_bytes(conn.json_value())
    return Item(seq, conn.stream, capture, is_failure(conn), out)


# The order of a part's UDP handshakes after all its connections (merge reads retire_seq).
UDP_SEQ = 1 << 62


def _udp_items(st: Any, wants: tuple[str, ...]) -> list[Item]:
    """The QUIC handshakes and DTLS associations of the part (read by its first shard only), as
    Report.to_dataframe lists them: after the connections, QUIC then DTLS."""
    from tlsdissect.report.udp_rows import handshake_row

    reader = st.reader
    out = []
    for i, h in enumerate((*st.quic, *st.dtls)):
        capture = reader.member_of(h.first_frame) if hasattr(reader, "member_of") else reader.name
        got: dict[str, Any] = {}
        if "row" in wants:
            got["row"] = handshake_row(h, capture)
        if "dict" in wants:
            got["dict"] = {**h.to_dict(), "capture": capture}
        if "json" in wants:
            got["json"] = dumps_bytes(h.to_dict())
        out.append(Item(UDP_SEQ + i, i, capture, is_failure(h), got, transport="udp"))
    return out


def _damage(st: Any, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The files of a part that were cut short or were no captures (each with its reason)."""
    reader = st.reader
    if reader is None:
        return []
    problems = getattr(reader, "problems", None)
    if problems is not None:
        return list(problems)
    if reader.info.truncated:
        return [(names[0], f"{names[0]}: {reader.info.truncation_reason}")]
    return []


def _close(source: Any) -> None:
    """A single remote file's handle (a set's members are closed by the chained reader)."""
    if hasattr(source, "close"):
        source.close()


def merge(parts: list[PartResult]) -> PartResult:
    """A group's parts as one: connections in the single-process order, each reported only if a
    single process would report it (ShardResult.candidate_ports), the errors once per file."""
    if len(parts) == 1:
        return parts[0]
    out = PartResult(parts[0].files)
    tls_ports: set[int] = set()
    for item in heapq.merge(*(p.items for p in parts), key=lambda i: i.retire_seq):
        if item.tls_port is not None:
            tls_ports.add(item.tls_port)
        if item.candidate_ports is not None and not tls_ports.intersection(item.candidate_ports):
            continue
        out.items.append(item)
    seen: set[tuple[str, str]] = set()
    for p in parts:
        for e in p.errors:
            if e not in seen:
                seen.add(e)
                out.errors.append(e)
    return out


def in_stream_order(result: PartResult) -> list[Item]:
    """The group's connections by stream number, then its UDP handshakes in their order, as
    Report.to_dataframe lists them."""
    return sorted(result.items, key=lambda i: (i.transport != "tcp", i.stream))
