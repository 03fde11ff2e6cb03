"""Many captures on a Dask cluster, the results as one table (``pip install 'tlsdissect[dask]'``).

``connections(sources, **options)`` is a ``dask.dataframe.DataFrame`` with the columns and dtypes
of ``Report.to_dataframe()`` (``capture`` holds each connection's file) and one more, ``error``:
empty for a connection, the message for a file that could not be read (a row of its own, see
docs/cluster.md). ``connection_dicts`` gives the full per-connection dicts (``to_dict()`` plus
``capture``) as a ``dask.bag.Bag``. ``results`` streams each group's result as it completes, for
the command line's ``--cluster``.

One task per file (or per rotation set: sources.py); a file bigger than ``split_bytes`` becomes
connection-hash shards, as ``--jobs`` shares one file out, and a small merge task puts them back
in the single-process order. The options travel once: one key in the graph that every task
depends on, so a scheduler sends it to each worker once, not with every task.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

from tlsdissect.dask.sources import SPLIT_BYTES, Part, capture_files, plan, rotation_sets
from tlsdissect.dask.tasks import PartResult, ShippedOptions, analyse_part, in_stream_order, merge
from tlsdissect.results.model import DATAFRAME_COLUMNS, rows_frame

__all__ = ["connections", "connection_dicts", "results", "ship_options", "COLUMNS", "ERROR_STREAM"]

COLUMNS = DATAFRAME_COLUMNS + ("error",)
ERROR_STREAM = -1  # the ``stream`` of a file's error row (stream numbers start at 0)


def ship_options(keylog: Any = None, ca_file: Optional[str] = None, ca_path: Optional[str] = None,
                 system_trust: bool = False, include_all: bool = False, diagnose: bool = True) -> ShippedOptions:
    """The options read where the run starts (key logs, trust anchors: those files may not exist on
    the workers), in the form sent to the workers. Raises TlsDissectError for an unreadable one."""
    from tlsdissect.pipeline.analyzer import _load_keylog

    anchors: Optional[tuple[bytes, ...]] = None
    source = ""
    if ca_file or ca_path:
        from cryptography.hazmat.primitives.serialization import Encoding

        from tlsdissect.x509.trust import TrustStore

        store = TrustStore.from_ca_file(ca_file) if ca_file else TrustStore.from_ca_path(ca_path)  # type: ignore[arg-type]
        anchors = tuple(p.cert.public_bytes(Encoding.DER) for p in store.anchors if p.cert is not None)
        source = store.source
    return ShippedOptions(include_all=include_all, diagnose=diagnose, keylog=_load_keylog(keylog), anchors=anchors,
                          anchors_source=source, system_trust=system_trust)


def _groups(sources: Any, rotation: bool, split_bytes: int,
            storage_options: Optional[dict[str, Any]]) -> list[list[Part]]:
    files = capture_files(sources, storage_options)
    return [plan(group, split_bytes) for group in rotation_sets(files, rotation)]


def _group_delayed(parts: list[Part], shipped: Any, wants: tuple[str, ...]) -> Any:
    """The delayed PartResult of a group: one task, or a task per shard and their merge."""
    from dask.delayed import delayed

    if len(parts) == 1:
        return delayed(analyse_part, pure=True)(parts[0], shipped, wants)
    return delayed(merge, pure=True)([delayed(analyse_part, pure=True)(p, shipped, wants) for p in parts])


def _frame(result: PartResult) -> Any:
    """A group's rows, by stream, then a row per file error: the DataFrame's dtypes (rows_frame)."""
    rows = [item.out["row"] for item in in_stream_order(result)]
    errors = []
    for file, message in result.errors:
        row = dict.fromkeys(DATAFRAME_COLUMNS)
        row.update(capture=file, stream=ERROR_STREAM, first_frame=0, established=False, resumed=False)
        errors.append(row)
    df = rows_frame(rows + errors)
    df["error"] = [None] * len(rows) + [message for _f, message in result.errors]
    df["error"] = df["error"].astype(df["capture"].dtype)
    return df


def _dicts(result: PartResult) -> list[dict[str, Any]]:
    out = [item.out["dict"] for item in in_stream_order(result)]
    out += [{"capture": file, "error": message} for file, message in result.errors]
    return out


def meta() -> Any:
    """The empty DataFrame of the table's columns and dtypes, categories unknown (they differ per
    partition, as each to_dataframe() has its own)."""
    from dask.dataframe.utils import clear_known_categories

    return clear_known_categories(_frame(PartResult(())))


def connections(sources: Any, *, keylog: Any = None, ca_file: Optional[str] = None, ca_path: Optional[str] = None,
                system_trust: bool = False, include_all: bool = False, diagnose: bool = True, rotation: bool = True,
                split_bytes: int = SPLIT_BYTES, storage_options: Optional[dict[str, Any]] = None) -> Any:
    """Every connection of the captures as a lazy dask DataFrame, a partition per file (or
    rotation set). ``sources``: paths, glob patterns, directories, fsspec URLs. ``rotation``:
    read a rotation set's files as one capture (docs/cluster.md); ``split_bytes``: files bigger
    than this are split into connection-hash shards (0: never). Computes on the default
    scheduler, or the cluster of an active ``distributed.Client``."""
    import dask
    import dask.dataframe as dd
    from dask.delayed import delayed

    shipped = delayed(ship_options(keylog, ca_file, ca_path, system_trust, include_all, diagnose), pure=True)
    parts = [delayed(_frame, pure=True)(_group_delayed(g, shipped, ("row",)))
             for g in _groups(sources, rotation, split_bytes, storage_options)]
    # The DataFrame's own dtypes, not Dask's pyarrow strings in their place (docs/schema.md).
    with dask.config.set({"dataframe.convert-string": False}):
        if not parts:
            return dd.from_pandas(meta(), npartitions=1)
        return dd.from_delayed(parts, meta=meta(), verify_meta=False)


def connection_dicts(sources: Any, *, keylog: Any = None, ca_file: Optional[str] = None,
                     ca_path: Optional[str] = None, system_trust: bool = False, include_all: bool = False,
                     diagnose: bool = True, rotation: bool = True, split_bytes: int = SPLIT_BYTES,
                     storage_options: Optional[dict[str, Any]] = None) -> Any:
    """Every connection's full dict (``Connection.to_dict()``, docs/schema.md, plus ``capture``) as
    a dask Bag, a partition per file (or rotation set); a file that could not be read gives
    ``{"capture": ..., "error": ...}``. Options as for ``connections``."""
    import dask.bag as db
    from dask.delayed import delayed

    shipped = delayed(ship_options(keylog, ca_file, ca_path, system_trust, include_all, diagnose), pure=True)
    parts = [delayed(_dicts, pure=True)(_group_delayed(g, shipped, ("dict",)))
             for g in _groups(sources, rotation, split_bytes, storage_options)]
    return db.from_delayed(parts) if parts else db.from_sequence([], npartitions=1)


def results(client: Any, sources: Sequence[str], shipped: ShippedOptions, wants: tuple[str, ...], *,
            rotation: bool = True, split_bytes: int = SPLIT_BYTES,
            storage_options: Optional[dict[str, Any]] = None) -> Iterator[tuple[int, PartResult]]:
    """(groups in all, a group's merged result) as each group completes on ``client``'s cluster
    (a distributed.Client): what the command line writes out as it comes."""
    from distributed import as_completed

    groups = _groups(sources, rotation, split_bytes, storage_options)
    if not groups:
        return
    [shipped_future] = client.scatter([shipped], broadcast=True, hash=False)
    futures = {}
    for parts in groups:
        done = [client.submit(analyse_part, p, shipped_future, wants) for p in parts]
        futures[done[0] if len(done) == 1 else client.submit(merge, done)] = parts[0].files
    for future in as_completed(futures):
        try:
            result = future.result()
        except Exception as e:  # noqa: BLE001 — e.g. KilledWorker: the workers died on it, again and again
            files = tuple(f.name for f in futures[future])
            result = PartResult(files, errors=[(files[0], f"{files[0]}: not analysed ({type(e).__name__}: {e})")])
        future.release()
        yield len(groups), result


def open_client(spec: str) -> Any:
    """A distributed.Client for ``--cluster``: "local" (a LocalCluster, a worker per core),
    "local:N" (N worker processes) or a scheduler's address (tcp://host:8786)."""
    from distributed import Client, LocalCluster

    if spec == "local" or spec.startswith("local:"):
        n = int(spec.split(":", 1)[1]) if ":" in spec else None
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        client._tlsdissect_cluster = cluster  # type: ignore[attr-defined]  # closed with it (close_client)
        return client
    return Client(spec)


def close_client(client: Any) -> None:
    cluster = getattr(client, "_tlsdissect_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()

