"""TLS interception: a proxy that re-signs the server's certificate with its own CA
(x509.interception, the chain finding ``tls_interception``, the cause
``tls_interception_untrusted``).

The captures are real: curl and Python's urllib through mitmproxy 11 (an explicit HTTPS proxy:
CONNECT, then TLS with mitmproxy's certificate for www.lab.test) to openssl s_server, made by
tests/data/interception/build.py. Expected values come from the peers (each NAME.peers.txt: the
client's error, mitmproxy's own log line) and from tshark's reading of the certificate's names
and the alert (with the client's key log for TLS 1.3).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

import tlsdissect
from tlsdissect.x509.interception import INTERCEPTORS, interceptor_of_name

DATA = Path(__file__).resolve().parent / "data" / "interception"
TSHARK = shutil.which("tshark")
UNTRUSTED = ["mitmproxy_untrusted_curl12", "mitmproxy_untrusted_curl13", "mitmproxy_untrusted_python12"]


def _keylog(name: str) -> str | None:
    path = DATA / f"{name}.keylog"
    return str(path) if path.exists() else None


def _peers(name: str) -> str:
    return (DATA / f"{name}.peers.txt").read_text()


def _tshark(name: str) -> tuple[list[str], list[tuple[int, int]]]:
    """(the names tshark reads in the server's certificates, [(frame, alert code)])."""
    argv = [TSHARK or "tshark", "-r", str(DATA / f"{name}.pcap")]
    if _keylog(name):
        argv += ["-o", f"tls.keylog_file:{_keylog(name)}"]
    out = subprocess.run(argv + ["-Y", "tls.handshake.type == 11 || tls.alert_message", "-T", "fields", "-e",
                                 "frame.number", "-e", "x509sat.uTF8String", "-e", "tls.alert_message.desc"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    names: list[str] = []
    alerts: list[tuple[int, int]] = []
    for line in out.splitlines():
        frame, utf8, desc = (line.split("\t") + ["", ""])[:3]
        names += [n for n in utf8.split(",") if n]
        if desc:
            alerts.append((int(frame), int(desc.split(",")[0])))
    return names, alerts


@pytest.mark.parametrize("name", UNTRUSTED)
def test_a_client_that_does_not_trust_the_proxy_s_ca(name: str) -> None:
    peers = _peers(name)
    assert "unable to get local issuer certificate" in peers  # the client's words
    assert "does not trust the proxy's certificate" in peers and "unknown ca" in peers  # mitmproxy's
    c = tlsdissect.analyze(DATA / f"{name}.pcap", keylog=_keylog(name)).connections[0]
    g = c.diagnosis
    assert (g.outcome, g.cause, g.aborted_by, g.failure_point) == (
        "failed", "tls_interception_untrusted", "client", "server_certificate")
    assert g.alert is not None and g.alert.code == 48
    assert any(x["id"] == "tls_interception" and "mitmproxy" in x["text"] for x in c.extra["chain_findings"])
    assert c.starttls is not None and c.starttls.protocol == "http_connect"
    if TSHARK:
        names, alerts = _tshark(name)
        assert "mitmproxy" in names  # the issuer tshark reads in the certificate
        assert (g.alert.frame, g.alert.code) == alerts[0]


def test_a_client_that_trusts_the_proxy_s_ca_succeeds_with_a_warning() -> None:
    name = "mitmproxy_trusted_curl13"
    assert "http_code=200" in _peers(name)
    c = tlsdissect.analyze(DATA / f"{name}.pcap", keylog=_keylog(name)).connections[0]
    assert c.established and c.diagnosis.cause == "ok"
    finding = next(x for x in c.extra["chain_findings"] if x["id"] == "tls_interception")
    assert finding["severity"] == "warning" and "mitmproxy" in finding["text"]


def _name(cn: str | None = None, org: str | None = None) -> tuple[tuple[str, str, str], ...]:
    attrs = []
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if org is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return tuple((a.oid.dotted_string, a.oid._name, str(a.value)) for a in x509.Name(attrs))


def test_the_table_matches_the_default_ca_names() -> None:
    """The CA names as the products make them (their documentation), built with cryptography."""
    cases = {
        ("mitmproxy", "mitmproxy"): "mitmproxy",
        ("PortSwigger CA", "PortSwigger"): "Burp Suite",
        ("DO_NOT_TRUST_FiddlerRoot", "DO_NOT_TRUST"): "Fiddler",
        ("Zscaler Root CA", "Zscaler Inc."): "Zscaler",
        ("Fortinet_CA_SSL", "Fortinet"): "Fortinet FortiGate",
        ("Kaspersky Anti-Virus Personal Root Certificate", None): "Kaspersky",
        ("Avast Web/Mail Shield Root", None): "Avast",
        ("ESET SSL Filter CA", None): "ESET",
        ("Cisco Umbrella Primary SubCA", None): "Cisco Umbrella",
    }
    for (cn, org), product in cases.items():
        found = interceptor_of_name(_name(cn, org))
        assert found is not None and found.product == product, (cn, org)
    for cn, org in [("ISRG Root X1", "Internet Security Research Group"), ("DigiCert Global Root G2", "DigiCert Inc"),
                    ("Amazon RSA 2048 M02", "Amazon"), ("GTS CA 1C3", "Google Trust Services LLC"), ("Rogue Root", None)]:
        assert interceptor_of_name(_name(cn, org)) is None, cn
    assert len({p.product for p in INTERCEPTORS}) == len(INTERCEPTORS)


def test_a_vendor_s_own_service_is_no_interception() -> None:
    """Sophos's cloud (a real capture in the JA4 project's ssh2.pcapng: the leaf
    mcs2-cloudstation-eu-west-1.prod.hydra.sophos.com, issued by Sophos SHA256 MCS Root CA3)
    uses the vendor's private CA for its own host: not an inspection CA at work."""
    from tlsdissect.x509.info import CertificateInfo
    from tlsdissect.x509.interception import interceptor_on_path
    leaf = CertificateInfo(der_length=0, der_sha256="", subject_common_name="x.hydra.sophos.com",
                           issuer_attributes=_name("Sophos SSL CA", None))
    assert interceptor_on_path([leaf]) is None
    other = CertificateInfo(der_length=0, der_sha256="", subject_common_name="www.example.org",
                            issuer_attributes=_name("Sophos SSL CA", None))
    found = interceptor_on_path([other])
    assert found is not None and found[0].product == "Sophos"
