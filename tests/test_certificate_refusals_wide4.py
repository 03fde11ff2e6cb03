"""Certificate refusals the fourth wide lab showed (its sidecars hold what the peers said):

- wget on GnuTLS (TLS 1.3) sends its Finished, then checks the chain and resets without an
  alert: with the key log the chain's error (an intermediate that is no CA) names the refusal;
  without it the certificate is hidden and a browser cancelling a request looks the same, so the
  handshake's success stands, "likely", with the silent refusal as the alternative;
- OpenSSL sends unknown_ca for an issuer that is no CA (urllib3, TLS 1.2): the chain's
  ``not_a_ca`` finding explains it;
- Go refuses a server certificate whose EKU is clientAuth only with unsupported_certificate:
  ``server_cert_wrong_usage``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tlsdissect

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def _run(name: str, keys: bool) -> tuple[tlsdissect.Connection, dict]:
    folder = CAPTURES / name
    if not (folder / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    expected = json.loads((folder / "expected.json").read_text())
    keylog = str(folder / "keylog.txt") if keys else None
    return tlsdissect.analyze(folder / "capture.pcap", keylog=keylog).connections[0], expected


def test_wget_resets_after_its_finished_on_a_chain_with_a_non_ca_issuer() -> None:
    c, doc = _run("wide4_intermediate_not_ca_wget_haproxy13", keys=True)
    assert "was not a CA" in doc["observed"]["client_error"]
    g = c.diagnosis
    assert (g.outcome, g.cause, g.how) == ("failed", doc["expected"]["cause"], "rst")
    assert any(x["id"] == "not_a_ca" for x in c.extra["chain_findings"])
    c, _ = _run("wide4_intermediate_not_ca_wget_haproxy13", keys=False)
    g = c.diagnosis
    assert (g.outcome, g.cause, g.confidence) == ("established", "ok", "likely")
    assert doc["expected"]["cause"] in g.alternatives


def test_unknown_ca_for_an_issuer_that_is_no_ca() -> None:
    c, doc = _run("wide4_intermediate_not_ca_urllib3_nginx12", keys=False)
    assert "invalid CA certificate" in doc["observed"]["client_error"]
    assert c.diagnosis.cause == doc["expected"]["cause"] and c.diagnosis.alert.code == 48


def test_a_client_auth_only_server_certificate() -> None:
    c, doc = _run("wide4_server_eku_client_auth_go_socat12", keys=False)
    assert c.diagnosis.cause == doc["expected"]["cause"] == "server_cert_wrong_usage"
    assert any(x["id"] == "eku_not_server_auth" for x in c.extra["chain_findings"])
