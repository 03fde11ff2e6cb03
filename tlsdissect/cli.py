"""Command line: ``tlsdissect capture.pcap`` prints every TLS connection, failures first.

Exit status: 0 when no handshake failed, 1 when at least one did, 2 when the input is
unusable (missing, empty, not a capture). ``--json`` prints the whole report, ``--jsonl`` one
connection per line as soon as it ends (streaming, for big captures). ``-i IFACE`` captures live
instead (capture.live): each connection's verdict as it ends, the summary at the stop.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import signal
import sys
from typing import IO, Any, Iterator, Optional, Sequence

from tlsdissect.pipeline.analyzer import RunState, iter_connections, quiet_gc
from tlsdissect.pipeline.live import iter_live
from tlsdissect.errors import TlsDissectError
from tlsdissect.report.safe import shown
from tlsdissect.results.jsontext import dumps, dumps_bytes
from tlsdissect.results.model import SCHEMA_VERSION, Connection, Report
from tlsdissect.results.outcome import is_failure
from tlsdissect.tcp.flows import MEMORY_BUDGET

EXIT_OK = 0
EXIT_FAILED_HANDSHAKE = 1
EXIT_BAD_INPUT = 2


_MAIN_PID = [0]  # the process that installed _on_sigterm (worker processes inherit the handler)


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM stops a run as Ctrl-C does: what is decoded so far is written out, then exit 130.
    A --jobs worker (a fork, which inherits this handler) just ends, as SIGTERM's default does."""
    if os.getpid() != _MAIN_PID[0]:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    raise KeyboardInterrupt

EPILOG = """\
exit status:
  0  no handshake failed
  1  at least one handshake failed (or another problem was diagnosed)
  2  unusable input: missing, empty, not a capture, or truncated (a truncated
     capture still prints the connections decoded before the damage)

examples:
  tlsdissect capture.pcap                      every TLS connection, failures first
  tlsdissect -v capture.pcap                   with each connection's full timeline
  tlsdissect --json capture.pcap | jq .        the report as JSON (docs/schema.md)
  tlsdissect --jsonl big.pcap                  one JSON object per connection, as each ends
  tlsdissect --html report.html a.pcap b.pcap  one self-contained HTML page, for a ticket
  tlsdissect --keylog sslkeys.log cap.pcapng   decrypt with an NSS key log (SSLKEYLOGFILE)
  tlsdissect --stream 3 capture.pcap           one connection (Wireshark's tcp.stream 3)
  tlsdissect -j 0 big.pcap                     use every core
  tlsdissect --csv - caps/ > conns.csv         a table of every capture below caps/
  tlsdissect --zeek logs/ capture.pcap         Zeek's ssl.log, x509.log and conn.log
  tlsdissect --annotate out.pcapng cap.pcap    the findings as packet comments, for Wireshark
  tlsdissect --cluster local:2 --jsonl caps/   many files on a local Dask cluster (docs/cluster.md)
  tcpdump -w - -i eth0 port 443 | tlsdissect - read standard input
  sudo tlsdissect -i eth0 --filter 'tcp port 443'   capture live: each verdict as the
                                               connection ends, the summary at Ctrl-C
                                               (needs root or CAP_NET_RAW, and scapy)

environment: NO_COLOR=1 turns colour off, FORCE_COLOR=1 forces it on.
shell completion: tlsdissect --print-completion bash > /etc/bash_completion.d/tlsdissect
"""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tlsdissect")
    except Exception:  # not installed (run from a checkout)
        from tlsdissect import __version__

        return __version__


