"""A capture's summary, printed before the details: connections by outcome and by cause, and
the servers with the most failures (with the first frame of each, to start from in Wireshark).

It is filled one connection at a time (``add``), so a capture of any size costs a few counters
(and at most MAX_SERVERS failing servers remembered: a long live capture stays bounded too).
"""

from __future__ import annotations

from typing import Any

from tlsdissect.results.outcome import outcome_of

# A capture with at least this many connections gets a summary before the details.
SUMMARY_FROM = 10
# With more than this many, the default text view lists the failed and incomplete connections
# and only counts the established ones (``--show all`` lists every one).
BIG_CAPTURE = 100
TOP_SERVERS = 10
MAX_SERVERS = 10_000  # failing servers counted one by one; failures at servers beyond are only counted


# The order outcomes are told in: failures first.
OUTCOME_ORDER = {"failed": 0, "incomplete": 1, "not_tls": 2, "established": 3}


def counted(quic: int, dtls: int, counts: dict[str, int]) -> str:
    """'3 TLS connection(s), 1 QUIC handshake(s) — 2 failed, 2 established': what the capture
    line says, ``counts`` by outcome over the connections and the ``quic`` QUIC handshakes and
    ``dtls`` DTLS associations together (as the exit status and ``failures()`` count them)."""
    total = sum(counts.values())
    by_outcome = ", ".join(f"{n} {k.replace('_', ' ')}"
                           for k, n in sorted(counts.items(), key=lambda kv: OUTCOME_ORDER.get(kv[0], 9)))
    what = f"{total - quic - dtls} TLS connection(s)"
    if quic:
        what += f", {quic} QUIC handshake(s)"
    if dtls:
        what += f", {dtls} DTLS handshake(s)"
    return what + (f" — {by_outcome}" if by_outcome else "")


def where(conn: Any) -> tuple[str, str]:
    """How the summary names a failure's flow, and the key the HTML page's anchors use: a TCP
    connection's ``stream N`` (tcp.stream), a QUIC handshake's ``QUIC udp.stream N``."""
    if getattr(conn, "transport", "tcp") == "udp":
        stream = conn.stream if conn.stream is not None else "?"
        return f"{conn.protocol.upper()} udp.stream {stream}", f"{conn.protocol}-{conn.first_frame}"
    return f"stream {conn.stream}", str(conn.stream)


class Summary:
    """Counters over the connections of one capture."""

    def __init__(self) -> None:
        self.outcomes: dict[str, int] = {}
        self.causes: dict[str, int] = {}
        # server -> [failures, first failing frame, its flow's label, its key] (see ``where``)
        self.servers: dict[str, list[Any]] = {}
        self.untracked_failures = 0  # failures at servers past MAX_SERVERS

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def add(self, conn: Any) -> str:
        """Count ``conn`` (a connection, or a QUIC handshake or DTLS association); returns its outcome."""
        outcome = outcome_of(conn)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome == "failed":
            diag = conn.diagnosis
            cause = getattr(diag, "cause", None) or "unknown"
            self.causes[cause] = self.causes.get(cause, 0) + 1
            server = f"{conn.server_name} ({conn.server})" if conn.server_name else conn.server
            entry = self.servers.get(server)
            if entry is None and len(self.servers) >= MAX_SERVERS:
                self.untracked_failures += 1
            elif entry is None:
                self.servers[server] = [1, conn.first_frame, *where(conn)]
            else:
                entry[0] += 1
                if conn.first_frame < entry[1]:
                    entry[1:] = [conn.first_frame, *where(conn)]
        return outcome

    def by_outcome(self) -> list[tuple[str, int]]:
        """(outcome, connections), most first."""
        return sorted(self.outcomes.items(), key=lambda kv: (-kv[1], kv[0]))

    def by_cause(self) -> list[tuple[str, int]]:
        """(cause, failed connections), most first."""
        return sorted(self.causes.items(), key=lambda kv: (-kv[1], kv[0]))

    def top_servers(self) -> list[tuple[str, int, int, str, str]]:
        """(server, failures, first failing frame, its flow's label and key: ``where``) for the
        ``TOP_SERVERS`` servers with the most failures."""
        top = sorted(self.servers.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:TOP_SERVERS]
        return [(server, n, frame, label, key) for server, (n, frame, label, key) in top]

    def lines(self) -> list[tuple[str, str]]:
        """The summary as (text, style) lines; empty for a small capture."""
        if self.total < SUMMARY_FROM:
            return []
        out = [("summary:", "bold")]
        by_outcome = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self.by_outcome())
        out.append((f"  connections: {self.total} ({by_outcome})", ""))
        if self.causes:
            out.append(("  failures by cause:", ""))
            for cause, n in self.by_cause():
                out.append((f"    {n:>6}  {cause}", "yellow"))
            out.append(("  servers with the most failures (first failing frame, stream):", ""))
            for server, n, frame, label, _ in self.top_servers():
                out.append((f"    {n:>6}  {server}  frame {frame}, {label}", ""))
            if len(self.servers) > TOP_SERVERS:
                out.append((f"    … and {len(self.servers) - TOP_SERVERS} more server(s)", "dim"))
            if self.untracked_failures:
                out.append((f"    … and {self.untracked_failures} failure(s) at other servers (more than "
                            f"{MAX_SERVERS} servers failed: only the first {MAX_SERVERS} are told apart)", "dim"))
        return out
