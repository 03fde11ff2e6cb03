"""Capture data made safe to show: nothing a view prints from a capture can steer the terminal,
reorder what the analyst reads, start a line of its own, or fill the screen.

A capture is written by whoever sent its packets. A server name, a certificate name, an ALPN
string or an HTTP line can hold ESC sequences (clear the screen, set the window title, plant an
OSC-8 link), C1 controls, carriage returns and newlines (a forged line such as ``FAKE: Handshake
OK`` that looks like ours), or Unicode bidi overrides. rich's ``strip_control_codes`` removes
only five codes, so every view (text, notebook HTML, the CLI's messages) passes what it prints
through :func:`shown`. The JSON does not: it is data, and keeps every string exactly.

Every character that ``str.isprintable()`` rejects is shown as its Python escape (``\\x1b``,
``\\x85``, ``\\u202e``, ``\\n``): that is C0 and C1 controls, DEL, the line and paragraph
separators, and every format character (the bidi controls U+202A-U+202E, U+2066-U+2069,
U+200E/U+200F, U+061C, and the zero-width ones). The test is one C loop, so the common line,
printable and short, is returned as it is. A backslash already in the data is left alone: the
JSON tells the two apart where it matters.
"""

from __future__ import annotations

import html

# A value shown on its own (a server name, an ALPN string, a field of a timeline event): a DNS
# name has at most 253 characters, so a valid one is never cut.
VALUE_LIMIT = 256
# A whole line (an explanation or an evidence sentence quoting certificate names): the longest
# line of the bundled and shared captures' text views is 1,418 characters (a certificate with
# many names); a line 60,000 characters long is a capture trying to bury the rest of the report.
LINE_LIMIT = 4000


def shown(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as a view may print it: unprintable characters escaped, and, when longer than
    ``limit`` characters, its middle cut out and its length (in characters) shown instead."""
    if len(text) <= limit and text.isprintable():
        return text
    return escaped(shortened(text, limit))


def html_escaped(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as HTML or SVG element content or a quoted attribute value: as the text view
    shows it (:func:`shown`), then with ``& < > " '`` as entities, so it can open no tag and
    leave no attribute."""
    return html.escape(shown(text, limit), quote=True)


def escaped(text: str) -> str:
    """Every unprintable character of ``text`` as its Python escape (``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join([c if c.isprintable() else _escape(c) for c in text])


def shortened(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and its end (a line's end
    is often ours: "...; it refused the handshake with unrecognized_name.")."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    head = limit - tail
    return f"{text[:head]}…[{len(text):,} characters in all]…{text[len(text) - tail:]}"


def _escape(char: str) -> str:
    return char.encode("unicode_escape", "backslashreplace").decode("ascii")