def build_kind() -> str:
    """Which build runs: the optional compiled build (setup.py, TLSDISSECT_MYPYC=1) turns the hot
    modules into extension modules; the default install runs them as Python source."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from tlsdissect.tcp import reassembly

    return "compiled with mypyc" if (reassembly.__file__ or "").endswith(tuple(EXTENSION_SUFFIXES)) else "pure Python"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tlsdissect",
        description="Explain TLS handshakes and why they failed, from pcap/pcapng captures or a live interface.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"tlsdissect {_version()} ({build_kind()})")
    files = p.add_argument("captures", nargs="*", metavar="FILE", help="pcap/pcapng file (gzip ok), or - for stdin")
    live = p.add_argument_group("live capture (instead of files; needs root or CAP_NET_RAW, and scapy: "
                                "pip install 'tlsdissect[live]')")
    live.add_argument("-i", "--interface", metavar="IFACE",
                      help="capture on this network interface; each connection is shown as it ends, the summary "
                           "when the capture stops (Ctrl-C, SIGTERM, --count, --duration)")
    live.add_argument("--filter", metavar="BPF", help="with -i: capture only what this filter (tcpdump's syntax) "
                                                     "matches, e.g. 'tcp port 443'")
    live.add_argument("--count", type=_positive_int, metavar="N", help="with -i: stop after N connections are shown")
    live.add_argument("--duration", type=_positive_float, metavar="SECONDS", help="with -i: stop after this long")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the full report as JSON")
    out.add_argument("--jsonl", action="store_true", help="print one JSON object per connection, as each ends")
    html = out.add_argument("--html", metavar="FILE",
                            help="write a self-contained HTML report (summary, verdicts, evidence, certificate "
                                 "chains, ladder diagrams) to FILE, for a ticket; - for standard output")
    p.add_argument("--keylog", action="append", default=[], metavar="FILE",
                   help="key log to decrypt with: NSS format (SSLKEYLOGFILE) or Zeek's key-log file; repeatable")
    p.add_argument("--ca-file", metavar="PEM", help="trust anchors to check server chains against")
    p.add_argument("--ca-path", metavar="DIR", help="directory of trust anchors (PEM files)")
    p.add_argument("--system-trust", action="store_true", help="check server chains against the system trust store")
    p.add_argument("--all", action="store_true", dest="include_all", help="also list TCP connections with no TLS")
    p.add_argument("--stream", type=int, action="append", metavar="N", help="only show this tcp.stream (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show every connection in full: ladder diagram, certificate chains, what a refused client offered")
    pick = p.add_argument_group("which connections")
    pick.add_argument("--failed", action="store_true", help="only connections that failed")
    pick.add_argument("--host", action="append", metavar="ADDR|NAME",
                      help="only connections with this client or server address, or this server name (repeatable)")
    pick.add_argument("--port", type=int, action="append", metavar="N", help="only connections to or from this port")
    pick.add_argument("--sni", action="append", metavar="PATTERN",
                      help="only connections whose server name matches (shell pattern: '*.example.com')")
    pick.add_argument("--cause", action="append", metavar="ID", help="only connections with this cause (docs/causes.md)")
    tables = p.add_argument_group("tables (one row per connection, the DataFrame's columns; docs/schema.md)")
    tables.add_argument("--csv", metavar="FILE", help="also write the connections as CSV (- for standard output alone)")
    tables.add_argument("--parquet", metavar="FILE",
                        help="also write them as Parquet (needs pyarrow: pip install 'tlsdissect[parquet]')")
    tables.add_argument("--zeek", metavar="DIR", help="also write Zeek's ssl.log, x509.log, conn.log and quic.log into DIR")
    tables.add_argument("--zeek-json", action="store_true", help="with --zeek: JSON lines, as Zeek's LogAscii::use_json")
    p.add_argument("--annotate", metavar="OUT.pcapng",
                   help="also write the capture again as pcapng with each finding as a packet comment on its "
                        "frames (Wireshark: frame.comment) and, with --keylog, the key log lines of its "
                        "connections embedded (one capture file only)")
    p.add_argument("--show", choices=("auto", "all", "failed"), default="auto",
                   help="text view: 'all' lists every connection; 'failed' only the ones not established; "
                        "'auto' (default) lists all unless the capture has more than 100, then the summary and "
                        "the ones not established")
    p.add_argument("--no-color", action="store_true", help="plain text output (also: NO_COLOR=1)")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                   help="use N processes (0: one per core): several files are analysed side by side (output in "
                        "file order); one file has its connections shared out among N workers (same output as "
                        "one process)")
    p.add_argument("--memory-budget", type=_megabytes, default=None, metavar="MB",
                   help=f"memory the open connections may hold, by estimate (default {MEMORY_BUDGET >> 20}); over it "
                        "the longest idle are reported early, marked memory_budget (docs/limits.md)")
    cluster = p.add_argument_group("many captures, many machines (needs: pip install 'tlsdissect[dask]'; docs/cluster.md)")
    cluster.add_argument("--cluster", metavar="local[:N]|ADDRESS",
                         help="analyse the files on a Dask cluster: 'local' (the default) starts one on this machine "
                              "with a worker per core, 'local:N' with N workers; tcp://host:8786 uses a running one. "
                              "FILEs may be directories, globs or fsspec URLs (s3://...); writes --jsonl, --csv, "
                              "--parquet or a summary")
    cluster.add_argument("--no-rotation", action="store_true",
                         help="with --cluster: read each file alone, also the files of a rotation set "
                              "(tcpdump -G/-C), which are otherwise read in order as one capture")
    try:
        import shtab

        files.complete = shtab.FILE  # type: ignore[attr-defined]
        html.complete = shtab.FILE  # type: ignore[attr-defined]
        shtab.add_argument_to(p, ["--print-completion"], help="print a shell completion script (bash, zsh, tcsh)")
    except ImportError:  # pragma: no cover - shtab is a dependency; a stripped install still runs
        pass
    return p


CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".dmp")


def expand_inputs(names: Sequence[str]) -> list[str]:
    """Files as given; a directory becomes the capture files below it (recursively, by suffix,
    sorted); a glob pattern the shell left alone (quoted, or on Windows) is expanded here."""
    out: list[str] = []
    for name in names:
        if name != "-" and os.path.isdir(name):
            found = []
            for root, dirs, files in os.walk(name):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(CAPTURE_SUFFIXES)]
            out += found
        elif name != "-" and not os.path.exists(name) and glob.has_magic(name):
            out += sorted(glob.glob(name, recursive=True)) or [name]
        else:
            out.append(name)
    return out


def _jobs(text: str) -> int:
    """-j/--jobs: a count of processes, 0 meaning one per core."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per core) or more")
    return n or (os.cpu_count() or 1)


# What can follow --cluster as its value: "local", "local:N" or a scheduler's address. Anything
# else (a file, a directory, s3://...) is a capture, and --cluster stands alone: a local cluster.
_CLUSTER_SPEC = re.compile(r"^(local(:.*)?|(tcp|tls|ucx|ws|wss|inproc)://.*)$")


