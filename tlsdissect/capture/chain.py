"""Several capture files read as one capture: the members of a rotation set, in order.

``tcpdump -G`` (a new file every N seconds) and ``tcpdump -C`` (a new file every N megabytes)
cut one stream of packets into consecutive files, and a connection that is open at a cut has
its start in one file and its end in the next. Read one after the other as a single capture,
the files give every connection whole, with the frame numbers and ``tcp.stream`` numbers that
``mergecap -a`` of the same files (concatenated, in this order) shows in Wireshark.

A member that is not a capture at all, or is cut short, does not stop the set: its damage is
noted in :attr:`ChainedReader.problems` (and marks the whole capture truncated) and reading goes
on with the next member, as a gap in the packet stream, which the TCP stage handles as any
missing segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from tlsdissect.capture.reader import CaptureInfo, CaptureReader, DecryptionSecrets
from tlsdissect.errors import CaptureError


@dataclass
class Member:
    """One file of the set: its name and where its frames start in the set's numbering."""

    name: str
    first_frame: int  # the set's frame number of this file's frame 1
    frames: int = 0


class ChainedReader:
    """The members' frames in order, numbered on across files; CaptureReader's interface as the
    pipeline uses it (``segments``, ``new_secrets``, ``position``, ``info``, ``name``). A member is
    a Source, or a function without arguments that opens one (read when its turn comes)."""

    def __init__(self, sources: Sequence[Any], names: Optional[Sequence[str]] = None) -> None:
        if not sources:
            raise CaptureError("an empty set of capture files")
        self.sources = list(sources)
        self.names = [str(n) for n in names] if names is not None else [_name_of(s) for s in sources]
        self.name = self.names[0]
        self.info = CaptureInfo()
        self.members: list[Member] = []
        self.problems: list[tuple[str, str]] = []  # (member name, what was wrong with it)
        self.new_secrets: list[DecryptionSecrets] = []
        self._current: Optional[CaptureReader] = None
        self._done_bytes = 0
        # The first member must be a capture: otherwise the set is no capture either (as a single
        # file that is none), which the caller reports as an error.
        self._first = _reader(self.sources[0])
        self._first.name = self.names[0]
        self.info.format = self._first.info.format

    @property
    def position(self) -> int:
        cur = self._current
        return self._done_bytes + (cur.position if cur is not None else 0)

    def close(self) -> None:
        for reader in (self._current, self._first):
            if reader is not None:
                reader.close()

    def segments(self) -> Iterator[tuple[Any, ...]]:
        """CaptureReader.segments of each member in turn, frame numbers shifted on."""
        offset = 0
        for i, source in enumerate(self.sources):
            reader = self._open(i, source)
            if reader is None:
                continue
            self._current = reader
            reader.new_secrets = self.new_secrets  # (the pipeline watches this one list)
            member = Member(self.names[i], offset + 1)
            self.members.append(member)
            try:
                if offset == 0:
                    yield from reader.segments()
                else:
                    for rec in reader.segments():
                        yield (rec[0] + offset,) + rec[1:]
            except CaptureError as e:  # (a pcap file header cut short shows here)
                self._problem(self.names[i], str(e))
            finally:
                info = reader.info
                member.frames = info.frames
                offset += info.frames
                self.info.frames = offset
                self.info.bytes_read += info.bytes_read
                self.info.compressed = self.info.compressed or info.compressed
                self.info.interfaces += info.interfaces
                self.info.secrets += info.secrets
                self._done_bytes += reader.position
                self._current = None
                reader.close()
            if info.truncated:
                self._problem(self.names[i], info.truncation_reason)

    def _open(self, i: int, source: Any) -> Optional[CaptureReader]:
        if i == 0:
            return self._first
        try:
            reader = _reader(source)
        except CaptureError as e:
            self._problem(self.names[i], str(e))
            return None
        reader.name = self.names[i]
        return reader

    def _problem(self, name: str, message: str) -> None:
        if not message.startswith(name):
            message = f"{name}: {message}"
        self.problems.append((name, message))
        self.info.truncated = True
        reasons = [m for _n, m in self.problems]
        self.info.truncation_reason = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3
                                                                 else "")

    def member_of(self, frame: int) -> str:
        """The name of the file that holds the set's frame ``frame``."""
        found = self.names[0]
        for m in self.members:
            if m.first_frame > frame:
                break
            found = m.name
        return found


def _reader(source: Any) -> CaptureReader:
    """A member's reader. A member may be a function that opens it (a remote file is opened only
    when its turn comes, not all of a long set at once): the stream it gives is closed with the
    reader."""
    if not callable(source):
        return CaptureReader(source)
    stream = source()
    try:
        reader = CaptureReader(stream)
    except BaseException:
        stream.close()
        raise
    reader._owned = True  # (close() closes what was opened for it)
    return reader


def _name_of(source: Any) -> str:
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        return str(source) if not isinstance(source, bytes) else "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def open_capture(source: Any) -> Any:
    """A CaptureReader for one source, a ChainedReader for a list or tuple of them (a rotation
    set, in order)."""
    if isinstance(source, (list, tuple)):
        return ChainedReader(source)
    return CaptureReader(source)
