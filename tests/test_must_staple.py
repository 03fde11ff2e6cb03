"""OCSP must-staple (RFC 7633): the certificate's TLS Feature extension read into
``tls_features``, the chain finding ``must_staple_unmet`` and the cause ``ocsp_staple_missing``.

The captures are real (tests/data/must_staple/build.py): openssl s_server serving a leaf with
`tlsfeature = status_request`, with and without a stapled OCSP response, to gnutls-cli (which
enforces must-staple) and curl (which does not ask for a staple). Expected values come from the
peers (NAME.peers.txt: exit status and the client's words) and tshark's reading of the
certificate's extensions, the ClientHello's extensions, the OCSP status and the alerts; the two
wide4 lab captures carry their peers' words in expected.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import tlsdissect

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "must_staple"
CAPTURES = HERE.parent / "captures"
TSHARK = shutil.which("tshark")
TLS_FEATURE_OID = "1.3.6.1.5.5.7.1.24"
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")


def _peers(name: str) -> str:
    return (DATA / f"{name}.peers.txt").read_text()


def _conn(name: str) -> dict:
    keylog = DATA / f"{name}.keylog"
    result = tlsdissect.analyze(str(DATA / f"{name}.pcap"), keylog=str(keylog) if keylog.stat().st_size else None)
    (conn,) = [json.loads(json.dumps(c.to_dict())) for c in result.connections]
    return conn


def _tshark(name: str, display_filter: str, *fields: str) -> list[list[str]]:
    keylog = DATA / f"{name}.keylog"
    argv = [TSHARK or "tshark", "-r", str(DATA / f"{name}.pcap")]
    if keylog.stat().st_size:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    argv += ["-Y", display_filter, "-T", "fields"] + [x for f in fields for x in ("-e", f)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def _finding_ids(conn: dict) -> list[str]:
    return [f["id"] for f in conn.get("chain_findings", [])]


@needs_tshark
@pytest.mark.parametrize("name", ["gnutls_stapled12", "gnutls_stapled13", "gnutls_unstapled13", "curl_unstapled12"])
def test_the_leaf_s_tls_feature_is_read(name: str) -> None:
    (row,) = _tshark(name, "tls.handshake.type == 11", "x509af.extension.id")
    assert TLS_FEATURE_OID in row[0].split(",")
    assert _conn(name)["server_certificates"][0]["tls_features"] == ["status_request"]


@needs_tshark
@pytest.mark.parametrize("name", ["gnutls_stapled12", "gnutls_stapled13"])
def test_a_stapled_must_staple_certificate_is_accepted(name: str) -> None:
    peers = _peers(name)
    assert "exit status: 0" in peers and "The certificate is trusted" in peers
    ((status,),) = _tshark(name, "ocsp.certStatus", "ocsp.certStatus")
    assert status == "0"  # good
    conn = _conn(name)
    assert conn["ocsp"]["cert_status"] == "good"
    assert "must_staple_unmet" not in _finding_ids(conn)
    assert conn["diagnosis"]["cause"] == "ok" and conn["outcome"] == "established"


@needs_tshark
def test_gnutls_refuses_a_must_staple_certificate_without_a_staple() -> None:
    peers = _peers("gnutls_unstapled13")
    assert "exit status: 1" in peers and "the OCSP status is missing" in peers
    ((frame, code),) = _tshark("gnutls_unstapled13", "tls.alert_message", "frame.number", "tls.alert_message.desc")
    conn = _conn("gnutls_unstapled13")
    assert "must_staple_unmet" in _finding_ids(conn)
    d = conn["diagnosis"]
    assert (d["cause"], d["aborted_by"], d["alert"]["code"], d["alert"]["frame"]) == (
        "ocsp_staple_missing", "client", int(code), int(frame))


@needs_tshark
def test_a_client_that_does_not_ask_for_a_staple_is_not_told_about_one() -> None:
    assert "http_code=200" in _peers("curl_unstapled12")
    ((extensions,),) = _tshark("curl_unstapled12", "tls.handshake.type == 1", "tls.handshake.extension.type")
    assert "5" not in extensions.split(",")  # no status_request
    conn = _conn("curl_unstapled12")
    assert "must_staple_unmet" not in _finding_ids(conn)
    assert conn["diagnosis"]["cause"] == "ok"


def _lab(name: str, keylog: bool) -> tuple[dict, dict]:
    folder = CAPTURES / name
    expected = json.loads((folder / "expected.json").read_text())
    result = tlsdissect.analyze(str(folder / "capture.pcap"),
                                keylog=str(folder / "keylog.txt") if keylog else None)
    (conn,) = [json.loads(json.dumps(c.to_dict())) for c in result.connections]
    return expected, conn


def test_gnutls_client_over_tls12_names_the_missing_staple() -> None:
    expected, conn = _lab("wide4_must_staple_gnutls_go12", keylog=False)
    assert "OCSP status is missing" in expected["observed"]["client_error"]
    assert conn["diagnosis"]["cause"] == "ocsp_staple_missing"
    assert conn["diagnosis"]["confidence"] == "certain"


def test_wget_resetting_after_a_tls13_handshake_is_told_apart_with_keys() -> None:
    expected, conn = _lab("wide4_must_staple_wget_node13", keylog=True)
    assert expected["expected"]["cause"] == "client_rejected_cert_silently"
    d = conn["diagnosis"]
    assert (conn["outcome"], d["cause"]) == ("failed", "client_rejected_cert_silently")
    assert "ocsp_staple_missing" in d["alternatives"]
