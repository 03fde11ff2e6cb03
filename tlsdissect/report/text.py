"""Terminal rendering of a report with rich: failures first and in full, successes compact.

Every line goes out as plain characters (a rich Text, never console markup) through
:func:`tlsdissect.report.safe.shown`: a capture's strings can neither steer the terminal, nor
start a line, nor be read as markup (``[bold]`` in a server name) or an emoji code."""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Console
from rich.text import Text

from tlsdissect.report import story
from tlsdissect.report.safe import VALUE_LIMIT, shown
from tlsdissect.report.summary import counted
from tlsdissect.results.model import Connection, Report
from tlsdissect.results.outcome import outcome_of

_ORDER = {"failed": 0, "incomplete": 1, "not_tls": 2, "established": 3}
# Who sent a timeline event, as an arrow from the sender to the receiver with the client on the
# left and the server on the right, as in the ladder diagram (-v).
_DIRECTION = {"client": "client → server", "server": "client ← server"}


def render_report(report: Report, *, verbose: bool = False, color: bool = True,
                  console: Optional[Console] = None) -> None:
    con = console or Console(no_color=not color, highlight=False, soft_wrap=True)
    conns = sorted(report.connections, key=lambda c: (_ORDER.get(outcome_of(c), 9), c.stream))
    counts: dict[str, int] = {}
    for c in (*conns, *report.quic, *report.dtls):
        o = outcome_of(c)
        counts[o] = counts.get(o, 0) + 1
    render_header(con, report, counts)
    for c in conns:
        render_connection(con, c, verbose=verbose, blank_before=True)


def order_of(outcome: str) -> int:
    """Where connections with this outcome go in the listing: failures first."""
    return _ORDER.get(outcome, 9)


def render_header(con: Console, report: Report, counts: dict[str, int]) -> None:
    """The capture line (counts by outcome: the connections', the QUIC handshakes' and the DTLS
    associations' together, as the exit status and ``failures()`` count them) and its warnings;
    ``report.connections`` is not read, ``report.quic`` and ``report.dtls`` only counted."""
    con.print(Text.assemble((shown(report.capture), "bold"),
                            f": {report.frames} frames, " + counted(len(report.quic), len(report.dtls), counts)))
    if report.truncated:
        con.print(Text(shown(f"warning: {report.truncation_reason}; results are partial"), style="yellow"))
    for w in report.warnings:
        con.print(Text(shown(f"warning: {w}"), style="yellow"))


def render_lines(con: Console, lines: list[tuple[str, str]]) -> None:
    """Plain lines (text, style) such as the summary's, each through ``shown``."""
    for text, style in lines:
        con.print(Text(shown(text), style=style or ""))


def _head(con: _Lines, c: Connection, outcome: str) -> None:
    mark, style = {"failed": ("✗", "bold red"), "incomplete": ("?", "bold yellow"),
                   "not_tls": ("•", "bold magenta"), "established": ("✓", "bold green")}.get(outcome, ("?", "bold"))
    stream = f"stream {c.stream}" if c.transport == "tcp" else f"{c.transport}.stream {c.stream}"  # (OpenVPN over UDP)
    parts: list[tuple[str, Optional[str]]] = [(f"{mark} {stream}  ", style), (f"{c.client} → {c.server}", None)]
    if c.server_name:
        parts.append((f"  {shown(c.server_name, VALUE_LIMIT)}", "cyan"))
    if c.version:
        parts.append((f"  {c.version}", None))
    if c.cipher:
        parts.append((f"  {c.cipher}", "dim"))
    if c.alpn:
        parts.append((f"  {shown(c.alpn, VALUE_LIMIT)}", "dim"))
    if c.resumed:
        parts.append(("  resumed", "dim"))
    parts.append((f"  {outcome.upper().replace('_', ' ')}", style))
    con.assembled(parts)


class _Lines:
    """Collects what the render helpers print, so that a connection goes to the console in one
    ``print`` call: rich's per-call overhead (console size, options) was most of the text view's
    time on captures of many connections. Every piece of text passes :func:`shown` here, the
    one way in.

    For a console without colour (``plain``) each line is kept as the characters rich would
    print for it, and no rich Text is made: with a Text per line, made only to read its
    characters back, the text view of bench's handshakes-50M took 28.6 % more instructions
    (tests/test_render_plain.py holds the two paths equal)."""

    def __init__(self, plain: bool) -> None:
        self.items: list[Any] = []
        self.plain = plain

    def blank(self) -> None:
        """An empty line."""
        self.items.append("")

    def styled(self, text: str, style: str = "") -> None:
        """``print(Text(text, style=style))``: text taken as it is (no markup)."""
        text = shown(text)
        self.items.append(text if self.plain else Text(text, style=style))

    def assembled(self, parts: list[tuple[str, Optional[str]]]) -> None:
        """A line of differently styled pieces: ``Text().append(text, style)`` for each."""
        if self.plain:
            self.items.append("".join([shown(text) for text, _ in parts]))
            return
        t = Text()
        for text, style in parts:
            t.append(shown(text), style=style)
        self.items.append(t)


