"""`tlsdissect -j N FILE` (one file, connections shared out among N workers) prints exactly
what the single-process run prints.

The capture: every lab capture replayed into one file with overlapping times (so the workers'
connections interleave and end in a mixed order), plus plain-TCP conversations on a port where
TLS is seen — whether those are reported depends on the *other* connections (TLS seen on the
port before they end), the one decision a worker cannot make alone.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

from segmenting import PcapBuilder

CAPS = sorted((Path(__file__).resolve().parent.parent / "captures").glob("*/capture.pcap"))
T0 = 1_700_000_000.0


def _plain_tcp(port: int, client_port: int, t0: float) -> list[tuple[float, bytes]]:
    b = PcapBuilder((client_port, port), (1000, 9000), t0=t0)
    b.handshake()
    b.packet(0, b.seq(0, 0), dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, b"hello there\r\n")
    b.sent[0] += 13
    b.packet(1, b.seq(1, 0), dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, b"hi\r\n")
    b.sent[1] += 4
    b.packet(0, b.seq(0, 13), dpkt.tcp.TH_ACK | dpkt.tcp.TH_FIN)
    b.packet(1, b.seq(1, 4), dpkt.tcp.TH_ACK | dpkt.tcp.TH_FIN)
    return list(dpkt.pcap.Reader(__import__("io").BytesIO(b.getvalue())))


@pytest.fixture(scope="module")
def combined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames: list[tuple[float, int, bytes]] = []
    tls_port = None
    for i, path in enumerate(CAPS):
        with open(path, "rb") as f:
            recs = list(dpkt.pcap.Reader(f))
        if not recs:
            continue
        start = recs[0][0]
        for ts, buf in recs:
            frames.append((T0 + i * 0.25 + (ts - start), len(frames), buf))
        if tls_port is None:
            eth = dpkt.ethernet.Ethernet(recs[0][1])
            tls_port = min(eth.data.data.sport, eth.data.data.dport)
    assert tls_port is not None
    end = max(t for t, _, _ in frames)
    # Plain TCP on the TLS port: before any TLS there ended, and well after.
    for k, t in enumerate((T0 - 5.0, end + 10.0)):
        for ts, buf in _plain_tcp(tls_port, 51000 + k, t):
            frames.append((ts, len(frames), buf))
    frames.sort()
    out = tmp_path_factory.mktemp("shard") / "combined.pcap"
    with open(out, "wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=262144, linktype=dpkt.pcap.DLT_EN10MB)
        for ts, _, buf in frames:
            w.writepkt(buf, ts=ts)
    return out


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], capture_output=True, text=True, timeout=600)


pytestmark = pytest.mark.skipif(len(CAPS) < 10, reason="lab captures missing")


@pytest.mark.parametrize("mode", [["--jsonl"], ["--json"], ["--no-color"], ["--jsonl", "--all"],
                                  ["--json", "--stream", "3", "--stream", "40"]])
def test_sharded_output_equals_single_process(combined: Path, mode: list[str]) -> None:
    single = _run(*mode, str(combined))
    assert single.returncode in (0, 1), single.stderr
    if "--stream" in mode:
        import json

        assert [c["stream"] for c in json.loads(single.stdout)["connections"]] == [3, 40]
    else:
        assert single.stdout.count("\n") > 20
    for jobs in ("2", "3"):
        sharded = _run(*mode, "-j", jobs, str(combined))
        assert sharded.returncode == single.returncode
        assert sharded.stderr == single.stderr
        assert sharded.stdout == single.stdout, f"-j {jobs} differs"


def test_plain_tcp_on_a_tls_port_is_reported_only_after_tls_was_seen_there(combined: Path) -> None:
    import json

    lines = [json.loads(x) for x in _run("--jsonl", "-j", "2", str(combined)).stdout.splitlines()]
    plain = [c for c in lines if c["client"].endswith((":51000", ":51001"))]
    assert [c["client"].rsplit(":", 1)[1] for c in plain] == ["51001"]


def test_sharded_truncated_and_bad_input(combined: Path, tmp_path: Path) -> None:
    data = combined.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2 + 7])
    single = _run("--jsonl", str(cut))
    sharded = _run("--jsonl", "-j", "2", str(cut))
    assert single.returncode == sharded.returncode == 2
    assert sharded.stdout == single.stdout and sharded.stdout
    assert sharded.stderr == single.stderr and sharded.stderr.count("\n") == 1
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(struct.pack("<I", 0xDEADBEEF) + b"x" * 100)
    bad = _run("--json", "-j", "2", str(junk))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("tlsdissect: ") and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_keys_arriving_mid_capture_reach_every_worker(tmp_path: Path) -> None:
    """A pcapng Decryption Secrets Block after the first packets: each worker hands the keys to
    the connections it analyses (and skips the ones it only tracks)."""
    from test_decryption_pipeline import _pcapng_with_secrets

    folder = Path(__file__).resolve().parent.parent / "captures" / "tls13_client_cert_missing"
    if not (folder / "keylog.txt").exists():
        pytest.skip("lab capture missing")
    cap = tmp_path / "keys-mid.pcapng"
    cap.write_bytes(_pcapng_with_secrets(folder / "capture.pcap", (folder / "keylog.txt").read_bytes(),
                                         after_packets=3))
    single = _run("--jsonl", str(cap))
    assert '"status":"decrypted"' in single.stdout
    for jobs in ("2", "3"):
        sharded = _run("--jsonl", "-j", jobs, str(cap))
        assert (sharded.returncode, sharded.stdout, sharded.stderr) == (single.returncode, single.stdout, single.stderr)
