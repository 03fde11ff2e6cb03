"""The certificate stage's memo tables as a whole: counted (benchmarks, diagnostics) and cleared."""

from __future__ import annotations

from tlsdissect.x509.client import _CLIENT_CHECK_CACHE
from tlsdissect.x509.parse import _PARSE_CACHE
from tlsdissect.x509.signatures import _VERIFY_CACHE
from tlsdissect.x509.times import _FMT_TIME_CACHE


def cache_stats() -> dict[str, int]:
    """Hit/miss counters of the parse cache, for benchmarks and diagnostics."""
    return {"size": len(_PARSE_CACHE), "hits": _PARSE_CACHE.hits, "misses": _PARSE_CACHE.misses}


def clear_caches() -> None:
    """Forget the parsed certificates, signature checks, client-chain checks and time texts remembered."""
    _PARSE_CACHE.clear()
    _VERIFY_CACHE.clear()
    _CLIENT_CHECK_CACHE.clear()
    _FMT_TIME_CACHE.clear()
