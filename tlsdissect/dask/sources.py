"""From what the user names (paths, globs, directories, fsspec URLs) to the tasks of a run.

Pure planning, no Dask here: ``capture_files`` lists the files with their sizes, ``rotation_sets``
groups the files a capture rotation (``tcpdump -G``/``-C``, ``editcap -c``/``-i``) cut from one
packet stream, and ``plan`` turns each group into the parts one task each analyses: the whole
group, or for a big one, the connection-hash shards ``--jobs`` uses (each part reads the group
and keeps its shard).

A rotation set is recognised by name, within one directory: the names differ only in the
rotation's number or time stamp (docs/cluster.md lists the forms). Its files are read in that
order as one capture, so a connection open across a cut is one connection.
"""

from __future__ import annotations

import glob
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

# A capture file by its name (as the command line's directory walk): a suffix, or a suffix and the
# number tcpdump -C appends to it ("cap.pcap1").
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".dmp")
_SIZE_ROTATED = re.compile(r"^(?P<base>.+\.(?:pcap|pcapng|cap|dmp))(?P<n>\d+)$", re.IGNORECASE)
# A date and time in a name (tcpdump -G with strftime: %Y%m%d%H%M%S, %Y-%m-%d_%H:%M:%S, ...),
# with the file counter editcap puts before it ("out_00003_20261207112458.pcap").
_TIME_ROTATED = re.compile(r"(?:(?:^|(?<=[_-]))\d+[_-])?(?P<stamp>(?:19|20)\d\d[-_.]?[01]\d[-_.]?[0-3]\d"
                           r"(?:[-_T.]?[0-2]\d(?:[-_:.]?[0-5]\d(?:[-_:.]?[0-6]\d)?)?)?)(?!\d)")
_NUMBERS = re.compile(r"\d+")

SPLIT_BYTES = 256 * 1024 * 1024  # a group bigger than this is split into connection-hash shards


@dataclass(frozen=True)
class CaptureFile:
    """One file to read: its name as given or found (a path or an fsspec URL) and its size."""

    name: str
    size: int = 0


@dataclass(frozen=True)
class Part:
    """What one task analyses: a group's files (one, or a rotation set in order) and its shard
    of the group's connections (None: all of them)."""

    files: tuple[CaptureFile, ...]
    shard: Optional[tuple[int, int]] = None

    @property
    def name(self) -> str:
        return self.files[0].name


def is_url(name: str) -> bool:
    return "://" in name and not name.startswith("file://")


def _is_capture_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(CAPTURE_SUFFIXES) or _SIZE_ROTATED.match(os.path.basename(name)) is not None


def capture_files(sources: Iterable[str], storage_options: Optional[dict[str, Any]] = None) -> list[CaptureFile]:
    """Each source as files: a file as it is; a directory as the capture files below it
    (recursively, by name, sorted); a glob pattern as its matches; an fsspec URL (``s3://``,
    ``gcs://``, ``file://``, ...) the same ways through its file system. A name that matches
    nothing stays, so that its task reports it missing."""
    out: list[CaptureFile] = []
    for source in ([sources] if isinstance(sources, (str, os.PathLike)) else sources):
        name = os.fspath(source)
        if is_url(name) or name.startswith("file://"):
            try:
                out += _remote_files(name, storage_options or {})
            except Exception:  # noqa: BLE001 — no back end for it, no access...: its task says why
                out.append(CaptureFile(name))
        elif os.path.isdir(name):
            for root, dirs, files in os.walk(name):
                dirs.sort()
                out += [_local(os.path.join(root, f)) for f in sorted(files) if _is_capture_name(f)]
        elif not os.path.exists(name) and glob.has_magic(name):
            out += [_local(p) for p in sorted(glob.glob(name, recursive=True)) if os.path.isfile(p)] or [_local(name)]
        else:
            out.append(_local(name))
    return out


def _local(path: str) -> CaptureFile:
    try:
        return CaptureFile(path, os.path.getsize(path))
    except OSError:
        return CaptureFile(path, 0)


def _remote_files(url: str, storage_options: dict[str, Any]) -> list[CaptureFile]:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(url, **storage_options)
    if glob.has_magic(path):
        paths = sorted(fs.glob(path))
    elif fs.isdir(path):
        paths = sorted(p for p in fs.find(path) if _is_capture_name(p))
    else:
        paths = [path]
    out = []
    for p in paths:
        try:
            size = int(fs.size(p) or 0)
        except (OSError, FileNotFoundError):
            size = 0
        out.append(CaptureFile(fs.unstrip_protocol(p) if url.startswith(("file://",)) or is_url(url) else p, size))
    return out


def rotation_key(name: str) -> Optional[tuple[str, str]]:
    """(directory, name with its rotation number or time stamp blanked out) when the name looks
    like a rotation's file, else None. Numbers that are not the rotation's (a sensor's "lb2")
    stay in the key: files of different sensors are different sets."""
    head, base = name.rsplit("/", 1) if "/" in name else ("", name)
    m = _SIZE_ROTATED.match(base)
    if m:
        return head, m.group("base") + "#"
    if _TIME_ROTATED.search(base):
        return head, _TIME_ROTATED.sub("#", base)
    return None


def _order(name: str) -> tuple[int, ...]:
    """Sort key within a set: the numbers in the name, in order ("cap.pcap" before "cap.pcap1")."""
    base = name.rsplit("/", 1)[-1]
    return tuple(int(n) for n in _NUMBERS.findall(base))


def rotation_sets(files: Sequence[CaptureFile], enabled: bool = True) -> list[tuple[CaptureFile, ...]]:
    """The files in groups: each rotation set (two or more files) in order, every other file
    alone; groups in the order of their first file."""
    if not enabled:
        return [(f,) for f in files]
    keyed: dict[tuple[str, str], list[CaptureFile]] = {}
    for f in files:
        key = rotation_key(f.name)
        if key is not None:
            keyed.setdefault(key, []).append(f)
    # tcpdump -C's first file has no number: it is the first of the set of "<its name>#"
    unnumbered: dict[tuple[str, str], CaptureFile] = {}
    for f in files:
        head, base = f.name.rsplit("/", 1) if "/" in f.name else ("", f.name)
        if (head, base + "#") in keyed:
            unnumbered[(head, base + "#")] = f
    group_of: dict[CaptureFile, tuple[CaptureFile, ...]] = {}
    for key, members in keyed.items():
        ordered = tuple(sorted(members, key=lambda f: _order(f.name)))
        if key in unnumbered:
            ordered = (unnumbered[key],) + ordered
        if len(ordered) < 2:
            continue
        for f in ordered:
            group_of.setdefault(f, ordered)
    groups: list[tuple[CaptureFile, ...]] = []
    seen: set[tuple[CaptureFile, ...]] = set()
    for f in files:
        group = group_of.get(f, (f,))
        if group not in seen:
            seen.add(group)
            groups.append(group)
    return groups


def plan(group: tuple[CaptureFile, ...], split_bytes: int = SPLIT_BYTES) -> list[Part]:
    """A group's parts: one, or ceil(size / split_bytes) connection-hash shards of it."""
    size = sum(f.size for f in group)
    n = max(1, math.ceil(size / split_bytes)) if split_bytes > 0 else 1
    if n == 1:
        return [Part(group)]
    return [Part(group, (k, n)) for k in range(n)]
