"""QUIC and DTLS handshakes in every output a TCP connection has: the DataFrame, --csv, --parquet,
--jsonl, the Zeek logs, the HTML page, and the counts of the text view, the JSON and the exit status.

Expectations come from outside our code: tshark's reading of the lab captures (tests/data/quic,
tests/data/dtls: real handshakes between aioquic, ngtcp2, OpenSSL and GnuTLS peers), the peers'
own verdicts (the truth tables of tests/test_quic.py and tests/test_dtls.py, from their logs),
Zeek's quic.log baselines for Zeek's own QUIC traces, Zeek's log format as zat reads it, and a
crafted DTLS ClientHello whose server name is markup.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import dpkt
import pandas as pd
import pytest

import tlsdissect
from tests.test_dtls import LAB_TRUTH as DTLS_TRUTH
from tests.test_dtls import handshake_fragment, record
from tlsdissect.results.model import DATAFRAME_COLUMNS
from tlsdissect.tls import tables as tls_tables
from tlsdissect.tls.tables import alert_name

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark (the test oracle) is not installed")

QUIC_LAB = sorted(p.name for p in (DATA / "quic").iterdir() if (p / "capture.pcap").is_file())
DTLS_LAB = sorted(DTLS_TRUTH)


def _capture(kind: str, name: str) -> Path:
    return DATA / kind / name / "capture.pcap"


def _keylog(kind: str, name: str) -> Optional[Path]:
    path = DATA / kind / name / "keylog.txt"
    return path if path.is_file() else None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect", "--no-color", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, cwd=ROOT)


def _tshark(path: Path, *fields: str, display: str = "udp", keylog: Optional[Path] = None) -> list[list[str]]:
    assert TSHARK is not None
    opts = ["-o", f"tls.keylog_file:{keylog}"] if keylog else []
    out = subprocess.run([TSHARK, "-n", "-r", str(path), *opts, "-Y", display, "-T", "fields",
                          *[a for f in fields for a in ("-e", f)]], capture_output=True, text=True, timeout=120).stdout
    return [line.split("\t") for line in out.splitlines()]


# --- the DataFrame rows, field by field against tshark ---------------------------------------------


def _first(values: list[list[str]], column: int) -> Optional[str]:
    found = [row[column] for row in values if len(row) > column and row[column]]
    return found[0].split(",")[0] if found else None


@needs_tshark
@pytest.mark.parametrize("kind,name", [("quic", n) for n in QUIC_LAB] + [("dtls", n) for n in DTLS_LAB])
def test_a_udp_handshakes_row_is_what_tshark_reads(kind: str, name: str) -> None:
    path, keylog = _capture(kind, name), _keylog(kind, name)
    report = tlsdissect.analyze(path, keylog=keylog)
    df = report.to_dataframe()
    assert list(df.columns) == list(DATAFRAME_COLUMNS)
    rows = df[df["transport"] == "udp"]
    proto = "tls" if kind == "quic" else "dtls"
    ts = _tshark(path, "frame.number", "udp.stream", "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
                 f"{proto}.handshake.extensions_server_name", f"{proto}.handshake.type", f"{proto}.handshake.ciphersuite",
                 "quic.version", f"{proto}.handshake.version", display=kind)
    streams = sorted({int(r[1]) for r in ts})
    assert len(rows) == len(streams) and len(df) == len(report.connections) + len(streams)
    for (_, row), stream in zip(rows.iterrows(), streams):
        flow = [r for r in ts if int(r[1]) == stream]
        first = flow[0]
        assert row["protocol"] == kind and row["transport"] == "udp"
        assert row["stream"] == stream  # Wireshark's udp.stream
        assert row["first_frame"] == int(first[0])
        assert (row["client"], row["server"]) == (f"{first[2]}:{first[3]}", f"{first[4]}:{first[5]}")
        assert row["server_name"] == _first(flow, 6)
        # The ServerHello (handshake type 2): its cipher suite and version, as tshark reads them
        hellos = [(r[8].split(",")[i], r[10].split(",")[i]) for r in flow
                  for i, t in enumerate(r[7].split(",")) if t == "2"]
        if hellos:
            assert row["cipher"] == tls_tables.cipher_name(int(hellos[0][0], 16))
            if kind == "quic":
                assert row["version"] == "TLSv1.3"  # (RFC 9001 §4.2; tshark reads supported_versions)
            else:
                assert row["version"] == {"0xfefd": "DTLSv1.2", "0xfeff": "DTLSv1.0"}[hellos[0][1]]
        else:
            assert pd.isna(row["version"]) and pd.isna(row["cipher"])
        if kind == "quic":
            assert row["quic_version"] == {"0x00000001": "QUICv1", "0x6b3343cf": "QUICv2"}[_first(flow, 9) or ""]
            assert row["ja4"].startswith("q")
        else:
            assert pd.isna(row["quic_version"]) and row["ja4"].startswith("d")
        assert row["established"] == (row["outcome"] == "established")


@needs_tshark
@pytest.mark.parametrize("name", DTLS_LAB)
def test_a_dtls_rows_outcome_cause_and_alert_are_the_peers(name: str) -> None:
    outcome, sender, code, cause = DTLS_TRUTH[name]
    df = tlsdissect.analyze(_capture("dtls", name)).to_dataframe()
    row = df[df["protocol"] == "dtls"].iloc[0]
    assert row["outcome"] == outcome
    assert row["cause"] == (cause if outcome == "failed" else "ok")
    if outcome == "failed":
        assert (row["aborted_by"] if code is not None else None) == (sender if code is not None else None)
    # the last alert in clear, as tshark reads it (an encrypted one has no description it can read)
    alerts = [int(r[0]) for r in _tshark(_capture("dtls", name), "dtls.alert_message.desc") if r[0]]
    if alerts:
        assert row["last_alert"] == alert_name(alerts[-1])
    else:
        assert pd.isna(row["last_alert"])


@needs_tshark
@pytest.mark.parametrize("name", QUIC_LAB)
def test_a_quic_rows_last_alert_is_the_crypto_error_tshark_reads(name: str) -> None:
    keylog = _keylog("quic", name)
    df = tlsdissect.analyze(_capture("quic", name), keylog=keylog).to_dataframe()
    row = df[df["protocol"] == "quic"].iloc[0]
    codes = [int(r[0].split(",")[0]) for r in _tshark(_capture("quic", name), "quic.cc.error_code",
                                                       display="quic.frame_type == 0x1c", keylog=keylog) if r[0]]
    crypto = [c - 0x100 for c in codes if 0x100 <= c <= 0x1FF]
    if crypto:  # (the first close read: with the key log, a Handshake- or 1-RTT-level one too)
        assert row["last_alert"] == alert_name(crypto[0])
    else:
        assert pd.isna(row["last_alert"])


def test_udp_rows_share_the_tcp_rows_dtypes_and_concatenate() -> None:
    tcp = tlsdissect.analyze(ROOT / "captures" / "tls13_success" / "capture.pcap").to_dataframe()
    udp = tlsdissect.analyze(_capture("dtls", "dtls_untrusted_server")).to_dataframe()
    quic = tlsdissect.analyze(_capture("quic", "quic_alpn_mismatch")).to_dataframe()
    assert list(tcp.dtypes.astype(str)) == list(udp.dtypes.astype(str)) == list(quic.dtypes.astype(str))
    both = pd.concat([tcp, udp, quic], ignore_index=True)
    for col in ("outcome", "cause", "transport", "protocol", "starttls_result"):
        assert isinstance(both[col].dtype, pd.CategoricalDtype), col
    assert list(both["protocol"].astype(str)) == ["tls", "dtls", "quic"]
    assert list(both["transport"].astype(str)) == ["tcp", "udp", "udp"]
    assert tcp["quic_version"].isna().all() and tcp.loc[0, "ssl_history"] == tlsdissect.analyze(
        ROOT / "captures" / "tls13_success" / "capture.pcap").connections[0].ssl_history


# --- the command line's tables and lines ---------------------------------------------------------------


def test_csv_parquet_and_jsonl_carry_the_udp_handshakes(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    caps = [str(ROOT / "captures" / "tls13_success" / "capture.pcap"), str(_capture("quic", "quic_alpn_mismatch")),
            str(_capture("dtls", "dtls_untrusted_server")), str(_capture("dtls", "dtls_success"))]
    out_csv, out_pq = tmp_path / "t.csv", tmp_path / "t.parquet"
    run = _cli("--csv", str(out_csv), "--parquet", str(out_pq), "--json", *caps)
    assert run.returncode == 1, run.stderr  # a QUIC and a DTLS handshake failed
    doc = json.loads(run.stdout)
    want = [(c["capture"], x["protocol"], x["client"], x["outcome"]) for c in doc["captures"]
            for x in c["connections"] + c.get("quic", []) + c.get("dtls", [])]
    rows = list(csv.DictReader(out_csv.open()))
    assert [(r["capture"], r["protocol"], r["client"], r["outcome"]) for r in rows] == want
    got = pd.read_parquet(out_pq)
    assert list(got["protocol"].astype(str)) == [w[1] for w in want]
    assert isinstance(got["protocol"].dtype, pd.CategoricalDtype)
    lines = [json.loads(x) for x in _cli("--jsonl", *caps).stdout.splitlines()]
    assert [(x["capture"], x["protocol"], x["client"], x["outcome"]) for x in lines] == want
    assert all(x["transport"] == ("tcp" if x["protocol"] == "tls" else "udp") for x in lines)


def test_every_view_counts_the_same_udp_failures() -> None:
    """The capture line, the JSON outcomes, the JSON lines, the DataFrame, failures() and the exit
    status agree for QUIC and DTLS handshakes, and a filter keeps them as it keeps connections."""
    for kind, name in (("quic", "quic_alpn_mismatch"), ("dtls", "dtls_untrusted_server"), ("dtls", "dtls_success"),
                       ("quic", "quic_success")):
        path = str(_capture(kind, name))
        report = tlsdissect.analyze(path)
        text = _cli(path)
        head = text.stdout.splitlines()[0]
        assert f"1 {kind.upper()} handshake(s)" in head
        failed_text = int(head.split(" failed")[0].rsplit(" ", 1)[-1]) if " failed" in head else 0
        doc = json.loads(_cli("--json", path).stdout)
        lines = [json.loads(x) for x in _cli("--jsonl", path).stdout.splitlines()]
        table = _cli("--csv", "-", path)
        counts = {
            "text": failed_text,
            "json": sum(x["outcome"] == "failed" for x in doc["connections"] + doc.get(kind, [])),
            "jsonl": sum(x["outcome"] == "failed" for x in lines),
            "csv": sum(r["outcome"] == "failed" for r in csv.DictReader(io.StringIO(table.stdout))),
            "dataframe": int((report.to_dataframe()["outcome"] == "failed").sum()),
            "failures()": len(report.failures()),
        }
        assert len(set(counts.values())) == 1, (name, counts)
        status = 1 if counts["text"] else 0
        assert text.returncode == status and table.returncode == status, name
        assert bool(counts["text"]) == (DTLS_TRUTH.get(name, ("failed",))[0] == "failed" if kind == "dtls"
                                        else name != "quic_success")
        # --failed keeps a failed handshake's line and drops an established one's
        kept = [json.loads(x) for x in _cli("--jsonl", "--failed", path).stdout.splitlines()]
        assert len(kept) == counts["text"]


# --- Zeek logs -----------------------------------------------------------------------------------------


def _zeek(tmp: Path, *args: str) -> Path:
    out = tmp / "logs"
    run = _cli("--zeek", str(out), *args)
    assert run.returncode in (0, 1), run.stderr
    return out


def _read_log(path: Path) -> list[dict[str, str]]:
    from tests.test_zeek_logs import read_log

    return read_log(path)[2]


@needs_tshark
@pytest.mark.parametrize("name", QUIC_LAB)
def test_quic_log_fields_are_tsharks(name: str, tmp_path: Path) -> None:
    path = _capture("quic", name)
    logs = _zeek(tmp_path, str(path))
    for row in _read_log(logs / "quic.log"):
        _check_quic_row(path, row)


def _check_quic_row(path: Path, row: dict[str, str]) -> None:
    ts = _tshark(path, "ip.src", "udp.srcport", "quic.long.packet_type", "quic.version", "quic.dcid", "quic.scid",
                 "tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
                 "quic.long.packet_type_v2", "ip.dst", "udp.dstport", display="quic")
    client = f"{row['id.orig_h']}:{row['id.orig_p']}"
    server = f"{row['id.resp_h']}:{row['id.resp_p']}"
    flow = [r for r in ts if {f"{r[0]}:{r[1]}", f"{r[9]}:{r[10]}"} == {client, server}]
    # Initial packets: long packet type 0, in QUIC v2 1 (RFC 9369 §3.2; tshark names its field apart)
    initials = [r for r in flow if r[2].split(",")[0] == "0" or r[8].split(",")[0] == "1"]
    from_client = [r for r in initials if f"{r[0]}:{r[1]}" == client]
    from_server = [r for r in flow if f"{r[0]}:{r[1]}" == server and r[5]]
    assert row["client_initial_dcid"] == from_client[0][4].split(",")[0].replace(":", "")
    assert row["client_scid"] == (from_client[-1][5].split(",")[0].replace(":", "") or "(empty)")
    if from_server:
        assert row["server_scid"] == from_server[-1][5].split(",")[-1].replace(":", "")
    assert row["version"] == {"0x00000001": "1", "0x6b3343cf": "quicv2"}[from_client[0][3].split(",")[0]]
    assert row["server_name"] == (_first(flow, 6) or "-")
    assert row["client_protocol"] == (_first(flow, 7) or "-")
    assert row["history"].startswith("IS")  # the client's Initial, then its ClientHello (Zeek's first letters)


def _zeek_source() -> Optional[Path]:
    """A Zeek source tree (a git directory or checkout) with its QUIC test traces and baselines:
    TLSDISSECT_ZEEK_SOURCE, else a mirror beside the repository's parent."""
    given = os.environ.get("TLSDISSECT_ZEEK_SOURCE")
    for candidate in ([Path(given)] if given else []) + [ROOT.parent / ".mirror" / "zeek+zeek" / "repo"]:
        if candidate.is_dir():
            return candidate
    return None


