"""Stapled OCSP responses built with cryptography's OCSPResponseBuilder: status and freshness at capture time."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from certs_factory import DAY, REF_TIME, lab_pki, leaf_variant
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from tlsdissect.x509.parse import parse_certificate
from tlsdissect.x509.ocsp import ocsp_findings, parse_ocsp_response

THIS_UPDATE = REF_TIME - DAY
NEXT_UPDATE = REF_TIME + 6 * DAY


def _response(
    status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
    *,
    cert: x509.Certificate | None = None,
    revoked_at=None,
    reason: x509.ReasonFlags | None = None,
    next_update=NEXT_UPDATE,
) -> bytes:
    pki = lab_pki()
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert or pki.leaf.cert,
        issuer=pki.intermediate.cert,
        algorithm=hashes.SHA1(),
        cert_status=status,
        this_update=THIS_UPDATE,
        next_update=next_update,
        revocation_time=revoked_at,
        revocation_reason=reason,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, pki.intermediate.cert)
    from cryptography.hazmat.primitives.serialization import Encoding

    return builder.sign(pki.intermediate.key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_good_and_fresh() -> None:
    info = parse_ocsp_response(_response(), REF_TIME)
    assert info.parse_error is None
    assert (info.response_status, info.cert_status, info.fresh) == ("successful", "good", True)
    assert info.this_update == THIS_UPDATE and info.next_update == NEXT_UPDATE
    assert int(info.serial_hex, 16) == lab_pki().leaf.cert.serial_number
    expected_hash = x509.SubjectKeyIdentifier.from_public_key(lab_pki().intermediate.key.public_key()).digest.hex()
    assert info.responder_key_hash == expected_hash and info.responder_name is None
    assert info.response_count == 1
    assert ocsp_findings(info, parse_certificate(lab_pki().leaf.der)) == []
    json.dumps(info.to_dict())


@pytest.mark.parametrize(
    ("at", "fresh"),
    [
        (THIS_UPDATE - timedelta(seconds=1), False),
        (THIS_UPDATE, True),
        (NEXT_UPDATE, True),
        (NEXT_UPDATE + timedelta(seconds=1), False),
    ],
)
def test_freshness_window(at, fresh: bool) -> None:
    info = parse_ocsp_response(_response(), at)
    assert info.fresh is fresh
    assert ("ocsp_stale" in [f.id for f in ocsp_findings(info)]) is (not fresh)


def test_no_next_update_is_fresh_after_this_update() -> None:
    info = parse_ocsp_response(_response(next_update=None), REF_TIME + 365 * DAY)
    assert info.next_update is None and info.fresh is True


def test_revoked() -> None:
    revoked_at = REF_TIME - 2 * DAY
    info = parse_ocsp_response(
        _response(ocsp.OCSPCertStatus.REVOKED, revoked_at=revoked_at, reason=x509.ReasonFlags.key_compromise), REF_TIME
    )
    assert info.cert_status == "revoked"
    assert info.revocation_time == revoked_at and info.revocation_reason == "key_compromise"
    f = [f for f in ocsp_findings(info, parse_certificate(lab_pki().leaf.der)) if f.id == "ocsp_revoked"][0]
    assert "CN=www.lab.test" in f.text and "key_compromise" in f.text


def test_unknown_status() -> None:
    info = parse_ocsp_response(_response(ocsp.OCSPCertStatus.UNKNOWN), REF_TIME)
    assert info.cert_status == "unknown"
    assert [f.id for f in ocsp_findings(info)] == ["ocsp_unknown"]


def test_staple_for_another_certificate() -> None:
    other = leaf_variant("other.lab.test")
    info = parse_ocsp_response(_response(cert=other.cert), REF_TIME)
    ids = [f.id for f in ocsp_findings(info, parse_certificate(lab_pki().leaf.der))]
    assert ids == ["ocsp_wrong_certificate"]


def test_unsuccessful_response_status() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(Encoding.DER)
    # RFC 6960 §4.2.1: OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (tryLater = 3) }
    assert der == bytes.fromhex("30030a0103")
    info = parse_ocsp_response(der, REF_TIME)
    assert (info.response_status, info.cert_status) == ("try_later", None)
    assert [f.id for f in ocsp_findings(info)] == ["ocsp_error_status"]


def test_garbage_and_every_truncation_never_raise() -> None:
    der = _response()
    for cut in range(len(der)):
        info = parse_ocsp_response(der[:cut], REF_TIME)
        assert info.parse_error, cut
        assert info.der_length == cut
    assert [f.id for f in ocsp_findings(parse_ocsp_response(b"junk", REF_TIME))] == ["ocsp_unparsable"]
    assert parse_ocsp_response(None, REF_TIME).parse_error  # type: ignore[arg-type]


def test_epoch_time_accepted() -> None:
    assert parse_ocsp_response(_response(), REF_TIME.timestamp()).fresh is True
