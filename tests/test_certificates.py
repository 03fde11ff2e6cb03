"""Certificate parsing and chain findings, on certificates whose properties we chose when building them."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from certs_factory import (
    CLIENT_AUTH,
    DAY,
    ECDSA_WITH_SHA1,
    MD5_WITH_RSA,
    REF_TIME,
    SERVER_AUTH,
    SHA1_WITH_RSA,
    Issued,
    build,
    lab_pki,
    leaf_variant,
    make_key,
    name,
    resign_legacy,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tlsdissect.x509.caches import cache_stats
from tlsdissect.x509.chain import ChainAnalysis, analyze_chain
from tlsdissect.x509.client import check_client_chain_against_request
from tlsdissect.x509.names import decode_distinguished_names
from tlsdissect.x509.parse import parse_certificate
from tlsdissect.x509.trust import TrustStore, TrustStoreError

DATA = Path(__file__).parent / "data" / "certs"


def ids(analysis: ChainAnalysis) -> list[str]:
    return [f.id for f in analysis.findings]


def finding(analysis: ChainAnalysis, fid: str):
    matches = [f for f in analysis.findings if f.id == fid]
    assert matches, f"no {fid} finding in {ids(analysis)}"
    return matches[0]


def problems(analysis: ChainAnalysis) -> list[str]:
    return [f.id for f in analysis.findings if f.severity != "info"]


# --------------------------------------------------------------------------- parse_certificate


def test_parse_lab_leaf_fields() -> None:
    pki = lab_pki()
    cert = pki.leaf.cert
    info = parse_certificate(pki.leaf.der)
    assert info.parse_error is None
    assert info.subject == "CN=www.lab.test"
    assert info.subject_common_name == "www.lab.test"
    assert info.issuer == "CN=Lab Intermediate CA"
    assert info.issuer_common_name == "Lab Intermediate CA"
    assert int(info.serial_hex, 16) == cert.serial_number
    assert info.san_dns == ("www.lab.test", "lab.test")
    assert info.san_ip == ()
    assert info.not_before == REF_TIME - 30 * DAY
    assert info.not_after == REF_TIME + 60 * DAY
    assert (info.key_type, info.key_size, info.key_curve) == ("EC", 256, "secp256r1")
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.signature_hash == "sha256"
    assert info.sha256_fingerprint == cert.fingerprint(hashes.SHA256()).hex()
    assert info.basic_constraints_ca is False
    assert info.extended_key_usage == ("serverAuth",)
    assert info.key_usage is None
    assert info.subject_key_id == x509.SubjectKeyIdentifier.from_public_key(pki.leaf.key.public_key()).digest.hex()
    assert info.authority_key_id == (
        x509.SubjectKeyIdentifier.from_public_key(pki.intermediate.key.public_key()).digest.hex()
    )
    assert info.aia_ca_issuers == ("http://pki.lab.test/intermediate.der",)
    assert info.aia_ocsp == ("http://ocsp.lab.test",)
    assert info.crl_distribution_points == ("http://pki.lab.test/intermediate.crl",)
    assert info.self_issued is False and info.self_signed is False


def test_parse_root_and_intermediate() -> None:
    pki = lab_pki()
    root = parse_certificate(pki.root.der)
    assert root.self_signed and root.self_issued
    assert root.basic_constraints_ca is True
    assert root.key_usage == ("digitalSignature", "keyCertSign", "cRLSign")
    assert (root.key_type, root.key_curve) == ("EC", "secp384r1")
    inter = parse_certificate(pki.intermediate.der)
    assert inter.basic_constraints_ca is True and inter.basic_constraints_path_len == 0
    assert not inter.self_signed


def test_parse_rsa_pss_and_ed25519() -> None:
    rsa_root = build("RSA Root", key=make_key("rsa2048", 1), ca=True)
    info = parse_certificate(rsa_root.der)
    assert (info.key_type, info.key_size) == ("RSA", 2048)
    assert info.signature_algorithm == "sha256WithRSAEncryption"
    assert info.self_signed
    pss = build(
        "PSS leaf",
        issuer=rsa_root,
        key=make_key("ec256", 20),
        pss=True,
        hash_alg=hashes.SHA384(),
    )
    pss_info = parse_certificate(pss.der)
    assert pss_info.signature_algorithm.lower() in ("rsassapss", "rsassa-pss")
    assert pss_info.signature_hash == "sha384"
    ed = build("Ed root", key=make_key("ed25519", 1), ca=True)
    ed_info = parse_certificate(ed.der)
    assert ed_info.key_type == "Ed25519" and ed_info.signature_algorithm == "ed25519" and ed_info.self_signed


def test_ip_san_and_multi_attribute_subject() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lab, Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, "router"),
        ]
    )
    cert = leaf_variant("router", subject=subject, ips=["10.0.0.1", "2001:db8::1"])
    info = parse_certificate(cert.der)
    # RFC 4514: most specific RDN first, "," inside a value escaped
    assert info.subject == "CN=router,O=Lab\\, Inc.,C=US"
    assert info.san_ip == ("10.0.0.1", "2001:db8::1")


def test_to_dict_is_json_with_utc_iso_dates() -> None:
    data = json.loads(json.dumps(parse_certificate(lab_pki().leaf.der).to_dict()))
    assert data["not_after"] == (REF_TIME + 60 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["san_dns"] == ["www.lab.test", "lab.test"]
    analysis = analyze_chain([lab_pki().leaf.der, b"junk"], at=REF_TIME, server_name="x.test")
    json.dumps(analysis.to_dict())


@pytest.mark.parametrize("der", [b"", b"\x30", b"not a certificate", b"\x30\x03\x02\x01\x01", bytes(100)])
def test_garbage_is_reported_not_raised(der: bytes) -> None:
    info = parse_certificate(der)
    assert info.parse_error
    assert info.der_length == len(der)
    assert info.der_sha256 == hashlib.sha256(der).hexdigest()
    assert info.der_hex == der.hex()


def test_non_bytes_input_is_reported() -> None:
    assert parse_certificate(None).parse_error  # type: ignore[arg-type]
    analysis = analyze_chain([None], at=REF_TIME)  # type: ignore[list-item]
    assert ids(analysis) == ["unparsable_certificate"]


def _with_serial_byte(value: int) -> bytes:
    der = build("serial test", serial=1).der
    marker = bytes.fromhex("a003020102020101")  # version v3, then INTEGER serial = 1
    pos = der.index(marker)
    return der[:pos] + marker[:-1] + bytes([value]) + der[pos + len(marker) :]


def test_negative_serial_is_reported_not_raised() -> None:
    der = _with_serial_byte(0xFF)  # INTEGER -1
    info = parse_certificate(der)
    if info.parse_error is None:  # cryptography still accepts it with a deprecation warning
        assert info.serial_hex == "-01"
        assert info.encoding_warnings
        assert "nonconforming_encoding" in ids(analyze_chain([der], at=REF_TIME))
    else:
        assert "unparsable_certificate" in ids(analyze_chain([der], at=REF_TIME))


def test_cache_returns_same_result_for_same_der() -> None:
    der = build("cache test", key=make_key("ec256", 30)).der
    before = cache_stats()["hits"]
    first = parse_certificate(der)
    second = parse_certificate(bytearray(der))
    assert first is second
    assert cache_stats()["hits"] >= before + 1


# --------------------------------------------------------------------------- chains


def test_good_chain_has_no_problems() -> None:
    pki = lab_pki()
    analysis = analyze_chain(pki.chain, at=REF_TIME, server_name="www.lab.test", role="server")
    assert problems(analysis) == []
    assert analysis.path == [0, 1]
    assert analysis.trust == "not_checked"


def test_at_accepts_naive_datetime_and_epoch() -> None:
    pki = lab_pki()
    late = REF_TIME + 61 * DAY
    for at in (late, late.replace(tzinfo=None), late.timestamp()):
        assert "expired" in ids(analyze_chain(pki.chain, at=at))


def test_leaf_only_names_missing_issuer_and_url() -> None:
    pki = lab_pki()
    analysis = analyze_chain([pki.leaf.der], at=REF_TIME, server_name="www.lab.test")
    f = finding(analysis, "chain_incomplete")
    assert f.certificates == (0,)
    assert "The server sent only CN=www.lab.test" in f.text
    assert "its issuer CN=Lab Intermediate CA is missing" in f.text
    assert "http://pki.lab.test/intermediate.der" in f.text


def test_trust_store_trusted_and_untrusted(tmp_path: Path) -> None:
    pki = lab_pki()
    bundle = tmp_path / "lab.pem"
    bundle.write_bytes(pki.root.pem)
    store = TrustStore.from_ca_file(bundle)
    assert len(store) == 1
    ok = analyze_chain(pki.chain, at=REF_TIME, server_name="www.lab.test", trust=store)
    assert ok.trust == "trusted" and ok.trust_anchor == "CN=Lab Root CA"
    assert "trusted" in ids(ok) and problems(ok) == []

    other_root = build("Other Root CA", key=make_key("ec256", 40), ca=True)
    other = TrustStore.from_ders([other_root.der])
    bad = analyze_chain(pki.chain, at=REF_TIME, server_name="www.lab.test", trust=other)
    assert bad.trust == "untrusted_root"
    assert "CN=Lab Root CA" in finding(bad, "untrusted_root").text

    with_root = analyze_chain(pki.chain + [pki.root.der], at=REF_TIME, trust=other)
    assert with_root.trust == "untrusted_root"
    assert finding(with_root, "untrusted_root").certificates == (2,)

    leaf_only = analyze_chain([pki.leaf.der], at=REF_TIME, trust=store)
    assert leaf_only.trust == "untrusted_root"
    assert finding(leaf_only, "chain_incomplete").severity == "error"


def test_trust_store_anchor_may_be_intermediate(tmp_path: Path) -> None:
    pki = lab_pki()
    (tmp_path / "a.pem").write_bytes(pki.intermediate.pem)
    (tmp_path / "notes.txt").write_text("not a certificate")
    store = TrustStore.from_ca_path(tmp_path)
    analysis = analyze_chain(pki.chain, at=REF_TIME, trust=store)
    assert analysis.trust == "trusted" and analysis.trust_anchor == "CN=Lab Intermediate CA"


def test_trust_store_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="cannot read CA file"):
        TrustStore.from_ca_file(tmp_path / "missing.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here")
    with pytest.raises(TrustStoreError, match="no readable certificate"):
        TrustStore.from_ca_file(empty)
    with pytest.raises(TrustStoreError, match="not a directory"):
        TrustStore.from_ca_path(empty)


def test_root_included_is_info() -> None:
    pki = lab_pki()
    analysis = analyze_chain(pki.chain + [pki.root.der], at=REF_TIME, server_name="www.lab.test")
    f = finding(analysis, "root_included")
    assert f.severity == "info" and f.certificates == (2,)
    assert problems(analysis) == []
    assert analysis.path == [0, 1, 2]


def test_wrong_order() -> None:
    pki = lab_pki()
    analysis = analyze_chain([pki.leaf.der, pki.root.der, pki.intermediate.der], at=REF_TIME)
    assert analysis.path == [0, 2, 1]
    f = finding(analysis, "wrong_order")
    assert f.certificates == (0, 2)
    assert "CN=Lab Root CA" in f.text


def test_missing_middle_certificate() -> None:
    pki = lab_pki()
    analysis = analyze_chain([pki.leaf.der, pki.root.der], at=REF_TIME)
    assert "CN=Lab Intermediate CA is missing" in finding(analysis, "chain_incomplete").text
    assert finding(analysis, "unrelated_certificate").certificates == (1,)


def test_duplicate_certificate() -> None:
    pki = lab_pki()
    analysis = analyze_chain(pki.chain + [pki.intermediate.der], at=REF_TIME)
    assert finding(analysis, "duplicate_certificate").certificates == (1, 2)
    assert "wrong_order" not in ids(analysis)


def test_expired_leaf_says_by_how_long() -> None:
    leaf = leaf_variant(not_before=REF_TIME - 90 * DAY, not_after=REF_TIME - 3 * DAY)
    analysis = analyze_chain([leaf.der, lab_pki().intermediate.der], at=REF_TIME)
    f = finding(analysis, "expired")
    assert f.severity == "error" and f.certificates == (0,)
    assert "expired 3 days before the capture" in f.text


def test_not_yet_valid_says_by_how_long() -> None:
    leaf = leaf_variant(not_before=REF_TIME + timedelta(hours=2), not_after=REF_TIME + 90 * DAY)
    f = finding(
        analyze_chain([leaf.der, lab_pki().intermediate.der], at=REF_TIME),
        "not_yet_valid",
    )
    assert "2 hours after the capture" in f.text


def test_expired_intermediate() -> None:
    pki = lab_pki()
    inter = build(
        "Lab Intermediate CA",
        issuer=pki.root,
        key=pki.intermediate.key,
        ca=True,
        not_before=REF_TIME - 400 * DAY,
        not_after=REF_TIME - 10 * DAY,
    )
    f = finding(analyze_chain([pki.leaf.der, inter.der], at=REF_TIME), "expired")
    assert f.certificates == (1,) and "10 days" in f.text


def test_hostname_mismatch_names_the_names() -> None:
    f = finding(
        analyze_chain(lab_pki().chain, at=REF_TIME, server_name="mail.lab.test"),
        "hostname_mismatch",
    )
    assert "www.lab.test, lab.test" in f.text and "mail.lab.test" in f.text


def test_hostname_not_checked_for_client_role() -> None:
    leaf = leaf_variant("alice", eku=CLIENT_AUTH)
    analysis = analyze_chain([leaf.der], at=REF_TIME, server_name="www.lab.test", role="client")
    assert "hostname_mismatch" not in ids(analysis)


def test_wildcard_leaf() -> None:
    leaf = leaf_variant("*.lab.test", dns=["*.lab.test"])
    chain = [leaf.der, lab_pki().intermediate.der]
    assert "hostname_mismatch" not in ids(analyze_chain(chain, at=REF_TIME, server_name="foo.lab.test"))
    assert "hostname_mismatch" in ids(analyze_chain(chain, at=REF_TIME, server_name="a.foo.lab.test"))
    assert "hostname_mismatch" in ids(analyze_chain(chain, at=REF_TIME, server_name="lab.test"))


def test_ip_san_leaf() -> None:
    leaf = leaf_variant("10.0.0.1", dns=[], ips=["10.0.0.1"])
    chain = [leaf.der, lab_pki().intermediate.der]
    assert "hostname_mismatch" not in ids(analyze_chain(chain, at=REF_TIME, server_name="10.0.0.1"))
    assert "hostname_mismatch" in ids(analyze_chain(chain, at=REF_TIME, server_name="10.0.0.2"))


def test_cn_only_leaf() -> None:
    leaf = leaf_variant("legacy.lab.test", dns=[])
    chain = [leaf.der, lab_pki().intermediate.der]
    ok = analyze_chain(chain, at=REF_TIME, server_name="legacy.lab.test")
    assert "hostname_mismatch" not in ids(ok) and finding(ok, "hostname_cn_only").severity == "warning"
    assert "hostname_mismatch" in ids(analyze_chain(chain, at=REF_TIME, server_name="other.lab.test"))


def test_sha1_signed_leaf_but_not_sha1_root() -> None:
    pki = lab_pki()
    leaf = resign_legacy(leaf_variant(), pki.intermediate.key, ECDSA_WITH_SHA1, hashes.SHA1())
    analysis = analyze_chain([leaf, pki.intermediate.der], at=REF_TIME)
    assert analysis.path == [0, 1]  # the SHA-1 signature itself verifies
    f = finding(analysis, "weak_signature")
    assert f.certificates == (0,) and "SHA1" in f.text
    assert parse_certificate(leaf).signature_algorithm == "ecdsa-with-SHA1"

    root_key = make_key("rsa2048", 1)
    old_root = build("Old Root", key=root_key, ca=True)
    old_root_der = resign_legacy(old_root, root_key, SHA1_WITH_RSA, hashes.SHA1())
    old_leaf = build("old.lab.test", issuer=old_root, key=make_key("ec256", 51), dns=["old.lab.test"])
    analysis = analyze_chain([old_leaf.der, old_root_der], at=REF_TIME)
    assert parse_certificate(old_root_der).self_signed
    assert "weak_signature" not in ids(analysis)  # a self-signed root's own signature does not matter


def test_md5_signed_leaf() -> None:
    rsa_root = build("RSA Root", key=make_key("rsa2048", 1), ca=True)
    leaf = resign_legacy(
        build("md5.lab.test", issuer=rsa_root, key=make_key("ec256", 52)),
        rsa_root.key,
        MD5_WITH_RSA,
        hashes.MD5(),
    )
    info = parse_certificate(leaf)
    assert (info.signature_algorithm, info.signature_hash) == (
        "md5WithRSAEncryption",
        "md5",
    )
    assert "weak_signature" in ids(analyze_chain([leaf, rsa_root.der], at=REF_TIME))


def test_rsa_1024_leaf_is_weak() -> None:
    leaf = leaf_variant(key=make_key("rsa1024", 1))
    f = finding(analyze_chain([leaf.der, lab_pki().intermediate.der], at=REF_TIME), "weak_key")
    assert "1024-bit RSA" in f.text


def test_ec_p192_leaf_is_weak() -> None:
    try:
        key = make_key("ec192", 1)
    except Exception:  # noqa: BLE001 - some OpenSSL builds drop P-192
        pytest.skip("P-192 not available in this OpenSSL")
    f = finding(
        analyze_chain([leaf_variant(key=key).der, lab_pki().intermediate.der], at=REF_TIME),
        "weak_key",
    )
    assert "192-bit EC" in f.text


def test_eku_by_role() -> None:
    inter = lab_pki().intermediate.der
    client_only = leaf_variant(eku=CLIENT_AUTH)
    assert "eku_not_server_auth" in ids(
        analyze_chain([client_only.der, inter], at=REF_TIME, server_name="www.lab.test")
    )
    assert "eku_not_client_auth" not in ids(analyze_chain([client_only.der, inter], at=REF_TIME, role="client"))
    server_only = leaf_variant(eku=SERVER_AUTH)
    f = finding(
        analyze_chain([server_only.der, inter], at=REF_TIME, role="client"),
        "eku_not_client_auth",
    )
    assert "serverAuth" in f.text and "clientAuth" in f.text
    any_eku = leaf_variant(eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    assert problems(analyze_chain([any_eku.der, inter], at=REF_TIME, server_name="www.lab.test")) == []
    no_eku = leaf_variant(eku=None)
    assert problems(analyze_chain([no_eku.der, inter], at=REF_TIME, server_name="www.lab.test")) == []


def test_intermediate_without_ca_constraint() -> None:
    pki = lab_pki()
    fake_ca = build("Not A CA", issuer=pki.root, key=make_key("ec256", 60), ca=False)
    leaf = build("www.lab.test", issuer=fake_ca, key=make_key("ec256", 61), dns=["www.lab.test"])
    f = finding(analyze_chain([leaf.der, fake_ca.der], at=REF_TIME), "not_a_ca")
    assert f.certificates == (1, 0) and "CN=Not A CA" in f.text
    no_ext = build("No Extensions CA", issuer=pki.root, key=make_key("ec256", 62), ski=False)
    leaf2 = build("www.lab.test", issuer=no_ext, key=make_key("ec256", 63), dns=["www.lab.test"])
    assert "not_a_ca" in ids(analyze_chain([leaf2.der, no_ext.der], at=REF_TIME))


def test_ca_without_key_cert_sign() -> None:
    pki = lab_pki()
    ca = build(
        "Signing Disabled CA",
        issuer=pki.root,
        key=make_key("ec256", 64),
        ca=True,
        key_cert_sign=False,
    )
    leaf = build("www.lab.test", issuer=ca, key=make_key("ec256", 65), dns=["www.lab.test"])
    assert "keyCertSign" in finding(analyze_chain([leaf.der, ca.der], at=REF_TIME), "not_a_ca").text


def test_path_len_exceeded() -> None:
    pki = lab_pki()  # the lab intermediate has pathLenConstraint 0
    sub = build("Lab Sub CA", issuer=pki.intermediate, key=make_key("ec256", 70), ca=True)
    leaf = build("www.lab.test", issuer=sub, key=make_key("ec256", 71), dns=["www.lab.test"])
    analysis = analyze_chain([leaf.der, sub.der, pki.intermediate.der], at=REF_TIME)
    assert finding(analysis, "path_len_exceeded").certificates == (2,)


def test_bad_signature_wrong_intermediate_version() -> None:
    pki = lab_pki()
    # Same issuer name, signed by another key: what a server sending an old intermediate looks like.
    leaf = build(
        "www.lab.test",
        issuer=pki.intermediate,
        signer_key=make_key("ec256", 80),
        key=make_key("ec256", 81),
        dns=["www.lab.test"],
    )
    f = finding(analyze_chain([leaf.der, pki.intermediate.der], at=REF_TIME), "bad_signature")
    assert f.severity == "error" and f.certificates == (0, 1)
    assert "wrong version" in f.text


def test_signature_verification_algorithms() -> None:
    rsa_root = build("RSA Root", key=make_key("rsa2048", 1), ca=True)
    pss_leaf = build(
        "pss.lab.test",
        issuer=rsa_root,
        key=make_key("ec256", 90),
        pss=True,
        dns=["pss.lab.test"],
    )
    pkcs1_leaf = build(
        "pkcs.lab.test",
        issuer=rsa_root,
        key=make_key("ec256", 91),
        dns=["pkcs.lab.test"],
    )
    ed_root = build("Ed Root", key=make_key("ed25519", 1), ca=True)
    ed_leaf = build("ed.lab.test", issuer=ed_root, key=make_key("ec256", 92), dns=["ed.lab.test"])
    for leaf, root in (
        (pss_leaf, rsa_root),
        (pkcs1_leaf, rsa_root),
        (ed_leaf, ed_root),
    ):
        analysis = analyze_chain([leaf.der, root.der], at=REF_TIME)
        assert analysis.path == [0, 1], ids(analysis)
        assert "bad_signature" not in ids(analysis)
    forged = build(
        "ed.lab.test",
        issuer=ed_root,
        signer_key=make_key("ed25519", 2),
        key=make_key("ec256", 93),
    )
    assert "bad_signature" in ids(analyze_chain([forged.der, ed_root.der], at=REF_TIME))


def test_self_signed_leaf() -> None:
    cert = build("www.lab.test", key=make_key("ec256", 100), dns=["www.lab.test"])
    analysis = analyze_chain([cert.der], at=REF_TIME, server_name="www.lab.test")
    f = finding(analysis, "self_signed_leaf")
    assert f.severity == "error"
    assert "chain_incomplete" not in ids(analysis)
    pinned = analyze_chain([cert.der], at=REF_TIME, trust=TrustStore.from_ders([cert.der]))
    assert pinned.trust == "trusted"
    assert finding(pinned, "self_signed_leaf").severity == "warning"


def test_self_issued_with_wrong_key_is_bad_signature() -> None:
    forged = build(
        "Fake Root",
        key=make_key("ec256", 110),
        signer_key=make_key("ec256", 111),
        ca=True,
    )
    assert parse_certificate(forged.der).self_issued
    assert not parse_certificate(forged.der).self_signed
    assert "bad_signature" in ids(analyze_chain([forged.der], at=REF_TIME))


def test_empty_chain() -> None:
    server = analyze_chain([], at=REF_TIME, server_name="www.lab.test")
    assert [(f.id, f.severity) for f in server.findings] == [("empty_chain", "error")]
    client = analyze_chain([], at=REF_TIME, role="client")
    assert [(f.id, f.severity) for f in client.findings] == [("empty_chain", "info")]


def test_unparsable_certificate_in_chain() -> None:
    pki = lab_pki()
    analysis = analyze_chain(
        [pki.leaf.der, b"\x30\x82\x01\x00garbage"],
        at=REF_TIME,
        server_name="www.lab.test",
    )
    assert finding(analysis, "unparsable_certificate").certificates == (1,)
    assert analysis.certificates[1].parse_error
    assert "chain_incomplete" in ids(analysis)  # the leaf's issuer is still missing


# --------------------------------------------------------------------------- client certificate vs CertificateRequest


def _client_pki() -> tuple[Issued, Issued, Issued]:
    corp = build("Corp Client CA", key=make_key("ec256", 120), ca=True)
    other = build("Other CA", key=make_key("ec256", 121), ca=True)
    alice = build("alice", issuer=corp, key=make_key("ec256", 122), eku=CLIENT_AUTH)
    return corp, other, alice


def test_client_cert_missing() -> None:
    corp, _other, _alice = _client_pki()
    found = check_client_chain_against_request([], ca_names=[corp.cert.subject.public_bytes()], signature_algorithms=[])
    assert [f.id for f in found] == ["client_cert_missing"]
    assert "CN=Corp Client CA" in found[0].text


def test_client_issuer_requested_and_not() -> None:
    corp, other, alice = _client_pki()
    requested = [corp.cert.subject.public_bytes()]
    ok = check_client_chain_against_request([alice.der], ca_names=requested, signature_algorithms=[0x0403])
    assert [f.id for f in ok] == ["issuer_requested"]
    mallory = build("mallory", issuer=other, key=make_key("ec256", 123), eku=CLIENT_AUTH)
    bad = check_client_chain_against_request([mallory.der], ca_names=requested, signature_algorithms=[0x0403])
    assert [f.id for f in bad] == ["issuer_not_requested"]
    assert bad[0].text == (
        "The server accepts only certificates issued by CN=Corp Client CA; the client sent one issued by CN=Other CA."
    )


def test_client_issuer_match_is_case_and_space_insensitive() -> None:
    _corp, _other, alice = _client_pki()
    requested = [name("corp  client ca").public_bytes()]  # RFC 5280 §7.1 caseIgnoreMatch
    found = check_client_chain_against_request([alice.der], ca_names=requested, signature_algorithms=[])
    assert [f.id for f in found] == ["issuer_requested"]


def test_client_chain_with_intermediate_matches_root_name() -> None:
    root = build("Corp Root", key=make_key("ec256", 130), ca=True)
    inter = build("Corp Issuing CA", issuer=root, key=make_key("ec256", 131), ca=True)
    bob = build("bob", issuer=inter, key=make_key("ec256", 132), eku=CLIENT_AUTH)
    found = check_client_chain_against_request(
        [bob.der, inter.der],
        ca_names=[root.cert.subject.public_bytes()],
        signature_algorithms=[],
    )
    assert [(f.id, f.certificates) for f in found] == [("issuer_requested", (1,))]


def test_client_key_type_against_signature_algorithms() -> None:
    _corp, _other, alice = _client_pki()  # EC P-256 key
    rsa_only = check_client_chain_against_request([alice.der], ca_names=[], signature_algorithms=[0x0401, 0x0804])
    assert [f.id for f in rsa_only] == ["client_key_not_accepted"]
    assert "rsa_pkcs1_sha256, rsa_pss_rsae_sha256" in rsa_only[0].text
    assert check_client_chain_against_request([alice.der], ca_names=[], signature_algorithms=[0x0403, 0x0401]) == []


def test_decode_distinguished_names_matches_cryptography_formatting() -> None:
    from cryptography.x509.name import _ASN1Type

    names = [
        x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Corp, Inc."),
                x509.NameAttribute(NameOID.COMMON_NAME, "Corp Client CA"),
            ]
        ),
        x509.Name(
            [
                x509.RelativeDistinguishedName(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "Zürich CA"),
                    ]
                )
            ]
        ),
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BMP Ünïcode", _ASN1Type.BMPString)]),
        x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@corp.example")]),
    ]
    decoded = decode_distinguished_names([n.public_bytes() for n in names])
    # (certificate names and the CertificateRequest's CA names print the same way: cryptography's
    # RFC 4514 text with OpenSSL's names for the types it has none for, e.g. emailAddress)
    from tlsdissect.x509.names import NAME_OVERRIDES

    assert decoded == [n.rfc4514_string(NAME_OVERRIDES) for n in names]
    assert decoded[3] == "emailAddress=ca@corp.example"
    assert decoded[0] == "CN=Corp Client CA,O=Corp\\, Inc.,C=US"


def test_decode_distinguished_names_never_raises() -> None:
    good = name("x").public_bytes()
    out = decode_distinguished_names([b"", b"\x30\x05\x31", good + b"\x00", good])
    assert [s.startswith("<undecodable name") for s in out] == [True, True, True, False]
    assert out[-1] == "CN=x"


# --------------------------------------------------------------------------- real certificate from a public capture


def test_real_certificate_from_ssl_curl_capture() -> None:
    """Facts from the ja3 baseline (EXPECTED.tsv) and from openssl; see tests/data/certs/README.md."""
    leaf_der = (DATA / "ssl-curl-google-leaf.der").read_bytes()
    g3_der = (DATA / "ssl-curl-google-g3.der").read_bytes()
    leaf = parse_certificate(leaf_der)
    assert leaf.subject == "CN=*.google.com,O=Google LLC,L=Mountain View,ST=California,C=US"
    assert leaf.issuer == "CN=Google Internet Authority G3,O=Google Trust Services,C=US"
    assert leaf.serial_hex == "0732f614c41f4956"
    assert leaf.sha256_fingerprint == "d6273da7fb4235700d2023fb408c1a63beb158772eece4e3f0a89c89e35e61a8"
    assert leaf.not_after is not None and leaf.not_after.isoformat() == "2018-10-02T16:00:00+00:00"
    assert "google.com" in leaf.san_dns and "*.youtube.com" in leaf.san_dns
    g3 = parse_certificate(g3_der)
    assert g3.issuer == "CN=GlobalSign,O=GlobalSign,OU=GlobalSign Root CA - R2"
    assert (g3.basic_constraints_ca, g3.basic_constraints_path_len) == (True, 0)
    assert g3.aia_ocsp == ("http://ocsp.pki.goog/gsr2",)
    assert (g3.key_type, g3.key_size, g3.signature_algorithm) == (
        "RSA",
        2048,
        "sha256WithRSAEncryption",
    )

    from datetime import datetime, timezone

    at = datetime.fromtimestamp(1533675122.290833, tz=timezone.utc)  # the ServerHello packet time
    analysis = analyze_chain([leaf_der, g3_der], at=at, server_name="google.com")
    assert analysis.path == [0, 1]  # the RSA signature of G3 over the leaf verifies
    assert problems(analysis) == []
    later = analyze_chain(
        [leaf_der, g3_der],
        at=datetime(2019, 1, 1, tzinfo=timezone.utc),
        server_name="google.com",
    )
    assert finding(later, "expired").certificates == (0,)


# --------------------------------------------------------------------------- property tests: mutated DER

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@st.composite
def mutated_der(draw: st.DrawFn) -> bytes:
    der = bytearray(lab_pki().leaf.der)
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "mixed"]))
    if kind in ("flip", "mixed"):
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, len(der) - 1))
            der[pos] ^= 1 << draw(st.integers(0, 7))
    if kind in ("truncate", "mixed"):
        der = der[: draw(st.integers(0, len(der)))]
    if kind in ("insert", "mixed"):
        pos = draw(st.integers(0, len(der)))
        der[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(der)


def _cryptography_loads(der: bytes) -> bool:
    """Independent oracle: does cryptography itself accept the bytes as a certificate?"""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x509.load_der_x509_certificate(der)
        return True
    except Exception:  # noqa: BLE001
        return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_der())
def test_mutated_der_never_raises(der: bytes) -> None:
    info = parse_certificate(der)
    if not _cryptography_loads(der):
        assert info.parse_error
    if info.parse_error:
        assert info.der_length == len(der) and info.der_hex == der.hex()
    else:
        assert isinstance(info.subject, str)
    json.dumps(info.to_dict())
    analysis = analyze_chain(
        [der, lab_pki().intermediate.der],
        at=REF_TIME,
        server_name="www.lab.test",
        role="server",
    )
    assert ("unparsable_certificate" in ids(analysis)) is (info.parse_error is not None)
    json.dumps(analysis.to_dict())
    check_client_chain_against_request([der], ca_names=[der[:40]], signature_algorithms=[0x0403])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_distinguished_name_decoder_never_raises(blob: bytes) -> None:
    out = decode_distinguished_names([blob, name("ok").public_bytes() + blob])
    assert len(out) == 2 and all(isinstance(s, str) for s in out)


# --------------------------------------------------------------------------- real client authentication (anyconnect-vpn.pcap)


def _anyconnect_names() -> list[bytes]:
    raw = (DATA / "anyconnect-certificate-request-dnames.bin").read_bytes()
    names, pos = [], 0
    while pos < len(raw):  # certificate_authorities: DistinguishedName<1..2^16-1> entries, RFC 5246 §7.4.4
        length = int.from_bytes(raw[pos : pos + 2], "big")
        names.append(raw[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return names


def test_real_certificate_request_names_decode_as_tshark_dissects_them() -> None:
    decoded = decode_distinguished_names(_anyconnect_names())
    viasat = "DC=hq,DC=corp,DC=viasat,DC=com"
    entrust = "OU=See www.entrust.net/legal-terms,O=Entrust\\, Inc.,C=US"
    assert decoded == [
        f"CN=Viasat SHA 2 CA-3,{viasat}",
        f"CN=Viasat SHA 2 CA-2,{viasat}",
        f"CN=Viasat SHA 2 CA-1,{viasat}",
        "CN=Viasat SHA 2 Root CA",
        f"CN=Entrust Root Certification Authority - G2,OU=(c) 2009 Entrust\\, Inc. - for authorized use only,{entrust}",
        f"CN=Entrust Certification Authority - L1K,OU=(c) 2012 Entrust\\, Inc. - for authorized use only,{entrust}",
        (
            "CN=Entrust Root Certification Authority,OU=(c) 2006 Entrust\\, Inc.,"
            "OU=www.entrust.net/CPS is incorporated by reference,O=Entrust\\, Inc.,C=US"
        ),
        (
            "CN=VeriSign Class 3 Secure Server CA - G3,OU=Terms of use at https://www.verisign.com/rpa (c)10,"
            "OU=VeriSign Trust Network,O=VeriSign\\, Inc.,C=US"
        ),
    ]


def test_real_client_chain_against_real_certificate_request() -> None:
    from datetime import datetime, timezone

    chain = [(DATA / f"anyconnect-client-{i}.der").read_bytes() for i in range(3)]
    found = check_client_chain_against_request(
        chain,
        ca_names=_anyconnect_names(),
        signature_algorithms=[0x0601, 0x0603, 0x0501, 0x0503, 0x0401, 0x0403, 0x0201],
    )
    assert [(f.id, f.certificates) for f in found] == [("issuer_requested", (0,))]
    assert "CN=Viasat SHA 2 CA-3" in found[0].text
    assert check_client_chain_against_request([], ca_names=_anyconnect_names(), signature_algorithms=[])[0].id == (
        "client_cert_missing"
    )

    # openssl verify -attime 1569687245 -purpose sslclient: OK; at 1600000000: certificate has expired
    at = datetime.fromtimestamp(1569687245.885140, tz=timezone.utc)
    store = TrustStore.from_ders([chain[2]])
    analysis = analyze_chain(chain, at=at, role="client", trust=store)
    assert analysis.path == [0, 1, 2]
    assert analysis.trust == "trusted"
    assert problems(analysis) == []
    assert parse_certificate(chain[0]).subject == (
        "CN=lp-rkerur-osx,OU=Macs,OU=Carlsbad,OU=USA,OU=Workstations,DC=hq,DC=corp,DC=viasat,DC=com"
    )
    later = analyze_chain(chain, at=1600000000, role="client", trust=store)
    assert finding(later, "expired").certificates == (0,)


# --------------------------------------------------------------------------- capture-time judgement and lenient reading


def test_capture_clock_at_epoch_is_not_used_for_validity() -> None:
    pki = lab_pki()
    analysis = analyze_chain(pki.chain, at=42.0, server_name="www.lab.test")
    assert ids(analysis) == ["capture_time_implausible"]


def test_sha1_before_2017_is_only_a_warning() -> None:
    pki = lab_pki()
    leaf = resign_legacy(
        leaf_variant(
            not_before=REF_TIME.replace(year=2015),
            not_after=REF_TIME.replace(year=2030),
        ),
        pki.intermediate.key,
        ECDSA_WITH_SHA1,
        hashes.SHA1(),
    )
    at_2016 = REF_TIME.replace(year=2016)
    assert finding(analyze_chain([leaf, pki.intermediate.der], at=at_2016), "weak_signature").severity == "warning"
    assert finding(analyze_chain([leaf, pki.intermediate.der], at=REF_TIME), "weak_signature").severity == "error"


def test_ip_literal_mismatch_text() -> None:
    f = finding(
        analyze_chain(lab_pki().chain, at=REF_TIME, server_name="192.0.2.1"),
        "hostname_mismatch",
    )
    assert f.text.startswith("The server's certificate CN=www.lab.test is not valid for the IP address 192.0.2.1")
    assert "www.lab.test, lab.test" in f.text


def test_real_certificate_with_der_fault_in_extensions() -> None:
    """pop3_stls.pcap: facts from nDPI's result file and openssl (tests/data/certs/README.md)."""
    der = (DATA / "pop3-stls-lavabit.der").read_bytes()
    assert hashlib.sha1(der).hexdigest() == "1d14603d5e0fa2eb61c527f8a42680b3e5bba2b2"  # nDPI's Certificate SHA-1
    info = parse_certificate(der)
    assert info.parse_error is None
    assert info.extensions_read == "partial"
    assert info.san_dns == ("*.lavabit.com", "lavabit.com")
    assert info.extended_key_usage == ("serverAuth", "clientAuth")
    assert info.basic_constraints_ca is False
    assert info.signature_algorithm == "sha1WithRSAEncryption"
    analysis = analyze_chain([der], at=1346096810.490233, server_name="pop.lavabit.com")
    assert "hostname_mismatch" not in ids(analysis) and "hostname_cn_only" not in ids(analysis)
    assert "CN=Go Daddy Secure Certification Authority is missing" in finding(analysis, "chain_incomplete").text
    assert finding(analysis, "weak_signature").severity == "warning"  # SHA-1 was still accepted in 2012
    assert "read leniently" in finding(analysis, "certificate_field_error").text


