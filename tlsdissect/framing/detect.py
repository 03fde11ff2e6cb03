"""Which framing a stream's first bytes start, if any (the binary ones: the text ones,
WebSocket and GSSAPI, are told from the plain-text exchange they start with)."""

from __future__ import annotations

from typing import Optional, Union

from tlsdissect.framing.openvpn import recognise_tcp, wait_tcp
from tlsdissect.framing.unwrapper import Unwrapper

WAIT = "wait"  # recognise's answer when the bytes so far could start a framing not complete yet


def recognise(buf: bytes) -> Union[None, str, Unwrapper]:
    """An unwrapper for the framing the first bytes of a stream (not a TLS record) start,
    ``WAIT`` while they may start one but are not complete, or None: no framing, read them as
    they are."""
    if wait_tcp(buf):
        return WAIT
    found: Optional[Unwrapper] = recognise_tcp(buf)
    return found
