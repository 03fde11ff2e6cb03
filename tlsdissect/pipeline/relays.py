"""The pass over connections after they end: each is held until the table has handed out
``tcp.relays.RELAY_WINDOW`` more, so that a relayed connection's later leg can still be linked
to it (its ``relay_legs``), and comes out in the order it ended.

Bounded: at most the connections handed out within one window are held, and the relay index
forgets what no held connection can still match. A sharded run (``--jobs``) holds and links the
same way (the index also sees the other workers' connections), so its output is the same.
"""

from __future__ import annotations

from collections import deque
from typing import Iterator

from tlsdissect.tcp.flows import FlowTable, TcpConnection


class RelayHold:
    """Finished conversations waiting for their window to pass (see the module docstring)."""

    def __init__(self, table: FlowTable) -> None:
        self.table = table
        self.held: deque[tuple[TcpConnection, bool]] = deque()

    def release(self, done: list[TcpConnection], capture_ended: bool, final: bool = False
                ) -> Iterator[tuple[TcpConnection, bool]]:
        """Take ``done`` (handed out by the table; ``capture_ended``: by the capture's end) and
        yield (conversation, capture_ended) for each whose window has passed (all when
        ``final``), with its relay legs set, in the order they were handed out."""
        held = self.held
        for conn in done:
            held.append((conn, capture_ended))
        table = self.table
        window = table.relays.window
        while held and (final or table.retired - held[0][0].retire_seq > window):
            conn, ended = held.popleft()
            table.relay_legs(conn)
            yield conn, ended
        table.relays.prune((held[0][0].retire_seq if held else table.retired) - window)
