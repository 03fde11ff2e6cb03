"""A visible alert never ends as `unknown` (issue "Diagnosis that generalises"): on every bundled
and shared capture, a diagnosis decided by an alert whose code the capture shows (in clear, or
decrypted with the key log) names a cause, with alternatives where the model has them."""

from __future__ import annotations

from pathlib import Path

import pytest

import tlsdissect
from tests.shared_captures import shared_captures, shared_captures_dir

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted((ROOT / "captures").glob("*/capture.pcap"))


def _check(path: Path, keylog: Path | None = None) -> int:
    seen = 0
    for conn in tlsdissect.analyze(path, keylog=str(keylog) if keylog else None):
        diag = conn.diagnosis
        alert = getattr(diag, "alert", None)
        if diag is None or alert is None or alert.code is None:
            continue
        seen += 1
        assert diag.cause != "unknown", (path, conn.stream, alert, diag.explanation)
    return seen


def test_bundled_captures() -> None:
    seen = 0
    for cap in BUNDLED:
        keys = cap.parent / "keylog.txt"
        seen += _check(cap) + (_check(cap, keys) if keys.is_file() else 0)
    assert seen > 50  # the lab's alerts: the check above really ran


def test_shared_captures() -> None:
    if not shared_captures_dir().is_dir():
        pytest.skip("shared captures absent (TLSDISSECT_SHARED_CAPTURES)")
    seen = sum(_check(c.path) for c in shared_captures())
    assert seen > 0
