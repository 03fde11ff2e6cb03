"""The chain-analysis cache in enrich.py must never change a result, only save work.

Truth by construction: certificates with known validity periods (certs_factory), judged
directly by analyze_chain at each instant and through the cache at the same instants in an
order that would expose a stale entry.
"""

from __future__ import annotations

from certs_factory import DAY, REF_TIME, lab_pki, leaf_variant

from tlsdissect.pipeline import enrich
from tlsdissect.x509.chain import analyze_chain


def chain(not_after):
    pki = lab_pki()
    leaf = leaf_variant(not_before=REF_TIME - 10 * DAY, not_after=not_after)
    return [leaf.der, pki.intermediate.der]


def judged(ders, at):
    return analyze_chain(ders, at=at, server_name="www.lab.test", role="server", trust=None).to_dict()


def cached(ders, at):
    return enrich._chain(ders, at, "www.lab.test", "server", None).to_dict()


def test_cache_follows_the_validity_bounds_and_quotes_each_connections_own_time():
    enrich._CHAIN_CACHE.clear()
    expiry = REF_TIME.timestamp()
    ders = chain(REF_TIME)
    # Before expiry (twice in the same hour: the second is a cache hit), then 1 s and 1 h
    # after expiry, then back before: each must equal the uncached judgement at its time.
    instants = [expiry - 3000, expiry - 1, expiry + 1, expiry + 2, expiry + 3600, expiry - 2]
    for at in instants:
        assert cached(ders, at) == judged(ders, at), at
    after = cached(ders, expiry + 2)
    texts = [f["text"] for f in after["findings"] if f["id"] == "expired"]
    assert texts and "capture time " + "2026-06-01 12:00:02 UTC" in texts[0]
    assert not any(f["id"] == "expired" for f in cached(ders, expiry - 1)["findings"])


def test_a_repeated_chain_is_analysed_once_per_span():
    enrich._CHAIN_CACHE.clear()
    ders = chain(REF_TIME + 30 * DAY)
    first = enrich._chain(ders, REF_TIME.timestamp(), "www.lab.test", "server", None)
    again = enrich._chain(ders, REF_TIME.timestamp() + 86400, "www.lab.test", "server", None)
    assert again is first


def test_an_absurd_capture_time_after_a_credible_one_is_judged_not_served_from_the_cache():
    # Found by bench/fuzz.py (seed 11, mutant 6922): a pcapng timestamp of year 43 million
    # fell inside the open-ended span of an earlier analysis and crashed its rewording.
    enrich._CHAIN_CACHE.clear()
    # A lone leaf that expired before REF_TIME: a validity finding, and no bound after it.
    ders = chain(REF_TIME - 5 * DAY)[:1]
    at = REF_TIME.timestamp()
    assert cached(ders, at) == judged(ders, at)
    absurd = 1379188511554169.0
    result = cached(ders, absurd)
    assert result == judged(ders, absurd)
    assert any(f["id"] == "capture_time_implausible" for f in result["findings"])
