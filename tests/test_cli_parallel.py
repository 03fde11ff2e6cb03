"""`tlsdissect -j N` over several files prints exactly what the sequential run prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CAPS = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "captures").glob("*/capture.pcap"))[:6]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlsdissect", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(len(CAPS) < 3, reason="lab captures missing")
@pytest.mark.parametrize("mode", [["--no-color"], ["--json"]])
def test_parallel_output_equals_sequential(mode: list[str]) -> None:
    seq = _run(*mode, *CAPS)
    par = _run(*mode, "-j", "2", *CAPS)
    assert par.returncode == seq.returncode
    assert par.stdout == seq.stdout
    assert "Traceback" not in par.stderr
