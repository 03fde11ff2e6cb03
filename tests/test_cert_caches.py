"""The certificate stage's per-connection shortcuts must never change a result, only save work.

Truth by construction, as in test_chain_cache.py: whatever a shortcut hands out equals what
the uncached code gives for the same connection, and is bounded.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from certs_factory import DAY, REF_TIME, lab_pki, leaf_variant

from tlsdissect.x509 import times
from tlsdissect.x509.chain import analyze_chain
from tlsdissect.x509.retime import Retimer


def _judged(ders: list[bytes], at: float) -> dict:
    return analyze_chain(ders, at=at, server_name="www.lab.test", role="server").to_dict()


def test_retimer_words_each_instant_as_a_fresh_analysis_would() -> None:
    # An expired leaf and a not-yet-valid extra certificate: both texts quote the time.
    pki = lab_pki()
    leaf = leaf_variant(not_before=REF_TIME - 10 * DAY, not_after=REF_TIME - timedelta(seconds=90))
    early = leaf_variant("early.lab.test", not_before=REF_TIME + DAY, not_after=REF_TIME + 30 * DAY)
    ders = [leaf.der, early.der, pki.intermediate.der]
    t0 = REF_TIME.timestamp()
    analysis = analyze_chain(ders, at=t0, server_name="www.lab.test")
    assert {"expired", "not_yet_valid"} <= set(analysis.finding_ids())
    retime = Retimer(analysis, "server")
    # Within one second, across second boundaries (also a hair before one, where rounding
    # to microseconds carries into the next second) and across the 120 s switch from
    # seconds to minutes in "expired 2 minutes before" (all within the span where the same
    # certificates are out of their validity periods: the cache asks no more of it).
    offsets = [0.0, 0.25, 0.999, 0.9999996, 1.0, 1.5, 29.0, 29.9999, 30.0, 30.000001, 31.0, 3600.5]
    for dt in offsets:
        assert retime(t0 + dt).to_dict() == _judged(ders, t0 + dt), dt


def test_retimer_hands_out_the_same_result_within_a_second_and_a_new_one_after() -> None:
    leaf = leaf_variant(not_before=REF_TIME - 10 * DAY, not_after=REF_TIME - DAY)
    ders = [leaf.der]
    t0 = REF_TIME.timestamp()
    retime = Retimer(analyze_chain(ders, at=t0, server_name="www.lab.test"), "server")
    first = retime(t0 + 0.1)
    assert retime(t0 + 0.7) is first
    later = retime(t0 + 1.2)
    assert later is not first
    texts = [f.text for f in later.findings if f.id == "expired"]
    assert texts and "capture time 2026-06-01 12:00:01 UTC" in texts[0]
    assert all("12:00:01" not in f.text for f in first.findings)


def test_retimer_of_a_chain_without_validity_findings_returns_the_analysis() -> None:
    pki = lab_pki()
    analysis = analyze_chain([pki.leaf.der, pki.intermediate.der], at=REF_TIME, server_name="www.lab.test")
    assert Retimer(analysis, "server")(REF_TIME.timestamp() + 5) is analysis


def test_capture_time_text_is_bounded_and_shows_whole_seconds() -> None:
    times._FMT_TIME_CACHE.clear()
    base = datetime(2026, 6, 1, 12, 0, 0, 999999, tzinfo=timezone.utc)
    for i in range(times._FMT_TIME_CACHE_MAX + 10):
        when = base + timedelta(seconds=i)
        assert times._fmt_time(when) == when.strftime("%Y-%m-%d %H:%M:%S UTC")
        assert len(times._FMT_TIME_CACHE) <= times._FMT_TIME_CACHE_MAX
    # A naive time is UTC; another zone is converted first.
    assert times._fmt_time(datetime(2026, 6, 1, 12, 0, 0, 1)) == "2026-06-01 12:00:00 UTC"
    paris = timezone(timedelta(hours=2))
    assert times._fmt_time(datetime(2026, 6, 1, 14, 0, 0, tzinfo=paris)) == "2026-06-01 12:00:00 UTC"


def test_a_cached_staple_is_judged_at_each_connections_time() -> None:
    from test_ocsp import NEXT_UPDATE, THIS_UPDATE, _response

    from tlsdissect.x509 import ocsp

    staple = _response()
    instants = [REF_TIME, THIS_UPDATE - timedelta(seconds=1), NEXT_UPDATE + DAY, REF_TIME.timestamp(), REF_TIME]
    for at in instants:
        ocsp._STAPLE_CACHE.clear()
        fresh = ocsp.parse_ocsp_response(staple, at)
        assert ocsp.parse_ocsp_response(bytearray(staple), at) == fresh  # served from the cache
        assert fresh.fresh is (THIS_UPDATE <= (at if isinstance(at, datetime) else REF_TIME) <= NEXT_UPDATE)
    # A capture time that is no time is reported as before, even for a cached staple.
    assert ocsp.parse_ocsp_response(staple, float("nan")).parse_error
    # Each to_dict is the caller's own.
    d = ocsp.parse_ocsp_response(staple, REF_TIME).to_dict()
    d["cert_status"] = "changed"
    assert ocsp.parse_ocsp_response(staple, REF_TIME).to_dict()["cert_status"] == "good"


def test_the_staple_cache_is_bounded() -> None:
    from tlsdissect.x509 import ocsp

    ocsp._STAPLE_CACHE.clear()
    for i in range(ocsp._STAPLE_CACHE_MAX + 5):
        ocsp.parse_ocsp_response(b"junk %d" % i, REF_TIME)
        assert len(ocsp._STAPLE_CACHE) <= ocsp._STAPLE_CACHE_MAX


def test_client_chain_checks_are_remembered_per_chain_request_pair_and_bounded() -> None:
    from certs_factory import CLIENT_AUTH, name

    from tlsdissect.x509.client import (
        _CLIENT_CHECK_CACHE,
        _CLIENT_CHECK_CACHE_MAX,
        _client_chain_findings,
        check_client_chain_against_request,
    )

    pki = lab_pki()
    client = leaf_variant("alice", eku=CLIENT_AUTH)
    ca_der = name("Some Other CA").public_bytes()
    cases = [([client.der, pki.intermediate.der], [ca_der], [0x0403]),
             ([client.der], [pki.intermediate.cert.subject.public_bytes()], [0x0804]), ([], [ca_der], [])]
    _CLIENT_CHECK_CACHE.clear()
    for ders, cas, schemes in cases * 2:
        got = check_client_chain_against_request(ders, ca_names=cas, signature_algorithms=schemes)
        assert got == _client_chain_findings(ders, cas, schemes)
        got.clear()  # the caller's own list
    assert check_client_chain_against_request([bytearray(client.der)], ca_names=[ca_der])  # unhashable: uncached
    for i in range(_CLIENT_CHECK_CACHE_MAX + 5):
        check_client_chain_against_request([b"junk %d" % i])
        assert len(_CLIENT_CHECK_CACHE) <= _CLIENT_CHECK_CACHE_MAX


def test_staple_findings_are_remembered_per_leaf_and_bounded() -> None:
    from test_ocsp import _response

    from tlsdissect.x509 import ocsp
    from tlsdissect.x509.parse import parse_certificate

    pki = lab_pki()
    info = ocsp.parse_ocsp_response(_response(), REF_TIME + 30 * DAY)  # stale
    leaves = [None, parse_certificate(pki.leaf.der), parse_certificate(pki.intermediate.der)]
    for leaf in leaves * 2:
        got = ocsp.ocsp_findings(info, leaf)
        assert got == ocsp._ocsp_findings(info, leaf)
        got.clear()  # the caller's own list
    assert [f.id for f in ocsp.ocsp_findings(info, leaves[2])] == ["ocsp_wrong_certificate", "ocsp_stale"]
    for i in range(ocsp._FINDINGS_PER_STAPLE + 5):
        ocsp.ocsp_findings(info, parse_certificate(b"not a certificate %d" % i))
        assert len(info._findings_memo) <= ocsp._FINDINGS_PER_STAPLE


def test_a_finding_with_a_role_is_its_dict_with_the_role_last() -> None:
    from tlsdissect.x509.findings import ChainFinding

    f = ChainFinding("expired", "error", "text", (0, 1))
    assert list(f.to_dict("client").items()) == list(dict(f.to_dict(), role="client").items())
