"""Wireshark's ``udp.stream`` numbers: every UDP conversation of the capture numbered from 0 in
the order its first datagram appears (addresses and ports, either direction), DNS and the rest
counted too, as Wireshark counts them. A QUIC handshake or DTLS association takes the number of
the flow it began on, so that ``udp.stream eq N`` shows it and the DataFrame's ``stream`` is
Wireshark's for UDP rows as for TCP ones.

Bounded: at most MAX_CONVERSATIONS conversations are remembered; a flow that begins after that
gets no number (None: docs/limits.md).
"""

from __future__ import annotations

from typing import Optional

MAX_CONVERSATIONS = 200_000  # about 25 MB of keys at most


def _reverse(key: bytes) -> bytes:
    """The other direction's key (src + dst + sport + dport, as capture.packet gives it)."""
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


class UdpStreams:
    """Fed every UDP datagram's flow key (``see``); ``number`` of a key at the end."""

    def __init__(self) -> None:
        self.numbers: dict[bytes, int] = {}
        self.next = 0
        self.full = False

    def see(self, key: bytes) -> None:
        numbers = self.numbers
        if key in numbers:
            return
        back = _reverse(key)
        if back in numbers:
            numbers[key] = numbers[back]  # (both directions: the second costs one look-up from then on)
            return
        if len(numbers) >= MAX_CONVERSATIONS:
            self.full = True
            return
        numbers[key] = self.next
        self.next += 1

    def number(self, key: bytes) -> Optional[int]:
        found = self.numbers.get(key)
        return found if found is not None else self.numbers.get(_reverse(key))
