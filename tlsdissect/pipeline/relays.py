"""The pass over connections after they end: each is held until the table has handed out
``tcp.relays.RELAY_WINDOW`` more, so that a relayed connection's later leg can still be linked
to it (its ``relay_legs``), and comes out in the order it ended.

Bounded: at most the connections handed out within one window are held, and the relay index
forgets what no held connection can still match. A sharded run (``--jobs``) holds and links the
same way (the index also sees the other workers' connections), so its output is the same.
"""

from __future__ import annotations

from collections import deque
from typing import Iterator, Optional

from tlsdissect.tcp.flows import FlowTable, TcpConnection


class RelayHold:
    """Finished conversations waiting for their window to pass (see the module docstring).

    ``max_wait`` (seconds of capture time, a live capture's): a conversation also goes once it
    has waited that long, so that its verdict comes out soon after it ends even when few
    others end after it. Its later relay legs, if any, then still name it (but not it them)."""

    def __init__(self, table: FlowTable, max_wait: Optional[float] = None) -> None:
        self.table = table
        self.max_wait = max_wait
        self.held: deque[tuple[TcpConnection, bool, float]] = deque()

    def release(self, done: list[TcpConnection], capture_ended: bool, final: bool = False,
                now: float = 0.0) -> Iterator[tuple[TcpConnection, bool]]:
        """Take ``done`` (handed out by the table at capture time ``now``; ``capture_ended``: by the
        capture's end) and yield (conversation, capture_ended) for each whose window has passed
        (all when ``final``), with its relay legs set, in the order they were handed out."""
        held = self.held
        for conn in done:
            held.append((conn, capture_ended, now))
        table = self.table
        window = table.relays.window
        waited = now - self.max_wait if self.max_wait is not None else None
        while held and (final or table.retired - held[0][0].retire_seq > window
                        or (waited is not None and held[0][2] <= waited)):
            conn, ended, _ = held.popleft()
            table.relay_legs(conn)
            yield conn, ended
        table.relays.prune((held[0][0].retire_seq if held else table.retired) - window)
