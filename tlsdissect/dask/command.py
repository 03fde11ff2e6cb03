"""``tlsdissect --cluster local[:N] | ADDRESS FILES...``: the command line's run on a Dask cluster.

The files (paths, globs, directories, fsspec URLs) become tasks (see the package's docstring);
each group's result comes back as its task ends and is written at once: ``--jsonl`` lines (the
same objects as a single-process run, each with its ``capture``), ``--csv``/``--parquet`` rows,
or, by default, a summary of every file at the end (counts by outcome and cause, the failed
connections, the files that could not be read). A progress bar on standard error (a terminal
only) counts the finished files as the cluster reports them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from tlsdissect.dask import close_client, open_client, results, ship_options
from tlsdissect.dask.tasks import PartResult
from tlsdissect.errors import TlsDissectError
from tlsdissect.report.safe import shown

# Options of a single-process run that --cluster does not take (yet), with their flags.
UNSUPPORTED = (("json", "--json"), ("verbose", "-v"), ("stream", "--stream"), ("failed", "--failed"),
               ("host", "--host"), ("port", "--port"), ("sni", "--sni"), ("cause", "--cause"), ("zeek", "--zeek"))
LISTED_FAILURES = 50  # failed connections listed by the summary; the rest are counted


def problem(args: argparse.Namespace) -> Optional[str]:
    """Why ``args`` cannot run on a cluster, or None."""
    for attr, flag in UNSUPPORTED:
        if getattr(args, attr, None):
            return f"--cluster writes --jsonl, --csv, --parquet or a summary; it does not take {flag}"
    if getattr(args, "jobs", 1) > 1:
        return "--cluster and --jobs: the cluster's workers are the processes (local:N for N of them)"
    if "-" in args.captures:
        return "--cluster reads files (or URLs), not standard input"
    spec = args.cluster
    if spec != "local" and not spec.startswith("local:") and "://" not in spec:
        return f"--cluster {spec!r}: 'local', 'local:N' or a scheduler's address (tcp://host:8786)"
    if spec.startswith("local:") and not spec[6:].isdigit():
        return f"--cluster {spec!r}: local:N needs a number of worker processes"
    return None


class _Summary:
    """Counts over every file's rows, and the failed ones to list."""

    def __init__(self) -> None:
        self.files = 0
        self.connections = 0
        self.outcomes: dict[str, int] = {}
        self.causes: dict[str, int] = {}
        self.failures: list[dict[str, Any]] = []  # the first LISTED_FAILURES (by capture and stream) at least
        self.failed = 0
        self.errors: list[str] = []

    def add(self, result: PartResult, rows: bool) -> None:
        self.files += len(result.files)
        self.errors += [message for _f, message in result.errors]
        if not rows:
            return
        for item in result.items:
            row = item.out["row"]
            self.connections += 1
            outcome = row["outcome"]
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            if outcome == "failed":
                cause = row["cause"] or "unknown"
                self.causes[cause] = self.causes.get(cause, 0) + 1
                self.failures.append(row)
                if len(self.failures) > 4 * LISTED_FAILURES:  # (only the first ones are listed)
                    self.failures.sort(key=lambda r: (r["capture"], r["stream"]))
                    del self.failures[LISTED_FAILURES:]
        self.failed += sum(1 for item in result.items if item.out["row"]["outcome"] == "failed")

    def lines(self, where: str) -> list[str]:
        out = [f"{self.files} file(s) on {where}: {self.connections} connection(s)"]
        if self.outcomes:
            out.append("  " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in
                                        sorted(self.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))))
        if self.causes:
            out.append("failures by cause:")
            out += [f"  {n:6d}  {cause}" for cause, n in sorted(self.causes.items(), key=lambda kv: (-kv[1], kv[0]))]
        if self.failures:
            out.append("failed connections (capture, tcp.stream, client -> server, server name, cause):")
            self.failures.sort(key=lambda r: (r["capture"], r["stream"]))
            for r in self.failures[:LISTED_FAILURES]:
                name = shown(r["server_name"]) if r["server_name"] else "-"
                out.append(f"  {shown(r['capture'])}  {r['stream']}  {r['client']} -> {r['server']}  {name}  "
                           f"{r['cause'] or 'unknown'}")
            if self.failed > LISTED_FAILURES:
                out.append(f"  ... and {self.failed - LISTED_FAILURES} more (--csv FILE lists every one)")
        if self.errors:
            out.append(f"files not read to their end: {len(self.errors)}")
            out += [f"  {shown(m)}" for m in self.errors]
        return out


class _Bar:
    """Finished files of the run, on standard error when it is a terminal."""

    def __init__(self) -> None:
        self.progress: Any = None
        self.task: Any = None

    def update(self, total: int) -> None:
        if self.progress is None:
            if not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.progress = Progress("files", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                     transient=True, console=Console(stderr=True))
            self.task = self.progress.add_task("files", total=total)
            self.progress.start()
        self.progress.advance(self.task)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def run(args: argparse.Namespace, tables: Any) -> int:
    """The run; ``tables``: the command line's open --csv/--parquet writers (or None). Returns
    the exit status: 2 when a file could not be read (to its end), else 1 when a handshake
    failed, else 0."""
    try:
        shipped = ship_options(args.keylog or None, args.ca_file, args.ca_path, args.system_trust, args.include_all)
    except TlsDissectError as e:
        print(f"tlsdissect: {shown(str(e))}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer if args.jsonl else None
    # Rows for the tables and the summary; --jsonl alone needs only the JSON (and prints no summary).
    rows = tables is not None or not args.jsonl
    wants = (("row",) if rows else ()) + (("json",) if args.jsonl else ())
    summary = _Summary()
    bar = _Bar()
    client = open_client(args.cluster)
    status = 0
    try:
        where = _where(client, args.cluster)
        for total, result in results(client, args.captures, shipped, wants, rotation=not args.no_rotation):
            bar.update(total)
            status = max(status, _write(result, out, tables))
            summary.add(result, rows)
        bar.close()
        for message in summary.errors:
            print(f"tlsdissect: {shown(message)}", file=sys.stderr)
        if out is None and args.csv != "-":
            sys.stdout.write("\n".join(summary.lines(where)) + "\n")
    except KeyboardInterrupt:
        return 130
    finally:
        bar.close()
        close_client(client)
    return status


def _where(client: Any, spec: str) -> str:
    workers = len(client.scheduler_info().get("workers", {}))
    return f"{'a local cluster' if spec.startswith('local') else spec}, {workers} worker(s)"


def _write(result: PartResult, out: Any, tables: Any) -> int:
    failed = False
    for item in result.items:
        failed = failed or item.failed
        if out is not None:
            out.write(b'{"capture":' + _json_string(item.capture) + b"," + item.out["json"][1:] + b"\n")
        if tables is not None:
            for t in tables.tables:
                t.add_row(item.out["row"])
    if out is not None:
        out.flush()
    return 2 if result.errors else 1 if failed else 0


def _json_string(text: str) -> bytes:
    from tlsdissect.results.jsontext import dumps_bytes

    return dumps_bytes(text)
