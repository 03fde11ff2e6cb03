"""A receiver that stops reading, and probes on a quiet connection: zero windows and keep-alives.

Two TCP facts explain a connection that stalls with nothing lost:

- a **zero window**: the receiver advertises a window of 0 (RFC 9293 3.8.6) because its
  application does not read what arrived; the sender may send nothing more and only probes
  (RFC 9293 3.8.6.1). Zero windows of a few milliseconds are ordinary flow control; one that
  lasts seconds, or until the connection ends, says the receiving application stopped reading
  (hung, blocked, overloaded) and the sender, whose writes stall, may give up (nginx's
  ``send_timeout``, Apache's ``Timeout``, HAProxy's ``timeout client``/``server``);
- a **probe**: a segment one byte *before* what its sender has already sent (sequence number
  SND.NXT - 1), empty or with that one old byte, which the receiver must answer with an ACK
  (RFC 9293 3.8.4, RFC 1122 4.2.3.6). Sent while the peer's window is zero it is a window probe
  (Linux sends this form for both); otherwise it is a keep-alive of an idle connection. Probes
  that get no answer mean the peer, or the path to it, is gone (a NAT or firewall that forgot the
  flow, a host that went away); the prober's stack then aborts, Linux with a reset.

The TCP stage (tcp.flows) calls a connection's :class:`WindowWatch` only when a zero window or a
probe appears (the common connection never creates one), and its :meth:`WindowWatch.summary`
gives the JSON of ``Connection.extra["zero_window"]`` and ``["probes"]`` (docs/schema.md). Memory
is bounded: per direction one open spell, the longest one, counts, and the last
``PROBES_KEPT`` probes.
"""

from __future__ import annotations

from typing import Any, Optional

PROBES_KEPT = 8  # probes remembered per direction (the last ones: what an abort followed)
# A probe carrying one old byte counts only after the conversation was quiet this long (keep-alive
# intervals are a second and more): a byte sent again sooner is a retransmission.
PROBE_IDLE_SECONDS = 1.0
# A zero window this long is reported (a spell still open at the connection's end counts to its
# last packet): shorter ones are flow control doing its job (a busy reader catches up within
# milliseconds), or a closing stack's last ACK (macOS advertises 0 after its FIN).
REPORTED_SECONDS = 0.5


class WindowWatch:
    """Zero-window spells and probes of one connection, per direction (0, 1)."""

    __slots__ = ("open", "longest", "spells", "zero_acks", "probes", "probe_count", "probes_in_spell")

    def __init__(self) -> None:
        # The spell in progress per direction: (first frame, first time) of its zero window.
        self.open: list[Optional[tuple[int, float]]] = [None, None]
        # The longest finished spell: (first frame, first time, frame that opened it, its time).
        self.longest: list[Optional[tuple[int, float, int, float]]] = [None, None]
        self.spells = [0, 0]
        self.zero_acks = [0, 0]  # segments advertising a zero window
        # The last PROBES_KEPT probes a direction sent: (frame, time, the peer's packet count then,
        # whether the probe's peer had its window closed).
        self.probes: tuple[list[tuple[int, float, int, bool]], list[tuple[int, float, int, bool]]] = ([], [])
        self.probe_count = [0, 0]
        self.probes_in_spell = [0, 0]  # probes sent while the peer's window was closed

    def closed(self, d: int, frame: int, ts: float) -> None:
        """Direction ``d`` advertised a zero window."""
        self.zero_acks[d] += 1
        if self.open[d] is None:
            self.open[d] = (frame, ts)
            self.spells[d] += 1

    def opened(self, d: int, frame: int, ts: float) -> None:
        """Direction ``d``, whose window was zero, advertised a window again."""
        start = self.open[d]
        if start is None:
            return
        self.open[d] = None
        best = self.longest[d]
        if best is None or ts - start[1] > best[3] - best[1]:
            self.longest[d] = (start[0], start[1], frame, ts)

    def probe(self, d: int, frame: int, ts: float, peer_packets: int) -> None:
        """Direction ``d`` sent a probe (one byte before its next sequence number)."""
        in_spell = self.open[1 - d] is not None
        self.probe_count[d] += 1
        if in_spell:
            self.probes_in_spell[d] += 1
        kept = self.probes[d]
        kept.append((frame, ts, peer_packets, in_spell))
        if len(kept) > PROBES_KEPT:
            del kept[0]

    def summary(self, names: tuple[str, str], packets: list[int], last_ts: float) -> dict[str, Any]:
        """``extra`` entries: ``zero_window`` (sides whose window stayed zero REPORTED_SECONDS and
        more) and ``probes`` (sides that sent probes), each keyed by side."""
        out: dict[str, Any] = {}
        zero: dict[str, Any] = {}
        for d in (0, 1):
            spell = self._reported_spell(d, last_ts)
            if spell is not None:
                zero[names[d]] = spell
        if zero:
            out["zero_window"] = zero
        probes: dict[str, Any] = {}
        for d in (0, 1):
            if self.probe_count[d]:
                probes[names[d]] = self._probes(d, packets[1 - d])
        if probes:
            out["probes"] = probes
        return out

    def _reported_spell(self, d: int, last_ts: float) -> Optional[dict[str, Any]]:
        start = self.open[d]
        best = self.longest[d]
        if start is not None and (best is None or last_ts - start[1] >= best[3] - best[1]):
            first_frame, first_ts, opened_frame, seconds = start[0], start[1], None, last_ts - start[1]
        elif best is not None:
            first_frame, first_ts, opened_frame, seconds = best[0], best[1], best[2], best[3] - best[1]
        else:
            return None
        if seconds < REPORTED_SECONDS:
            return None
        return {"first_frame": first_frame, "first_time": round(first_ts, 6), "seconds": round(seconds, 6),
                "reopened_frame": opened_frame, "open_at_end": opened_frame is None, "spells": self.spells[d],
                "zero_window_segments": self.zero_acks[d]}

    def _probes(self, d: int, peer_packets_now: int) -> dict[str, Any]:
        kept = self.probes[d]
        # A probe is answered when the peer sent anything after it (before the next probe, or for
        # the last one, before the connection's end): its packet count moved on.
        unanswered_at_end = 0
        after = peer_packets_now
        for frame, ts, peer_then, in_spell in reversed(kept):
            if after > peer_then:
                break
            unanswered_at_end += 1
            after = peer_then
        return {"count": self.probe_count[d], "while_peer_window_zero": self.probes_in_spell[d],
                "frames": [p[0] for p in kept], "first_time": round(kept[0][1], 6),
                "last_time": round(kept[-1][1], 6), "unanswered_at_end": unanswered_at_end}
