"""The findings back into the capture: ``--annotate OUT.pcapng`` and ``Report.annotate``.

The analyst opens one file in Wireshark and filters ``frame.comment contains "tlsdissect"``:
each connection's cause (with its explanation and remedies) is a packet comment on its first
frame, the verdict on the frame that decided it (the deciding alert, else the FIN or RST that
ended it, else the last handshake message completed), each evidence line on the frames it
names; a QUIC handshake's lines from the text view on its first frame and its close. With a key
log, the lines that belong to the capture's connections (by their ClientHello randoms and RSA
pre-master prefixes, ``Connection.key_log_ids``) go into a Decryption Secrets Block, so
Wireshark decrypts without being told where the key log is.

Comments quote capture data (server names, certificate names): each comment is one line made
safe as the text view makes its lines (report.safe.shown: control and bidi characters escaped,
very long lines cut), stored as UTF-8 as pcapng asks. Memory stays bounded on a big capture:
the comments kept are capped (MAX_COMMENT_BYTES); past it, connections are counted, not kept.
The writing (a copy of every packet record) is capture.rewrite's.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO, Optional, Union

from tlsdissect.capture.pcapng_blocks import SECRETS_TLS_KEY_LOG
from tlsdissect.capture.rewrite import RewriteResult, rewrite_as_pcapng
from tlsdissect.errors import TlsDissectError
from tlsdissect.keys.keylog import KeyLog
from tlsdissect.report.quic import quic_block
from tlsdissect.report.safe import shown
from tlsdissect.results.model import ANNOTATORS, Connection, Report

PREFIX = "tlsdissect"
# Comment text kept in memory for one run (UTF-8 bytes): about 50,000 failed connections' worth.
MAX_COMMENT_BYTES = 64 * 1024 * 1024
# An evidence line names its frames; one naming more (a run of retransmissions) is put on the
# first ones only.
MAX_FRAMES_PER_EVIDENCE = 8

_FRAME_LINE = re.compile(r"^frame (\d+): ")


class AnnotateError(TlsDissectError):
    """The annotated capture cannot be written (the output is the input, or not writable)."""


@dataclass
class Annotated:
    """What ``--annotate`` wrote (docs/schema.md, "Annotated capture")."""

    path: str
    input_format: str
    frames: int
    connections: int
    connections_not_annotated: int
    commented_frames: int
    comments: int
    comments_not_placed: int
    key_log_lines: int
    secrets_blocks: int
    truncated: bool
    truncation_reason: str

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data (docs/schema.md, "Annotated capture")."""
        return asdict(self)


def _diagnosis(conn: Connection) -> Optional[dict[str, Any]]:
    """The connection's diagnosis in its JSON form (a Diagnosis, or already a dict)."""
    d = conn.diagnosis
    if d is None or isinstance(d, dict):
        return d
    return d.to_dict()  # type: ignore[no-any-return]


def deciding_frame(conn: Connection, diagnosis: Optional[dict[str, Any]] = None) -> int:
    """The frame that decided the connection's outcome: the deciding alert's, else the FIN or
    RST that ended it (when that is how it ended), else the last handshake message completed,
    else its last frame."""
    d = diagnosis if diagnosis is not None else (_diagnosis(conn) or {})
    alert = d.get("alert")
    if alert and alert.get("frame"):
        return int(alert["frame"])
    if d.get("how") in ("rst", "fin") and conn.tcp_close is not None:
        return conn.tcp_close.frame
    last = d.get("last_completed")
    if last and last.get("frame"):
        return int(last["frame"])
    return conn.last_frame


def connection_comments(conn: Connection) -> list[tuple[int, str]]:
    """(frame, comment) for one connection, in the order they go on their frames."""
    d = _diagnosis(conn)
    if d is None:
        return []
    head = f"{PREFIX} {conn.transport}.stream {conn.stream}"
    out = [(conn.first_frame, f"{head}: {d['outcome']}, cause {d['cause']} ({d['confidence']}): {d['explanation']}"),
           (deciding_frame(conn, d), f"{head}: verdict: {d['verdict']}")]
    for ev in d["evidence"]:
        for frame in (ev["frames"] or [conn.first_frame])[:MAX_FRAMES_PER_EVIDENCE]:
            out.append((frame, f"{head}: evidence: {ev['text']}"))
    for line in d["remedy"]:
        out.append((conn.first_frame, f"{head}: remedy: {line}"))
    return out


def quic_comments(q: Any) -> list[tuple[int, str]]:
    """(frame, comment) for one QUIC handshake: the text view's lines (report.quic), each on the
    frame it names ("frame N: ...") or on the frame of the line before it, the headline on the
    flow's first frame."""
    frame = q.first_frame
    head = f"{PREFIX} QUIC"
    out = []
    for text, _style in quic_block(q, verbose=False):
        text = text.strip().lstrip("✗✓? ").strip()
        if not text:
            continue
        m = _FRAME_LINE.match(text)
        if m:
            frame = int(m.group(1))
        out.append((frame, f"{head}: {text}"))
    return out