def render_connection(real: Console, c: Connection, *, verbose: bool = False, blank_before: bool = False) -> None:
    real.print(*_connection_items(c, verbose, blank_before, False), sep="\n")


def connection_text(real: Console, c: Connection, *, verbose: bool = False, blank_before: bool = False) -> str:
    """What ``render_connection`` prints on ``real``, as a string. Without colour (output to a
    file or a pipe) the text is put together here: rich would only lay out and strip the
    styles again, and that was half the text view's time on a big capture."""
    if real.color_system is None:
        # ``print(*items, sep="\n")`` on a console without colour, soft-wrapped: the lines as
        # they are (shown() left no tab to expand nor control code to strip).
        return "\n".join(_connection_items(c, verbose, blank_before, True)) + "\n"
    items = _connection_items(c, verbose, blank_before, False)
    with real.capture() as cap:
        real.print(*items, sep="\n")
    return cap.get()


def _connection_items(c: Connection, verbose: bool, blank_before: bool, plain: bool) -> list[Any]:
    """The connection's lines: rich renderables, or (``plain``) the characters of each line."""
    con = _Lines(plain)
    if blank_before:
        con.blank()
    outcome = outcome_of(c)
    _head(con, c, outcome)
    _render_body(con, c, outcome, verbose)
    return con.items


def _render_body(con: _Lines, c: Connection, outcome: str, verbose: bool) -> None:
    diag = c.diagnosis
    if outcome == "established":
        for text, style in story.warnings(c):
            con.styled("    " + text, style)
        if not verbose:
            _dropped_note(con, c)
            return
    if diag is not None:
        _render_diagnosis(con, c, diag)
    else:
        if c.not_tls:
            con.styled(f"    not TLS: looks like {c.not_tls}")
        for a in c.alerts:
            if a.code is not None:
                con.styled(f"    alert from {a.sender} (frame {a.frame}): {a.level} {a.name} ({a.hex})")
            else:
                con.styled(f"    encrypted alert from {a.sender} (frame {a.frame})")
    _lines(con, story.starttls_line(c))
    if verbose:
        if c.server_hello is None and c.client_hello is not None:
            _lines(con, story.client_offer(c))
        _lines(con, story.chain_tree(c))
        _lines(con, story.fingerprint_lines(c))
        _lines(con, story.ladder(c, _event_text))
    elif outcome != "established":
        _render_timeline(con, c, full=False)
    _dropped_note(con, c)


def _dropped_note(con: _Lines, c: Connection) -> None:
    """Which of the connection's lists were shortened (docs/limits.md): only their first
    entries are shown and in the JSON."""
    dropped = c.extra.get("dropped")
    if dropped:
        parts = ", ".join(f"{n:,} {what.replace('_', ' ')}" for what, n in dropped.items())
        con.styled(f"    lists shortened: {parts} not kept beyond the first (docs/limits.md)", "yellow")


def _lines(con: _Lines, lines: list[story.Line]) -> None:
    for text, style in lines:
        con.styled("    " + text, style)


def _render_diagnosis(con: _Lines, c: Connection, diag: Any) -> None:
    verdict = getattr(diag, "verdict", None)
    if verdict:
        con.styled("    " + verdict, "bold")
    evidence: list[tuple[Any, str]] = [
        (ev.get("frames"), str(ev.get("text"))) if isinstance(ev, dict)
        else (getattr(ev, "frames", []), str(getattr(ev, "text", ev)))
        for ev in getattr(diag, "evidence", None) or []]
    explanation = story.explanation_beside(getattr(diag, "explanation", None) or "", [t for _, t in evidence])
    if explanation:
        con.styled("    " + explanation)
    cause = getattr(diag, "cause", None)
    if cause and cause != "ok":
        conf = getattr(diag, "confidence", "")
        alts = getattr(diag, "alternatives", None) or []
        line = f"    cause: {cause} ({conf})"
        if alts:
            line += "; also possible: " + ", ".join(alts)
        con.styled(line, "yellow")
    for frames, text in evidence:
        where = f"frame {', '.join(map(str, frames))}: " if frames else ""
        con.styled(f"      - {where}{text}", "dim")
    for h in getattr(diag, "hidden", None) or []:
        con.styled(f"    hidden: {h}", "dim")
    remedy = getattr(diag, "remedy", None)
    if remedy:
        lines = remedy if isinstance(remedy, list) else [remedy]
        for i, r in enumerate(lines):
            con.styled(("    fix: " if i == 0 else "         ") + str(r), "green")
    check = getattr(diag, "check_command", None)
    if check:
        con.styled(f"    check: {check}", "green")
    else:
        withheld = getattr(diag, "check_command_withheld", None)
        if withheld:
            con.styled(f"    check: none suggested, {withheld}", "yellow")
    con.styled(f"    wireshark: {c.wireshark_filter}", "dim")


_event_text = story.event_label


def _render_timeline(con: _Lines, c: Connection, *, full: bool) -> None:
    events = c.events if full else c.events[-14:]
    if len(events) < len(c.events):
        con.styled(f"    … {len(c.events) - len(events)} earlier events", "dim")
    for e in events:
        con.styled(f"    {e.frame:>6}  {_DIRECTION.get(e.sender, e.sender)}  {_event_text(e)}", "dim")
