"""What the sizes of a TLS 1.3 client's encrypted flight say without keys
(tls.conclusions.client_certificate_shown): an empty Certificate before the Finished means the
server sent a CertificateRequest and the client had no certificate; a Certificate and a
CertificateVerify mean it sent one.

The oracle is tshark decrypting each bundled TLS 1.3 lab capture with the key log beside it:
which handshake messages the client's records carry, and how long its certificate list is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

import tlsdissect
from tlsdissect.diagnosis.facts import Facts

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
TSHARK = shutil.which("tshark")


def _tls13_with_keys() -> list[Path]:
    out = []
    for exp in sorted(CAPTURES.glob("*/expected.json")):
        d = exp.parent
        if (d / "keylog.txt").exists() and json.loads(exp.read_text()).get("expected", {}).get("version") == "TLSv1.3":
            out.append(d)
    return out


def _tshark_client_certificate(d: Path, client_port: int) -> Optional[str]:
    """"empty" / "sent" / None from tshark's decryption of the client's Certificate message."""
    res = subprocess.run([TSHARK or "tshark", "-r", str(d / "capture.pcap"), "-o", f"tls.keylog_file:{d / 'keylog.txt'}",
                          "-Y", f"tcp.srcport == {client_port} && tls.handshake.type == 11", "-T", "fields",
                          "-e", "tls.handshake.certificates_length"], capture_output=True, text=True, timeout=60,
                         check=True)
    lines = [x for x in res.stdout.split() if x]
    if not lines:
        return None
    return "empty" if lines[0].split(",")[0] == "0" else "sent"


@pytest.mark.skipif(TSHARK is None, reason="tshark (the oracle) not installed")
@pytest.mark.parametrize("d", _tls13_with_keys(), ids=lambda d: d.name)
def test_flight_sizes_tell_what_tshark_decrypts(d: Path) -> None:
    report = tlsdissect.analyze(d / "capture.pcap")  # no key log: sizes only
    conns = [c for c in report.connections if c.is_tls and c.client_hello is not None]
    if not conns:
        pytest.skip("no TLS connection with a ClientHello")
    c = conns[0]
    shown = Facts(c).client_certificate()
    truth = _tshark_client_certificate(d, int(c.client.rsplit(":", 1)[1]))
    if truth is None:
        assert shown is None
    else:  # padding or an unusual flight may hide it (None); never the wrong answer
        assert shown in (truth, None)


def test_the_sizes_rules_by_hand() -> None:
    from tlsdissect.tls.conclusions import client_certificate_shown, finished_record
    # RFC 8446: Finished = 4-byte header + Hash.length; protected = + inner type + 16-byte tag.
    assert finished_record(0x1301) == 4 + 32 + 1 + 16 and finished_record(0x1302) == 4 + 48 + 1 + 16
    assert finished_record(0x1305) == 4 + 32 + 1 + 8  # CCM_8's 8-byte tag
    # An empty Certificate: header 4 + context length 1 + list length 3.
    assert client_certificate_shown([25, 53], 0x1301) == "empty"
    assert client_certificate_shown([17, 45], 0x1305) == "empty"
    assert client_certificate_shown([21, 25, 53], 0x1301) == "empty"  # after EndOfEarlyData
    assert client_certificate_shown([868, 281, 69], 0x1302) == "sent"
    assert client_certificate_shown([53], 0x1301) is None
    assert client_certificate_shown([25, 69], 0x1301) is None  # no Finished of the suite's size


def _expected(name: str) -> dict:
    return json.loads((CAPTURES / name / "expected.json").read_text())["expected"]


@pytest.mark.parametrize("name", ["wide3_client_cert_missing_java_curl13", "wide3_client_cert_untrusted_java_curl13"])
def test_a_padded_refusal_of_the_client_certificate(name: str) -> None:
    """JSSE refuses the client's certificate flight with one 35-byte record (a padded alert;
    tshark with the key log reads certificate_required / certificate_unknown): not a session
    ticket, so not a success. Expected causes are what the peers said (expected.json)."""
    if not (CAPTURES / name / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    c = tlsdissect.analyze(CAPTURES / name / "capture.pcap").connections[0]
    assert not c.established
    assert c.diagnosis.cause == _expected(name)["cause"]
    assert c.diagnosis.aborted_by == "server"


def test_a_client_that_says_goodbye_after_its_finished() -> None:
    """curl (TLS 1.3) finishes the handshake, then its own host name check fails: one encrypted
    close_notify (19 bytes, tshark's frame) right after its Finished, and a FIN. An s_client
    probe (the STARTTLS lab) sends the same bytes after a success, so without keys the success
    stands and the refusal is named as the alternative; with the key log the cause is right."""
    name = "wide_hostname_mismatch_gnutls_serv_curl13"
    if not (CAPTURES / name / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    c = tlsdissect.analyze(CAPTURES / name / "capture.pcap").connections[0]
    g = c.diagnosis
    assert (g.outcome, g.cause, g.confidence) == ("established", "ok", "likely")
    assert _expected(name)["cause"] in g.alternatives
    tshark_frame = int(json.loads((CAPTURES / name / "expected.json").read_text())["observed"]["tshark_alerts"][0]
                       .split()[1])
    assert any(tshark_frame in e.frames and "19-byte" in e.text for e in g.evidence)
    keyed = tlsdissect.analyze(CAPTURES / name / "capture.pcap", keylog=str(CAPTURES / name / "keylog.txt"))
    assert keyed.connections[0].diagnosis.cause == _expected(name)["cause"]


def test_a_proxy_that_closes_without_answering() -> None:
    """HAProxy in TCP mode: its server timeout closes curl's leg with a bare FIN after the
    request, no data and no close_notify (curl: Empty reply from server)."""
    name = "wide_haproxy_tcp_timeout_resets_both"
    if not (CAPTURES / name / "capture.pcap").exists():
        pytest.skip("lab capture missing")
    for keylog in (None, str(CAPTURES / name / "keylog.txt")):
        report = tlsdissect.analyze(CAPTURES / name / "capture.pcap", keylog=keylog)
        c = next(c for c in report.connections if c.stream == _expected(name)["stream"])
        g = c.diagnosis
        assert (g.outcome, g.cause, g.how) == ("established", _expected(name)["cause"], "fin")
