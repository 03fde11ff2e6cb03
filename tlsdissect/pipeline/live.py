"""The pipeline on a live interface: each connection's result as it ends, while capturing.

The same stages as ``analyzer.iter_connections`` over the same decoding (capture.live hands out
what a file reader does); what differs is time. A file's connections are handed out as capture
time passes; on a live interface time passes without packets too, so the capture's ticks sweep
the table, and a finished connection waits at most ``RELAY_WAIT`` seconds for relay legs ending
after it (a file holds it for RELAY_WINDOW retirements, which a quiet interface may take hours to
reach). Memory stays bounded as for a file: connections leave when they end, close or idle out,
under the flow table's caps (docs/limits.md).
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from tlsdissect.capture.live import LiveCapture
from tlsdissect.pipeline.analyzer import RunState, Sessions, _finish, _options, _run
from tlsdissect.pipeline.relays import RelayHold
from tlsdissect.results.model import Connection
from tlsdissect.tcp.flows import SWEEP_INTERVAL, FlowTable

# Seconds of capture time a finished connection waits for a relay leg that ends after it: the two
# legs of a relayed connection end within milliseconds of each other, so one sweep is enough.
RELAY_WAIT = SWEEP_INTERVAL


def iter_live(capture: LiveCapture, *, state: Optional[RunState] = None, **options: Any) -> Iterator[Connection]:
    """Yield each connection of a live capture (``capture.live.open_live``) when it ends, until the
    capture stops (its ``duration``, ``capture.stop()``, or KeyboardInterrupt, which is raised again
    after the connections still open are handed out as partial ones). Options as iter_connections'."""
    opts = options.pop("opts", None) or _options(options, "iter_live")
    sessions = Sessions()
    if opts.diagnose:
        from tlsdissect.pipeline.neighbours import Neighbours

        sessions.neighbours = Neighbours()
    table = FlowTable(sessions, memory_budget=opts.memory_budget)
    st = state if state is not None else RunState()
    try:
        yield from _run(lambda: capture, st, opts, table, sessions, _finish, hold=RelayHold(table, max_wait=RELAY_WAIT))
    finally:
        capture.close()  # (the kernel's drop count is read last)
        if capture.dropped:
            st.warnings.append(f"the kernel dropped {capture.dropped} packet(s) that were not read in time: "
                               "connections may be incomplete (a narrower filter helps)")