# --------------------------------------------------------------------------- lab captures: the real client's verdict as truth

import shutil
import subprocess

LAB = Path(__file__).resolve().parents[1] / "captures"


def _tshark_handshakes(pcap: Path, *, with_names: bool = False) -> dict[str, object]:
    """Certificates, SNI, times and CertificateRequest names of a small capture, as tshark reads them."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    if not pcap.is_file():
        pytest.skip(f"lab capture {pcap} not found")
    fields = [
        "frame.time_epoch",
        "tcp.srcport",
        "tcp.dstport",
        "tls.handshake.type",
        "tls.handshake.certificate",
        "tls.handshake.extensions_server_name",
    ]
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(pcap),
        "-Y",
        "tls.handshake",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
    ]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
    result: dict[str, object] = {
        "server_port": None,
        "sni": None,
        "server": None,
        "client": None,
    }
    for line in out.splitlines():
        t, sport, dport, types, certs, sni = (line.split("\t") + [""] * 6)[:6]
        kinds = types.split(",")
        if "1" in kinds and result["server_port"] is None:
            result["server_port"], result["sni"] = dport, sni or None
        if "11" in kinds:
            ders = [bytes.fromhex(h) for h in certs.split(",") if h]
            side = "server" if sport == result["server_port"] else "client"
            if result[side] is None:
                result[side] = (float(t.split(",")[0]), ders)
    result["ca_names"] = _tshark_ca_names(pcap) if with_names else []
    return result


def _tshark_ca_names(pcap: Path) -> list[bytes]:
    """DER names of the first CertificateRequest (tshark's tls.handshake.dnames_raw, split per RFC 5246 §7.4.4)."""
    req = subprocess.run(
        [
            "tshark",
            "-n",
            "-r",
            str(pcap),
            "-Y",
            "tls.handshake.type==13",
            "-T",
            "json",
            "-x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    raw: list[str] = []

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        for key, value in pairs:
            if key == "tls.handshake.dnames_raw" and isinstance(value, list):
                raw.append(str(value[0]))
        return dict(pairs)

    if req.strip():
        json.loads(req, object_pairs_hook=hook)
    names: list[bytes] = []
    if raw:
        blob, pos = bytes.fromhex(raw[0]), 0
        while pos + 2 <= len(blob):
            n = int.from_bytes(blob[pos : pos + 2], "big")
            names.append(blob[pos + 2 : pos + 2 + n])
            pos += 2 + n
    return names


@pytest.mark.parametrize(
    ("scenario", "expected_id"),
    [
        # curl: "unable to get local issuer certificate"; the other scenarios' client errors are in expected.json
        ("tls12_missing_intermediate_curl", "chain_incomplete"),
        ("tls12_self_signed_curl", "self_signed_leaf"),
        ("tls12_expired_curl", "expired"),  # alert certificate_expired
        ("tls12_not_yet_valid_curl", "not_yet_valid"),
        ("tls12_hostname_mismatch_openssl", "hostname_mismatch"),
        ("tls12_server_cert_wrong_eku_curl", "eku_not_server_auth"),  # curl: unsuitable certificate purpose
        ("tls12_success", None),  # established
        ("mtls_success_tls12", None),
        ("large_chain_success", None),
    ],
)
def test_lab_server_chains_match_the_client_verdict(scenario: str, expected_id: str | None) -> None:
    """Ground truth: the real client's error (captures/<scenario>/expected.json 'observed'), not our code."""
    facts = _tshark_handshakes(LAB / scenario / "capture.pcap")
    if facts["server"] is None:
        pytest.skip(f"{scenario}: no cleartext server Certificate in the capture")
    at, ders = facts["server"]  # type: ignore[misc]
    analysis = analyze_chain(ders, at=at, server_name=facts["sni"], role="server")  # type: ignore[arg-type]
    errors = [f.id for f in analysis.findings if f.severity == "error"]
    if expected_id is None:
        assert errors == [], [f.text for f in analysis.findings]
    else:
        assert expected_id in ids(analysis), [f.text for f in analysis.findings]


def test_lab_client_certificate_not_in_ca_list() -> None:
    """Apache's SSLCADNRequestFile names only Corp Client CA; curl sends an Other CA certificate (expected.json)."""
    facts = _tshark_handshakes(LAB / "tls12_client_cert_not_in_ca_list" / "capture.pcap", with_names=True)
    assert facts["client"] is not None
    _at, ders = facts["client"]  # type: ignore[misc]
    # tshark: RDNSequence item 1 is CN=Corp Client CA, item 2 O=TLS Lab; RFC 4514 prints the last RDN first
    assert decode_distinguished_names(facts["ca_names"]) == ["O=TLS Lab,CN=Corp Client CA"]  # type: ignore[arg-type]
    found = check_client_chain_against_request(ders, ca_names=facts["ca_names"], signature_algorithms=[])  # type: ignore[arg-type]
    assert [f.id for f in found] == ["issuer_not_requested"]
    assert found[0].text == (
        "The server accepts only certificates issued by O=TLS Lab,CN=Corp Client CA; "
        "the client sent one issued by O=TLS Lab,CN=Other CA."
    )


def test_lab_client_certificate_missing() -> None:
    facts = _tshark_handshakes(LAB / "tls12_client_cert_missing" / "capture.pcap", with_names=True)
    assert facts["client"] is not None and facts["client"][1] == []  # type: ignore[index]
    found = check_client_chain_against_request([], ca_names=facts["ca_names"], signature_algorithms=[])  # type: ignore[arg-type]
    assert [f.id for f in found] == ["client_cert_missing"]


def test_lab_client_certificate_expired() -> None:
    """expected.json: the Corp client certificate expired on 2025-01-01; the server says 'certificate verify failed'."""
    facts = _tshark_handshakes(LAB / "tls12_client_cert_expired" / "capture.pcap")
    at, ders = facts["client"]  # type: ignore[misc]
    analysis = analyze_chain(ders, at=at, role="client")
    f = finding(analysis, "expired")
    assert f.certificates == (0,) and "2025-01-01" in f.text


def test_bad_time_and_role_arguments_give_clear_errors() -> None:
    with pytest.raises(TypeError, match="capture time must be a datetime"):
        analyze_chain([], at="yesterday")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a usable epoch time"):
        analyze_chain([], at=float("nan"))
    with pytest.raises(ValueError, match="role must be"):
        analyze_chain([], at=REF_TIME, role="proxy")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- nDPI's certificate risk flags (EXPECTED.tsv)

NDPI_FILES = [
    "ntop+nDPI/tests/cfgs/default/pcap/http_ipv6.pcap",  # TLS Cert Mismatch (www.ntop.org vs shop.ntop.org)
    "ntop+nDPI/tests/cfgs/default/pcap/protonvpn.pcap",  # TLS Cert Expired
    "ntop+nDPI/tests/cfgs/default/pcap/selfsigned.pcap",  # Self-signed Cert, TLS Cert Expired
    "ntop+nDPI/tests/cfgs/default/pcap/KakaoTalk_talk.pcap",  # Self-signed Cert
    "ntop+nDPI/tests/cfgs/default/pcap/tls-rdn-extract.pcap",  # TLS Cert Expired; odd wildcard SANs, no mismatch
]
# Where we disagree with nDPI on purpose (checked from the bytes with openssl):
NDPI_JUSTIFIED = {
    # the certificate (O=ntop.org, no CN, no SAN) names no host at all, so "localhost" cannot match;
    # nDPI only compares names it finds
    ("selfsigned.pcap", "TLS Cert Mismatch"),
}
NDPI_FLAGS = {
    "Self-signed Cert": {"self_signed_leaf"},
    # nDPI: outside the validity period at packet time; when the capture clock reads 1970 (protonvpn,
    # tls-rdn-extract) nDPI's flag is an artifact of the clock and we report the clock instead
    "TLS Cert Expired": {"expired", "not_yet_valid", "capture_time_implausible"},
    "TLS Cert Mismatch": {"hostname_mismatch"},
}


@pytest.mark.parametrize("relpath", NDPI_FILES)
def test_ndpi_certificate_risks_agree(relpath: str) -> None:
    import csv

    from shared_captures import require_shared_captures

    root = require_shared_captures()
    if shutil.which("tshark") is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    pcap = root / relpath
    if not pcap.is_file():
        pytest.skip(f"{relpath} not in the shared captures")
    with (root / "EXPECTED.tsv").open(newline="", encoding="utf-8") as fh:
        rows = [
            r for r in csv.DictReader(fh, delimiter="\t") if r["file"] == relpath and "Certificate SHA-1=" in r["notes"]
        ]
    assert rows
    cmd = [
        "tshark",
        "-n",
        "-r",
        str(pcap),
        "-Y",
        "tls.handshake.certificate",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-e",
        "frame.time_epoch",
        "-e",
        "tls.handshake.certificate",
    ]
    chains: dict[str, tuple[float, list[bytes]]] = {}
    for line in subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout.splitlines():
        t, _, certs = line.partition("\t")
        ders = [bytes.fromhex(h) for h in certs.split(",") if h]
        if ders:
            chains.setdefault(hashlib.sha1(ders[0]).hexdigest(), (float(t.split(",")[0]), ders))
    compared = 0
    for row in rows:
        sha1 = row["notes"].split("Certificate SHA-1=")[1].split(";")[0].replace(":", "").lower()
        at, ders = chains[sha1]
        analysis = analyze_chain(ders, at=at, server_name=row["server_name"] or None)
        for flag, ours in NDPI_FLAGS.items():
            if (relpath.rsplit("/", 1)[-1], flag) in NDPI_JUSTIFIED:
                continue
            if flag == "TLS Cert Mismatch" and not row["server_name"]:
                continue
            assert (flag in row["notes"]) == bool(set(ids(analysis)) & ours), (row["uid_or_flow"], flag, ids(analysis))
            compared += 1
    assert compared


def test_trust_store_reads_der_files_and_trusted_certificate_blocks(tmp_path: Path) -> None:
    import base64

    pki = lab_pki()
    (tmp_path / "root.der").write_bytes(pki.root.der)
    # OpenSSL "TRUSTED CERTIFICATE": the certificate DER followed by auxiliary trust data
    aux = bytes.fromhex("300a060825060105050703010000")
    body = base64.encodebytes(pki.intermediate.der + aux).decode()
    (tmp_path / "inter.pem").write_text(
        f"-----BEGIN TRUSTED CERTIFICATE-----\n{body}-----END TRUSTED CERTIFICATE-----\n"
    )
    store = TrustStore.from_ca_path(tmp_path)
    assert sorted(a.info.subject for a in store.anchors) == ["CN=Lab Intermediate CA", "CN=Lab Root CA"]


def test_system_trust_store_is_opt_in_and_loads() -> None:
    try:
        store = TrustStore.system()
    except TrustStoreError as exc:
        pytest.skip(str(exc))
    assert len(store) > 20  # Debian's bundle and certifi both hold well over a hundred roots
    first = store.anchors[0]
    assert first.info.self_issued
    assert first.cert is not None
    own = analyze_chain([first.cert.public_bytes(serialization.Encoding.DER)], at=REF_TIME, trust=store)
    assert own.trust == "trusted"


@pytest.mark.parametrize(
    ("scenario", "trust", "expected_id"),
    [
        ("tls12_success", "trusted", "trusted"),
        ("tls12_untrusted_root_curl", "untrusted_root", "untrusted_root"),  # leaf + intermediate under Rogue Root CA
        ("tls12_missing_intermediate_curl", "untrusted_root", "chain_incomplete"),
        ("tls12_self_signed_curl", "untrusted_root", "untrusted_root"),
    ],
)
def test_lab_chains_against_the_lab_root(scenario: str, trust: str, expected_id: str) -> None:
    """The clients trusted only captures/_trust/lab-root-ca.crt (expected.json 'made_with' commands)."""
    root = LAB / "_trust" / "lab-root-ca.crt"
    if not root.is_file():
        pytest.skip(f"{root} not found")
    facts = _tshark_handshakes(LAB / scenario / "capture.pcap")
    at, ders = facts["server"]  # type: ignore[misc]
    analysis = analyze_chain(ders, at=at, server_name=facts["sni"], trust=TrustStore.from_ca_file(root))  # type: ignore[arg-type]
    assert analysis.trust == trust
    f = finding(analysis, expected_id)
    assert f.severity == ("info" if trust == "trusted" else "error")


def test_lab_client_certificate_with_server_only_eku() -> None:
    """Apache: 'certificate verify failed'; curl got alert unsupported_certificate (expected.json)."""
    facts = _tshark_handshakes(LAB / "tls12_client_cert_wrong_eku" / "capture.pcap")
    at, ders = facts["client"]  # type: ignore[misc]
    f = finding(analyze_chain(ders, at=at, role="client"), "eku_not_client_auth")
    assert "serverAuth" in f.text
