"""The text view without colour is put together by render.connection_text itself, not by rich's
layout engine (cli.py uses it for every connection of a capture). Its output must be exactly
what rich prints for the same connection: rich is the reference here, on connections whose
strings carry what rich treats specially (markup brackets, emoji codes, tabs, control and wide
characters, line breaks)."""

from __future__ import annotations

import io

from hypothesis import given, settings, strategies as st
from rich.console import Console

from tlsdissect.diagnosis.reasoner import Diagnosis, Evidence
from tlsdissect.results.model import Alert, Connection, Event
from tlsdissect.report.text import connection_text, render_connection

TRICKY = st.lists(
    st.sampled_from(list("ab :[]/\\\t\n\r\x07\x08\x0b\x0c\x1b\x85\u2028=é✓漢") + [":smile:", "[bold]", "[/]", ":thumbs_up:", "\\[x]"]),
    max_size=30,
).map("".join)


def _console(force_terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), no_color=False, highlight=False, soft_wrap=True,
                   force_terminal=force_terminal, width=60)


def _by_rich(con: Console, conn: Connection, verbose: bool) -> str:
    with con.capture() as cap:
        render_connection(con, conn, verbose=verbose, blank_before=True)
    return cap.get()


def _connection(text: str, cause: str, with_diagnosis: bool) -> Connection:
    conn = Connection(7, "10.0.0.1:40000", "10.0.0.2:443", 1, 9, 1.0, 2.0, server_name=text or None,
                      version="TLSv1.2", cipher=text or None, alpn=text or None, is_tls=True, not_tls=text or None)
    conn.events = [Event(1, 1.0, "client", "syn"), Event(3, 1.1, "client", "handshake", {"message": "client_hello", "server_name": text}),
                   Event(4, 1.2, "server", "not_tls", {"looks_like": text}), Event(5, 1.3, "server", "alert",
                   {"level": "fatal", "code": 40, "name": text, "hex": "0x28"}), Event(6, 1.4, "server", text or "x")]
    conn.alerts = [Alert(5, 1.3, "server", "fatal", 40, text, False)]
    if with_diagnosis:
        conn.diagnosis = Diagnosis(outcome="failed", cause=cause, confidence="likely", explanation=text,
                                   alternatives=[text], evidence=[Evidence(text, frames=[5, 6])],
                                   remedy=[text, text], check_command=text or None, hidden=[text])
    return conn


@settings(max_examples=300, deadline=None)
@given(text=TRICKY, cause=st.sampled_from(["handshake_failure", "ok", "unknown"]), verbose=st.booleans(),
       with_diagnosis=st.booleans())
def test_plain_text_is_what_rich_prints(text: str, cause: str, verbose: bool, with_diagnosis: bool) -> None:
    conn = _connection(text, cause, with_diagnosis)
    con = _console()
    assert con.color_system is None  # a file, not a terminal: the plain path
    assert connection_text(con, conn, verbose=verbose, blank_before=True) == _by_rich(con, conn, verbose)


def test_a_colour_console_still_renders_with_rich() -> None:
    conn = _connection("www.example.com", "handshake_failure", True)
    con = _console(force_terminal=True)
    assert con.color_system is not None
    text = connection_text(con, conn, blank_before=True)
    assert text == _by_rich(con, conn, False)
    assert "\x1b[" in text  # styles are there


def test_a_line_shown_as_it_is_has_nothing_for_rich_to_strip() -> None:
    """safe.shown returns a printable line as it is (the plain path then skips rich altogether):
    sound only while every code rich strips is unprintable (rich's list, read here, not copied),
    and every unprintable character comes out as its escape, on every Latin-1 character."""
    from rich.control import STRIP_CONTROL_CODES, strip_control_codes

    from tlsdissect.report.safe import shown

    assert STRIP_CONTROL_CODES and not any(chr(c).isprintable() for c in STRIP_CONTROL_CODES)
    for c in list(range(0x00, 0x100)) + [0x2028, 0x2029, 0xFEFF, 0x202E, 0x1F600]:
        line = f"x{chr(c)}y"
        expected = line if chr(c).isprintable() else f"x{ascii(chr(c))[1:-1]}y"
        assert shown(line) == expected == strip_control_codes(expected), hex(c)
