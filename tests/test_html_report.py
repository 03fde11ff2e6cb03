"""The HTML report (``tlsdissect --html``): read back with an HTML parser (and the SVG with an
XML parser), then in a real browser (Debian's chromium, headless).

What the page must show comes from elsewhere: the JSON output of the same run (the alert, cause
and frame numbers), the lab captures' expected.json (what the client, the server and tshark
said) and tshark's listing kept beside each capture (which end sent each frame). A capture whose
strings are hostile is made here, field by field, and the browser's own DOM must hold them as
text: no element made from them, no control or bidi character let through.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator, Optional

import dpkt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

import tlsdissect
from tests.certs_factory import build
from tests.hostile import hostile_captures as hc
from tests.segmenting import Close, Flight
from tests.test_lab_diagnosis import NOT_MET_TODAY, NOT_NAMED_YET

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "http://www.w3.org/2000/svg"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BIDI_AND_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def _lab_dirs() -> list[Path]:
    """The lab captures that are not held out (lab/score.py alone reads those)."""
    out = []
    for d in sorted((ROOT / "captures").iterdir()):
        sidecar = d / "expected.json"
        if (d / "capture.pcap").is_file() and sidecar.is_file():
            if not json.loads(sidecar.read_text())["expected"].get("held_out"):
                out.append(d)
    return out


LAB = _lab_dirs()


def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=timeout, cwd=ROOT)


# --- reading the page back -------------------------------------------------------------------

VOID = {"meta", "br", "link", "img", "input", "hr", "base", "area", "col", "embed", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, Optional[str]], parent: Optional["Node"]) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Any] = []  # Nodes and strings

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator["Node"]:
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def all(self, tag: str, cls: Optional[str] = None) -> list["Node"]:
        return [n for n in self.walk() if n.tag == tag and (cls is None or cls in n.classes)]

    def one(self, tag: str, cls: Optional[str] = None) -> Optional["Node"]:
        found = self.all(tag, cls)
        assert len(found) <= 1, (tag, cls, len(found))
        return found[0] if found else None


class _Tree(HTMLParser):
    """The document as a tree of Nodes, as a browser's tokenizer reads it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.at = self.root
        self.tags: list[tuple[str, list[tuple[str, Optional[str]]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.tags.append((tag, attrs))
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.tags.append((tag, attrs))
        self.at.children.append(Node(tag, dict(attrs), self.at))

    def handle_endtag(self, tag: str) -> None:
        node: Optional[Node] = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def parse(page: str) -> _Tree:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree


def _conn_sections(node: Node) -> list[Node]:
    return [n for n in node.all("section") if "conn" in n.classes]


def _stream(conn: Node) -> int:
    return int(conn.attrs["id"].rsplit("-", 1)[1])


def _cell(conn: Node, cls: str) -> Optional[str]:
    td = conn.one("td", cls)
    return td.text() if td is not None else None


def _alert_of(conn: Node) -> Optional[tuple[str, Optional[int]]]:
    """(alert name, frame) from the facts table's alert cell."""
    text = _cell(conn, "alert")
    if text is None:
        return None
    m = re.match(r"(?:\w+ )?(\S+)(?: \(0x[0-9a-f]+\))?(?: from the \w+)?(?: in frame (\d+))?$", text)
    assert m, text
    return m.group(1), int(m.group(2)) if m.group(2) else None


def _ladder_rows(conn: Node) -> list[tuple[int, str, set[str]]]:
    """(frame, sender, classes) of each arrow of the connection's ladder."""
    svg = conn.one("svg", "ladder")
    assert svg is not None
    out = []
    for g in svg.all("g", "row"):
        frame = g.one("text", "frame")
        assert frame is not None
        sender = "client" if "from-client" in g.classes else "server"
        out.append((int(frame.text()), sender, g.classes))
    return out


def _tshark_sources(capture_dir: Path) -> dict[int, str]:
    """Frame number -> 'address:port' of its sender, from tshark's listing beside the capture."""
    out = {}
    listing = capture_dir / "tshark.txt"
    if not listing.is_file():
        return out
    for line in listing.read_text().splitlines():
        f = line.split()
        if len(f) > 4 and f[0].isdigit() and f[3].isdigit():
            out[int(f[0])] = f"{f[2]}:{f[3]}"
    return out


# --- the lab captures: one page, one JSON document, from the same run options ------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[_Tree, dict[str, Any], str]:
    """Every lab capture (held-out ones aside) with every lab key log: the --html page, parsed,
    and the --json document, by capture."""
    page = tmp_path_factory.mktemp("html") / "lab.html"
    keys = [a for d in LAB if (d / "keylog.txt").is_file() for a in ("--keylog", str(d / "keylog.txt"))]
    caps = [str(d.relative_to(ROOT) / "capture.pcap") for d in LAB]
    r = _cli("--html", str(page), *keys, *caps)
    assert r.returncode in (0, 1), r.stderr
    assert r.stdout == ""  # the page goes to its file, nothing to the terminal
    doc = json.loads(_cli("--json", *keys, *caps).stdout)
    text = page.read_text(encoding="utf-8")
    return parse(text), {c["capture"]: c for c in doc["captures"]}, text


def _captures(tree: _Tree) -> dict[str, Node]:
    return {s.one("h2").text(): s for s in tree.root.all("section", "capture")}  # type: ignore[union-attr]


def test_every_connection_is_there_failures_first_each_with_one_ladder(lab: tuple[_Tree, dict, str]) -> None:
    tree, by_capture, _ = lab
    sections = _captures(tree)
    assert sorted(sections) == sorted(by_capture)
    order = {"failed": 0, "incomplete": 1, "not_tls": 2, "established": 3}
    for name, section in sections.items():
        conns = _conn_sections(section)
        want = {c["stream"]: c for c in by_capture[name]["connections"]}
        assert sorted(_stream(c) for c in conns) == sorted(want), name
        outcomes = [next(o for o in order if o in c.classes) for c in conns]
        assert outcomes == sorted(outcomes, key=order.__getitem__), name
        index = section.one("table", "index")  # the table of connections links to each, in the same order
        assert index is not None
        assert [a.attrs["href"] for a in index.all("a")] == ["#" + c.attrs["id"] for c in conns]
        assert [tr.all("td")[1].text() for tr in index.all("tr")[1:]] == [o.replace("_", " ") for o in outcomes]
        for conn in conns:
            j = want[_stream(conn)]
            assert next(o for o in order if o in conn.classes) == j["outcome"]
            assert len(conn.all("svg")) == (1 if j["events"] else 0), (name, j["stream"])


def test_cause_alert_evidence_and_ladder_frames_are_the_jsons(lab: tuple[_Tree, dict, str]) -> None:
    tree, by_capture, _ = lab
    for name, section in _captures(tree).items():
        want = {c["stream"]: c for c in by_capture[name]["connections"]}
        for conn in _conn_sections(section):
            j = want[_stream(conn)]
            d = j.get("diagnosis")
            if d is None:
                continue
            assert conn.one("p", "verdict").text() == d["verdict"]  # type: ignore[union-attr]
            cause = conn.one("td", "cause")
            assert cause is not None and cause.one("code").text() == d["cause"]  # type: ignore[union-attr]
            assert _cell(conn, "confidence") == d["confidence"]
            if d["aborted_by"]:
                assert _cell(conn, "aborted-by").split(" ")[0] == d["aborted_by"]  # type: ignore[union-attr]
            if d["failure_point"]:
                assert _cell(conn, "failure-point") == d["failure_point"].replace("_", " ")
            alert = _alert_of(conn)
            if d["alert"]:
                assert alert == (d["alert"]["name"] or "alert", d["alert"].get("frame")), (name, j["stream"])
            else:
                assert alert is None
            evidence = conn.one("ul", "evidence")
            shown = [[int(f) for f in li.one("span", "frames").text().removeprefix("frame ").split(", ")]
                     if li.one("span", "frames") else [] for li in evidence.all("li")] if evidence else []
            assert shown == [e["frames"] for e in d["evidence"]], (name, j["stream"])
            if j["events"]:
                assert [f for f, _, _ in _ladder_rows(conn)] == [e["frame"] for e in j["events"]]
                assert [s for _, s, _ in _ladder_rows(conn)] == [
                    "client" if e["sender"] == "client" else "server" for e in j["events"]]
            remedy = conn.one("ul", "remedy")
            assert ([li.text() for li in remedy.all("li")] if remedy else []) == d["remedy"]
            check = conn.one("pre", "check")
            assert (check.text() if check else None) == d["check_command"]


def test_what_the_page_says_is_what_the_peers_and_tshark_said(lab: tuple[_Tree, dict, str]) -> None:
    """Against expected.json (client, server and tshark) and tshark's listing of each capture."""
    tree, _, _ = lab
    sections = _captures(tree)
    checked = 0
    for d in LAB:
        section = sections[str(d.relative_to(ROOT) / "capture.pcap")]
        conns = {_stream(c): c for c in _conn_sections(section)}
        sidecar = json.loads((d / "expected.json").read_text())
        e = sidecar["expected"]
        conn = conns[e.get("stream", min(conns))]
        # every arrow points away from the end that sent its frame (tshark's source address)
        sources = _tshark_sources(d)
        client = re.search(r"· (\S+) → ", conn.one("h3").text()).group(1)  # type: ignore[union-attr]
        for frame, sender, _ in _ladder_rows(conn):
            if frame in sources:
                assert (sources[frame] == client.replace("[", "").replace("]", "")) == (sender == "client"), (
                    d.name, frame)
        if e["cause"] in NOT_NAMED_YET or d.name in NOT_MET_TODAY:
            continue  # tests/test_lab_diagnosis.py says what we name instead
        cause = conn.one("td", "cause").one("code").text()  # type: ignore[union-attr]
        alternatives = _cell(conn, "alternatives") or ""
        # (refined_cause: the narrower cause the peers' words prove, lab/groundtruth.py)
        assert cause in (e["cause"], e.get("refined_cause")) or e["cause"] in alternatives.split(", "), (d.name, cause)
        want = e.get("alert")
        alert = _alert_of(conn)
        if want and want.get("code") not in (None, 0) and alert and alert[0] != "alert":
            assert alert[0] == want["name"], d.name
            tshark = [int(line.split()[1]) for line in sidecar["observed"].get("tshark_alerts", [])
                      if f" {want['name']} ({want['code']})" in line]
            if tshark:
                assert alert[1] in tshark, (d.name, alert, tshark)
                # the alert's arrow is highlighted and points away from its sender
                rows = [(s, cls) for f, s, cls in _ladder_rows(conn) if f == alert[1] and "alert" in cls]
                assert rows and all(s == want["sender"] for s, _ in rows), (d.name, rows)
            checked += 1
    assert checked >= 40  # most lab captures end with a visible alert


def test_the_page_loads_nothing_and_the_svgs_are_xml(lab: tuple[_Tree, dict, str]) -> None:
    tree, _, text = lab
    _assert_self_contained(tree, text)
    svgs = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    assert len(svgs) == len(tree.root.all("svg")) > 50
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == f"{{{SVG_NS}}}svg"
        rows = [g for g in root.iter(f"{{{SVG_NS}}}g") if "row" in g.get("class", "").split()]
        assert rows and all(g.find(f"{{{SVG_NS}}}line") is not None for g in rows)


def _assert_self_contained(tree: _Tree, text: str) -> None:
    tags = {tag for tag, _ in tree.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed", "img", "base", "frame", "audio", "video",
                       "image", "use", "foreignobject", "form"}
    for tag, attrs in tree.tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key)
            if key in ("src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data"):
                assert value and value.startswith("#"), (tag, key, value)
            if key == "xmlns":
                assert value == SVG_NS
    assert "@import" not in text and "url(" not in text.lower()
    for tag, attrs in tree.tags:
        for key, value in attrs:  # (a URL in the text, e.g. a certificate's OCSP responder, is only text)
            assert key == "xmlns" or "//" not in (value or ""), (tag, key, value)
    csp = [dict(a) for t, a in tree.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    assert csp and csp[0]["content"].startswith("default-src 'none'")


def test_the_title_names_the_captures_and_the_version(lab: tuple[_Tree, dict, str]) -> None:
    tree, by_capture, _ = lab
    version = _cli("--version").stdout.split()[1]  # ("tlsdissect 0.1.0 (pure Python)")
    title = tree.root.one("head").one("title").text()  # type: ignore[union-attr]
    first = str(LAB[0].relative_to(ROOT) / "capture.pcap")
    assert title == f"TLS report: {first} and {len(by_capture) - 1} more capture(s) — tlsdissect {version}"
    rows = tree.root.one("table", "captures").all("tr")  # type: ignore[union-attr]
    total = rows[-1].all("th")
    assert int(total[1].text()) == sum(len(c["connections"]) for c in by_capture.values())
    assert int(total[2].text()) == sum(1 for c in by_capture.values() for x in c["connections"]
                                       if x["outcome"] == "failed")


# --- the summary, the big-capture rule, the library --------------------------------------------


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few lab captures one after the other: failures and established connections."""
    names = ["tls12_success", "tls12_missing_intermediate_openssl", "tls12_success_nginx", "tls12_no_shared_cipher",
             "plaintext_http_on_tls_port", "mtls_success_tls12", "tls12_expired_curl"]
    out = tmp_path_factory.mktemp("joined") / "joined.pcap"
    with out.open("wb") as f:
        w = dpkt.pcap.Writer(f, linktype=dpkt.pcap.DLT_EN10MB)
        for i, name in enumerate(names):
            with (ROOT / "captures" / name / "capture.pcap").open("rb") as src:
                packets = list(dpkt.pcap.Reader(src))
            for ts, buf in packets:
                w.writepkt(buf, ts=1_700_000_000 + 10 * i + (ts - packets[0][0]))
    return out


def test_the_summary_is_the_text_views(joined: Path) -> None:
    report = tlsdissect.analyze(joined)
    tree = parse(report.to_html())
    section = tree.root.one("section", "capture")
    outcomes = {tr.all("td")[0].text(): int(tr.all("td")[1].text())
                for tr in section.one("table", "outcomes").all("tr")[1:]}  # type: ignore[union-attr]
    want: dict[str, int] = {}
    for c in report:
        want[c.outcome.replace("_", " ")] = want.get(c.outcome.replace("_", " "), 0) + 1
    assert outcomes == want
    causes = {tr.all("td")[0].text(): int(tr.all("td")[1].text())
              for tr in section.one("table", "causes").all("tr")[1:]}  # type: ignore[union-attr]
    assert sum(causes.values()) == len(report.failures())
    assert set(causes) == {c.diagnosis.cause for c in report.failures()}
    # each server's link leads to a connection listed on the page
    ids = {c.attrs["id"] for c in _conn_sections(tree.root)}
    links = [a.attrs["href"] for a in section.one("table", "servers").all("a")]  # type: ignore[union-attr]
    assert links and all(h.startswith("#") and h[1:] in ids for h in links)


def test_a_big_capture_lists_its_failures_and_says_how_to_see_the_rest(joined: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    from tlsdissect.report import html as page

    report = tlsdissect.analyze(joined)
    established = [c.stream for c in report if c.outcome == "established"]
    assert established and report.failures()
    monkeypatch.setattr(page, "BIG_CAPTURE", 3)  # the text view's rule, with a smaller threshold
    tree = parse(report.to_html())
    listed = _conn_sections(tree.root)
    assert sorted(_stream(c) for c in listed) == sorted(c.stream for c in report if c.outcome != "established")
    note = " ".join(p.text() for p in tree.root.all("p", "meta"))
    assert f"{len(established)} established connection(s) not listed" in note and 'show="all"' in note
    assert len(_conn_sections(parse(report.to_html(show="all")).root)) == len(report)
    # the command line: --show failed, the same rule
    out = tmp_path / "failed.html"
    assert _cli("--html", str(out), "--show", "failed", str(joined)).returncode == 1
    tree = parse(out.read_text())
    assert sorted(_stream(c) for c in _conn_sections(tree.root)) == sorted(_stream(c) for c in listed)
    assert "--show all" in " ".join(p.text() for p in tree.root.all("p", "meta"))


def test_the_library_and_the_command_line_draw_the_same_connections(joined: Path, tmp_path: Path) -> None:
    from tlsdissect.report.html import render

    report = tlsdissect.analyze(joined)
    assert report.to_html() == render(report) == render([report])
    out = tmp_path / "cli.html"
    assert _cli("--html", str(out), str(joined)).returncode == 1
    lib = _conn_sections(parse(report.to_html()).root)
    cli = _conn_sections(parse(out.read_text()).root)
    assert [c.text() for c in lib] == [c.text() for c in cli]
    # standard output too, and one file shared out among two processes gives the same page
    assert _cli("--html", "-", str(joined)).stdout == out.read_text()
    assert _cli("--html", "-", "-j", "2", str(joined)).stdout == out.read_text()


def test_a_long_timeline_draws_its_first_arrows_and_counts_the_rest() -> None:
    from tlsdissect.report import ladder_svg
    from tlsdissect.results.model import Connection, Event

    n = ladder_svg.MAX_ROWS + 37
    conn = Connection(stream=5, client="10.0.0.1:5000", server="10.0.0.2:443", first_frame=1, last_frame=n,
                      start_time=1.0, end_time=2.0,
                      events=[Event(i + 1, 1.0 + i / 1000, "client" if i % 2 else "server", "encrypted_record",
                                    {"content_type": "application_data", "length": 100}) for i in range(n)])
    root = ET.fromstring(ladder_svg.ladder_svg(conn))
    rows = [g for g in root.iter(f"{{{SVG_NS}}}g") if "row" in g.get("class", "").split()]
    assert len(rows) == ladder_svg.MAX_ROWS
    assert "… 37 more event(s) not drawn" in "".join(root.itertext())
    first = rows[0]  # frame 1 came from the server: its arrow runs right to left
    line = first.find(f"{{{SVG_NS}}}line")
    assert line is not None and float(line.get("x1", 0)) > float(line.get("x2", 0))


def test_an_unwritable_target_is_refused_before_reading(tmp_path: Path) -> None:
    cap = str(ROOT / "captures" / "tls12_success" / "capture.pcap")
    r = _cli("--html", str(tmp_path / "missing" / "r.html"), cap)
    assert r.returncode == 2 and "no such directory" in r.stderr and "Traceback" not in r.stderr
    r = _cli("--html", str(tmp_path), cap)
    assert r.returncode == 2 and "is a directory" in r.stderr
    r = _cli("--html", str(tmp_path / "r.html"), cap, str(tmp_path / "nothing.pcap"))
    assert r.returncode == 2  # the unusable file is a section of the page; the other is analysed
    tree = parse((tmp_path / "r.html").read_text())
    assert len(_conn_sections(tree.root)) == 1 and tree.root.one("p", "bad") is not None


def test_the_help_and_the_completion_know_the_flag() -> None:
    r = _cli("--help")
    assert "--html FILE" in r.stdout and "tlsdissect --html report.html" in r.stdout
    bash = _cli("--print-completion", "bash").stdout
    assert "_shtab_tlsdissect___html_COMPGEN=_shtab_compgen_files" in bash  # completes a file name


# --- hostile strings ---------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = "\"><img src=x onerror=alert(1)>"
TITLE = "\x1b]0;title\x07"
RLO = "\u202e"


def _hostile_cert() -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, IMG + TITLE),
                         x509.NameAttribute(NameOID.COMMON_NAME, "evil" + SCRIPT + RLO)])
    issued = build(None, subject=subject, dns=["a" + SCRIPT + ".example", "b" + IMG + TITLE + ".example"])
    return issued.cert.public_bytes(serialization.Encoding.DER)


def _hostile_pcap() -> bytes:
    """Three connections: a server name of markup refused, an attribute breakout and a title
    escape refused after a certificate with hostile names and an ALPN with a bidi override."""
    alpn = "h2" + SCRIPT + TITLE  # (an ALPN protocol is read as ASCII: no bidi override on the wire)
    scenarios = (
        hc.Scenario("script_sni", lambda: [Flight(0, hc.client_hello("x.example" + SCRIPT)),
                                           Flight(1, hc.alert(hc.ALERT_UNRECOGNIZED_NAME)), Close(1, "fin")]),
        hc.Scenario("img_sni", lambda: [Flight(0, hc.client_hello(IMG + TITLE, alpn=[alpn])),
                                        Flight(1, hc.server_hello(alpn=alpn) + hc.certificate([_hostile_cert()])
                                               + hc.handshake(14, b"")),
                                        Flight(0, hc.alert(hc.ALERT_BAD_CERTIFICATE)), Close(0, "fin")]),
        hc.Scenario("alpn", lambda: [Flight(0, hc.client_hello("www.lab.test", alpn=[alpn])),
                                     Flight(1, hc.server_hello(alpn=alpn) + hc.handshake(14, b"")),
                                     Flight(0, hc.alert(hc.ALERT_HANDSHAKE_FAILURE)), Close(0, "fin")]),
    )
    return hc.hostile_pcap(scenarios)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("hostile")
    cap = d / "hostile.pcap"
    cap.write_bytes(_hostile_pcap())
    report = tlsdissect.analyze(cap)
    assert [c.server_name for c in report] == ["x.example" + SCRIPT, IMG + TITLE, "www.lab.test"]
    out = d / "hostile.html"
    r = _cli("--html", str(out), str(cap))
    assert r.returncode == 1, r.stderr
    return out, out.read_text(encoding="utf-8")


def test_hostile_strings_are_text_in_the_page(hostile: tuple[Path, str]) -> None:
    _, text = hostile
    tree = parse(text)
    _assert_self_contained(tree, text)
    assert not BIDI_AND_CONTROLS.search(text.replace("\n", ""))
    shown = tree.root.text()
    for s in ("x.example" + SCRIPT, IMG + r"\x1b]0;title\x07", "evil" + SCRIPT + r"\u202e",
              "h2" + SCRIPT + r"\x1b]0;title\x07"):
        assert s in shown, s
    for svg in re.findall(r"<svg\b.*?</svg>", text, flags=re.S):  # the ladder labels quote the names too
        ET.fromstring(svg)
    labels = " ".join(t.text() for t in tree.root.all("text", "label"))
    assert "server_name=x.example" + SCRIPT in labels
    assert len(tree.root.all("svg")) == len(_conn_sections(tree.root)) == 3


# --- in a real browser -------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                           "chromium; .ci/run installs it)")


def _chromium(tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           f"--user-data-dir={tmp / 'profile'}", *args, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)


def _png_colours(path: Path, max_rows: int = 900) -> int:
    """Distinct colours in the first ``max_rows`` rows of an 8-bit RGB(A) PNG (RFC 2083)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(min(height, max_rows)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[x:x + 3]) for x in range(0, stride, bpp))
        prev = line
    return len(colours)


@needs_chromium
def test_chromium_draws_a_ladder_and_a_verdict_for_every_connection(joined: Path, tmp_path: Path) -> None:
    page = tmp_path / "joined.html"
    assert _cli("--html", str(page), str(joined)).returncode == 1
    report = tlsdissect.analyze(joined)
    r = _chromium(tmp_path, page, "--dump-dom")
    assert r.returncode == 0, r.stderr[-2000:]
    dom = parse(r.stdout)
    conns = _conn_sections(dom.root)
    assert len(conns) == len(report)
    for conn in conns:
        c = next(x for x in report if x.stream == _stream(conn))
        svgs = conn.all("svg")
        assert len(svgs) == 1 and len(svgs[0].all("g", "row")) == len(c.events)
        assert conn.one("p", "verdict").text() == c.diagnosis.verdict  # type: ignore[union-attr]
    shot = tmp_path / "joined.png"
    r = _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2000")
    assert shot.is_file(), r.stderr[-2000:]
    assert _png_colours(shot) > 50  # text, badges, tables and arrows: not a blank page


@needs_chromium
def test_chromium_makes_no_element_of_hostile_strings(hostile: tuple[Path, str], tmp_path: Path) -> None:
    page, _ = hostile
    r = _chromium(tmp_path, page, "--dump-dom")
    assert r.returncode == 0, r.stderr[-2000:]
    dom = parse(r.stdout)
    tags = {tag for tag, _ in dom.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link"}
    for tag, attrs in dom.tags:
        assert not any(k.startswith("on") for k, _ in attrs), (tag, attrs)
    text = dom.root.text()
    assert "x.example" + SCRIPT in text  # the markup, as text
    assert IMG + r"\x1b]0;title\x07" in text  # the breakout, as text; the title escape made visible
    assert "evil" + SCRIPT + r"\u202e" in text
    assert not BIDI_AND_CONTROLS.search(text.replace("\n", "").replace("\t", ""))
    assert len(dom.root.all("svg")) == len(_conn_sections(dom.root)) == 3
    assert "x.example" + SCRIPT in " ".join(t.text() for t in dom.root.all("text", "label"))
    shot = tmp_path / "hostile.png"
    _chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=1200,2000")
    assert shot.is_file() and _png_colours(shot) > 50
    assert html.escape(SCRIPT) not in text  # (escaped once, not twice)
