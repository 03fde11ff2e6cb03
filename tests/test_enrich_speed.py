"""The enrich stage's per-connection shortcuts must never change a result, only save work.

Truth by construction, as in test_chain_cache.py and test_cert_caches.py: what a shortcut
hands out equals what the uncached code gives at the same instant.
"""

from __future__ import annotations

import random
from datetime import timedelta

from certs_factory import DAY, REF_TIME, lab_pki, leaf_variant

from tlsdissect.x509.chain import analyze_chain
from tlsdissect.x509.retime import Retimer


def _judged(ders: list[bytes], at: float) -> dict:
    return analyze_chain(ders, at=at, server_name="www.lab.test", role="server").to_dict()


def test_retimer_within_one_second_gives_what_a_fresh_analysis_gives() -> None:
    # An expired leaf and a certificate not valid yet, 90 s before and 300 s after the
    # reference time: "expired N seconds/minutes" and "becomes valid only N ..." change at
    # whole seconds and at the 120 s switch to minutes, and the instant .000000 of a second
    # words the "not yet" gap as one second more than the rest of that second. All instants
    # lie in the span where the same two certificates are out of their validity periods
    # (the chain cache asks no more of a Retimer).
    pki = lab_pki()
    leaf = leaf_variant(not_before=REF_TIME - 10 * DAY, not_after=REF_TIME - timedelta(seconds=90))
    early = leaf_variant("early.lab.test", not_before=REF_TIME + timedelta(seconds=300),
                         not_after=REF_TIME + 30 * DAY)
    ders = [leaf.der, early.der, pki.intermediate.der]
    t0 = REF_TIME.timestamp()
    retime = Retimer(analyze_chain(ders, at=t0, server_name="www.lab.test"), "server")
    rng = random.Random(6)
    instants = []
    for whole in (0, 1, 29, 30, 31, 59, 60, 61, 89, 90, 120, 149, 179, 180, 181, 239, 240, 298):
        instants += [t0 + whole, t0 + whole + 0.5, t0 + whole + 0.000001, t0 + whole + 0.999999,
                     t0 + whole + 0.9999996, t0 + whole - 0.000001, t0 + whole + 0.5]
        instants += [t0 + whole + rng.random() for _ in range(3)]
    for at in instants:
        assert retime(at).to_dict() == _judged(ders, at), at
    # In capture order too (a busy capture calls it with rising times).
    for at in sorted(instants):
        assert retime(at).to_dict() == _judged(ders, at), at


def test_certificate_dicts_from_a_cached_span_are_fresh_for_each_connection() -> None:
    from tlsdissect.pipeline import enrich

    enrich._CHAIN_CACHE.clear()
    pki = lab_pki()
    ders = [pki.leaf.der, pki.intermediate.der]
    at = REF_TIME.timestamp()
    chain, _json, templates = enrich._chain_and_json(ders, at, "www.lab.test", "server", None)
    again, _json2, templates2 = enrich._chain_and_json(ders, at + 60, "www.lab.test", "server", None)
    assert again is chain and templates2 is templates  # one span: served from the cache
    first = enrich._cert_dicts(templates)
    expected = [c.to_dict() for c in chain.certificates]
    assert first == expected and [list(d) for d in first] == [list(d) for d in expected]
    first[0]["san_dns"].append("changed.example")
    first[0]["subject"] = "changed"
    assert enrich._cert_dicts(templates) == expected
    assert chain.certificates[0].to_dict() == expected[0]
