"""The library's own exception types.

Everything tlsdissect raises on bad input derives from :class:`TlsDissectError`, so callers
can catch one type. Parsers raise :class:`ParseError`; capture reading raises
:class:`CaptureError` (the file is not a capture at all, or cannot be opened).
"""

from __future__ import annotations


class TlsDissectError(Exception):
    """Base class of every error tlsdissect raises on purpose."""


class CaptureError(TlsDissectError):
    """The input is not a readable pcap/pcapng capture (missing, empty, wrong format)."""


class ParseError(TlsDissectError):
    """Bytes that do not form a valid protocol structure (record, message, extension)."""
