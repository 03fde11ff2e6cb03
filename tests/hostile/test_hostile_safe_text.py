"""safe.shown, the one sanitiser every view passes capture data through: any string in, a
printable one line out, each unprintable character as its escape, a long one cut with its length."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from tlsdissect.report.safe import LINE_LIMIT, VALUE_LIMIT, shown

UNSAFE = "\x00\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\x9b\x9d\u2028\u2029\u202a\u202b\u202c\u202d\u202e" \
         "\u2066\u2067\u2068\u2069\u200e\u200f\u061c\ufeff\u200b"


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(codec=None) | st.sampled_from(UNSAFE), max_size=300),
       limit=st.sampled_from([8, 40, VALUE_LIMIT, LINE_LIMIT]))
def test_whatever_comes_in_goes_out_printable_on_one_line(text: str, limit: int) -> None:
    out = shown(text, limit)
    assert out.isprintable()
    assert not set(out) & set(UNSAFE)
    if len(text) <= limit:
        # Nothing lost: every character is there, as itself or as its escape.
        assert out == "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    else:
        assert f"[{len(text):,} characters in all]" in out


def test_the_escapes_an_analyst_reads() -> None:
    assert shown("a\x1b[2Jb") == r"a\x1b[2Jb"
    assert shown("\u202egnp.exe") == r"\u202egnp.exe"
    assert shown("x\nFAKE: ok\r") == r"x\nFAKE: ok\r"
    assert shown("\x85\x9b\x7f\x00") == r"\x85\x9b\x7f\x00"
    assert shown("\U000e0041") == r"\U000e0041"  # a tag character (format, unprintable)


def test_a_printable_line_is_the_same_object() -> None:
    """The fast path: most lines are printable and short, and come back untouched."""
    line = "    The server has no site for the requested name www.lab.test; café ✓ 漢"
    assert shown(line) is line


def test_a_long_value_keeps_its_start_and_end_and_says_how_long_it_was() -> None:
    text = "start-" + "x" * 10_000 + "-end\x1b"
    out = shown(text, 100)
    assert out.startswith("start-") and out.endswith(r"-end\x1b")
    assert "…[10,011 characters in all]…" in out
    assert len(out) < 160
