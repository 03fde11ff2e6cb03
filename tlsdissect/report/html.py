"""The HTML report: one self-contained page (``tlsdissect --html report.html capture.pcap``,
``Report.to_html()``, :func:`render`) made to be attached to a ticket.

What it holds is what the text view says, drawn from the same data: the summary
(``summary.Summary``), then each connection, failures first, with its verdict, cause, who
aborted, failure point, confidence, explanation, evidence with frame numbers, what is hidden
without keys, remedy and check command, the warnings on a connection that worked, what a
refused client offered, the certificate chains (``story``) and the ladder diagram as inline SVG
(``ladder_svg``). A big capture lists its failures and counts the rest, as the text view does.

The page loads nothing: the CSS is inline, there is no script and no font, and a
Content-Security-Policy forbids both should anything slip in. Capture data is untrusted: every
string from it goes through ``safe.html_escaped`` (the text view's escaping of controls and bidi
characters, then HTML entities), so it is text in an element or a quoted attribute value, never
markup, an attribute, a URL or a script. Attributes and ids the page makes itself are built from
numbers and fixed words only.

Connections are rendered as they arrive (:class:`HtmlReport`) and parked in a temporary file,
so a capture of any size costs memory for its summary counters only.
"""

from __future__ import annotations

import tempfile
from array import array
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Optional, Union

from tlsdissect.report import story
from tlsdissect.report.ladder_svg import ladder_svg
from tlsdissect.report.safe import VALUE_LIMIT, html_escaped as esc
from tlsdissect.report.html_udp import udp_html, udp_index_row
from tlsdissect.report.summary import BIG_CAPTURE, Summary, counted, where
from tlsdissect.results.model import HTML_VIEWS, Connection, Report
from tlsdissect.results.outcome import outcome_of

# Where connections of each outcome go: failures first (as in the text view).
ORDER = {"failed": 0, "incomplete": 1, "not_tls": 2, "established": 3}
_MARKS = {"failed": "✗", "incomplete": "?", "not_tls": "•", "established": "✓"}
SHOW_CHOICES = ("auto", "all", "failed")
DEFAULT_HINT = "--show all (tlsdissect) or to_html(show=\"all\") (Python) lists every connection"

CSS = """
:root { color-scheme: light; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; color: #212121;
       margin: 1.5em auto; max-width: 1100px; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #455a64; padding-bottom: .2em; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin: 0 0 .4em; }
h4 { font-size: .95em; margin: .9em 0 .3em; color: #37474f; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em; }
pre { background: #f5f5f5; border: 1px solid #e0e0e0; padding: .5em; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #cfd8dc; padding: .2em .5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eceff1; }
table.facts th { width: 11em; }
.meta { color: #546e7a; }
.conn, .handshake { border: 1px solid #cfd8dc; border-left: 6px solid #90a4ae; padding: .7em 1em; margin: 1.2em 0; }
.conn.failed, .handshake.failed { border-left-color: #c62828; }
.conn.incomplete, .handshake.incomplete { border-left-color: #ef6c00; }
.conn.not_tls { border-left-color: #6a1b9a; }
.conn.established, .handshake.established { border-left-color: #2e7d32; }
.badge { display: inline-block; padding: 0 .45em; border-radius: 3px; color: #fff; font-weight: bold; }
.badge.failed { background: #c62828; } .badge.incomplete { background: #ef6c00; }
.badge.not_tls { background: #6a1b9a; } .badge.established { background: #2e7d32; }
.verdict { font-weight: bold; font-size: 1.05em; }
.warn, .warnings li { color: #e65100; }
.bad { color: #c62828; font-weight: bold; }
.frames { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; color: #37474f; white-space: nowrap; }
.remedy li { color: #1b5e20; }
figure { margin: .5em 0; overflow-x: auto; }
svg.ladder { max-width: 100%; height: auto; }
@page { margin: 12mm; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
  .conn, .handshake { break-inside: auto; }
  h2, h3, h4 { break-after: avoid; }
  figure, table.facts, tr { break-inside: avoid; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def package_version() -> str:
    """The installed tlsdissect's version, for the page's title."""
    try:
        from importlib.metadata import version

        return version("tlsdissect")
    except Exception:  # not installed (run from a checkout)
        return "unknown"


@dataclass
class _Section:
    """One capture's part of the page: its counters and where its connections are parked."""

    number: int
    show: str
    summary: Summary = field(default_factory=Summary)
    # Per listed connection: group, stream, and where its index row and its section are in the spool
    # (offset, the row's length, the section's length): five compact integer arrays.
    index: list[array[int]] = field(default_factory=lambda: [array("q") for _ in range(5)])
    head: Optional[Report] = None
    error: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    stopped: bool = False
    # The QUIC handshakes and DTLS associations (few: kept here, all listed), as (order, first
    # frame, index row, section); counted in ``summary`` too, and how many of them established.
    udp: list[tuple[int, int, str, str]] = field(default_factory=list)
    udp_established: int = 0
    quic: int = 0
    dtls: int = 0

    @property
    def listing(self) -> str:
        """all or failed: which connections the page lists (``auto`` decided by the count)."""
        if self.show == "auto":
            return "failed" if self.summary.total - len(self.udp) > BIG_CAPTURE else "all"
        return self.show

    def anchor(self, stream: Union[int, str]) -> str:
        """A connection's anchor (its stream), or a UDP handshake's (summary.where's key)."""
        return f"c{self.number}-{stream}"


