"""round6's float-only path (nearest integer by adding and taking away 2**52) against round()
on the edges: fractions near a quarter and a half, nanosecond and odd times, the top of its range."""

from __future__ import annotations

import random

from tlsdissect.results.model import round6


def test_round6_edges() -> None:
    r = random.Random(11)
    top = 4 * 10**15
    cases = [5e-324, 1e-300, 2.5e-7, 7.5e-7, 1e-6, 0.25e-6, 0.75e-6, 3.9999999999999995e9, 4e9, 4.0000000000000005e9,
             2.0 ** 51 / 1e6, 2.0 ** 52 / 1e6, (0.25 - 2.0 ** -60) / 1e6, (0.75 + 2.0 ** -60) / 1e6, 1700000000.123456789, float("nan"), float("-inf"), -0.0]
    for _ in range(100_000):
        n = r.randrange(top)
        for frac in (0.0, 0.25, 0.5, 0.75, r.random(), 0.2499999, 0.2500001, 0.7499999, 0.7500001):
            cases.append((n + frac) / 1e6)
        cases.append(1.7e9 + r.randrange(10**9) / 1e9)  # pcapng nanoseconds
        cases.append(r.randrange(10**5) + r.randrange(10**6) * 1e-6)  # a pcap's seconds + fraction * unit
    for t in cases:
        want = round(t, 6)
        got = round6(t)
        assert got == want or (got != got and want != want), t
        assert repr(got) == repr(want), t
