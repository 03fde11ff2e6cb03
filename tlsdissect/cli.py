"""Command line: ``tlsdissect capture.pcap`` prints every TLS connection, failures first.

Exit status: 0 when no handshake failed, 1 when at least one did, 2 when the input is
unusable (missing, empty, not a capture). ``--json`` prints the whole report, ``--jsonl`` one
connection per line as soon as it ends (streaming, for big captures).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Iterator, Optional, Sequence

from tlsdissect.pipeline.analyzer import RunState, iter_connections, quiet_gc
from tlsdissect.errors import TlsDissectError
from tlsdissect.report.safe import shown
from tlsdissect.results.jsontext import dumps, dumps_bytes
from tlsdissect.results.model import SCHEMA_VERSION, Connection, Report
from tlsdissect.results.outcome import is_failure

EXIT_OK = 0
EXIT_FAILED_HANDSHAKE = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tlsdissect",
        description="Explain TLS handshakes and why they failed, from pcap/pcapng captures.",
    )
    p.add_argument("captures", nargs="+", metavar="FILE", help="pcap/pcapng file (gzip ok), or - for stdin")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the full report as JSON")
    out.add_argument("--jsonl", action="store_true", help="print one JSON object per connection, as each ends")
    p.add_argument("--keylog", action="append", default=[], metavar="FILE",
                   help="NSS key log file (SSLKEYLOGFILE) to decrypt with; repeatable")
    p.add_argument("--ca-file", metavar="PEM", help="trust anchors to check server chains against")
    p.add_argument("--ca-path", metavar="DIR", help="directory of trust anchors (PEM files)")
    p.add_argument("--system-trust", action="store_true", help="check server chains against the system trust store")
    p.add_argument("--all", action="store_true", dest="include_all", help="also list TCP connections with no TLS")
    p.add_argument("--stream", type=int, action="append", metavar="N", help="only show this tcp.stream (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true", help="show the full timeline of every connection")
    p.add_argument("--no-color", action="store_true", help="plain text output")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="use N processes: several files are analysed side by side (output in file order); "
                        "one file has its connections shared out among N workers (same output as one process)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    with quiet_gc():
        return _main(args)


def run() -> None:
    """The ``tlsdissect`` command: main(), then exit without tearing the interpreter down.

    After a big capture the parse caches and interned results hold a few hundred thousand
    objects, and freeing them one by one at exit took 0.2-0.3 s (5 % of a 50 MB run) for
    nothing. Everything is written and flushed first; files and worker pools are closed by
    main() itself."""
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # reader gone, or stream closed
            pass
    os._exit(status)


def _main(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"include_all": args.include_all}
    if args.keylog:
        options["keylog"] = args.keylog
    if args.ca_file:
        options["ca_file"] = args.ca_file
    if args.ca_path:
        options["ca_path"] = args.ca_path
    if args.system_trust:
        options["system_trust"] = True
    if args.jobs > 1 and len(args.captures) > 1:
        return _run_parallel(args, options)
    jobs = max(1, args.jobs)  # one file: shard its connections over that many processes
    status = EXIT_OK
    for path in args.captures:
        try:
            progress = _progress_for(path) if jobs == 1 else None
            options.pop("progress", None)
            if progress is not None:
                options["progress"] = progress.update
            try:
                if args.jsonl:
                    rc = _run_jsonl(path, options, args.stream, jobs)
                elif args.json:
                    rc = _run_json(path, options, args.stream, jobs)
                else:
                    rc = _run_text(path, options, args, jobs)
            finally:
                if progress is not None:
                    progress.close()
        except TlsDissectError as e:
            _complain(str(e))
            status = EXIT_BAD_INPUT  # go on with the other files; the worst status wins
            continue
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return status
        status = max(status, rc)
    return status


def _complain(message: str) -> None:
    """A problem with an input, on standard error: its file name and what the capture made of it
    shown safely (safe.shown), as the text view shows capture data."""
    print(f"tlsdissect: {shown(message)}", file=sys.stderr)


# --json holds at most this many connections (as JSON text, in a spool file) to print them in
# stream order; a bigger capture is written in the order connections end (each object has its
# "stream"), so output starts before the capture is read to its end.
JSON_SORT_LIMIT = 2000


def _rows(path: str, options: dict[str, Any], st: RunState, streams: Optional[list[int]], want: str,
          jobs: int = 1) -> Iterator[tuple[int, bool, Any]]:
    """(stream, failed, payload) per reported connection, in output order; the payload is the
    JSON text as UTF-8 bytes (want="json") or the Connection. With jobs > 1, from a sharded run
    (shard.py)."""
    if jobs > 1:
        from tlsdissect.parallel import can_shard, iter_sharded

        if can_shard(path):
            yield from iter_sharded(path, jobs, options, st, streams, want)
            return
    for conn in iter_connections(path, state=st, **options):
        if streams and conn.stream not in streams:
            continue
        yield conn.stream, is_failure(conn), (dumps_bytes(conn.json_value()) if want == "json" else conn)


def _run_json(path: str, options: dict[str, Any], streams: Optional[list[int]], jobs: int = 1) -> int:
    st = RunState()
    out = _ByteOut(sys.stdout)
    failed = False
    # Connections held (as JSON text, in a spool file: memory stays flat) to be written in
    # stream order; past JSON_SORT_LIMIT they go out in the order connections end.
    held: Optional[_TextSpool] = _TextSpool()
    written = 0

    def emit(text: bytes) -> None:
        nonlocal written
        if written:
            out.write(b",\n")
        out.write(text)
        written += 1

    def header() -> None:
        info = st.reader.info if st.reader else None
        out.write(('{"schema_version":%d,"capture":%s,"format":%s,"connections":[\n'
                   % (SCHEMA_VERSION, dumps(st.reader.name if st.reader else path),
                      dumps(info.format if info else ""))).encode("utf-8"))

    header_done = False
    try:
        for stream, bad, text in _rows(path, options, st, streams, "json", jobs):
            if not header_done:
                header()
                header_done = True
            failed = failed or bad
            if held is not None:
                held.add(0, stream, text)
                if held.count > JSON_SORT_LIMIT:
                    for x in held.in_order(by_stream=False):
                        emit(x)
                    held.close()
                    held = None
            else:
                emit(text)
        if not header_done:
            header()
        if held is not None:
            for x in held.in_order():
                emit(x)
    finally:
        if held is not None:
            held.close()
    info = st.reader.info if st.reader else None
    tail = {
        "frames": info.frames if info else 0,
        "truncated": bool(info and info.truncated),
        "truncation_reason": (info.truncation_reason or None) if info else None,
        "tcp_connections": st.tcp_connections,
        "undecoded_frames": st.undecoded_frames,
        "warnings": st.warnings,
        "connections_order": "stream" if held is not None else "end",
    }
    out.write(b"\n]," + dumps_bytes(tail)[1:] + b"\n")
    out.flush()
    if info is not None and info.truncated:
        _complain(f"{path}: {info.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def _run_text(path: str, options: dict[str, Any], args: argparse.Namespace, jobs: int = 1) -> int:
    """Failures first, in full; successes one line each. Each connection is rendered when it
    ends and its text parked in a spool file (rendered.py's order is applied at the end), so
    memory stays flat however many connections the capture holds."""
    from rich.console import Console

    from tlsdissect.report.text import connection_text, order_of, outcome_of, render_header

    con = Console(no_color=args.no_color, highlight=False, soft_wrap=True)
    st = RunState()
    failed = False
    counts: dict[str, int] = {}
    with _TextSpool() as spool:
        for _, bad, conn in _rows(path, options, st, args.stream, "connection", jobs):
            failed = failed or bad
            outcome = outcome_of(conn)
            counts[outcome] = counts.get(outcome, 0) + 1
            text = connection_text(con, conn, verbose=args.verbose, blank_before=True)
            spool.add(order_of(outcome), conn.stream, text.encode("utf-8", "surrogateescape"))
        info = st.reader.info if st.reader else None
        head = Report(capture=st.reader.name if st.reader else path, frames=info.frames if info else 0,
                      format=info.format if info else "", truncated=bool(info and info.truncated),
                      truncation_reason=info.truncation_reason if info else "",
                      tcp_connections=st.tcp_connections, warnings=st.warnings)
        render_header(con, head, counts)
        con.file.flush()
        for text in spool.in_order():
            con.file.write(text.decode("utf-8", "surrogateescape"))
        con.file.flush()
    if head.truncated:
        _complain(f"{path}: {head.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


class _TextSpool:
    """Rendered connections parked until the end: the text in a temporary file (in memory
    while small), an index of (group, stream, offset, length) as four compact integer arrays."""

    def __init__(self) -> None:
        import tempfile
        from array import array

        self.file = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b")
        self.index = [array("q") for _ in range(4)]
        self.size = 0

    def __enter__(self) -> "_TextSpool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    @property
    def count(self) -> int:
        return len(self.index[0])

    def add(self, group: int, stream: int, data: bytes) -> None:
        self.file.write(data)
        for arr, value in zip(self.index, (group, stream, self.size, len(data))):
            arr.append(value)
        self.size += len(data)

    def in_order(self, by_stream: bool = True) -> Iterator[bytes]:
        """By (group, stream), or as they were added."""
        group, stream, offset, length = self.index
        order = range(len(group))
        if by_stream:
            order = sorted(order, key=lambda i: (group[i], stream[i], i))  # type: ignore[assignment]
        for i in order:
            self.file.seek(offset[i])
            yield self.file.read(length[i])


class _ByteOut:
    """Where the JSON goes: standard output's byte stream when it has one (the JSON is UTF-8
    bytes from the encoder; no decode and re-encode of every connection), else its text stream
    (e.g. a StringIO that captures a --jobs worker's output)."""

    def __init__(self, stream: Any) -> None:
        self.text = stream
        self.raw = getattr(stream, "buffer", None)
        if self.raw is not None:
            stream.flush()  # what was written as text goes first
            self.write = self.raw.write  # type: ignore[method-assign]  # (no call of ours per write)

    def write(self, data: bytes) -> None:
        """For a text stream only (a byte stream's own write replaces this one)."""
        self.text.write(data.decode("utf-8"))

    def flush(self) -> None:
        (self.raw if self.raw is not None else self.text).flush()


class _Progress:
    """A rich progress bar on stderr for big files (only when stderr is a terminal)."""

    def __init__(self, path: str, total: int):
        from rich.markup import escape
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

        self.progress = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
                                 console=__import__("rich.console").console.Console(stderr=True))
        # The description is console markup: a file name is neither markup nor terminal codes.
        self.task = self.progress.add_task(escape(shown(os.path.basename(path))), total=total)
        self.progress.start()

    def update(self, frames: int, position: int) -> None:
        self.progress.update(self.task, completed=position)

    def close(self) -> None:
        self.progress.stop()


