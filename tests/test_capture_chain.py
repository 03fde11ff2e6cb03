"""capture/chain.py: the files of a rotation set read as one capture.

The expectation is the unsplit capture: editcap (Wireshark's tool) cuts a bundled capture into
consecutive files, and reading them in order must give the unsplit capture's connections,
frame for frame and stream for stream (as ``mergecap -a`` of the parts would in Wireshark).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect
from tests.shared_captures import LAB_CAPTURES
from tlsdissect.capture.chain import ChainedReader

RESUMPTION = LAB_CAPTURES / "tls12_resumption_openssl" / "capture.pcap"  # 6 connections, 82 frames


def _split(tmp_path: Path, count: int, fmt: str = "pcap") -> list[Path]:
    if shutil.which("editcap") is None:
        pytest.skip("editcap (Wireshark's tools) is not installed")
    subprocess.run(["editcap", "-F", fmt, "-c", str(count), str(RESUMPTION), str(tmp_path / f"part.{fmt}")],
                   check=True, capture_output=True)
    return sorted(tmp_path.iterdir())


def _connections(report: tlsdissect.Report) -> list[dict]:
    return report.to_dict()["connections"]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_the_parts_in_order_are_the_whole_capture(tmp_path: Path, fmt: str) -> None:
    parts = _split(tmp_path, 9, fmt)
    assert len(parts) == 10
    whole = tlsdissect.analyze(str(RESUMPTION))
    joined = tlsdissect.analyze([str(p) for p in parts])
    assert _connections(joined) == _connections(whole)
    assert (joined.frames, joined.tcp_connections, joined.truncated) == (whole.frames, whole.tcp_connections, False)
    # Read one by one, the parts give fragments: not the whole capture's connections.
    alone = [c for p in parts for c in _connections(tlsdissect.analyze(str(p)))]
    assert [c["ssl_history"] for c in alone] != [c["ssl_history"] for c in _connections(whole)]


def test_frames_map_back_to_their_files(tmp_path: Path) -> None:
    parts = _split(tmp_path, 9)
    reader = ChainedReader([str(p) for p in parts])
    frames = [rec[0] for rec in reader.segments()]
    assert frames == list(range(1, 83))
    assert [m.first_frame for m in reader.members] == list(range(1, 83, 9))
    assert [reader.member_of(f) for f in (1, 9, 10, 82)] == [str(parts[0]), str(parts[0]), str(parts[1]),
                                                            str(parts[-1])]


def test_a_damaged_member_is_noted_and_the_rest_is_read(tmp_path: Path) -> None:
    parts = _split(tmp_path, 9)
    (tmp_path / "junk").write_bytes(b"no capture here")
    data = parts[4].read_bytes()
    parts[4].write_bytes(data[:len(data) - 10])  # its last record cut short
    members = [str(p) for p in parts[:3]] + [str(tmp_path / "junk")] + [str(p) for p in parts[3:]]
    reader = ChainedReader(members)
    frames = [rec[0] for rec in reader.segments()]
    assert len(frames) == 81 and frames == list(range(1, 82))  # the cut record is lost, nothing else
    assert [name for name, _ in reader.problems] == [str(tmp_path / "junk"), str(parts[4])]
    assert "not a pcap or pcapng capture" in reader.problems[0][1]
    assert "cut short" in reader.problems[1][1]
    assert reader.info.truncated
    report = tlsdissect.analyze(members)
    assert report.truncated and str(tmp_path / "junk") in report.truncation_reason
    assert len(report.connections) == 6