ZEEK = _zeek_source()
# Zeek's btest name -> its trace (testing/btest/Traces/quic/), for the traces tlsdissect reads
# (the interop ones are PPP captures: link type 9, not read).
ZEEK_QUIC_TESTS = {
    "chromium": "chromium-115.0.5790.110-api-cirrus-com.pcap", "curl-http3": "curl-8.1.2-dev-http3-www-google-de.pcap",
    "firefox": "firefox-102.13.0esr-blog-cloudflare-com.pcap", "quic-log": "chromium-115.0.5790.110-google-de-fragmented.pcap",
    "39264-rand": "quic-39264-rand.pcap", "merlinc2": "merlinc2_Zeek_example.pcapng", "quicdoq": "quicdoq.pcap",
    "quicv2-echo-443": "quicv2-echo-443.pcap", "quicv2-http3-443": "quicv2-http3-443.pcap",
}


def _git_show(path: str) -> bytes:
    assert ZEEK is not None
    return subprocess.run(["git", "-C", str(ZEEK), "show", f"HEAD:{path}"], capture_output=True, check=True).stdout


@pytest.mark.skipif(ZEEK is None, reason="no Zeek source tree (set TLSDISSECT_ZEEK_SOURCE to a zeek/zeek checkout)")
@pytest.mark.parametrize("test", sorted(ZEEK_QUIC_TESTS))
def test_quic_log_matches_zeeks_baseline_on_zeeks_traces(test: str, tmp_path: Path) -> None:
    trace = tmp_path / ZEEK_QUIC_TESTS[test]
    trace.write_bytes(_git_show(f"testing/btest/Traces/quic/{ZEEK_QUIC_TESTS[test]}"))
    baseline = tmp_path / "baseline.log"
    baseline.write_bytes(_git_show(f"testing/btest/Baseline/scripts.base.protocols.quic.{test}/quic.log"))
    ours = _read_log(_zeek(tmp_path, str(trace)) / "quic.log")
    wanted = [r for r in _read_log(baseline) if "id.orig_h" in r]
    assert wanted
    for want in wanted:
        key = ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
        (got,) = [r for r in ours if all(r[k] == want[k] for k in key)]
        for field in ("version", "client_initial_dcid", "client_scid", "server_scid", "server_name", "client_protocol",
                      "history"):
            assert got[field] == want[field], (test, field)


