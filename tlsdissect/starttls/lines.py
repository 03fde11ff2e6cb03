"""Text lines of one direction, bounded: what the line-based protocols (SMTP, FTP, IMAP, POP3) read."""

from __future__ import annotations

MAX_LINE = 1024  # bytes kept of one line (SMTP allows 512 per reply line; the rest is skipped)


class Lines:
    """Splits a direction's bytes into lines (CRLF or LF), each cut at MAX_LINE bytes."""

    __slots__ = ("buf", "skipping")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.skipping = False  # inside a line longer than MAX_LINE: its rest is dropped

    def feed(self, data: bytes) -> list[bytes]:
        """The lines completed by ``data``, without their line ends."""
        out: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            piece = data[start:end]
            if not self.skipping:
                self.buf += piece[:MAX_LINE - len(self.buf)]
                out.append(bytes(self.buf).rstrip(b"\r"))
            self.buf.clear()
            self.skipping = False
            start = end + 1
        rest = data[start:]
        if rest and not self.skipping:
            self.buf += rest[:MAX_LINE - len(self.buf)]
            if len(self.buf) >= MAX_LINE:
                out.append(bytes(self.buf))
                self.buf.clear()
                self.skipping = True
        return out
