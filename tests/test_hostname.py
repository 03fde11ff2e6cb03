"""Hostname matching against RFC 6125 §6.4 / RFC 9525 §6.3 examples and our documented choices."""

from __future__ import annotations

import pytest

from tlsdissect.x509.hostname import dns_pattern_matches, match_hostname


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        # RFC 6125 §6.4.3: "*.example.com" matches foo.example.com, not bar.foo.example.com nor example.com
        ("*.example.com", "foo.example.com", True),
        ("*.example.com", "bar.foo.example.com", False),
        ("*.example.com", "example.com", False),
        # RFC 6125 §6.4.1: case-insensitive ASCII comparison
        ("WWW.Example.COM", "www.example.com", True),
        ("www.example.com", "WWW.EXAMPLE.COM", True),
        # absolute names: a trailing dot on either side is ignored
        ("www.example.com.", "www.example.com", True),
        ("www.example.com", "www.example.com.", True),
        ("*.example.com", "foo.example.com.", True),
        # RFC 6125 §6.4.3 lets a client match partial wildcards (baz*.example.net, *baz.example.net,
        # b*z.example.net); RFC 9525 §6.3 forbids them. We follow RFC 9525: no match.
        ("baz*.example.net", "baz1.example.net", False),
        ("*baz.example.net", "foobaz.example.net", False),
        ("b*z.example.net", "buzz.example.net", False),
        # wildcard only as the whole left-most label
        ("www.*.example.com", "www.foo.example.com", False),
        ("*.*.example.com", "a.b.example.com", False),
        # too broad: at least two labels after the wildcard
        ("*.com", "example.com", False),
        ("*", "localhost", False),
        # a wildcard does not match an empty label
        ("*.example.com", ".example.com", False),
        # plain mismatches
        ("www.example.com", "www.example.org", False),
        ("example.com", "www.example.com", False),
    ],
)
def test_dns_pattern(pattern: str, host: str, expected: bool) -> None:
    assert dns_pattern_matches(pattern, host) is expected


def test_idn_server_name_matches_a_label() -> None:
    # RFC 3492 / IDNA2003: "bücher" is "xn--bcher-kva" in A-label form.
    result = match_hostname("bücher.example", dns_names=["xn--bcher-kva.example"], ip_addresses=[], common_name=None)
    assert result.matched


def test_ip_literal_matches_ip_san_only() -> None:
    ok = match_hostname("192.0.2.7", dns_names=["www.example.com"], ip_addresses=["192.0.2.7"], common_name=None)
    assert ok.matched and ok.matched_identity == "192.0.2.7"
    # an IP written as a dNSName or in the CN does not count (RFC 6125 §6.2.1, RFC 2818)
    no = match_hostname("192.0.2.7", dns_names=["192.0.2.7"], ip_addresses=[], common_name="192.0.2.7")
    assert not no.matched


def test_ipv6_literal_forms() -> None:
    for literal in ("2001:db8::1", "[2001:db8::1]", "2001:0db8:0000:0000:0000:0000:0000:0001"):
        assert match_hostname(literal, dns_names=[], ip_addresses=["2001:db8::1"], common_name=None).matched
    assert not match_hostname("2001:db8::2", dns_names=[], ip_addresses=["2001:db8::1"], common_name=None).matched


def test_common_name_used_only_without_dns_san() -> None:
    cn_only = match_hostname("legacy.example", dns_names=[], ip_addresses=[], common_name="legacy.example")
    assert cn_only.matched and cn_only.used_common_name
    with_san = match_hostname(
        "legacy.example", dns_names=["new.example"], ip_addresses=[], common_name="legacy.example"
    )
    assert not with_san.matched and not with_san.used_common_name
    # IP SANs alone do not disable the CN fallback for DNS names
    ip_only = match_hostname("legacy.example", dns_names=[], ip_addresses=["192.0.2.1"], common_name="legacy.example")
    assert ip_only.matched


def test_partial_wildcard_is_explained() -> None:
    result = match_hostname("foo.example.com", dns_names=["f*.example.com"], ip_addresses=[], common_name=None)
    assert not result.matched
    assert "partial wildcard" in result.reason


@pytest.mark.parametrize("bad", ["", ".", "a..b", "..."])
def test_invalid_server_names_do_not_match(bad: str) -> None:
    assert not match_hostname(bad, dns_names=["*.b", "a..b"], ip_addresses=[], common_name="a..b").matched


def test_to_dict_is_plain_json() -> None:
    import json

    result = match_hostname("www.example.com", dns_names=["www.example.com"], ip_addresses=[], common_name=None)
    assert json.loads(json.dumps(result.to_dict()))["matched_identity"] == "www.example.com"
