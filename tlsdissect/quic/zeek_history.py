"""A QUIC connection's history in the letters of Zeek's quic.log (base/protocols/quic/main.zeek),
kept as the packets come so that ``--zeek``'s quic.log says what Zeek's would.

One letter per event, upper case when the client sent it: ``I`` an Initial packet, ``H`` a
Handshake packet, ``Z`` a 0-RTT packet, ``R`` a Retry, ``S`` the ClientHello or ServerHello
read from the Initial packets, ``C`` a CONNECTION_CLOSE read from them, ``X`` a packet whose fixed
bit is 0 (the zero padding after a coalesced packet) once an Initial packet was decrypted, and
``O`` each time a side's count of short-header packets reaches 1, 2, 4, 8, ... Zeek ends its
record at the first CONNECTION_CLOSE (and at a Retry it starts a new one); here the letters stop
at the first close and go on after a Retry. At most MAX_LETTERS, Zeek's default
``QUIC::max_history_length``.
"""

from __future__ import annotations

MAX_LETTERS = 100

LETTERS = {"initial": "I", "handshake": "H", "0rtt": "Z", "retry": "R"}


class ZeekHistory:
    """The letters so far (``text``), fed by the QUIC session."""

    def __init__(self) -> None:
        self.text = ""
        self.closed = False  # a CONNECTION_CLOSE was read: Zeek's record ends there
        self.short = {"client": 0, "server": 0}
        self.next_threshold = {"client": 1, "server": 1}

    def add(self, sender: str, letter: str) -> None:
        if self.closed or len(self.text) >= MAX_LETTERS:
            return
        self.text += letter.upper() if sender == "client" else letter.lower()

    def long_packet(self, sender: str, kind: str) -> None:
        letter = LETTERS.get(kind)
        if letter is not None:
            self.add(sender, letter)

    def not_long(self, sender: str, first_byte: int, decrypted: bool) -> None:
        """A packet without a long header: discarded (``X``) when its fixed bit is 0 and an Initial
        packet was decrypted, else a short-header packet, counted for ``O``."""
        if not first_byte & 0x40:
            if decrypted:
                self.add(sender, "X")
            return
        self.short[sender] += 1
        if self.short[sender] == self.next_threshold[sender]:
            self.next_threshold[sender] *= 2
            self.add(sender, "O")

    def close(self, sender: str) -> None:
        self.add(sender, "C")
        self.closed = True
