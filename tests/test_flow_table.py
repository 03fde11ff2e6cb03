"""The flow table's memory rules: idle timeouts, the open-connection budget, tombstones.

Segments are fed straight into FlowTable as decode_tcp would produce them
(src, dst, sport, dport, seq, ack, flags, payload, ttl, window), so the times and counts are exact.
"""

from __future__ import annotations

from tlsdissect.tcp import flows
from tlsdissect.pipeline.analyzer import Sessions
from tlsdissect.pipeline.assemble import assemble
from tlsdissect.tcp.flows import FlowTable
from tlsdissect.capture.packet import ACK, FIN, SYN

SERVER = bytes([10, 0, 0, 1])


def client(i: int) -> bytes:
    return bytes([10, 1, i >> 8, i & 0xFF])


def syn(i: int) -> tuple:
    return (client(i), SERVER, 40000 + i, 443, 1000, 0, SYN, b"", 64, 65535)


def ack(i: int, flags: int = ACK) -> tuple:
    return (client(i), SERVER, 40000 + i, 443, 1001, 1, flags, b"", 64, 65535)


def run(table: FlowTable, packets: list[tuple[float, tuple]]) -> list:
    """Feed (time, segment) pairs, sweeping after each one; return what was handed out."""
    out = []
    for frame, (ts, seg) in enumerate(packets, 1):
        table.packet(frame, ts, seg)
        table.sweep(ts)
        out.extend(table.take_done())
    return out


def early_notes(conn) -> list[str]:
    return [e.info["detail"] for e in assemble(conn, False).anomalies if "memory budget" in e.info["detail"]]


def test_idle_connections_wait_for_the_idle_timeout_when_few_are_open():
    table = FlowTable(Sessions(), busy_active=10)
    packets = [(0.0, syn(i)) for i in range(5)] + [(60.0, syn(100))]
    assert run(table, packets) == []  # 60 s idle is well under IDLE_TIMEOUT
    assert len(table.active) == 6
    done = run(table, [(flows.IDLE_TIMEOUT + 1.5, syn(101))])
    assert sorted(c.stream for c in done) == [0, 1, 2, 3, 4]
    assert all(early_notes(c) == [] for c in done)  # a normal idle timeout, nothing to report


def test_over_the_budget_idle_connections_leave_early_and_say_so():
    table = FlowTable(Sessions(), busy_active=3)
    packets = [(0.0, syn(i)) for i in range(5)]  # 5 open > 3: the table is busy
    packets += [(5.0, ack(4))]  # connection 4 is still alive
    packets += [(flows.BUSY_IDLE_TIMEOUT + 1.0, syn(50))]
    done = run(table, packets)
    assert sorted(c.stream for c in done) == [0, 1, 2, 3]
    for c in done:
        notes = early_notes(c)
        assert len(notes) == 1 and "more than 3 connections were open" in notes[0]
    assert table.early_retired == 4
    assert sorted(table.active) == [4, 5]


def test_hard_cap_hands_out_the_longest_idle():
    table = FlowTable(Sessions(), busy_active=100, max_active=3)
    packets = [(float(i), syn(i)) for i in range(5)]
    done = run(table, packets)
    # The 4th and 5th connections each hand out the one idle longest when they arrive.
    assert [c.stream for c in sorted(done, key=lambda c: c.retire_seq)] == [0, 1]
    assert len(table.active) == 3
    assert all("more than 3 connections were open" in early_notes(c)[0] for c in done)


def test_straggler_after_close_keeps_its_stream_and_tombstones_expire_in_order():
    table = FlowTable(Sessions())
    packets = [(0.0, syn(1)), (0.1, ack(1, ACK | FIN)),
               (0.2, (SERVER, client(1), 443, 40001, 5000, 1002, ACK | FIN, b"", 64, 65535)),
               (5.0, syn(2))]
    done = run(table, packets)
    assert [c.stream for c in done] == [0]
    assert len(table.tombstones) == 1
    # A late ACK in either direction is a straggler of stream 0, not a new conversation.
    run(table, [(6.0, ack(1)), (6.5, (SERVER, client(1), 443, 40001, 5001, 1002, ACK, b"", 64, 65535))])
    assert table.stragglers == 2 and table.next_stream == 2
    # After TOMBSTONE_TTL the addresses are forgotten: a late packet starts a new conversation.
    run(table, [(5.0 + flows.TOMBSTONE_TTL + 2, ack(2))])
    assert table.tombstones == {}
    run(table, [(5.0 + flows.TOMBSTONE_TTL + 3, ack(1))])
    assert table.next_stream == 3


def test_quiet_gc_restores_the_callers_setting():
    import gc

    from tlsdissect.pipeline.analyzer import quiet_gc

    assert gc.isenabled()
    with quiet_gc():
        assert not gc.isenabled()
        with quiet_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one found it off and leaves it off
    assert gc.isenabled()
    gc.disable()
    try:
        with quiet_gc():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_closed_connections_linger_less_when_busy():
    def closed(i: int, t: float) -> list:
        return [(t, syn(i)), (t + 0.01, ack(i, ACK | FIN)),
                (t + 0.02, (SERVER, client(i), 443, 40000 + i, 5000, 1002, ACK | FIN, b"", 64, 65535))]

    quiet = FlowTable(Sessions(), busy_active=10)
    assert run(quiet, closed(1, 0.0) + [(1.5, syn(9))]) == []  # 1.5 s < CLOSED_LINGER
    busy = FlowTable(Sessions(), busy_active=1)
    done = run(busy, closed(1, 0.0) + [(0.5, syn(8)), (1.5, syn(9))])
    assert [c.stream for c in done] == [0]  # 1.5 s > BUSY_CLOSED_LINGER with 3 open
    assert early_notes(done[0]) == []  # a closed connection leaving is not an early hand-out