def test_zeek_logs_of_udp_handshakes_load_and_link(tmp_path: Path) -> None:
    zat = pytest.importorskip("zat.log_to_dataframe", reason="zat (a Zeek log reader) is not installed")
    logs = _zeek(tmp_path, "--keylog", str(_keylog("quic", "quic_untrusted_keys")),
                 str(_capture("quic", "quic_untrusted_keys")), str(_capture("dtls", "dtls_untrusted_server")),
                 str(_capture("dtls", "dtls_success")), str(ROOT / "captures" / "tls13_success" / "capture.pcap"))
    reader = zat.LogToDataFrame()
    ssl = reader.create_dataframe(str(logs / "ssl.log"))
    conn = reader.create_dataframe(str(logs / "conn.log"))
    quic = reader.create_dataframe(str(logs / "quic.log"))
    x509 = reader.create_dataframe(str(logs / "x509.log"))
    assert len(conn) == len(ssl) == 4 and len(quic) == 1
    assert set(ssl["uid"]) == set(conn["uid"]) and set(quic["uid"]) <= set(ssl["uid"])
    udp = conn[conn["proto"].astype(str) == "udp"]
    assert sorted(udp["service"].astype(str)) == ["dtls", "dtls", "quic,ssl"]
    assert set(udp["conn_state"].astype(str)) == {"SF"} and set(udp["history"].astype(str)) == {"Dd"}
    dtls = ssl[ssl["tlsdissect_protocol"].astype(str) == "dtls"]
    assert set(dtls["version"].astype(str)) == {"DTLSv12"}  # tshark: ServerHello version 0xfefd
    # Zeek's ssl_history for OpenSSL's DTLS 1.2 handshake with a cookie (its dtls1_2 baseline: CvCsxknGIti)
    assert "CvCsxknGIti" in set(dtls["ssl_history"].astype(str))
    fps = {fp for v in ssl["cert_chain_fps"].dropna() for fp in str(v).split(",") if fp not in ("", "-")}
    assert fps and fps <= set(x509["fingerprint"])


