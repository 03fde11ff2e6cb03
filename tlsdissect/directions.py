"""Per-direction state as immutable pairs that start shared and are replaced on write.

Most connections never write most of their per-direction fields (a reset's TTL, a held
segment, a change_cipher_spec's frame): one shared ``NONE_PAIR`` serves them all, and a write
makes a new pair. Used by the TCP and the TLS stage alike, so it lives below both.
"""

from __future__ import annotations

from typing import Any

NONE_PAIR: tuple[Any, Any] = (None, None)


def pair_with(pair: tuple[Any, Any], d: int, value: Any) -> tuple[Any, Any]:
    """``pair`` with item ``d`` (0 or 1) replaced."""
    return (value, pair[1]) if d == 0 else (pair[0], value)