def _cluster_value(argv: Sequence[str]) -> list[str]:
    """argv with "local" after a bare --cluster (argparse's optional value would take the next file)."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        if arg == "--cluster" and (i + 1 == len(out) or not _CLUSTER_SPEC.match(out[i + 1])):
            out.insert(i + 1, "local")
            break
    return out


def _megabytes(text: str) -> int:
    """--memory-budget: mebibytes (a number, fractions allowed), as bytes."""
    try:
        mb = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not mb > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return int(mb * (1 << 20))


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return x


def _live_usage(args: argparse.Namespace) -> Optional[str]:
    """What is wrong with the combination of live-capture options and files, if anything."""
    if args.interface is None:
        for flag, value in (("--filter", args.filter), ("--count", args.count), ("--duration", args.duration)):
            if value is not None:
                return f"{flag} goes with -i IFACE (live capture)"
        return None if args.captures else "give a capture file (or - for standard input), or -i IFACE to capture live"
    if args.captures:
        return "-i IFACE captures live: give no capture files with it"
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_cluster_value(sys.argv[1:] if argv is None else argv))
    problem = _live_usage(args)
    if problem:
        parser.error(problem)
    if args.interface is not None:
        with quiet_gc():
            return _main(args)
    args.inputs = list(args.captures)  # as typed (a directory, a pattern), for _run_parallel
    args.captures = expand_inputs(args.captures)
    if not args.captures:
        print("tlsdissect: no capture files found", file=sys.stderr)
        return EXIT_BAD_INPUT

    with quiet_gc():
        return _main(args)


def run() -> None:
    """The ``tlsdissect`` command: main(), then exit without tearing the interpreter down.

    After a big capture the parse caches and interned results hold a few hundred thousand
    objects, and freeing them one by one at exit took 0.2-0.3 s (5 % of a 50 MB run) for
    nothing. Everything is written and flushed first; files and worker pools are closed by
    main() itself."""
    signal.signal(signal.SIGTERM, _on_sigterm)  # (the command only: main() leaves a caller's signals alone)
    _MAIN_PID[0] = os.getpid()
    try:
        status = main()
    except BrokenPipeError:  # the reader went away (e.g. `| head`) before argparse's own output ended
        status = EXIT_OK
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # reader gone, or stream closed
            pass
    os._exit(status)


class _Tables:
    """--csv, --parquet and --zeek: the files, fed every reported connection (report/tables.py,
    report/zeek.py)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from tlsdissect.report.tables import CsvTable, ParquetTable

        self.files: list[Any] = []
        self.tables: list[Any] = []
        self.annotations: Any = None
        if args.annotate:
            from tlsdissect.report.annotate import Annotations

            self.annotations = Annotations()
        if args.csv:
            f = sys.stdout if args.csv == "-" else open(args.csv, "w", newline="", encoding="utf-8")
            if f is not sys.stdout:
                self.files.append(f)
            self.tables.append(CsvTable(f))
        if args.parquet:
            f = open(args.parquet, "wb")
            self.files.append(f)
            self.tables.append(ParquetTable(f))
        if args.zeek:
            from tlsdissect.report.zeek import ZeekLogs

            os.makedirs(args.zeek, exist_ok=True)
            outs: dict[str, IO[str]] = {}
            for name in ("ssl", "x509", "conn", "quic"):
                outs[name] = open(os.path.join(args.zeek, f"{name}.log"), "w", encoding="utf-8")
                self.files.append(outs[name])
            self.tables.append(ZeekLogs(outs, json_lines=args.zeek_json))

    def add(self, conn: Connection, capture: str) -> None:
        for t in self.tables:
            t.add(conn, capture)
        if self.annotations is not None:
            self.annotations.add(conn)

    def finish(self, st: RunState, capture: str, handshakes: list[Any]) -> None:
        """The end of a capture: its QUIC handshakes and DTLS associations (known only then) to
        the tables (``handshakes``: those the run reports) and its QUIC handshakes to --annotate."""
        for t in self.tables:
            for h in handshakes:
                t.add_udp(h, capture)
        if self.annotations is not None:
            for q in st.quic:
                self.annotations.add_quic(q)

    def close(self) -> None:
        for t in self.tables:
            t.close()
        for f in self.files:
            f.close()


def _open_tables(args: argparse.Namespace) -> Optional[str]:
    """Opens args.tables when --csv or --parquet asks; the reason it cannot, else None."""
    args.tables = None
    if args.zeek_json and not args.zeek:
        return "--zeek-json goes with --zeek DIR"
    if not (args.csv or args.parquet or args.zeek or args.annotate):
        return None
    if args.annotate:
        if len(args.captures) != 1 or args.captures[0] == "-":
            return "--annotate copies one capture file (not standard input) into OUT.pcapng"
        if os.path.exists(args.annotate) and os.path.samefile(args.annotate, args.captures[0]):
            return "--annotate: the output would overwrite the capture it copies"
    if args.parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            return "--parquet needs pyarrow: pip install 'tlsdissect[parquet]'"
    if args.csv == "-" and (args.json or args.jsonl):
        return "--csv - writes the table to standard output: it cannot share it with --json or --jsonl"
    try:
        args.tables = _Tables(args)
    except OSError as e:
        return f"cannot write {e.filename}: {e.strerror}"
    return None