def _dtls_pcap(server_name: str) -> bytes:
    """A DTLS 1.2 ClientHello (RFC 6347 §4.2.1: a cookie after the session id) with this server
    name, and the server's fatal unrecognized_name alert in clear, over UDP."""
    sni = server_name.encode("utf-8", "surrogateescape")
    ext = b"\x00\x00" + (len(sni) + 5).to_bytes(2, "big") + (len(sni) + 3).to_bytes(2, "big") + b"\x00" \
        + len(sni).to_bytes(2, "big") + sni
    body = (b"\xfe\xfd" + bytes(32) + b"\x00" + b"\x00" + b"\x00\x02\xc0\x2f" + b"\x01\x00"
            + len(ext).to_bytes(2, "big") + ext)
    hello = record(22, handshake_fragment(1, len(body), 0, 0, body), version=0xFEFF)
    alert = record(21, bytes([2, 112]))
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_EN10MB)
    for i, (src, dst, sport, dport, data) in enumerate(((b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02", 40000, 4433, hello),
                                                        (b"\x0a\x00\x00\x02", b"\x0a\x00\x00\x01", 4433, 40000, alert))):
        udp = dpkt.udp.UDP(sport=sport, dport=dport, data=data)
        udp.ulen = len(udp)
        ip = dpkt.ip.IP(src=src, dst=dst, p=dpkt.ip.IP_PROTO_UDP, data=udp)
        ip.len = len(ip)
        writer.writepkt(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, data=ip).pack(), ts=1_700_000_000 + i)
    return out.getvalue()


