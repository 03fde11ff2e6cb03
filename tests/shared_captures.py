"""Where the public test captures live, and which files in them are captures.

The shared captures are read-only public pcaps kept outside the repository
(never copied into it).  Tests find them through the environment variable
``TLSDISSECT_SHARED_CAPTURES`` (``TLSDISSECT_CAPTURES`` is accepted as an
alias, other tests use that name), else ``<repo root>/../shared/captures``.
When the folder is absent the tests that need it skip with a reason, so a
fresh clone still passes.  Captures made by our own lab live in
``<repo root>/captures`` and are listed the same way.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_VARS = ("TLSDISSECT_SHARED_CAPTURES", "TLSDISSECT_CAPTURES")
LAB_CAPTURES = REPO_ROOT / "captures"
CAPTURE_SUFFIXES = (
    ".pcap",
    ".pcapng",
    ".cap",
    ".pcap.gz",
    ".pcapng.gz",
    ".cap.gz",
    ".gz",
)


@dataclass(frozen=True)
class CaptureFile:
    """One capture: its absolute path and the id tests show (path relative to its root)."""

    path: Path
    relpath: str
    root: Path


def shared_captures_dir() -> Path:
    """The shared captures folder (it may not exist; see :func:`require_shared_captures`)."""
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "captures").resolve()


def _is_capture_name(name: str) -> bool:
    return name.lower().endswith(CAPTURE_SUFFIXES)


def _manifest_files(root: Path) -> list[str] | None:
    """Capture paths named by MANIFEST.tsv (pcap/pcapng rows), or None when there is no manifest."""
    manifest = root / "MANIFEST.tsv"
    if not manifest.is_file():
        return None
    names: list[str] = []
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            name = (row.get("file") or "").strip()
            fmt = (row.get("link_type_or_format") or "").strip().lower()
            if name and (fmt.startswith("pcap") or _is_capture_name(name)):
                names.append(name)
    return names


def list_captures(root: Path) -> list[CaptureFile]:
    """Every capture file under ``root``, sorted; by MANIFEST.tsv when there is one, else by suffix.

    Manifest rows whose file is missing on disk are skipped rather than
    reported, because the folder is a read-only mirror we do not control.
    """
    if not root.is_dir():
        return []
    names = _manifest_files(root)
    if names is None:
        names = [
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if p.is_file() and _is_capture_name(p.name)
        ]
    out = [
        CaptureFile(root / n, n, root)
        for n in sorted(set(names))
        if (root / n).is_file()
    ]
    return out


def shared_captures() -> list[CaptureFile]:
    """Every capture in the shared folder ([] when it is absent)."""
    return list_captures(shared_captures_dir())


def lab_captures() -> list[CaptureFile]:
    """Every capture our lab wrote into ``<repo>/captures`` ([] when there is none)."""
    return list_captures(LAB_CAPTURES)


def all_captures() -> list[CaptureFile]:
    """Shared captures then lab captures; lab ids are prefixed ``lab/`` to keep ids unique."""
    lab = [CaptureFile(c.path, "lab/" + c.relpath, c.root) for c in lab_captures()]
    return shared_captures() + lab


def require_shared_captures() -> Path:
    """Return the shared captures folder, or skip the calling test with a reason saying how to provide it."""
    root = shared_captures_dir()
    if not root.is_dir():
        pytest.skip(
            f"shared captures folder not found at {root}; set TLSDISSECT_SHARED_CAPTURES "
            "to the folder holding MANIFEST.tsv to run these tests"
        )
    return root


def manifest_rows(root: Path | None = None) -> list[dict[str, str]]:
    """Rows of MANIFEST.tsv as dicts (skip the test when the folder or file is absent)."""
    root = root or require_shared_captures()
    path = root / "MANIFEST.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def expected_rows(root: Path | None = None) -> list[dict[str, str]]:
    """Rows of EXPECTED.tsv as dicts (skip the test when the folder or file is absent)."""
    root = root or require_shared_captures()
    path = root / "EXPECTED.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))
