"""The Jupyter HTML of a hostile capture: capture data opens no tag, leaves no attribute, and
carries no control or bidi character; it is shown escaped, as in the text view."""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path

import pytest

import tlsdissect
from tests.hostile import hostile_captures as hc
from tests.segmenting import Flight

OUR_TAGS = {"div", "b", "p", "table", "tr", "th", "td", "ul", "li", "br", "details", "summary"}
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class _Collector(HTMLParser):
    """Tags, attributes and text of a fragment, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tlsdissect.Report:
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    path.write_bytes(hc.hostile_pcap())
    return tlsdissect.analyze(str(path))


def _fragments(report: tlsdissect.Report) -> list[str]:
    return [report._repr_html_()] + [c._repr_html_() for c in report.connections]


def test_the_html_has_only_our_tags_and_attributes(report: tlsdissect.Report) -> None:
    for fragment in _fragments(report):
        parsed = _Collector()
        parsed.feed(fragment)
        parsed.close()
        assert {tag for tag, _ in parsed.tags} <= OUR_TAGS
        for tag, attrs in parsed.tags:
            assert all(name == "style" and value and "evil" not in value for name, value in attrs), (tag, attrs)
        shown = "".join(parsed.text)
        assert not [c for c in fragment + shown if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F
                    or c in BIDI_CONTROLS]


def test_capture_data_is_there_escaped(report: tlsdissect.Report) -> None:
    text = html.unescape("".join(_fragments(report)))
    assert r"www.example\x1b]0;pwned title\x07\x1b[2J" in text
    assert r"CN=evil\x1b[2J\u202egnp.exe\x9b2J\nFAKE: Handshake OK" in text
    assert "x.example[bold red]FAKE[/bold red]" in text
    assert "…[5,012 characters in all]…" in text


def test_a_name_made_of_html_stays_text(tmp_path: Path) -> None:
    """An SNI written as markup and as an attribute breakout is text in a cell, not a tag."""
    sni = "x.example\"'><script>alert(1)</script><img src=x onerror=alert(1)>&amp;"
    scenario = hc.Scenario("html", lambda: [Flight(0, hc.client_hello(sni)),
                                            Flight(1, hc.alert(hc.ALERT_UNRECOGNIZED_NAME))], sni)
    path = tmp_path / "html.pcap"
    path.write_bytes(hc.hostile_pcap((scenario,)))
    report = tlsdissect.analyze(str(path))
    for fragment in _fragments(report):
        parsed = _Collector()
        parsed.feed(fragment)
        assert {tag for tag, _ in parsed.tags} <= OUR_TAGS
        assert "<script" not in fragment and "<img" not in fragment
    cells = _Collector()
    cells.feed(report._repr_html_())
    assert sni in cells.text  # the name, whole, as one cell's text
