"""A bounds-checked big-endian reader: every length field is checked before it is trusted.

The handshake messages and the extensions both read through it (it lives apart from both so
that neither has to import the other for it)."""

from __future__ import annotations

from typing import Optional

from tlsdissect.errors import ParseError

# The builtin, under a name the method ``Cursor.bytes`` does not hide in the class's annotations.
_Bytes = bytes


class Cursor:
    """Bounds-checked big-endian reader over one message body."""

    __slots__ = ("data", "pos", "end", "what")

    def __init__(self, data: bytes, what: str = "message", pos: int = 0, end: Optional[int] = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.what = what

    def remaining(self) -> int:
        return self.end - self.pos

    def _need(self, n: int, field_name: str) -> None:
        if self.pos + n > self.end:
            raise ParseError(
                f"{self.what}: {field_name} needs {n} bytes at offset {self.pos}, "
                f"only {self.end - self.pos} left"
            )

    def u8(self, name: str = "field") -> int:
        self._need(1, name)
        v = self.data[self.pos]
        self.pos += 1
        return v

    def u16(self, name: str = "field") -> int:
        self._need(2, name)
        d, p = self.data, self.pos
        self.pos += 2
        return (d[p] << 8) | d[p + 1]

    def u24(self, name: str = "field") -> int:
        self._need(3, name)
        d, p = self.data, self.pos
        self.pos += 3
        return (d[p] << 16) | (d[p + 1] << 8) | d[p + 2]

    def u32(self, name: str = "field") -> int:
        self._need(4, name)
        v = int.from_bytes(self.data[self.pos:self.pos + 4], "big")
        self.pos += 4
        return v

    def bytes(self, n: int, name: str = "field") -> bytes:
        self._need(n, name)
        v = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(v)

    def vec8(self, name: str = "vector") -> _Bytes:
        return self.bytes(self.u8(name + " length"), name)

    def vec16(self, name: str = "vector") -> _Bytes:
        return self.bytes(self.u16(name + " length"), name)

    def vec24(self, name: str = "vector") -> _Bytes:
        return self.bytes(self.u24(name + " length"), name)

    def sub16(self, name: str) -> "Cursor":
        """A cursor over a 16-bit length-prefixed sub-vector (and skip it here)."""
        n = self.u16(name + " length")
        self._need(n, name)
        c = Cursor(self.data, f"{self.what} {name}", self.pos, self.pos + n)
        self.pos += n
        return c

    def sub24(self, name: str) -> "Cursor":
        n = self.u24(name + " length")
        self._need(n, name)
        c = Cursor(self.data, f"{self.what} {name}", self.pos, self.pos + n)
        self.pos += n
        return c

    def u16_list(self, raw: _Bytes) -> list[int]:
        return [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw) - 1, 2)]
