"""--zeek: ssl.log, x509.log and conn.log as Zeek writes them.

Expectations from outside our code: the ssl.log baselines of Zeek packages for the shared
captures (the JA3 project's Bro ssl.log, FoxIO's ja4 Zeek package's ssl.log, both carried in
shared/captures/EXPECTED.tsv: rows whose source is an ssl.log), Zeek's log format as a Zeek log
reader library (zat) reads it, and the capture's hostile strings for the escaping.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.hostile_captures import SCENARIOS, SNI_TERMINAL, hostile_pcap
from tests.shared_captures import shared_captures_dir
from tlsdissect.report.zeek import CONN_FIELDS, SSL_FIELDS, X509_FIELDS, uid_of

ROOT = Path(__file__).resolve().parent.parent


def _zeek(tmp: Path, *args: str) -> Path:
    out = tmp / "logs"
    run = subprocess.run([sys.executable, "-m", "tlsdissect.cli", "--zeek", str(out), *args], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    return out


def read_log(path: Path) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """(fields, types, rows) of a Zeek TSV log, read by its own header lines."""
    fields: list[str] = []
    types: list[str] = []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#fields\t"):
            fields = line.split("\t")[1:]
        elif line.startswith("#types\t"):
            types = line.split("\t")[1:]
        elif not line.startswith("#"):
            values = line.split("\t")
            assert len(values) == len(fields), line
            rows.append(dict(zip(fields, values)))
    return fields, types, rows


def _zeek_rows() -> list[dict[str, str]]:
    base = shared_captures_dir()
    if not (base / "EXPECTED.tsv").is_file():
        return []
    with open(base / "EXPECTED.tsv", newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["expected_source"].endswith("ssl.log")]


ZEEK_ROWS = _zeek_rows()
# EXPECTED.tsv column -> ssl.log field
COLUMNS = {"version": "version", "cipher": "cipher", "server_name": "server_name", "established": "established",
           "last_alert": "last_alert", "ssl_history": "ssl_history", "resumed": "resumed", "ja3": "ja3",
           "ja3s": "ja3s", "ja4": "ja4", "ja4s": "ja4s"}


@pytest.mark.parametrize("file", sorted({r["file"] for r in ZEEK_ROWS}))
def test_ssl_log_matches_zeek_baselines(file: str, tmp_path: Path) -> None:
    logs = _zeek(tmp_path, str(shared_captures_dir() / file))
    _, _, rows = read_log(logs / "ssl.log")
    x509 = {r["fingerprint"]: r for r in read_log(logs / "x509.log")[2]}
    compared = 0
    for want in (r for r in ZEEK_ROWS if r["file"] == file):
        flow = want["uid_or_flow"].split(" ", 1)[1]
        client, server = flow.split("->")
        got = [r for r in rows if f"{r['id.orig_h']}:{r['id.orig_p']}" == client
               and f"{r['id.resp_h']}:{r['id.resp_p']}" == server]
        if not got:
            continue
        assert len(got) == 1, flow
        compared += 1
        row = got[0]
        for column, field in COLUMNS.items():
            if want[column].strip():
                assert row[field] == want[column].strip(), (flow, field)
        notes = dict(kv.rstrip(";").split("=", 1) for kv in want["notes"].split(" ") if "=" in kv and "(" not in kv)
        for field in ("curve", "next_protocol"):
            if field in notes:
                assert row[field] == notes[field], (flow, field)
        if want["cert_subject"]:
            leaf = x509[row["cert_chain_fps"].split(",")[0]]
            assert leaf["certificate.subject"] == want["cert_subject"]
            assert leaf["certificate.issuer"] == want["cert_issuer"]
    if compared == 0:
        pytest.skip(f"no flow of the baseline is in this version of {file}")
    if file.endswith("tls-handshake.pcapng"):
        # FoxIO's ja4 Zeek package baseline of this capture is its 20 QUIC flows (Zeek logs QUIC's
        # TLS in ssl.log): each compared, none missing.
        assert compared == sum(1 for r in ZEEK_ROWS if r["file"] == file) == 20


def test_logs_load_with_a_zeek_reader_and_link_by_uid(tmp_path: Path) -> None:
    zat = pytest.importorskip("zat.log_to_dataframe", reason="zat (a Zeek log reader) is not installed")
    captures = [str(ROOT / "captures" / n / "capture.pcap") for n in
                ("tls12_missing_intermediate_openssl", "tls13_success", "middlebox_reset", "mtls_success_tls12")]
    logs = _zeek(tmp_path, *captures)
    reader = zat.LogToDataFrame()
    ssl = reader.create_dataframe(str(logs / "ssl.log"))
    x509 = reader.create_dataframe(str(logs / "x509.log"))
    conn = reader.create_dataframe(str(logs / "conn.log"))
    assert len(ssl) == len(conn) >= 4
    assert set(ssl["uid"]) <= set(conn["uid"])
    assert str(ssl.index.dtype).startswith("datetime64")  # zat indexes by ts, read as Zeek's time type
    assert list(ssl.columns) == [n for n, _ in SSL_FIELDS if n != "ts"]
    fps = {fp for v in ssl["cert_chain_fps"].dropna() for fp in str(v).split(",")}
    assert fps and fps <= set(x509["fingerprint"])
    mtls = ssl[ssl["tlsdissect_stream"] == 0]
    assert set(x509["client_cert"].astype(str)) == {"T", "F"}  # the mTLS capture's client certificate
    assert (mtls["established"].astype(str) == "T").any()


def test_headers_and_types_are_zeeks(tmp_path: Path) -> None:
    logs = _zeek(tmp_path, str(ROOT / "captures" / "tls13_success" / "capture.pcap"))
    for name, spec in (("ssl", SSL_FIELDS), ("x509", X509_FIELDS), ("conn", CONN_FIELDS)):
        lines = (logs / f"{name}.log").read_text().splitlines()
        assert lines[0] == "#separator \\x09"
        assert lines[1:5] == ["#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{name}"]
        fields, types, _ = read_log(logs / f"{name}.log")
        assert fields == [n for n, _ in spec] and types == [t for _, t in spec]
        assert lines[-1].startswith("#close\t")


def test_json_lines(tmp_path: Path) -> None:
    logs = _zeek(tmp_path, "--zeek-json", str(ROOT / "captures" / "tls12_missing_intermediate_openssl" / "capture.pcap"))
    (row,) = [json.loads(line) for line in (logs / "ssl.log").read_text().splitlines()]
    assert row["version"] == "TLSv12" and row["last_alert"] == "unknown_ca" and row["established"] is False
    assert "next_protocol" not in row  # unset fields are left out, as Zeek's JSON writer does
    assert row["uid"] == uid_of(str(ROOT / "captures" / "tls12_missing_intermediate_openssl" / "capture.pcap"), 0)


def test_capture_strings_cannot_break_a_line_or_a_column(tmp_path: Path) -> None:
    cap = tmp_path / "h.pcap"
    cap.write_bytes(hostile_pcap(SCENARIOS))
    logs = _zeek(tmp_path, str(cap))
    _, _, rows = read_log(logs / "ssl.log")  # (read_log asserts every line has every column)
    names = [r["server_name"] for r in rows]
    # Zeek's ASCII writer: a byte that is not printable as \xNN (two lower-case hex digits)
    escaped = "".join(f"\\x{ord(c):02x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in SNI_TERMINAL)
    assert any(n.startswith(escaped[:40]) for n in names)
    assert not any(ch in "".join(names) for ch in "\x1b\n\r\t\x00")