HOSTILE_SNI = "x.example<script>alert(1)</script>\"><img src=x onerror=alert(1)>\x1b]0;title\x07"


def test_hostile_dtls_server_name_is_text_in_every_output(tmp_path: Path) -> None:
    from tests.test_html_report import BIDI_AND_CONTROLS, parse

    cap = tmp_path / "dtls.pcap"
    cap.write_bytes(_dtls_pcap(HOSTILE_SNI))
    (a,) = tlsdissect.analyze(cap).dtls
    assert a.server_name == HOSTILE_SNI and a.outcome() == "failed"
    page = tmp_path / "p.html"
    assert _cli("--html", str(page), str(cap)).returncode == 1
    text = page.read_text(encoding="utf-8")
    tree = parse(text)
    tags = {tag for tag, _ in tree.tags}
    assert not tags & {"script", "img"}
    assert not BIDI_AND_CONTROLS.search(text.replace("\n", ""))
    (section,) = [n for n in tree.root.all("section") if "handshake" in n.classes]
    assert "x.example<script>alert(1)</script>\"><img src=x onerror=alert(1)>\\x1b]0;title\\x07" in section.text()
    logs = _zeek(tmp_path, str(cap))
    (row,) = _read_log(logs / "ssl.log")
    assert row["server_name"].endswith("\\x1b]0;title\\x07") and row["version"] == "-"
    rows = list(csv.DictReader(io.StringIO(_cli("--csv", "-", str(cap)).stdout)))
    assert rows[0]["server_name"] == HOSTILE_SNI and rows[0]["protocol"] == "dtls"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_chromium_shows_each_udp_handshake_with_its_verdict(tmp_path: Path) -> None:
    from tests.test_html_report import _chromium, parse

    cap = tmp_path / "dtls.pcap"
    cap.write_bytes(_dtls_pcap(HOSTILE_SNI))
    caps = [str(_capture("quic", "quic_alpn_mismatch")), str(_capture("dtls", "dtls_untrusted_server")),
            str(_capture("dtls", "dtls_success")), str(cap)]
    page = tmp_path / "udp.html"
    assert _cli("--html", str(page), *caps).returncode == 1
    r = _chromium(tmp_path, page, "--dump-dom")
    assert r.returncode == 0, r.stderr[-2000:]
    dom = parse(r.stdout)
    assert not {tag for tag, _ in dom.tags} & {"script", "img", "iframe", "object", "embed", "link"}
    sections = [n for n in dom.root.all("section") if "handshake" in n.classes]
    handshakes = [h for c in caps for h in (*tlsdissect.analyze(c).quic, *tlsdissect.analyze(c).dtls)]
    assert len(sections) == len(handshakes) == 4
    for section, h in zip(sections, handshakes):
        assert h.outcome() in section.classes and h.protocol in section.classes
        verdict = section.one("p", "verdict")
        assert verdict is not None and verdict.text() == h.diagnosis.verdict
        assert section.one("td", "filter").text() == f"udp.stream eq {h.stream}"  # type: ignore[union-attr]
    assert HOSTILE_SNI.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in dom.root.text()