class Annotations:
    """Comments by frame and key-log identifiers, gathered connection by connection (the command
    line hands over each connection as it ends, like the tables), then written by ``write``."""

    def __init__(self, max_bytes: int = MAX_COMMENT_BYTES) -> None:
        self.by_frame: dict[int, list[bytes]] = {}
        self.key_ids: list[bytes] = []
        self.connections = 0
        self.not_annotated = 0
        self.max_bytes = max_bytes
        self.kept_bytes = 0

    def add(self, conn: Connection, capture: str = "") -> None:
        self.key_ids.extend(conn.key_log_ids)
        self._keep(connection_comments(conn))

    def add_quic(self, q: Any) -> None:
        ch = getattr(q, "client_hello", None)
        if ch is not None:
            self.key_ids.append(ch.random)
        self._keep(quic_comments(q))

    def _keep(self, comments: list[tuple[int, str]]) -> None:
        encoded = [(frame, shown(text).encode("utf-8")) for frame, text in comments]
        size = sum(len(c) for _, c in encoded)
        if self.kept_bytes + size > self.max_bytes:
            self.not_annotated += 1
            return
        self.kept_bytes += size
        self.connections += 1
        for frame, comment in encoded:
            self.by_frame.setdefault(frame, []).append(comment)

    def secrets(self, keylog: Optional[KeyLog]) -> tuple[list[tuple[int, bytes]], int]:
        """The Decryption Secrets Block to add (none without a key log or without lines for the
        capture's connections) and its number of lines."""
        if keylog is None:
            return [], 0
        lines = keylog.lines_for(self.key_ids)
        if not lines:
            return [], 0
        return [(SECRETS_TLS_KEY_LOG, ("\n".join(lines) + "\n").encode("ascii"))], len(lines)

    def write(self, source: Any, out: Union[str, "os.PathLike[str]", BinaryIO],
              keylog: Optional[KeyLog] = None) -> Annotated:
        """Copy ``source`` to ``out`` (a path: written whole or not at all) with the comments
        and the key log's lines for these connections."""
        secrets, lines = self.secrets(keylog)
        version = _version()
        if hasattr(out, "write"):
            result = rewrite_as_pcapng(source, out, self.by_frame, secrets, version)  # type: ignore[arg-type]
            name = getattr(out, "name", "<stream>")
        else:
            name = os.fspath(out)
            result = _write_file(source, name, self.by_frame, secrets, version)
        return Annotated(str(name), result.input_format, result.frames, self.connections, self.not_annotated,
                         result.commented_frames, result.comments, result.comments_not_placed, lines,
                         result.secrets_blocks, result.truncated, result.truncation_reason)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"tlsdissect {version('tlsdissect')}"
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without install
        return "tlsdissect"


def _write_file(source: Any, path: str, comments: dict[int, list[bytes]], secrets: list[tuple[int, bytes]],
                user_application: str) -> RewriteResult:
    """Write through a temporary file in the same directory, renamed over ``path`` at the end:
    never a half-written file, and never the input overwritten while it is read."""
    if isinstance(source, (str, os.PathLike)) and os.path.exists(path) and os.path.exists(source) \
            and os.path.samefile(source, path):
        raise AnnotateError(f"{path}: the annotated capture would overwrite the capture it copies")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tlsdissect-", suffix=".pcapng", dir=folder)
    except OSError as e:
        raise AnnotateError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            result = rewrite_as_pcapng(source, f, comments, secrets, user_application)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return result


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def annotate(source: Any, out: Union[str, "os.PathLike[str]", BinaryIO], connections: Iterable[Connection],
             quic: Sequence[Any] = (), keylog: Union[None, KeyLog, str, Sequence[str]] = None) -> Annotated:
    """Write ``source`` (the capture the connections come from) as pcapng to ``out`` with the
    connections' findings as packet comments, and the key log's lines for them (a KeyLog, a
    path or paths) as a Decryption Secrets Block."""
    notes = Annotations()
    for conn in connections:
        notes.add(conn)
    for q in quic:
        notes.add_quic(q)
    if isinstance(keylog, (str, os.PathLike)):
        keylog = KeyLog.from_files([keylog])
    elif keylog is not None and not isinstance(keylog, KeyLog):
        keylog = KeyLog.from_files(keylog)
    return notes.write(source, out, keylog)


def annotate_report(report: Report, out: Union[str, "os.PathLike[str]", BinaryIO], source: Any = None,
                    keylog: Union[None, KeyLog, str, Sequence[str]] = None) -> Annotated:
    """Report.annotate: the report's connections and QUIC handshakes onto its own capture."""
    if source is None:
        if not os.path.isfile(report.capture):
            raise AnnotateError(f"{report.capture}: not a file to copy; pass the capture: "
                                "report.annotate(out, source=...)")
        source = report.capture
    return annotate(source, out, report.connections, report.quic, keylog)


ANNOTATORS["report"] = annotate_report
