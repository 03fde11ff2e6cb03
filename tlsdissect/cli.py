"""Command line: ``tlsdissect capture.pcap`` prints every TLS connection, failures first.

Exit status: 0 when no handshake failed, 1 when at least one did, 2 when the input is
unusable (missing, empty, not a capture). ``--json`` prints the whole report, ``--jsonl`` one
connection per line as soon as it ends (streaming, for big captures).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional, Sequence

from .analyzer import RunState, analyze, iter_connections
from .errors import TlsDissectError
from .model import Connection, Report

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
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    options: dict[str, Any] = {"include_all": args.include_all}
    if args.keylog:
        options["keylog"] = args.keylog
    if args.ca_file:
        options["ca_file"] = args.ca_file
    if args.ca_path:
        options["ca_path"] = args.ca_path
    if args.system_trust:
        options["system_trust"] = True
    status = EXIT_OK
    for path in args.captures:
        try:
            if args.jsonl:
                rc = _run_jsonl(path, options, args.stream)
            else:
                report = analyze(path, **options)
                if args.stream:
                    report.connections = [c for c in report.connections if c.stream in args.stream]
                if args.json:
                    sys.stdout.write(report.to_json() + "\n")
                else:
                    from .render import render_report

                    render_report(report, verbose=args.verbose, color=not args.no_color)
                rc = EXIT_FAILED_HANDSHAKE if any(_failed(c) for c in report.connections) else EXIT_OK
                if report.truncated:
                    print(f"tlsdissect: {path}: {report.truncation_reason} (partial result above)", file=sys.stderr)
                    rc = EXIT_BAD_INPUT
        except TlsDissectError as e:
            print(f"tlsdissect: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            return status
        status = max(status, rc)
    return status


def _run_jsonl(path: str, options: dict[str, Any], streams: Optional[list[int]]) -> int:
    st = RunState()
    failed = False
    for conn in iter_connections(path, state=st, **options):
        if streams and conn.stream not in streams:
            continue
        failed = failed or _failed(conn)
        sys.stdout.write(json.dumps(conn.to_dict()) + "\n")
        sys.stdout.flush()
    if st.reader is not None and st.reader.info.truncated:
        print(f"tlsdissect: {path}: {st.reader.info.truncation_reason} (partial result above)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_FAILED_HANDSHAKE if failed else EXIT_OK


def _failed(conn: Connection) -> bool:
    diag = conn.diagnosis
    if diag is not None:
        return getattr(diag, "outcome", None) == "failed"
    return conn.is_tls and not conn.established and any(a.fatal for a in conn.alerts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