def _progress_for(path: str) -> Optional[_Progress]:
    if path == "-" or not sys.stderr.isatty():
        return None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if size < 20 * 1024 * 1024 or path.endswith(".gz"):
        return None
    return _Progress(path, size)


def _one_file(job: tuple[list[str], str]) -> tuple[int, str, str]:
    """Worker: run the CLI on one file with its output captured (for --jobs)."""
    import contextlib
    import io

    argv, path = job
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv + [path])
    return rc, out.getvalue(), err.getvalue()


def _run_parallel(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """Several files at once in worker processes; each file's output is printed whole, in the
    order the files were given, so the result is the same as a sequential run."""
    from concurrent.futures import ProcessPoolExecutor

    argv = [a for a in sys.argv[1:] if a not in args.captures]
    # drop -j/--jobs and its value from the per-file command line
    cleaned: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-j", "--jobs"):
            skip = True
            continue
        if a.startswith("--jobs=") or (a.startswith("-j") and a[2:].isdigit()):
            continue
        cleaned.append(a)
    status = EXIT_OK
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for rc, out, err in pool.map(_one_file, [(cleaned, p) for p in args.captures]):
            sys.stdout.write(out)
            sys.stderr.write(err)
            status = max(status, rc)
    return status


def _run_jsonl(path: str, options: dict[str, Any], streams: Optional[list[int]], jobs: int = 1) -> int:
    st = RunState()
    failed = False
    out = _ByteOut(sys.stdout)
    for _, bad, text in _rows(path, options, st, streams, "json", jobs):
        failed = failed or bad
        out.write(text + b"\n")
        out.flush()
    if st.reader is not None and st.reader.info.truncated:
        _complain(f"{path}: {st.reader.info.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
