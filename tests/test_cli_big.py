"""Big captures on the command line: the summary first, the failures listed, filters.

The capture is made here from the bundled lab captures, one after the other (each a real
handshake on its own server port), and every expectation comes from their expected.json files:
what the client, the server and tshark said, not what tlsdissect printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

ROOT = Path(__file__).resolve().parents[1]
APACHE_ERA = [d for d in sorted((ROOT / "captures").iterdir())
              if (d / "expected.json").is_file() and not d.name.startswith(("wide_", "wide2_", "wide3_"))]


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """Every Apache-era lab capture in one pcap, 10 s apart, and their expected.json."""
    out = tmp_path_factory.mktemp("big") / "joined.pcap"
    expected = []
    with out.open("wb") as f:
        w = dpkt.pcap.Writer(f, linktype=dpkt.pcap.DLT_EN10MB)
        for i, d in enumerate(APACHE_ERA):
            with (d / "capture.pcap").open("rb") as src:
                packets = list(dpkt.pcap.Reader(src))
            t0 = packets[0][0]
            for ts, buf in packets:
                w.writepkt(buf, ts=1_700_000_000 + 10 * i + (ts - t0))
            expected.append(json.loads((d / "expected.json").read_text()))
    return out, expected


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlsdissect", "--no-color", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _failed_by_lab(expected: list[dict]) -> list[dict]:
    return [e for e in expected if e["expected"]["outcome"] == "failed"]


def test_the_summary_counts_what_the_lab_recorded(joined: tuple[Path, list[dict]]) -> None:
    import tlsdissect

    path, expected = joined
    text = _cli(str(path)).stdout
    assert "summary:" in text
    line = next(x for x in text.splitlines() if x.startswith("  connections: "))
    failed = int(line.split(" failed")[0].rsplit(" ", 1)[-1].lstrip("("))
    # every lab scenario that failed contributes at least one failed connection
    assert failed >= len(_failed_by_lab(expected))
    # and the text's count is the library's (one meaning of "failed")
    assert failed == len(tlsdissect.analyze(path).failures())
    assert "servers with the most failures" in text


def test_filters_keep_what_they_name(joined: tuple[Path, list[dict]]) -> None:
    import tlsdissect

    path, expected = joined
    report = tlsdissect.analyze(path)
    doc = json.loads(_cli("--json", "--failed", str(path)).stdout)
    assert sorted(c["stream"] for c in doc["connections"]) == sorted(c.stream for c in report.failures())
    cause = "server_cert_expired"
    assert any(e["expected"]["cause"] == cause for e in expected)
    doc = json.loads(_cli("--json", "--cause", cause, str(path)).stdout)
    assert doc["connections"]
    assert sorted(c["stream"] for c in doc["connections"]) == sorted(
        c.stream for c in report if c.diagnosis.cause == cause)
    port = doc["connections"][0]["server"].rsplit(":", 1)[1]
    by_port = json.loads(_cli("--json", "--port", port, str(path)).stdout)["connections"]
    assert by_port and all(port in (c["server"].rsplit(":", 1)[1], c["client"].rsplit(":", 1)[1]) for c in by_port)
    doc = json.loads(_cli("--json", "--sni", "*.lab.test", str(path)).stdout)
    assert doc["connections"] and all(c["server_name"].endswith(".lab.test") for c in doc["connections"])
    assert json.loads(_cli("--json", "--sni", "nothing.invalid", str(path)).stdout)["connections"] == []


def test_a_big_capture_lists_failures_and_counts_the_rest(joined: tuple[Path, list[dict]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tlsdissect.report import summary

    path, expected = joined
    if len(expected) <= summary.BIG_CAPTURE:  # the joined capture is below the threshold: ask for it
        text = _cli("--show", "failed", str(path)).stdout
    else:
        text = _cli(str(path)).stdout
    established = sum(1 for e in expected if e["expected"]["outcome"] == "established")
    assert "✓ stream" not in text  # no established connection listed
    assert "established connection(s) not listed: --show all" in text
    assert "✓ stream" in _cli("--show", "all", str(path)).stdout or established == 0


def test_every_view_counts_the_same_failures(joined: tuple[Path, list[dict]]) -> None:
    """Text headline, JSON rows, JSON lines, DataFrame, failures() and the exit status agree."""
    import tlsdissect

    path, _ = joined
    report = tlsdissect.analyze(path)
    text = _cli(str(path))
    head = text.stdout.splitlines()[0]
    failed_text = int(head.split(" failed")[0].rsplit(" ", 1)[-1]) if " failed" in head else 0
    doc = json.loads(_cli("--json", str(path)).stdout)
    lines = [json.loads(x) for x in _cli("--jsonl", str(path)).stdout.splitlines()]
    df = report.to_dataframe()
    counts = {
        "text": failed_text,
        "json": sum(c["outcome"] == "failed" for c in doc["connections"]),
        "jsonl": sum(c["outcome"] == "failed" for c in lines),
        "dataframe": int((df["outcome"] == "failed").sum()),
        "failures()": len(report.failures()),
    }
    assert len(set(counts.values())) == 1, counts
    assert counts["text"] > 0 and text.returncode == 1
    assert str(df["start_time"].dtype) == "datetime64[ns, UTC]"
    assert str(df["outcome"].dtype) == "category"


UDP_LAB = [d for kind in ("quic", "dtls") for d in sorted((ROOT / "tests" / "data" / kind).iterdir())
           if (d / "capture.pcap").is_file()]


def _quic_failed(sidecar: dict) -> bool:
    """A QUIC lab handshake failed by its peers' account (lab/quic: the client's own report, and the
    cause the scenario was made for)."""
    cause = (sidecar.get("expected") or {}).get("cause")
    if cause is not None:
        return bool(cause != "ok")
    return not (sidecar["observed"].get("client") or {}).get("handshake_completed")


@pytest.fixture(scope="module")
def joined_udp(joined: tuple[Path, list[dict]], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The Apache-era captures, then every QUIC and DTLS lab capture (tests/data), 10 s apart
    (each on its own client port), in one pcap; and how many of those handshakes failed by the
    peers' own account (tests/test_quic.py's and tests/test_dtls.py's truth from their logs)."""
    from tests.test_dtls import LAB_TRUTH

    path, expected = joined
    out = tmp_path_factory.mktemp("bigudp") / "joined_udp.pcap"
    failed = 0
    with out.open("wb") as f:
        w = dpkt.pcap.Writer(f, linktype=dpkt.pcap.DLT_EN10MB)
        with path.open("rb") as src:
            for ts, buf in dpkt.pcap.Reader(src):
                w.writepkt(buf, ts=ts)
        for i, d in enumerate(UDP_LAB):
            with (d / "capture.pcap").open("rb") as src:
                packets = list(dpkt.pcap.Reader(src))
            t0 = packets[0][0]
            for ts, buf in packets:
                w.writepkt(buf, ts=1_700_000_000 + 10 * (len(expected) + i) + (ts - t0))
            truth = LAB_TRUTH.get(d.name)
            fails = (truth[0] == "failed") if truth else _quic_failed(json.loads((d / "expected.json").read_text()))
            failed += fails * _flows(d / "capture.pcap")  # (a resumption capture has two handshakes, alike)
    return out, failed


