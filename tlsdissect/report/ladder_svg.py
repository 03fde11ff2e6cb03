"""The ladder diagram as inline SVG, for the HTML report: the client's line on the left, the
server's on the right, one arrow per event in the direction its packet travelled, with its
frame number and its time since the connection's first event; alerts and resets in red.

It draws ``story.ladder_rows``, the rows the text view's ladder prints. Every string from the
capture (an address, a label quoting a server name) goes through ``safe.html_escaped``: it is
SVG text or an attribute's quoted value, never markup. The SVG references nothing (no
``url()``, no ``href``, no font): the arrowheads are polygons.
"""

from __future__ import annotations

from tlsdissect.report import story
from tlsdissect.report.safe import VALUE_LIMIT, html_escaped
from tlsdissect.results.model import Connection

WIDTH = 880
FRAME_X = 52  # right edge of the frame numbers
TIME_X = 128  # right edge of the times
CLIENT_X = 190
SERVER_X = 850
TOP = 64  # the first arrow's y
ROW = 26
LABEL_CHARS = 90  # a label longer than this is cut; the whole of it is the row's tooltip
MAX_ROWS = 400  # a longer timeline draws its first rows and says how many are left out

# The colour of an arrow and its label by the row's kind (story.LadderRow.kind).
_COLOURS = {"alert": "#c62828", "rst": "#c62828", "anomaly": "#e65100", "gap": "#e65100", "other": "#37474f"}


def ladder_svg(c: Connection) -> str:
    """The connection's ladder as one ``<svg>`` element ("" for a connection without events)."""
    rows = story.ladder_rows(c, story.event_label)
    if not rows:
        return ""
    left_out = max(0, len(rows) - MAX_ROWS)
    rows = rows[:MAX_ROWS]
    height = TOP + ROW * len(rows) + (ROW if left_out else 0) + 4
    client, server = html_escaped(c.client, VALUE_LIMIT), html_escaped(c.server, VALUE_LIMIT)
    parts = [
        f'<svg class="ladder" xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>ladder diagram of stream {c.stream}: client {client}, server {server}</title>",
        f'<text x="{FRAME_X}" y="18" text-anchor="end" font-weight="bold">frame</text>',
        f'<text x="{TIME_X}" y="18" text-anchor="end" font-weight="bold">time (s)</text>',
        f'<text class="client" x="{CLIENT_X}" y="18" text-anchor="middle" font-weight="bold">client</text>',
        f'<text class="server" x="{SERVER_X}" y="18" text-anchor="end" font-weight="bold">server</text>',
        f'<text x="{CLIENT_X}" y="34" text-anchor="middle">{client}</text>',
        f'<text x="{SERVER_X}" y="34" text-anchor="end">{server}</text>',
    ]
    bottom = height - 4
    for x in (CLIENT_X, SERVER_X):
        parts.append(f'<line x1="{x}" y1="42" x2="{x}" y2="{bottom}" stroke="#90a4ae" stroke-width="2"/>')
    for i, row in enumerate(rows):
        parts.append(_row(row, TOP + i * ROW))
    if left_out:
        y = TOP + len(rows) * ROW
        parts.append(f'<text x="{(CLIENT_X + SERVER_X) // 2}" y="{y}" text-anchor="middle" fill="#546e7a">'
                     f"… {left_out} more event(s) not drawn (the JSON lists every one)</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _row(row: story.LadderRow, y: int) -> str:
    """One arrow: its frame and time on the left, the arrow between the two lines, its label
    above it; an alert or a reset also gets a pale red band across the diagram."""
    colour = _COLOURS.get(row.kind, _COLOURS["other"])
    strong = row.kind in ("alert", "rst")
    from_client = row.sender == "client"
    x1, x2 = (CLIENT_X, SERVER_X) if from_client else (SERVER_X, CLIENT_X)
    tip = x2 - 10 if from_client else x2 + 10  # the arrowhead's base
    label = row.label if len(row.label) <= LABEL_CHARS else row.label[: LABEL_CHARS - 1] + "…"
    weight = ' font-weight="bold"' if strong else ""
    out = [f'<g class="row {row.kind} from-{"client" if from_client else "server"}">']
    out.append(f"<title>frame {row.frame}, {row.offset:.6f} s: {html_escaped(row.sender, VALUE_LIMIT)} sent "
               f"{html_escaped(row.label)}</title>")
    if strong:
        out.append(f'<rect x="0" y="{y - ROW + 6}" width="{WIDTH}" height="{ROW - 2}" fill="#fdecea"/>')
    out.append(f'<text class="frame" x="{FRAME_X}" y="{y + 4}" text-anchor="end"{weight}>{row.frame}</text>')
    out.append(f'<text class="time" x="{TIME_X}" y="{y + 4}" text-anchor="end" fill="#546e7a">{row.offset:.6f}</text>')
    out.append(f'<line x1="{x1}" y1="{y}" x2="{tip}" y2="{y}" stroke="{colour}" stroke-width="{2 if strong else 1.5}"/>')
    out.append(f'<polygon points="{x2},{y} {tip},{y - 5} {tip},{y + 5}" fill="{colour}"/>')
    out.append(f'<text class="label" x="{(CLIENT_X + SERVER_X) // 2}" y="{y - 5}" text-anchor="middle" '
               f'fill="{colour}"{weight}>{html_escaped(label)}</text>')
    out.append("</g>")
    return "".join(out)
