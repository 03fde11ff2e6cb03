"""Rich display in Jupyter: a report as a table, failures first, each with its verdict.

``Report._repr_html_`` and ``Connection._repr_html_`` call into here; nothing is imported
from IPython, so the library works the same outside notebooks. Every string goes through
:func:`escape`: capture data is shown as the text view shows it (controls and bidi overrides
escaped, long values cut) and can open no tag and leave no attribute.
"""

from __future__ import annotations

from typing import Any

from tlsdissect.report.safe import LINE_LIMIT, VALUE_LIMIT, html_escaped
from tlsdissect.report.story import explanation_beside
from tlsdissect.report.summary import Summary
from tlsdissect.results.model import HTML_VIEWS
from tlsdissect.results.outcome import outcome_of

_COLORS = {"failed": "#c62828", "incomplete": "#ef6c00", "not_tls": "#6a1b9a", "established": "#2e7d32"}


def escape(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as HTML element content or a quoted attribute value (safe.html_escaped)."""
    return html_escaped(text, limit)


def _outcome(conn: Any) -> str:
    return outcome_of(conn)


def connection_row(conn: Any) -> str:
    outcome = _outcome(conn)
    diag = conn.diagnosis
    verdict = escape(diag.verdict) if diag is not None else ""
    cause = escape(diag.cause) if diag is not None else ""
    color = _COLORS.get(outcome, "#333")
    return (
        f"<tr><td>{conn.stream}</td><td>{escape(conn.client)}</td><td>{escape(conn.server)}</td>"
        f"<td>{escape(conn.server_name or '', VALUE_LIMIT)}</td><td>{escape(conn.version or '')}</td>"
        f"<td style='color:{color};font-weight:bold'>{escape(outcome)}</td><td>{cause}</td>"
        f"<td>{verdict}</td></tr>"
    )


_HEAD = ("<tr><th>stream</th><th>client</th><th>server</th><th>SNI</th><th>version</th>"
         "<th>outcome</th><th>cause</th><th>verdict</th></tr>")


def summary_html(connections: Any) -> str:
    """The command line's summary (report.summary: connections by outcome, failures by cause,
    the servers with the most failures) as HTML; empty for fewer than SUMMARY_FROM connections."""
    summary = Summary()
    for c in connections:
        summary.add(c)
    lines = summary.lines()
    if not lines:
        return ""
    items = "".join(f"<div style='white-space:pre;font-family:monospace'>{escape(text)}</div>" for text, _ in lines)
    return f"<div style='margin:0.5em 0'>{items}</div>"


def report_html(report: Any, limit: int = 200) -> str:
    order = {"failed": 0, "incomplete": 1, "not_tls": 2, "established": 3}
    conns = sorted(report.connections, key=lambda c: (order.get(_outcome(c), 9), c.stream))
    rows = "".join(connection_row(c) for c in conns[:limit])
    more = f"<p>… and {len(conns) - limit} more connections</p>" if len(conns) > limit else ""
    warn = f"<p style='color:#ef6c00'>{escape(report.truncation_reason)}; results are partial</p>" if report.truncated else ""
    return (f"<div><b>{escape(report.capture)}</b>: {report.frames} frames, {len(conns)} TLS connection(s)"
            f"{warn}{summary_html(conns)}<table>{_HEAD}{rows}</table>{more}</div>")


def connection_html(conn: Any) -> str:
    diag = conn.diagnosis
    parts = [f"<table>{_HEAD}{connection_row(conn)}</table>"]
    if diag is not None and diag.cause != "ok":
        explanation = explanation_beside(diag.explanation, [e.text for e in diag.evidence])
        if explanation:
            parts.append(f"<p>{escape(explanation)}</p>")
        if diag.evidence:
            items = "".join(f"<li>frames {', '.join(map(str, e.frames))}: {escape(e.text)}</li>" for e in diag.evidence)
            parts.append(f"<ul>{items}</ul>")
        if diag.remedy:
            parts.append("<p><b>Fix:</b> " + "<br>".join(escape(r) for r in diag.remedy) + "</p>")
    events = "".join(
        f"<tr><td>{e.frame}</td><td>{escape(e.sender)}</td><td>{escape(e.type)}</td>"
        f"<td>{escape(str(e.info.get('message') or e.info.get('name') or e.info.get('content_type') or ''), VALUE_LIMIT)}</td></tr>"
        for e in conn.events
    )
    parts.append(f"<details><summary>timeline ({len(conn.events)} events)</summary><table>{events}</table></details>")
    return "<div>" + "".join(parts) + "</div>"


HTML_VIEWS["connection"] = connection_html
HTML_VIEWS["report"] = report_html