def _flows(path: Path) -> int:
    """tshark's count of the UDP conversations that carry QUIC or DTLS."""
    import shutil

    if shutil.which("tshark") is None:
        pytest.skip("tshark (the test oracle) is not installed")
    out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "quic || dtls", "-T", "fields", "-e", "udp.stream"],
                         capture_output=True, text=True, timeout=120).stdout
    return len({line.split(",")[0] for line in out.splitlines() if line})


def test_every_view_counts_the_same_failures_with_quic_and_dtls(joined_udp: tuple[Path, int]) -> None:
    """As above, with the QUIC handshakes and DTLS associations counted in every view."""
    import tlsdissect

    path, udp_failed = joined_udp
    report = tlsdissect.analyze(path)
    assert len(report.quic) + len(report.dtls) == sum(_flows(d / "capture.pcap") for d in UDP_LAB)
    assert len(report.udp_failures()) == udp_failed  # the peers' account
    text = _cli(str(path))
    head = text.stdout.splitlines()[0]
    assert f"{len(report.quic)} QUIC handshake(s), {len(report.dtls)} DTLS handshake(s)" in head
    failed_text = int(head.split(" failed")[0].rsplit(" ", 1)[-1])
    summary = next(x for x in text.stdout.splitlines() if x.startswith("  connections: "))
    doc = json.loads(_cli("--json", str(path)).stdout)
    lines = [json.loads(x) for x in _cli("--jsonl", str(path)).stdout.splitlines()]
    df = report.to_dataframe()
    counts = {
        "text": failed_text,
        "summary": int(summary.split(" failed")[0].rsplit(" ", 1)[-1].lstrip("(")),
        "json": sum(c["outcome"] == "failed" for c in doc["connections"] + doc["quic"] + doc["dtls"]),
        "jsonl": sum(c["outcome"] == "failed" for c in lines),
        "dataframe": int((df["outcome"] == "failed").sum()),
        "failures()": len(report.failures()),
    }
    assert len(set(counts.values())) == 1, counts
    assert counts["text"] == len([c for c in report if c.outcome == "failed"]) + udp_failed
    assert text.returncode == 1
    assert sum(x["transport"] == "udp" for x in lines) == len(report.quic) + len(report.dtls)
    assert (df["transport"] == "udp").sum() == len(report.quic) + len(report.dtls)