class HtmlReport:
    """The page, built one capture and one connection at a time::

        page = HtmlReport(show="auto")
        page.start()
        for conn in connections:
            page.add(conn)
        page.finish(report_header)   # a Report whose ``connections`` are not read
        page.write(file)
        page.close()
    """

    def __init__(self, *, show: str = "auto", version: Optional[str] = None, hint: str = DEFAULT_HINT) -> None:
        if show not in SHOW_CHOICES:
            raise ValueError(f"show must be one of {', '.join(SHOW_CHOICES)}, not {show!r}")
        self.show = show
        self.version = version or package_version()
        self.hint = hint
        self.sections: list[_Section] = []
        self.spool = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b")
        self.size = 0

    def __enter__(self) -> "HtmlReport":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.spool.close()

    def start(self) -> None:
        """A new capture: the connections added next are its own."""
        self.sections.append(_Section(len(self.sections), self.show))

    def add(self, conn: Connection) -> None:
        """Count ``conn`` and render it (unless the page will not list it)."""
        section = self.sections[-1]
        outcome = section.summary.add(conn)
        if outcome == "established" and section.listing == "failed":
            return  # (a big capture: established connections are counted, not listed)
        anchor = section.anchor(conn.stream)
        row = index_row(conn, anchor, outcome).encode("utf-8", "surrogateescape")
        data = connection_html(conn, anchor).encode("utf-8", "surrogateescape")
        self.spool.write(row)
        self.spool.write(data)
        for arr, value in zip(section.index, (ORDER.get(outcome, 9), conn.stream, self.size, len(row), len(data))):
            arr.append(value)
        self.size += len(row) + len(data)

    def add_udp(self, handshake: Any) -> None:
        """Count a QUIC handshake or DTLS association and render it (html_udp): every one is listed."""
        section = self.sections[-1]
        outcome = section.summary.add(handshake)
        section.udp_established += outcome == "established"
        section.quic += handshake.protocol == "quic"
        section.dtls += handshake.protocol == "dtls"
        anchor = section.anchor(where(handshake)[1])
        section.udp.append((ORDER.get(outcome, 9), handshake.first_frame, udp_index_row(handshake, anchor, outcome),
                            udp_html(handshake, anchor, _diagnosis)))

    def finish(self, head: Report, notes: Iterable[str] = (), stopped: bool = False) -> None:
        """The capture's header facts (name, frames, truncation, warnings), once it is read."""
        section = self.sections[-1]
        section.head = head
        section.notes = list(notes)
        section.stopped = stopped

    def error(self, capture: str, message: str) -> None:
        """A file that could not be read: its section says why."""
        self.start()
        self.sections[-1].error = message
        self.sections[-1].head = Report(capture=capture)

    def write(self, out: IO[str]) -> None:
        """The whole page."""
        names = [s.head.capture if s.head is not None else "?" for s in self.sections]
        title = f"TLS report: {names[0] if names else 'no capture'}"
        if len(names) > 1:
            title += f" and {len(names) - 1} more capture(s)"
        title += f" — tlsdissect {self.version}"
        out.write('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                  f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
                  '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                  f'<meta name="generator" content="tlsdissect {esc(self.version)}">\n'
                  f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n")
        out.write(f"<header>\n<h1>{esc(title)}</h1>\n")
        out.write(f'<p class="meta">Made by tlsdissect {esc(self.version)} from '
                  + ", ".join(f"<code>{esc(n)}</code>" for n in names)
                  + ". Frame numbers are Wireshark's; stream N is Wireshark's <code>tcp.stream eq N</code> (<code>udp.stream eq N</code> for a QUIC or DTLS handshake).</p>\n")
        if len(self.sections) > 1:
            out.write(_overall(self.sections))
        out.write("</header>\n")
        for section in self.sections:
            self._write_section(out, section)
        out.write("</body>\n</html>\n")

    def _write_section(self, out: IO[str], section: _Section) -> None:
        head = section.head if section.head is not None else Report(capture="?")
        out.write(f'<section class="capture" id="capture-{section.number}">\n<h2>{esc(head.capture)}</h2>\n')
        if section.error is not None:
            out.write(f'<p class="bad">Not analysed: {esc(section.error)}</p>\n</section>\n')
            return
        out.write(_capture_facts(head, section))
        out.write(_summary_html(section))
        group, stream, offset, row_length, length = section.index
        hidden = ORDER["established"] if section.listing == "failed" else None
        order = [i for i in sorted(range(len(group)), key=lambda i: (group[i], stream[i], i)) if group[i] != hidden]
        if order:
            out.write('<h3>Connections</h3>\n<table class="index"><tr><th>stream</th><th>outcome</th><th>client → server'
                      "</th><th>server name</th><th>version</th><th>cause</th><th>first frame</th></tr>\n")
            for i in order:
                self.spool.seek(offset[i])
                out.write(self.spool.read(row_length[i]).decode("utf-8", "surrogateescape"))
            out.write("</table>\n")
        for i in order:
            self.spool.seek(offset[i] + row_length[i])
            out.write(self.spool.read(length[i]).decode("utf-8", "surrogateescape"))
        if section.udp:
            listed = sorted(section.udp, key=lambda u: (u[0], u[1]))
            out.write('<h3>QUIC and DTLS handshakes</h3>\n<table class="index udp"><tr><th>udp.stream</th>'
                      "<th>protocol</th><th>outcome</th><th>client → server</th><th>server name</th><th>version</th>"
                      "<th>cause</th><th>first frame</th></tr>\n" + "".join(u[2] for u in listed) + "</table>\n")
            out.write("".join(u[3] for u in listed))
        established = section.summary.outcomes.get("established", 0) - section.udp_established
        not_listed = established if section.listing == "failed" else 0
        if not_listed:
            out.write(f'<p class="meta">{not_listed} established connection(s) not listed: {esc(self.hint)}.</p>\n')
        out.write("</section>\n")


def _capture_facts(head: Report, section: _Section) -> str:
    s = section.summary
    out = [f"<p>{head.frames} frames, {esc(counted(section.quic, section.dtls, s.outcomes))}</p>"]
    if head.truncated:
        out.append(f'<p class="warn">warning: {esc(head.truncation_reason)}; results are partial</p>')
    if section.stopped:
        out.append('<p class="warn">warning: stopped before the end of the capture; results are partial</p>')
    for w in list(head.warnings) + section.notes:
        out.append(f'<p class="warn">warning: {esc(w)}</p>')
    return "\n".join(out) + "\n"


def _summary_html(section: _Section) -> str:
    """Connections by outcome and by cause, and the servers with the most failures, each
    linked to its first failing connection."""
    s = section.summary
    if not s.total:
        return ""
    out = ['<h3>Summary</h3>\n<table class="summary outcomes"><tr><th>outcome</th><th>connections</th></tr>']
    for outcome, n in s.by_outcome():
        out.append(f'<tr><td><span class="badge {esc(outcome)}">{esc(outcome.replace("_", " "))}</span></td>'
                   f"<td>{n}</td></tr>")
    out.append("</table>")
    if s.causes:
        out.append('<table class="summary causes"><tr><th>failures by cause</th><th>connections</th></tr>')
        for cause, n in s.by_cause():
            out.append(f"<tr><td><code>{esc(cause)}</code></td><td>{n}</td></tr>")
        out.append("</table>")
        out.append('<table class="summary servers"><tr><th>server with the most failures</th><th>failures</th>'
                   "<th>first failing frame</th><th>stream</th></tr>")
        for server, n, frame, label, key in s.top_servers():
            out.append(f"<tr><td>{esc(server)}</td><td>{n}</td><td>{frame}</td>"
                       f'<td><a href="#{section.anchor(key)}">{esc(label)}</a></td></tr>')
        out.append("</table>")
        if len(s.servers) > len(s.top_servers()):
            out.append(f'<p class="meta">… and {len(s.servers) - len(s.top_servers())} more server(s)</p>')
    return "\n".join(out) + "\n"


def _overall(sections: list[_Section]) -> str:
    """Across several captures: one row per capture (linked to its section) and the totals."""
    out = ['<table class="summary captures"><tr><th>capture</th><th>connections</th><th>failed</th>'
           "<th>incomplete</th><th>not TLS</th><th>established</th></tr>"]
    totals = [0, 0, 0, 0, 0]
    for s in sections:
        name = s.head.capture if s.head is not None else "?"
        o = s.summary.outcomes
        row = [s.summary.total] + [o.get(k, 0) for k in ("failed", "incomplete", "not_tls", "established")]
        totals = [a + b for a, b in zip(totals, row)]
        cells = "".join(f"<td>{n}</td>" for n in row) if s.error is None else '<td colspan="5" class="bad">not analysed</td>'
        out.append(f'<tr><td><a href="#capture-{s.number}">{esc(name)}</a></td>{cells}</tr>')
    out.append("<tr><th>all captures</th>" + "".join(f"<th>{n}</th>" for n in totals) + "</tr></table>")
    return "\n".join(out) + "\n"


def _get(obj: Any, key: str) -> Any:
    """A field of a diagnosis or of its alert, which may be an object or a dict."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def index_row(c: Connection, anchor: str, outcome: str) -> str:
    """The connection's row in the capture's table of connections, linked to its section."""
    cause = _get(c.diagnosis, "cause")
    return (f'<tr><td><a href="#{anchor}">{c.stream}</a></td>'
            f'<td><span class="badge {esc(outcome)}">{esc(outcome.replace("_", " "))}</span></td>'
            f"<td>{esc(c.client)} → {esc(c.server)}</td><td>{esc(c.server_name or '', VALUE_LIMIT)}</td>"
            f"<td>{esc(c.version or '')}</td><td>{f'<code>{esc(cause)}</code>' if cause else ''}</td>"
            f"<td>{c.first_frame}</td></tr>\n")


def connection_html(c: Connection, anchor: str) -> str:
    """One connection's section: the head line, the diagnosis, the warnings, the client's
    offer, the certificate chains and the ladder."""
    outcome = outcome_of(c)
    out = [f'<section class="conn {esc(outcome)}" id="{anchor}">', _head(c, outcome)]
    diag = c.diagnosis
    if diag is not None:
        out.append(_diagnosis(diag, c.wireshark_filter))
    else:
        out.append(_undiagnosed(c))
    warnings = story.warning_texts(c) if outcome == "established" else []  # (a failure's are its evidence)
    if warnings:
        out.append('<h4>Warnings</h4>\n<ul class="warnings">'
                   + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>")
    if c.server_hello is None and c.client_hello is not None:
        out.append(_offer(c))
    out.append(_chains(c))
    svg = ladder_svg(c)
    if svg:
        out.append(f"<h4>Ladder diagram (stream {c.stream})</h4>\n<figure>\n{svg}\n</figure>")
    out.append("</section>\n")
    return "\n".join(x for x in out if x)


def _head(c: Connection, outcome: str) -> str:
    parts = [f"stream {c.stream}", f"{esc(c.client)} → {esc(c.server)}"]
    if c.server_name:
        parts.append(f'<span class="sni">{esc(c.server_name, VALUE_LIMIT)}</span>')
    for value in (c.version, c.cipher):
        if value:
            parts.append(esc(value))
    if c.alpn:
        parts.append(f"ALPN {esc(c.alpn, VALUE_LIMIT)}")
    if c.resumed:
        parts.append("resumed")
    return (f'<h3><span class="badge {esc(outcome)}">{_MARKS.get(outcome, "?")} {esc(outcome.upper().replace("_", " "))}'
            f"</span> " + " · ".join(parts) + "</h3>")


def _diagnosis(diag: Any, wireshark_filter: str) -> str:
    """A verdict (a connection's Diagnosis, a QUIC or DTLS handshake's UdpDiagnosis: read by field
    name) with its facts, evidence, what is hidden and the fix."""
    out = []
    verdict = _get(diag, "verdict")
    if verdict:
        out.append(f'<p class="verdict">{esc(verdict)}</p>')
    if _get(diag, "explanation"):
        out.append(f'<p class="explanation">{esc(_get(diag, "explanation"))}</p>')
    out.append(_facts(diag, wireshark_filter))
    evidence = _get(diag, "evidence") or []
    if evidence:
        items = []
        for ev in evidence:
            frames = _get(ev, "frames") or []
            where = f'<span class="frames">frame {", ".join(str(int(f)) for f in frames)}</span>: ' if frames else ""
            items.append(f"<li>{where}{esc(str(_get(ev, 'text') or ''))}</li>")
        out.append('<h4>Evidence</h4>\n<ul class="evidence">' + "".join(items) + "</ul>")
    hidden = _get(diag, "hidden") or []
    if hidden:
        out.append('<h4>Hidden without the keys</h4>\n<ul class="hidden">'
                   + "".join(f"<li>{esc(str(h))}</li>" for h in hidden) + "</ul>")
    remedy = _get(diag, "remedy") or []
    if remedy:
        remedy = remedy if isinstance(remedy, list) else [remedy]
        out.append('<h4>Fix</h4>\n<ul class="remedy">' + "".join(f"<li>{esc(str(r))}</li>" for r in remedy) + "</ul>")
    check = _get(diag, "check_command")
    if check:
        out.append(f'<h4>Check the fix</h4>\n<pre class="check">{esc(check)}</pre>')
    elif _get(diag, "check_command_withheld"):
        out.append(f'<h4>Check the fix</h4>\n<p class="warn">none suggested, {esc(_get(diag, "check_command_withheld"))}</p>')
    return "\n".join(out)


def _facts(diag: Any, wireshark_filter: str) -> str:
    """The diagnosis's fields as a two-column table; each value cell is classed by its field."""
    rows: list[tuple[str, str, str]] = []
    cause = _get(diag, "cause")
    if cause:
        conf = _get(diag, "confidence")
        rows.append(("cause", "cause", f"<code>{esc(cause)}</code>" + (f" ({esc(conf)})" if conf else "")))
        if conf:
            rows.append(("confidence", "confidence", esc(conf)))
    alts = _get(diag, "alternatives") or []
    if alts:
        rows.append(("also possible", "alternatives", ", ".join(f"<code>{esc(a)}</code>" for a in alts)))
    who, how = _get(diag, "aborted_by"), _get(diag, "how")
    if who or how:
        rows.append(("aborted by", "aborted-by", esc(who or "?") + (f" ({esc(how.replace('_', ' '))})" if how else "")))
    if _get(diag, "failure_point"):
        rows.append(("failure point", "failure-point", esc(_get(diag, "failure_point").replace("_", " "))))
    alert = _get(diag, "alert")
    if alert:
        name, hexcode, frame = _get(alert, "name"), _get(alert, "hex"), _get(alert, "frame")
        text = " ".join(esc(str(x)) for x in (_get(alert, "level"), name or "encrypted alert", hexcode and f"({hexcode})") if x)
        sender = _get(alert, "sender")
        if sender:
            text += f" from the {esc(sender)}"
        if frame is not None:
            text += f' in <span class="frames">frame {int(frame)}</span>'
        rows.append(("alert", "alert", text))
    rows.append(("Wireshark filter", "filter", f"<code>{esc(wireshark_filter)}</code>"))
    return ('<table class="facts">' + "".join(f'<tr><th>{k}</th><td class="{cls}">{v}</td></tr>' for k, cls, v in rows)
            + "</table>")


def _undiagnosed(c: Connection) -> str:
    out = []
    if c.not_tls:
        out.append(f"<p>not TLS: looks like {esc(c.not_tls)}</p>")
    for a in c.alerts:
        if a.code is not None:
            out.append(f"<p>alert from {esc(a.sender)} (frame {a.frame}): {esc(str(a.level))} {esc(str(a.name))} "
                       f"({esc(str(a.hex))})</p>")
        else:
            out.append(f"<p>encrypted alert from {esc(a.sender)} (frame {a.frame})</p>")
    out.append(f'<table class="facts"><tr><th>Wireshark filter</th><td class="filter"><code>'
               f"{esc(c.wireshark_filter)}</code></td></tr></table>")
    return "\n".join(out)


def _offer(c: Connection) -> str:
    o = story.offer(c)
    if o is None:
        return ""
    rows = [("versions", o.versions), (f"cipher suites ({len(o.suites)})", o.suites),
            (f"groups ({len(o.groups)})", o.groups), ("key shares", o.shares),
            (f"signature schemes ({len(o.schemes)})", o.schemes), ("ALPN", o.alpn),
            ("server name", [o.server_name] if o.server_name else [])]
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(', '.join(v))}</td></tr>" for k, v in rows if v)
    return f'<h4>What the client offered</h4>\n<table class="facts offer">{body}</table>'


