"""Hostile captures, 8: a gzip'd capture that inflates beyond reason is read as truncated.

Before, a decompression bomb was walked to the end (a pcap header and gigabytes of zeros:
hundreds of millions of empty frames). Now reading stops once the capture has inflated past
GZIP_RATIO_AFTER at more than MAX_GZIP_RATIO:1, or past MAX_GZIP_OUTPUT whatever the ratio;
the limits are lowered here so the files stay small.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from tlsdissect.capture import reader
from tlsdissect.capture.reader import CaptureReader
from tlsdissect.cli import main
from tlsdissect.pipeline.analyzer import analyze

from tests.hostile.tcp_hostile_pcaps import gzip_bomb, pcap, rewritten_after_delivery


def frames_and_info(data: bytes) -> tuple[int, reader.CaptureInfo]:
    r = CaptureReader(data)
    n = sum(1 for _ in r.segments())
    return n, r.info


def test_a_bomb_stops_at_the_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "GZIP_RATIO_AFTER", 2 << 20)
    bomb = gzip_bomb(64 << 20)  # 64 MiB of zeros in ~64 KiB
    started = time.process_time()
    n, info = frames_and_info(bomb)
    assert info.truncated
    assert f"more than {reader.MAX_GZIP_RATIO}:1" in info.truncation_reason
    assert "decompression bomb" in info.truncation_reason
    # Stopped within one read (4 MiB) of the threshold, not at the 4M frames of the end.
    assert n * 16 <= (2 << 20) + (4 << 20)
    assert time.process_time() - started < 5


def test_a_capture_that_compresses_well_but_not_absurdly_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "GZIP_RATIO_AFTER", 1 << 10)
    capture, _first, _second = rewritten_after_delivery()
    plain = analyze(capture)
    packed = analyze(gzip.compress(capture))
    assert not packed.truncated and packed.frames == plain.frames == 7
    assert [c.to_dict() for c in packed.connections] == [c.to_dict() for c in plain.connections]


def test_the_size_limit_holds_whatever_the_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "GZIP_RATIO_AFTER", 1 << 40)  # (the ratio never checked)
    monkeypatch.setattr(reader, "MAX_GZIP_OUTPUT", 1 << 20)
    n, info = frames_and_info(gzip_bomb(8 << 20))
    assert info.truncated and "inflates past 1 MiB" in info.truncation_reason
    assert n * 16 <= (1 << 20) + (4 << 20)


def test_the_cli_reports_the_bomb_as_a_truncation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(reader, "GZIP_RATIO_AFTER", 1 << 20)
    path = tmp_path / "bomb.pcap.gz"
    path.write_bytes(gzip_bomb(16 << 20))
    main(["--json", str(path)])
    out = json.loads(capsys.readouterr().out)
    assert out["truncated"] is True
    assert "decompression bomb" in out["truncation_reason"]
    assert out["frames"] * 16 <= (1 << 20) + (4 << 20)


def test_plain_captures_are_not_affected() -> None:
    data = pcap([])
    n, info = frames_and_info(data)
    assert n == 0 and not info.truncated and not info.compressed
