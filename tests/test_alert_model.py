"""The alert model (tlsdissect.diagnosis.alerts) against the registry, the catalogue, its own
vocabulary, the stack table and the RFC text it quotes; docs/alerts.md against its generator."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from tlsdissect.diagnosis import alerts as A
from tlsdissect.diagnosis.causes import CAUSES, remedy_lines
from tlsdissect.tls import tables

ROOT = Path(__file__).resolve().parent.parent
IANA_ALERTS = ROOT / "tests" / "data" / "iana" / "tls-parameters-6.csv"


def _registry() -> dict[int, str]:
    out = {}
    with IANA_ALERTS.open(newline="") as f:
        for row in csv.DictReader(f):
            value, name = row["Value"], row["Description"]
            if "-" in value or name == "Unassigned":
                continue
            out[int(value)] = name
    return out


# -- coverage and names -------------------------------------------------------------------------


def test_every_registered_alert_is_covered_and_nothing_else() -> None:
    assert set(A.ALERTS) == set(tables.ALERT_DESCRIPTIONS)
    assert set(A.ALERTS) == set(_registry())


def test_names_are_the_iana_names() -> None:
    registry = _registry()
    for code, info in A.ALERTS.items():
        assert info.code == code
        assert info.name == tables.ALERT_DESCRIPTIONS[code] == registry[code]


def test_every_alert_says_what_it_means_where_it_is_defined_and_when_it_arrives() -> None:
    for code, info in A.ALERTS.items():
        assert len(info.meaning) > 40 and info.meaning.endswith("."), code
        assert "RFC" in info.rfc, code
        assert info.versions, code
        assert info.readings and info.phases and info.senders, code


# -- vocabulary -----------------------------------------------------------------------------------


def test_phases_senders_and_likelihoods_are_from_the_vocabulary() -> None:
    for code, info in A.ALERTS.items():
        for reading in info.readings:
            assert reading.sender in A.READING_SENDERS, (code, reading.sender)
            assert reading.phases, code
            assert set(reading.phases) <= set(A.PHASES), (code, reading.phases)
            assert reading.candidates, (code, reading.sender, reading.phases)
            for cand in reading.candidates:
                assert cand.likelihood in A.LIKELIHOODS, (code, cand)
                assert len(cand.evidence) > 20, (code, cand.cause)
                assert set(cand.stacks) <= set(A.STACKS), (code, cand.stacks)


def test_phase_words_are_the_diagnosis_failure_points() -> None:
    # The same words as Diagnosis.failure_point (docs/diagnosis.md), less tcp_connect.
    text = (ROOT / "docs" / "diagnosis.md").read_text()
    for phase in A.PHASES:
        assert f"| `{phase}` |" in text, phase
    for alias, phases in A.PHASE_ALIASES.items():
        assert alias not in A.PHASES and set(phases) <= set(A.PHASES)


def test_each_reading_lists_a_cause_once() -> None:
    for code, info in A.ALERTS.items():
        for reading in info.readings:
            causes = [c.cause for c in reading.candidates]
            assert len(causes) == len(set(causes)), (code, reading.sender, reading.phases)


def _named() -> set[str]:
    """Every cause id the model names."""
    named = {c.cause for info in A.ALERTS.values() for r in info.readings for c in r.candidates}
    return named | {A._NONSTANDARD.cause}


def test_every_cause_named_exists_in_the_catalogue() -> None:
    for code, info in A.ALERTS.items():
        for reading in info.readings:
            for cand in reading.candidates:
                assert cand.cause in CAUSES, (code, cand.cause)
    assert A._NONSTANDARD.cause in CAUSES


def test_a_refined_cause_is_a_broader_catalogue_cause() -> None:
    refining = {cid: c.refines for cid, c in CAUSES.items() if c.refines}
    assert refining, "no cause narrows a broader one"
    for cid, broader in refining.items():
        assert broader in CAUSES and broader != cid, cid
        assert not CAUSES[broader].refines, (cid, broader)  # one step: the broader id is what the diagnosis names


def _lab_alerts() -> list[tuple[str, dict, dict]]:
    out = []
    for sidecar in sorted((ROOT / "captures").glob("*/expected.json")):
        expected = json.loads(sidecar.read_text())["expected"]
        alert = expected.get("alert") or {}
        if alert.get("code") is not None:
            out.append((sidecar.parent.name, alert, expected))
    return out


# Held-out captures (lab/wide3.py, stacks the model was not written from; lab/wide4.py,
# lab/wide5.py, lab/wide6.py and lab/wide7.py, failure modes it was not written from) whose
# alert the model does not yet connect with the cause the peers proved; for the lead to decide
# on, not tuned on.
# Checked to still disagree, so that a model that learns the habit is noticed (remove the entry).
HELD_OUT_DISAGREEMENTS = {
    # Erlang/OTP ssl: {bad_cert, hostname_check_failed} goes out as handshake_failure (40)
    "wide3_hostname_mismatch_erlang_java12": "server_cert_hostname_mismatch",
    # mbedTLS 2.28 ignores supported_versions: a TLS 1.3-only hello has no TLS 1.2 suite it
    # shares, so it answers handshake_failure (40), not protocol_version
    "wide3_version_mismatch_mbedtls_java13": "protocol_version_mismatch",
    # lab/wide4.py (failure modes no earlier lab made, held out too):
    # HAProxy as a TLS client (`verifyhost`) refuses an upstream certificate for another name
    # with internal_error (80)
    "wide4_proxy_upstream_hostname_haproxy_nginx12": "server_cert_hostname_mismatch",
    # Go refuses a clientAuth-only server leaf ("incompatible key usage") with bad_certificate (42)
    "wide4_server_eku_client_auth_go_socat12": "server_cert_wrong_usage",
    # lab/wide5.py (held out too): GnuTLS refuses a server certificate its CRL lists as revoked
    # ("The certificate chain is revoked") with bad_certificate (42), not certificate_revoked
    "wide5_server_revoked_crl_gnutls_asyncio12": "server_cert_revoked",
    # lab/wide7.py (held out too): a relay that changes one byte of a hello's random makes the
    # two ends derive different keys, so the first protected record fails with bad_record_mac
    # (20); the model connects that alert with a changed record or transcript, not with a
    # device that altered the handshake (middlebox_tampering: the relay's own log, both legs)
    "wide7_relay_client_random_rsa_kex_s_client_nginx12": "middlebox_tampering",
    "wide7_relay_server_random_curl_nginx13": "middlebox_tampering",
    "wide7_relay_server_random_go_haproxy13": "middlebox_tampering",
}


def test_the_lab_agrees_with_the_model() -> None:
    # Each lab capture that ends with a readable alert: the cause the lab expects is among the
    # model's candidates for that alert, sender and phase (directly or as the broader cause a
    # candidate refines: the Apache-era sidecars expect server_cert_rejected where the model
    # names server_cert_revoked or server_cert_wrong_usage).
    cases = _lab_alerts()
    assert len(cases) > 25
    for name, alert, expected in cases:
        found = A.candidates(alert["code"], alert["sender"], expected["failure_point"])
        ids = {c.cause for c in found} | {CAUSES[c.cause].refines for c in found if CAUSES[c.cause].refines}
        if name in HELD_OUT_DISAGREEMENTS:
            assert expected["cause"] == HELD_OUT_DISAGREEMENTS[name] and expected["cause"] not in ids, name
            continue
        assert expected["cause"] in ids, (name, alert["name"], expected["failure_point"], [c.cause for c in found])


def test_every_cause_the_model_names_says_what_it_is_and_what_to_change() -> None:
    for cid in _named():
        cause = CAUSES[cid]
        assert cause.id == cid and cid.isidentifier() and cid == cid.lower()
        assert cause.title and len(cause.meaning) > 40, cid
        assert remedy_lines(cid) or cid == "ok", cid
        if cause.check:
            cause.check.format(host="h", port="443", sni="s")  # only the catalogue's placeholders


def test_causes_with_nginx_or_haproxy_lines_have_every_server_s_in_order() -> None:
    # The causes the alert model brought have lines for Apache, nginx, HAProxy and a generic one;
    # the remedy lists them in that order.
    brought = [c for c in CAUSES.values() if c.nginx or c.haproxy]
    assert len(brought) >= 25
    for cause in brought:
        assert cause.apache and cause.nginx and cause.haproxy and cause.general, cause.id
        assert remedy_lines(cause.id) == ([f"Apache httpd (mod_ssl): {x}" for x in cause.apache]
                                          + [f"nginx: {x}" for x in cause.nginx]
                                          + [f"HAProxy: {x}" for x in cause.haproxy] + list(cause.general))


def test_the_causes_the_model_never_names_are_those_no_alert_shows() -> None:
    no_alert = {"connection_reset", "server_no_response", "client_closed_without_alert",  # TCP only
                "path_mtu_blackhole", "packets_dropped_on_path", "plaintext_http_on_tls_port", "tls_to_plaintext_server", "not_tls",
                "starttls_not_offered", "starttls_refused", "proxy_connect_refused",  # decided in the plain text before TLS
                "udp_port_unreachable", "host_unreachable", "quic_fell_back_to_tcp",  # UDP: the path, ICMP
                "quic_address_validation_failed", "amplification_limit_stall",  # QUIC before any TLS alert
                "receiver_stopped_reading", "keepalive_unanswered",  # TCP after the handshake: windows, probes
                "unknown"}
    assert set(CAUSES) - _named() <= no_alert


# -- the stack table ---------------------------------------------------------------------------------


def test_stack_habits_use_the_vocabulary() -> None:
    for h in A.STACK_HABITS:
        assert h.stack in A.STACKS, h
        assert h.failure in A.FAILURES, h
        assert h.role in A.SENDERS, h
        assert h.source, h
        if h.alert is None:
            assert h.how in ("none", "not_implemented", "after_handshake"), h
        else:
            assert h.how == "alert" and h.alert in A.ALERTS, h


def test_every_stack_has_habits_and_a_note() -> None:
    assert set(A.STACK_NOTES) == set(A.STACKS)
    assert {h.stack for h in A.STACK_HABITS} == set(A.STACKS)


def test_unconfirmed_entries_are_marked() -> None:
    unconfirmed = [h for h in A.STACK_HABITS if not h.confirmed]
    assert unconfirmed, "some entries could not be confirmed and must say so"
    assert {h.stack for h in unconfirmed} >= {"schannel"}
    assert all(not h.confirmed for h in A.STACK_HABITS if h.stack == "schannel")


def test_a_reading_that_relies_on_a_stack_habit_names_a_stack_that_has_it() -> None:
    for code, info in A.ALERTS.items():
        for reading in info.readings:
            for cand in reading.candidates:
                for stack in cand.stacks:
                    assert any(h.stack == stack and h.alert == code for h in A.STACK_HABITS), (code, cand.cause, stack)


def test_known_habits() -> None:
    # The example and a few that differ between stacks, as read in their sources.
    for failure in ("unknown_ca", "expired", "not_yet_valid", "bad_hostname", "revoked"):
        assert [h.alert for h in A.habit("go", failure)] == [42]
        assert [h.alert for h in A.habit("gnutls", failure)] == [42]
    assert [h.alert for h in A.habit("openssl", "not_yet_valid")] == [42]
    assert [h.alert for h in A.habit("boringssl", "not_yet_valid")] == [45]
    assert [h.alert for h in A.habit("jsse", "unknown_ca")] == [46]
    assert all(h.alert is None for h in A.habit("nodejs", "unknown_ca"))
    assert {h.versions: h.alert for h in A.habit("go", "missing_client_cert")} == {"TLS 1.2": 42, "TLS 1.3": 116}
    assert {h.versions: h.alert for h in A.habit("mbedtls", "missing_client_cert")} == {"TLS 1.2": None, "TLS 1.3": 41}
    assert {h.stack for h in A.stacks_sending(86, "fallback")} == {"openssl", "boringssl", "gnutls", "go", "nss"}
    assert A.habit("rustls", "fallback")[0].how == "not_implemented"


# -- lookups --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(tables.ALERT_DESCRIPTIONS))
def test_a_visible_alert_never_ends_without_candidates(code: int) -> None:
    for sender in A.SENDERS:
        for phase in list(A.PHASES) + list(A.PHASE_ALIASES):
            found = A.candidates(code, sender, phase)
            assert found, (code, sender, phase)
            assert all(c.cause != "unknown" for c in found)
            assert all(c.likelihood in A.LIKELIHOODS for c in found)
            assert len({c.cause for c in found}) == len(found)
            text = A.describe(code, sender, phase)
            assert tables.alert_name(code) in text and "Most likely:" in text


def test_an_alert_where_the_model_does_not_expect_it_is_lowered_not_dropped() -> None:
    # bad_record_mac cannot come in answer to a ClientHello (no keys yet): still answered, at most possible.
    found = A.candidates(20, "server", "client_hello")
    assert found and all(c.likelihood != "likely" for c in found)
    assert found[0].cause == "record_corrupted_in_transit"


def test_unregistered_codes_are_named_as_such() -> None:
    assert [c.cause for c in A.candidates(200, "server", "client_hello")] == ["nonstandard_alert"]
    assert "not in the IANA" in A.meaning(200)


def test_exact_readings_come_first() -> None:
    assert A.candidates(40, "server", "client_hello")[0].cause == "no_shared_cipher"
    assert A.candidates(40, "server", "client_certificate")[0].cause == "client_cert_missing"
    assert A.candidates(48, "client", "server_certificate")[0].cause == "server_chain_incomplete"
    assert A.candidates(46, "client", "server_certificate")[0].stacks == ("jsse",)
    assert A.candidates(70, "server", "client_hello")[0].cause == "protocol_version_mismatch"
    assert A.candidates(112, "server", "client_hello")[0].cause == "sni_rejected"
    assert A.candidates(10, "client", "key_exchange")[0].stacks == ("go",)


def test_aliases_cover_their_phases() -> None:
    flight = {c.cause for c in A.candidates(51, "client", "server_flight")}
    assert {c.cause for c in A.candidates(51, "client", "key_exchange")} <= flight


# -- spot checks against the RFC text --------------------------------------------------------------------


def test_tls13_alerts_per_rfc8446() -> None:
    # RFC 8446 §6.2 added missing_extension(109) and certificate_required(116) for TLS 1.3.
    for code in (109, 116):
        assert A.ALERTS[code].versions.startswith("TLS 1.3")
        assert "RFC 8446" in A.ALERTS[code].rfc
    assert A.ALERTS[116].senders == ("server",)
    assert "client certificate" in A.ALERTS[116].meaning


def test_no_application_protocol_per_rfc7301() -> None:
    # RFC 7301 §3.2: the server sends it when it supports none of the client's protocols.
    info = A.ALERTS[120]
    assert "RFC 7301" in info.rfc and "server" in info.meaning
    assert A.candidates(120, "server", "client_hello")[0].cause == "alpn_mismatch"
    assert A.candidates(120, "server", "client_hello")[0].likelihood == "likely"


def test_inappropriate_fallback_per_rfc7507() -> None:
    # RFC 7507 §3: the server sends it for a ClientHello with TLS_FALLBACK_SCSV below its highest version.
    info = A.ALERTS[86]
    assert "RFC 7507" in info.rfc and "TLS_FALLBACK_SCSV" in info.meaning and info.always_fatal
    first = A.candidates(86, "server", "client_hello")[0]
    assert first.cause == "inappropriate_fallback" and "0x5600" in first.evidence


def test_fatality_per_the_rfcs() -> None:
    # Closure alerts and the warning-only no_renegotiation are not fatal; RFC 5246 says
    # unexpected_message, bad_record_mac, record_overflow, decode_error ... are always fatal.
    assert not A.ALERTS[0].always_fatal and not A.ALERTS[90].always_fatal and not A.ALERTS[100].always_fatal
    for code in (10, 20, 22, 47, 48, 50, 51, 70, 71, 80):
        assert A.ALERTS[code].always_fatal, code
    assert "SSL 3.0" in A.ALERTS[41].versions
    assert "RFC 9849" in A.ALERTS[121].rfc and "RFC 9147" in A.ALERTS[52].rfc


# -- docs/alerts.md ------------------------------------------------------------------------------------


def _generator():
    spec = importlib.util.spec_from_file_location("gen_alert_docs", ROOT / "tools" / "gen_alert_docs.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def test_committed_alert_doc_is_what_the_generator_writes() -> None:
    committed = (ROOT / "docs" / "alerts.md").read_text()
    assert committed == _generator().render(), "run: python tools/gen_alert_docs.py"


def test_alert_doc_covers_every_alert_cause_and_stack() -> None:
    text = (ROOT / "docs" / "alerts.md").read_text()
    for code, info in A.ALERTS.items():
        assert f"`{info.name}` ({code}" in text, code
    for cid in _named() - {A._NONSTANDARD.cause}:  # the fallback for unregistered codes has no table
        assert f"(causes.md#{cid})" in text, cid
    for stack in A.STACKS:
        assert f"### {stack}" in text, stack


def test_causes_md_links_the_alert_doc() -> None:
    assert "(alerts.md)" in (ROOT / "docs" / "causes.md").read_text()
