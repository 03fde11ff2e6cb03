"""DTLS handshake messages put back together from their fragments (RFC 6347 §4.2.3, RFC 9147 §5.5).

Each fragment has a 12-byte header: msg_type (1), length (3), message_seq (2), fragment_offset
(3), fragment_length (3). A message may come in pieces spread over records and datagrams, in
any order, with pieces sent again (a retransmitted flight, possibly cut at other places). The
assembler keeps the pieces per message_seq and hands out each message once, as soon as its
bytes are all there; a piece it already has is counted as a retransmission, not read again.

Bounded: at most MAX_PENDING incomplete messages and MAX_BUFFERED bytes of pieces per direction,
messages of at most MAX_MESSAGE bytes, and MAX_BUFFERED_TOTAL bytes of pieces for all the
assemblers that share a ``Budget`` (the flows of one capture); what goes past a bound is
dropped and said (``problems``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

FRAGMENT_HEADER_LEN = 12
MAX_MESSAGE = 256 * 1024  # bytes of one handshake message (a long certificate chain is ~ 20 KB)
MAX_BUFFERED = 512 * 1024  # bytes of pieces of incomplete messages kept per direction
MAX_PENDING = 16  # incomplete messages kept per direction
MAX_DONE = 1024  # completed message_seqs remembered per direction (to recognise retransmissions)
MAX_PROBLEMS = 20
MAX_BUFFERED_TOTAL = 64 * 1024 * 1024  # bytes of pieces of incomplete messages, all flows together


@dataclass
class Budget:
    """Bytes of pieces that the assemblers sharing it may still hold."""

    remaining: int = MAX_BUFFERED_TOTAL


@dataclass(frozen=True, slots=True)
class Fragment:
    msg_type: int
    length: int  # the whole message's length
    message_seq: int
    offset: int
    data: bytes

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """A whole handshake message: its type, message_seq and body (without the 12-byte header)."""

    msg_type: int
    message_seq: int
    body: bytes


class FragmentError(ValueError):
    """A handshake record whose fragment headers do not add up."""


def fragments(record_fragment: bytes) -> Iterator[Fragment]:
    """The handshake fragments of one plaintext handshake record; FragmentError at the first
    header that does not fit (the fragments before it have been yielded)."""
    pos, n = 0, len(record_fragment)
    while pos < n:
        if pos + FRAGMENT_HEADER_LEN > n:
            raise FragmentError(f"a handshake fragment header cut short ({n - pos} of 12 bytes)")
        b = record_fragment
        length = (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]
        seq = (b[pos + 4] << 8) | b[pos + 5]
        offset = (b[pos + 6] << 16) | (b[pos + 7] << 8) | b[pos + 8]
        frag_len = (b[pos + 9] << 16) | (b[pos + 10] << 8) | b[pos + 11]
        start = pos + FRAGMENT_HEADER_LEN
        if start + frag_len > n:
            raise FragmentError(f"a handshake fragment of {frag_len} bytes in {n - start} bytes of record")
        if offset + frag_len > length:
            raise FragmentError(f"a fragment at offset {offset} + {frag_len} runs past its message's "
                                f"length {length}")
        yield Fragment(b[pos], length, seq, offset, b[start:start + frag_len])
        pos = start + frag_len


@dataclass
class _Partial:
    msg_type: int
    length: int
    pieces: dict[int, bytes] = field(default_factory=dict)  # offset -> bytes (longest kept)

    def covered(self) -> list[tuple[int, int]]:
        """The byte ranges held, merged."""
        spans: list[tuple[int, int]] = []
        for start in sorted(self.pieces):
            end = start + len(self.pieces[start])
            if spans and start <= spans[-1][1]:
                if end > spans[-1][1]:
                    spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def has(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.covered())

    def whole(self) -> Optional[bytes]:
        spans = self.covered()
        if self.length == 0:
            return b""
        if len(spans) != 1 or spans[0] != (0, self.length):
            return None
        out = bytearray(self.length)
        for start in sorted(self.pieces):
            piece = self.pieces[start]
            out[start:start + len(piece)] = piece
        return bytes(out)


class MessageAssembler:
    """One direction's handshake messages, from fragments fed in capture order (``add``)."""

    def __init__(self, budget: Optional[Budget] = None) -> None:
        self.budget = budget if budget is not None else Budget()
        self.partial: dict[int, _Partial] = {}
        self.done: dict[int, int] = {}  # message_seq -> msg_type of the messages handed out
        self.buffered = 0
        self.retransmitted = 0  # fragments whose bytes were already there
        self.problems: list[str] = []

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS and text not in self.problems:
            self.problems.append(text)

    def add(self, frag: Fragment) -> Optional[HandshakeMessage]:
        """The message ``frag`` completes, if any (each message is handed out once)."""
        seq = frag.message_seq
        if seq in self.done:
            self.retransmitted += 1
            if self.done[seq] != frag.msg_type:
                self._problem(f"message_seq {seq} came again as another message type ({frag.msg_type})")
            return None
        if frag.length > MAX_MESSAGE:
            self._problem(f"a handshake message of {frag.length} bytes (message_seq {seq}) is over the "
                          f"{MAX_MESSAGE}-byte limit: not reassembled")
            return None
        part = self.partial.get(seq)
        if part is None:
            if len(self.partial) >= MAX_PENDING:
                self._problem(f"more than {MAX_PENDING} incomplete handshake messages at once: later ones dropped")
                return None
            part = self.partial[seq] = _Partial(frag.msg_type, frag.length)
        elif part.msg_type != frag.msg_type or part.length != frag.length:
            self._problem(f"fragments of message_seq {seq} disagree on its type or length "
                          f"({part.msg_type}/{part.length} then {frag.msg_type}/{frag.length}): the later ignored")
            return None
        if frag.data and part.has(frag.offset, frag.end):
            self.retransmitted += 1
            return None
        kept = part.pieces.get(frag.offset, b"")
        if len(frag.data) > len(kept):
            grow = len(frag.data) - len(kept)
            if self.buffered + grow > MAX_BUFFERED:
                self._problem(f"more than {MAX_BUFFERED} bytes of incomplete handshake messages: fragments dropped")
                return None
            if grow > self.budget.remaining:
                self._problem(f"the {MAX_BUFFERED_TOTAL}-byte budget of incomplete DTLS handshake messages of all "
                              "flows is spent: fragments dropped")
                return None
            self.buffered += grow
            self.budget.remaining -= grow
            part.pieces[frag.offset] = frag.data
        body = part.whole()
        if body is None:
            return None
        del self.partial[seq]
        held = sum(len(p) for p in part.pieces.values())
        self.buffered -= held
        self.budget.remaining += held
        if len(self.done) < MAX_DONE:
            self.done[seq] = frag.msg_type
        return HandshakeMessage(frag.msg_type, seq, body)