def _main(args: argparse.Namespace) -> int:
    problem = _cluster_problem(args) or _open_tables(args)
    if problem:
        print(f"tlsdissect: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.cluster:
            from tlsdissect.dask.command import run as run_on_cluster

            args.captures = args.inputs  # (expanded by tlsdissect.dask: URLs, rotation sets' names)
            return run_on_cluster(args, args.tables)
        status = _main_run(args)
        if args.tables is not None and args.tables.annotations is not None and status != 130:  # (not after Ctrl-C)
            status = max(status, _write_annotated(args, status == EXIT_BAD_INPUT))
        return status
    finally:
        if args.tables is not None:
            args.tables.close()


def _write_annotated(args: argparse.Namespace, input_refused: bool) -> int:
    """--annotate: the capture copied with the comments gathered during the run (not when the
    run already said the input is no capture: ``input_refused``)."""
    from tlsdissect.errors import CaptureError
    from tlsdissect.keys.keylog import KeyLog

    try:
        keylog = KeyLog.from_files(args.keylog) if args.keylog else None
        done = args.tables.annotations.write(args.captures[0], args.annotate, keylog)
    except CaptureError as e:
        if not input_refused:
            _complain(f"--annotate: {e}")
        return EXIT_BAD_INPUT
    except (TlsDissectError, OSError) as e:
        _complain(f"--annotate: {e}")
        return EXIT_BAD_INPUT
    text = (f"{done.path}: {done.comments} comment(s) on {done.commented_frames} of {done.frames} frame(s)"
            + (f", {done.key_log_lines} key log line(s) embedded" if done.key_log_lines else ""))
    if done.comments_not_placed or done.connections_not_annotated:
        text += (f"; {done.comments_not_placed} comment(s) not placed, {done.connections_not_annotated} "
                 "connection(s) not annotated (docs/limits.md)")
    _complain(text)
    return EXIT_OK


def _cluster_problem(args: argparse.Namespace) -> Optional[str]:
    """Why --cluster (or --no-rotation) cannot run as asked, or None."""
    if not args.cluster:
        return "--no-rotation goes with --cluster" if args.no_rotation else None
    try:
        from tlsdissect.dask.command import problem
    except ImportError:
        return "--cluster needs Dask: pip install 'tlsdissect[dask]'"
    return problem(args)


def _main_run(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {"include_all": args.include_all}
    if args.keylog:
        options["keylog"] = args.keylog
    if args.ca_file:
        options["ca_file"] = args.ca_file
    if args.ca_path:
        options["ca_path"] = args.ca_path
    if args.system_trust:
        options["system_trust"] = True
    if args.memory_budget is not None:
        options["memory_budget"] = args.memory_budget
    if args.interface is not None:
        return _run_live(args, options)
    if args.html is not None:
        return _run_html(args, options, max(1, args.jobs))
    if args.jobs > 1 and len(args.captures) > 1 and args.tables is None:
        return _run_parallel(args, options)
    jobs = max(1, args.jobs)  # one file: shard its connections over that many processes
    status = EXIT_OK
    several = _SeveralJson(sys.stdout) if args.json and len(args.captures) > 1 else None
    pick = _Pick(args)
    for path in args.captures:
        try:
            progress = _progress_for(path) if jobs == 1 else None
            options.pop("progress", None)
            if progress is not None:
                options["progress"] = progress.update
            try:
                if args.csv == "-":
                    rc = _run_table_only(path, options, args.stream, jobs, pick)
                elif args.jsonl:
                    rc = _run_jsonl(path, options, args.stream, jobs, pick)
                elif several is not None:
                    several.next_item()
                    rc = _run_json(path, options, args.stream, jobs, inner=True, pick=pick)
                elif args.json:
                    rc = _run_json(path, options, args.stream, jobs, pick=pick)
                else:
                    rc = _run_text(path, options, args, jobs)
            finally:
                if progress is not None:
                    progress.close()
        except TlsDissectError as e:
            _complain(str(e))
            if several is not None:
                several.error(path, str(e))
            status = EXIT_BAD_INPUT  # go on with the other files; the worst status wins
            continue
        except KeyboardInterrupt:
            if several is not None:
                several.close()
            return 130
        except BrokenPipeError:
            return status
        status = max(status, rc)
    if several is not None:
        several.close()
    return status


def _run_live(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """-i IFACE: capture live until Ctrl-C, SIGTERM, --count or --duration; each of these ends the
    run as the end of a file would (the summary, exit status 0 or 1)."""
    from tlsdissect.capture.live import open_live

    iface = args.interface
    try:
        capture = open_live(iface, args.filter, duration=args.duration)
    except TlsDissectError as e:
        _complain(str(e))
        return EXIT_BAD_INPUT
    options.update(live=capture, count=args.count)

    def stop(signum: int, frame: Any) -> None:
        """The first Ctrl-C or SIGTERM ends the capture at its next tick (what is open comes out as
        at a file's end, then the summary); a second one stops the run where it is (exit 130)."""
        if capture.stopping:
            raise KeyboardInterrupt
        capture.stop()

    stops = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                stops[sig] = signal.signal(sig, stop)
            except ValueError:  # not the main thread (main() called by a program): its signals stay
                pass
        _complain(f"capturing on {iface}" + (f" (filter: {args.filter})" if args.filter else "")
                  + "; Ctrl-C to stop")
        if args.csv == "-":
            return _run_table_only(iface, options, args.stream, 1, _Pick(args))
        if args.jsonl:
            return _run_jsonl(iface, options, args.stream, 1, _Pick(args))
        if args.json:
            return _run_json(iface, options, args.stream, 1, pick=_Pick(args))
        return _run_live_text(iface, options, args)
    except KeyboardInterrupt:  # a second Ctrl-C while the last connections are written
        return 130
    except BrokenPipeError:
        return EXIT_OK
    finally:
        for sig, handler in stops.items():
            signal.signal(sig, handler)
        capture.close()


def _run_live_text(iface: str, options: dict[str, Any], args: argparse.Namespace) -> int:
    """The text view, live: each connection as it ends (failures in full, as the file view shows
    them), then the capture line, the summary and the QUIC handshakes when the capture stops."""
    from tlsdissect.report.summary import Summary
    from tlsdissect.report.text import connection_text, render_header, render_lines

    con = _console(args)
    st = RunState()
    failed = False
    summary = Summary()
    tally = _Tally()
    shown_before = False
    for _, bad, conn in _rows(iface, options, st, args.stream, "connection", 1, tally, _Pick(args)):
        failed = failed or bad
        if summary.add(conn) == "established" and args.show == "failed":
            continue  # (counted in the capture line)
        con.file.write(connection_text(con, conn, verbose=args.verbose, blank_before=shown_before))
        con.file.flush()
        shown_before = True
    info = options["live"].info
    head = Report(capture=iface, frames=info.frames, format="live", tcp_connections=st.tcp_connections,
                  warnings=st.warnings, truncated=info.truncated, truncation_reason=info.truncation_reason)
    _count_udp(head, summary, _udp_kept(st, args.stream, _Pick(args)))
    if shown_before:
        con.print()
    render_header(con, head, summary.outcomes)
    render_lines(con, summary.lines())
    failed = _render_udp(con, st, args) or failed
    con.file.flush()
    _say_notes(iface, options, args.stream, st, tally)
    if info.truncated:
        _complain(f"{iface}: {info.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def _console(args: argparse.Namespace) -> Any:
    """The text view's console: --no-color or NO_COLOR (https://no-color.org) mean no escape codes
    at all, bold and dim included; otherwise rich decides from the terminal, FORCE_COLOR and TERM."""
    from rich.console import Console

    plain = args.no_color or bool(os.environ.get("NO_COLOR"))
    return Console(color_system=None if plain else "auto", no_color=plain or None, highlight=False, soft_wrap=True)


class _SeveralJson:
    """--json over several captures: one document, ``{"schema_version": 1, "captures": [...]}``,
    each item the object a single capture gives (or ``{"capture", "error"}`` for a file that is
    not a capture), so that ``json.load`` reads the whole output."""

    def __init__(self, stream: Any) -> None:
        self.out = _ByteOut(stream)
        self.items = 0
        self.out.write(b'{"schema_version":%d,"captures":[\n' % SCHEMA_VERSION)

    def next_item(self) -> None:
        if self.items:
            self.out.write(b",\n")
        self.items += 1
        self.out.flush()

    def error(self, path: str, message: str) -> None:
        # (a capture whose header was already out cannot fail afterwards: errors come first)
        self.out.write(dumps_bytes({"capture": path, "error": message}))

    def close(self) -> None:
        self.out.write(b"\n]}\n")
        self.out.flush()


def _complain(message: str) -> None:
    """A problem with an input, on standard error: its file name and what the capture made of it
    shown safely (safe.shown), as the text view shows capture data."""
    print(f"tlsdissect: {shown(message)}", file=sys.stderr)


# --json holds at most this many connections (as JSON text, in a spool file) to print them in
# stream order; a bigger capture is written in the order connections end (each object has its
# "stream"), so output starts before the capture is read to its end.
JSON_SORT_LIMIT = 2000


class _Tally:
    """What the command line notices about one file's connections, to say after them: the
    streams asked for that never came out, a key log that decrypted nothing."""

    def __init__(self) -> None:
        self.streams: set[int] = set()  # the reported connections' streams that --stream asked for
        self.keys_missing = 0  # connections whose secrets the key log lacks (the session's note says so)
        self.keys_found = 0  # connections whose keys were looked up and found
        self.counted = True  # False: a sharded run, whose connections this process does not see

    def add(self, conn: Connection, wanted: Optional[list[int]] = None) -> None:
        if wanted and conn.stream in wanted:  # (only those --stream asked for: notes() looks for no other)
            self.streams.add(conn.stream)
        dec = conn.extra.get("decryption")
        if dec and conn.server_hello is not None:  # (keys are looked up once the ServerHello is seen)
            if not dec.get("records_decrypted") and any(note.startswith("key log has no")
                                                        for note in dec.get("notes", ())):
                self.keys_missing += 1
            else:
                self.keys_found += 1

    def notes(self, path: str, options: dict[str, Any], streams: Optional[list[int]], st: RunState) -> list[str]:
        out: list[str] = []
        if not self.counted:
            return out
        for n in streams or ():
            if n in self.streams:
                continue
            if 0 <= n < st.tcp_connections:
                out.append(f"stream {n} is a TCP conversation without TLS (use --all to list it)")
            else:
                out.append(f"no stream {n}: the capture has {st.tcp_connections} TCP conversation(s), "
                           f"numbered 0 to {max(st.tcp_connections - 1, 0)} as in Wireshark's tcp.stream")
        if options.get("keylog") and self.keys_missing and not self.keys_found:
            out.append(f"the key log ({', '.join(options['keylog'])}) holds no secrets for this capture: none of its "
                       f"lines names the client random of the {self.keys_missing} TLS connection(s) whose keys were "
                       "looked up")
        return [f"{path}: note: {n}" for n in out]


class _Pick:
    """The connection filters (--failed, --host, --port, --sni, --cause)."""

    def __init__(self, args: argparse.Namespace) -> None:
        # (--csv/--parquet: not a filter, but every run that picks connections hands them over)
        self.tables: Optional[_Tables] = getattr(args, "tables", None)
        self.failed = bool(getattr(args, "failed", False))
        self.hosts = set(getattr(args, "host", None) or ())
        self.ports = set(getattr(args, "port", None) or ())
        self.snis = list(getattr(args, "sni", None) or ())
        self.causes = set(getattr(args, "cause", None) or ())

    @property
    def active(self) -> bool:
        return bool(self.failed or self.hosts or self.ports or self.snis or self.causes)

    def keeps(self, conn: Connection) -> bool:
        from fnmatch import fnmatchcase

        if self.failed and not is_failure(conn):
            return False
        if self.hosts or self.ports:
            hosts, ports = set(), set()
            for end in (conn.client, conn.server):
                host, _, port = end.rpartition(":")
                hosts.add(host.strip("[]"))
                ports.add(int(port) if port.isdigit() else -1)
            if conn.server_name:
                hosts.add(conn.server_name.lower())
            if self.hosts and not hosts & {h.lower() for h in self.hosts}:
                return False
            if self.ports and not ports & self.ports:
                return False
        if self.snis and not (conn.server_name and any(fnmatchcase(conn.server_name.lower(), pat.lower())
                                                        for pat in self.snis)):
            return False
        if self.causes and getattr(conn.diagnosis, "cause", None) not in self.causes:
            return False
        return True


def _rows(path: str, options: dict[str, Any], st: RunState, streams: Optional[list[int]], want: str,
          jobs: int = 1, tally: Optional[_Tally] = None,
          pick: Optional[_Pick] = None) -> Iterator[tuple[int, bool, Any]]:
    """(stream, failed, payload) per reported connection, in output order; the payload is the
    JSON text as UTF-8 bytes (want="json") or the Connection. With jobs > 1, from a sharded run
    (parallel.py), unless filters other than --stream, or tables, need the connections here."""
    tables = pick.tables if pick is not None else None
    picked = pick
    if pick is not None and not pick.active:
        pick = None
    if jobs > 1 and pick is None and tables is None:
        from tlsdissect.parallel import can_shard, iter_sharded

        if can_shard(path):
            if tally is not None:
                tally.counted = False
            yield from iter_sharded(path, jobs, options, st, streams, want)
            return
    options = dict(options)
    live, count = options.pop("live", None), options.pop("count", None)
    conns: Any = iter_connections(path, state=st, **options) if live is None else iter_live(live, state=st, **options)
    try:
        for conn in conns:
            if tally is not None:
                tally.add(conn, streams)
            if streams and conn.stream not in streams:
                continue
            if pick is not None and not pick.keeps(conn):
                continue
            if tables is not None:
                tables.add(conn, path)
            yield conn.stream, is_failure(conn), (dumps_bytes(conn.json_value()) if want == "json" else conn)
            if count is not None:
                count -= 1
                if not count:  # --count: enough shown; the connections still open are not waited for
                    break
    finally:
        conns.close()
    if tables is not None:
        tables.finish(st, path, _udp_kept(st, streams, picked))


def _say_notes(path: str, options: dict[str, Any], streams: Optional[list[int]], st: RunState,
               tally: _Tally, warnings: bool = False) -> None:
    """The tally's notes on standard error; and the run's warnings when the output has no place for
    them (``warnings``: --jsonl and --csv - of a live capture, e.g. packets the kernel dropped)."""
    for line in tally.notes(path, options, streams, st):
        _complain(line)
    if warnings and options.get("live") is not None:
        for w in st.warnings:
            _complain(f"{path}: warning: {w}")


def _run_json(path: str, options: dict[str, Any], streams: Optional[list[int]], jobs: int = 1,
              inner: bool = False, pick: Optional[_Pick] = None) -> int:
    """One capture as one JSON object (docs/schema.md); ``inner``: an item of the several-captures
    document (no newline after it: the caller writes the separators)."""
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
    tally = _Tally()
    stopped = False
    try:
        try:
            for stream, bad, text in _rows(path, options, st, streams, "json", jobs, tally, pick):
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
        except KeyboardInterrupt:
            # Stopped (Ctrl-C, SIGTERM): what was decoded so far goes out as a valid document.
            stopped = True
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
    kept = _udp_kept(st, streams, pick)
    quic = [h for h in kept if h.protocol == "quic"]
    dtls = [h for h in kept if h.protocol == "dtls"]
    if quic:  # (present only when the capture has QUIC handshakes: docs/schema.md, quic)
        tail["quic"] = [q.to_dict() for q in quic]
    if dtls:  # (present only when the capture has DTLS handshakes: docs/schema.md, dtls)
        tail["dtls"] = [a.to_dict() for a in dtls]
    failed = failed or any(is_failure(h) for h in kept)
    if stopped:
        tail["interrupted"] = True
    out.write(b"\n]," + dumps_bytes(tail)[1:] + (b"" if inner else b"\n"))
    out.flush()
    if stopped:
        _complain(f"{path}: stopped; the JSON holds the connections finished before the stop")
        raise KeyboardInterrupt
    _say_notes(path, options, streams, st, tally)
    if info is not None and info.truncated:
        _complain(f"{path}: {info.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def udp_handshakes(st: RunState) -> list[Any]:
    """The capture's QUIC handshakes and DTLS associations (known once it is read), in that order."""
    return [*st.quic, *st.dtls]


def _udp_kept(st: RunState, streams: Optional[list[int]], pick: Optional[_Pick]) -> list[Any]:
    """The UDP handshakes a --jsonl, --csv, --parquet, --zeek or --html run reports: all of them
    (as --json and the text view), but none with --stream (a tcp.stream number) and only those
    the filters keep (--failed, --host, --port, --sni, --cause)."""
    if streams:
        return []
    return [h for h in udp_handshakes(st) if pick is None or not pick.active or pick.keeps(h)]


def _count_udp(head: Report, summary: Any, kept: list[Any]) -> None:
    """The UDP handshakes the run reports, counted in the capture line (``head``) and the summary."""
    head.quic = [h for h in kept if h.protocol == "quic"]
    head.dtls = [h for h in kept if h.protocol == "dtls"]
    for handshake in kept:
        summary.add(handshake)


def _render_udp(con: Any, st: RunState, args: argparse.Namespace) -> bool:
    """The text view's QUIC and DTLS parts (after the TCP connections); whether a UDP handshake failed."""
    from tlsdissect.report.text import render_lines

    kept = _udp_kept(st, args.stream, _Pick(args))
    quic = [h for h in kept if h.protocol == "quic"]
    dtls = [h for h in kept if h.protocol == "dtls"]
    if quic:
        from tlsdissect.report.quic import quic_lines

        render_lines(con, quic_lines(quic, verbose=args.verbose))
    if dtls:
        from tlsdissect.report.dtls import dtls_lines

        render_lines(con, dtls_lines(dtls, verbose=args.verbose))
    return any(is_failure(h) for h in kept)


def _run_text(path: str, options: dict[str, Any], args: argparse.Namespace, jobs: int = 1) -> int:
    """Failures first, in full; successes one line each. Each connection is rendered when it
    ends and its text parked in a spool file (rendered.py's order is applied at the end), so
    memory stays flat however many connections the capture holds."""
    from tlsdissect.report.summary import BIG_CAPTURE, Summary
    from tlsdissect.report.text import connection_text, order_of, render_header, render_lines

    con = _console(args)
    st = RunState()
    failed = False
    summary = Summary()
    tally = _Tally()
    stopped = False
    with _TextSpool() as spool:
        try:
            for _, bad, conn in _rows(path, options, st, args.stream, "connection", jobs, tally, _Pick(args)):
                failed = failed or bad
                outcome = summary.add(conn)
                text = connection_text(con, conn, verbose=args.verbose, blank_before=True)
                spool.add(order_of(outcome), conn.stream, text.encode("utf-8", "surrogateescape"))
        except KeyboardInterrupt:  # stopped: show what was decoded, then stop
            stopped = True
        info = st.reader.info if st.reader else None
        head = Report(capture=st.reader.name if st.reader else path, frames=info.frames if info else 0,
                      format=info.format if info else "", truncated=bool(info and info.truncated),
                      truncation_reason=info.truncation_reason if info else "",
                      tcp_connections=st.tcp_connections, warnings=st.warnings)
        tcp_total, tcp_established = summary.total, summary.outcomes.get("established", 0)
        _count_udp(head, summary, _udp_kept(st, args.stream, _Pick(args)))  # (listed after the connections)
        render_header(con, head, summary.outcomes)
        render_lines(con, summary.lines())
        show = args.show
        if show == "auto":
            show = "failed" if tcp_total > BIG_CAPTURE else "all"
        hidden = order_of("established")
        con.file.flush()
        for spooled in spool.in_order(skip_group=hidden if show == "failed" else None):
            con.file.write(spooled.decode("utf-8", "surrogateescape"))
        con.file.flush()
        listed = tcp_established if show == "failed" else 0
        if listed:
            render_lines(con, [("", ""), (f"{listed} established connection(s) not listed: "
                                          "--show all lists every connection", "dim")])
        failed = _render_udp(con, st, args) or failed
    if stopped:
        _complain(f"{path}: stopped; the connections above are those decoded before the stop")
        raise KeyboardInterrupt
    _say_notes(path, options, args.stream, st, tally)
    if head.truncated:
        _complain(f"{path}: {head.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def _run_html(args: argparse.Namespace, options: dict[str, Any], jobs: int) -> int:
    """--html FILE: every capture into one page (report/html.py), written when all are read;
    the files one after the other, each shared out among ``jobs`` processes as for the text."""
    from tlsdissect.report.html import HtmlReport

    problem = _unwritable(args.html)
    if problem:
        _complain(f"--html {args.html}: {problem}")
        return EXIT_BAD_INPUT
    status = EXIT_OK
    pick = _Pick(args)
    hint = "run tlsdissect --html with --show all to list every connection"
    with HtmlReport(show=args.show, version=_version(), hint=hint) as page:
        for path in args.captures:
            page.start()
            st = RunState()
            tally = _Tally()
            failed = stopped = False
            try:
                try:
                    for _, bad, conn in _rows(path, options, st, args.stream, "connection", jobs, tally, pick):
                        failed = failed or bad
                        page.add(conn)
                except KeyboardInterrupt:
                    stopped = True
                for handshake in _udp_kept(st, args.stream, pick):
                    failed = failed or is_failure(handshake)
                    page.add_udp(handshake)
            except TlsDissectError as e:
                _complain(str(e))
                page.sections.pop()
                page.error(path, str(e))
                status = EXIT_BAD_INPUT
                continue
            info = st.reader.info if st.reader else None
            notes = tally.notes(path, options, args.stream, st)
            page.finish(Report(capture=st.reader.name if st.reader else path, frames=info.frames if info else 0,
                               format=info.format if info else "", truncated=bool(info and info.truncated),
                               truncation_reason=info.truncation_reason if info else "",
                               tcp_connections=st.tcp_connections, warnings=st.warnings),
                        notes=[n.split(": note: ", 1)[-1] for n in notes], stopped=stopped)
            for line in notes:
                _complain(line)
            if info is not None and info.truncated:
                _complain(f"{path}: {info.truncation_reason} (partial result in the HTML report)")
                status = max(status, EXIT_BAD_INPUT)
            status = max(status, EXIT_FAILED_HANDSHAKE if failed else EXIT_OK)
            if stopped:
                _complain(f"{path}: stopped; the HTML report holds the connections decoded before the stop")
                break
        try:
            _write_html(page, args.html)
        except OSError as e:
            _complain(f"--html {args.html}: cannot write: {e.strerror or e}")
            return EXIT_BAD_INPUT
    return 130 if stopped else status


def _unwritable(target: str) -> Optional[str]:
    """Why the HTML report could not be written to ``target`` (checked before the captures are
    read, so a typo costs no analysis), or None."""
    if target == "-":
        return None
    if os.path.isdir(target):
        return "is a directory"
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        return f"no such directory: {folder}"
    if not os.access(folder, os.W_OK):
        return f"cannot write in {folder}"
    return None


def _write_html(page: Any, target: str) -> None:
    """The page to ``target`` (a file name, or - for standard output), written whole: a file
    appears complete or not at all (a temporary name beside it, then renamed)."""
    if target == "-":
        page.write(sys.stdout)
        sys.stdout.flush()
        return
    import tempfile

    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".tlsdissect-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            page.write(f)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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

    def in_order(self, by_stream: bool = True, skip_group: Optional[int] = None) -> Iterator[bytes]:
        """By (group, stream), or as they were added; without the entries of ``skip_group``."""
        group, stream, offset, length = self.index
        order: Sequence[int] = range(len(group))
        if by_stream:
            order = sorted(order, key=lambda i: (group[i], stream[i], i))
        for i in order:
            if group[i] == skip_group:
                continue
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

    argv = [a for a in sys.argv[1:] if a not in args.inputs]
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
    several = _SeveralJson(sys.stdout) if args.json else None
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for path, (rc, out, err) in zip(args.captures, pool.map(_one_file, [(cleaned, p) for p in args.captures])):
            if several is not None:  # each worker wrote a one-capture document: an item of ours
                several.next_item()
                if out.strip():
                    several.out.write(out.rstrip("\n").encode("utf-8"))
                else:
                    several.error(path, err.strip().removeprefix("tlsdissect: "))
            else:
                sys.stdout.write(out)
            sys.stderr.write(err)
            status = max(status, rc)
    if several is not None:
        several.close()
    return status


def _run_table_only(path: str, options: dict[str, Any], streams: Optional[list[int]], jobs: int,
                    pick: _Pick) -> int:
    """--csv -: the table is the output; the connections only feed it."""
    st = RunState()
    failed = False
    tally = _Tally()
    for _, bad, _conn in _rows(path, options, st, streams, "connection", jobs, tally, pick):
        failed = failed or bad
    failed = failed or any(is_failure(h) for h in _udp_kept(st, streams, pick))  # (their rows: _rows' tables.finish)
    _say_notes(path, options, streams, st, tally, warnings=True)
    if st.reader is not None and st.reader.info.truncated:
        _complain(f"{path}: {st.reader.info.truncation_reason} (partial result in the table)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def _run_jsonl(path: str, options: dict[str, Any], streams: Optional[list[int]], jobs: int = 1,
               pick: Optional[_Pick] = None) -> int:
    st = RunState()
    failed = False
    out = _ByteOut(sys.stdout)
    tally = _Tally()
    capture = b'{"capture":' + dumps_bytes(path) + b","  # each line says which capture it came from
    for _, bad, text in _rows(path, options, st, streams, "json", jobs, tally, pick):
        failed = failed or bad
        out.write(capture + text[1:] + b"\n")
        out.flush()
    for handshake in _udp_kept(st, streams, pick):  # (known once the capture is read: after the connections)
        failed = failed or is_failure(handshake)
        out.write(capture + dumps_bytes(handshake.to_dict())[1:] + b"\n")
    out.flush()
    _say_notes(path, options, streams, st, tally, warnings=True)
    if st.reader is not None and st.reader.info.truncated:
        _complain(f"{path}: {st.reader.info.truncation_reason} (partial result above)")
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