_STATUS = {"valid": ("valid at the capture's time", ""), "expired": ("EXPIRED at the capture's time", "bad"),
           "not_yet_valid": ("NOT YET VALID at the capture's time", "bad")}


def _chains(c: Connection) -> str:
    out = []
    for chain in story.chains(c):
        trust = f", trust: {esc(chain.trust)}" if chain.trust else ""
        out.append(f"<h4>{chain.role.capitalize()} certificates ({len(chain.certs)} sent{trust})</h4>")
        out.append(f'<table class="chain {chain.role}"><tr><th>#</th><th>subject</th><th>issuer</th>'
                   "<th>validity</th><th>names</th><th>key</th></tr>")
        for cert in chain.certs:
            if cert.parse_error is not None:
                out.append(f'<tr><td>{cert.index}</td><td colspan="5" class="bad">unparsable: '
                           f"{esc(cert.parse_error)}</td></tr>")
                continue
            note, cls = _STATUS.get(cert.status or "", ("", ""))
            validity = esc(cert.validity) + (f'<br><span class="{cls}">{note}</span>' if note else "")
            key = esc(cert.key or "?") + (f"<br>signed with {esc(cert.signature)}" if cert.signature else "")
            out.append(f"<tr><td>{cert.index}</td><td>{esc(cert.subject or '(empty subject)')}</td>"
                       f"<td>{esc(cert.issuer or '(empty)')}</td><td>{validity}</td>"
                       f"<td>{esc(', '.join(cert.names))}</td><td>{key}</td></tr>")
        out.append("</table>")
    return "\n".join(out)


def render(reports: Union[Report, Iterable[Report]], *, show: str = "auto", version: Optional[str] = None,
           hint: str = DEFAULT_HINT) -> str:
    """One or more analysed captures as one self-contained HTML page (a string).

    ``show``: "all" lists every connection, "failed" the ones not established, "auto" (default)
    all of them unless a capture has more than 100, then its summary and the ones not
    established (as the text view)."""
    import io

    items = [reports] if isinstance(reports, Report) else list(reports)
    with HtmlReport(show=show, version=version, hint=hint) as page:
        for report in items:
            page.start()
            for conn in report.connections:
                page.add(conn)
            for handshake in (*report.quic, *report.dtls):
                page.add_udp(handshake)
            page.finish(report)
        out = io.StringIO()
        page.write(out)
    return out.getvalue()


HTML_VIEWS["page"] = render
