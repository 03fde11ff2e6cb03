"""DTLS handshakes over UDP: records, fragment reassembly, hellos, alerts, outcome, diagnosis.

Expectations come from outside our code: tshark's reading of the same bytes (run here as an
oracle, when installed) and what the peers printed (tests/data/dtls/*/expected.json, made by
lab/dtls/make_captures.py with OpenSSL and GnuTLS peers); the facts the nDPI and Arkime test
suites assert about their DTLS captures (EXPECTED.tsv in the shared captures); fragment headers
built byte by byte from RFC 6347 §4.2.2 for the reassembly properties.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tlsdissect
from tests.shared_captures import shared_captures_dir
from tlsdissect.cli import main as cli_main
from tlsdissect.dtls.hellos import split_cookie
from tlsdissect.dtls.messages import Fragment, MessageAssembler, fragments
from tlsdissect.dtls.records import looks_like_dtls, parse_datagram
from tlsdissect.dtls.session import DtlsSession

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "data" / "dtls"
TSHARK = shutil.which("tshark")
NDPI = "ntop+nDPI/tests/cfgs/default/pcap/"
SHARED_DTLS = [NDPI + n for n in ("dtls.pcap", "dtls2.pcap", "dtls_certificate.pcapng", "dtls_certificate_fragments.pcap",
                                  "dtls_session_id_and_coockie_both.pcap", "stun_dtls_rtp.pcapng",
                                  "stun_dtls_unidirectional_client.pcap", "stun_dtls_unidirectional_server.pcap")] + [
    "FoxIO-LLC+ja4/pcap/dtls-udp.notest.cap", "arkime+arkime/tests/pcap/cloudshark-dtls1.pcap",
    "arkime+arkime/tests/pcap/wireshark-dtls12.pcap"]


# -- building blocks, from the RFC's byte layout ------------------------------------------------

def handshake_fragment(msg_type: int, length: int, seq: int, offset: int, data: bytes) -> bytes:
    """A DTLS handshake fragment: msg_type, length (3), message_seq (2), fragment_offset (3),
    fragment_length (3), then the bytes (RFC 6347 §4.2.2)."""
    return (bytes([msg_type]) + length.to_bytes(3, "big") + seq.to_bytes(2, "big") + offset.to_bytes(3, "big")
            + len(data).to_bytes(3, "big") + data)


def record(content_type: int, body: bytes, epoch: int = 0, seq: int = 0, version: int = 0xFEFD) -> bytes:
    """A DTLSPlaintext record (RFC 6347 §4.1)."""
    return (bytes([content_type]) + version.to_bytes(2, "big") + epoch.to_bytes(2, "big") + seq.to_bytes(6, "big")
            + len(body).to_bytes(2, "big") + body)


@st.composite
def cut_message(draw: Any) -> tuple[bytes, list[tuple[int, int]]]:
    """A message body and pieces (start, end) covering it, cut at random places, in a random
    order, some sent twice and some cut again differently (a retransmitted flight)."""
    body = draw(st.binary(min_size=1, max_size=3000))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(body) - 1), max_size=12)))) if len(body) > 1 else []
    bounds = [0, *cuts, len(body)]
    pieces = list(zip(bounds, bounds[1:]))
    extra = draw(st.lists(st.tuples(st.integers(0, len(body) - 1), st.integers(1, 400)), max_size=6))
    pieces += [(s, min(len(body), s + n)) for s, n in extra]
    pieces += draw(st.lists(st.sampled_from(pieces), max_size=4))  # exact duplicates
    order = draw(st.permutations(pieces))
    return body, list(order)


@settings(max_examples=150, deadline=None)
@given(cut_message())
def test_fragments_in_any_order_and_resent_give_the_message_once(case: tuple[bytes, list[tuple[int, int]]]) -> None:
    body, pieces = case
    assembler = MessageAssembler()
    out = []
    for start, end in pieces:
        (frag,) = fragments(handshake_fragment(11, len(body), 2, start, body[start:end]))
        message = assembler.add(frag)
        if message is not None:
            out.append(message)
    assert [(m.msg_type, m.message_seq, m.body) for m in out] == [(11, 2, body)]
    assert not assembler.partial and assembler.buffered == 0


def test_a_message_missing_a_piece_is_not_handed_out() -> None:
    body = bytes(range(200))
    assembler = MessageAssembler()
    for start, end in ((0, 50), (100, 200)):
        (frag,) = fragments(handshake_fragment(11, 200, 0, start, body[start:end]))
        assert assembler.add(frag) is None
    assert assembler.partial[0].covered() == [(0, 50), (100, 200)]


@pytest.mark.parametrize("raw, problem", [
    (handshake_fragment(1, 10, 0, 0, b"abc")[:8], "cut short"),
    (handshake_fragment(1, 10, 0, 8, b"abcdef"), "runs past its message's length"),
    (handshake_fragment(1, 10, 0, 0, b"abc")[:-1], "in 2 bytes of record"),
])
def test_fragment_headers_that_lie_are_refused_with_a_reason(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        list(fragments(raw))


def test_bounds_are_said_not_exceeded() -> None:
    assembler = MessageAssembler()
    assert assembler.add(Fragment(11, 0xFFFFFF, 0, 0, b"x")) is None
    assert "over the" in assembler.problems[0]
    for seq in range(1, 40):
        assembler.add(Fragment(11, 1000, seq, 0, b"y"))
    assert len(assembler.partial) == 16 and any("incomplete handshake messages" in p for p in assembler.problems)


def test_dtls_client_hello_cookie_is_cut_out() -> None:
    # version, random, session_id (2 bytes), cookie (3 bytes), then the TLS ClientHello's rest
    body = b"\xfe\xfd" + bytes(32) + b"\x02\xaa\xbb" + b"\x03\x01\x02\x03" + b"\x00\x02\x00\x2f\x01\x00"
    tls, cookie = split_cookie(body)
    assert cookie == b"\x01\x02\x03"
    assert tls == b"\xfe\xfd" + bytes(32) + b"\x02\xaa\xbb" + b"\x00\x02\x00\x2f\x01\x00"


def test_record_headers_decide_dtls_not_the_port() -> None:
    hello = record(22, handshake_fragment(1, 3, 0, 0, b"abc"))
    assert looks_like_dtls(hello) and looks_like_dtls(hello + record(20, b"\x01"))
    assert not looks_like_dtls(hello[:-1])  # a length past the datagram's end
    assert not looks_like_dtls(b"\x17\x03\x03\x00\x01x")  # a TLS record
    assert not looks_like_dtls(b"\x00\x01\x00\x08\x21\x12\xa4\x42" + bytes(12))  # STUN


def test_unified_header_epoch_and_length() -> None:
    # 0b00101110: no connection ID, 16-bit sequence number, length present, epoch bits 2
    (rec,), problem = parse_datagram(b"\x2e\x00\x07\x00\x03abc")
    assert problem is None and rec.unified and rec.epoch == 2 and rec.sequence == 7 and rec.fragment == b"abc"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=300)), min_size=1, max_size=12),
       st.integers(0, 2**32))
def test_hostile_datagrams_give_a_result_never_a_traceback(datagrams: list[tuple[bool, bytes]], seed: int) -> None:
    """Random bytes, and real-looking records with random (lying) contents: the session takes them
    all, and its result is JSON."""
    rng = random.Random(seed)
    session = DtlsSession("10.0.0.1:1", "10.0.0.2:2", 1, 0.0)
    for i, (from_a, data) in enumerate(datagrams):
        if rng.random() < 0.6:
            ct = rng.choice((20, 21, 22, 23, 25))
            inner = handshake_fragment(rng.choice((1, 2, 3, 11, 14)), rng.randrange(0, 1 << 24),
                                       rng.randrange(3), rng.randrange(0, 1 << 24), data) if ct == 22 else data
            data = record(ct, inner[:rng.randrange(len(inner) + 1)] if rng.random() < 0.3 else inner,
                          epoch=rng.randrange(2))
        session.datagram("a" if from_a else "b", i + 1, float(i), data)
    json.dumps(session.result().to_dict())


def test_a_cut_certificate_is_a_marked_partial_result() -> None:
    """The server's Certificate announced at 5000 bytes, only its first fragment sent."""
    s = DtlsSession("10.0.0.1:1", "10.0.0.2:2", 1, 0.0)
    s.datagram("a", 1, 0.0, record(22, handshake_fragment(1, 3, 0, 0, b"abc")))
    s.datagram("b", 2, 0.1, record(22, handshake_fragment(11, 5000, 1, 0, bytes(100))))
    a = s.result()
    assert a.server_certificate_frame is None and a.outcome() == "incomplete"
    assert [m["type"] for m in a.messages] == ["client_hello"]
    assert a.problems and "does not parse" in a.problems[0]  # the 3-byte "ClientHello"


# -- the lab captures: the peers' words and tshark's reading ------------------------------------

def _lab(name: str) -> tuple[Any, dict[str, Any]]:
    (a,) = tlsdissect.analyze(LAB / name / "capture.pcap").dtls
    return a, json.loads((LAB / name / "expected.json").read_text())


def _rows(expected: dict[str, Any], key: str) -> list[list[str]]:
    return [line.split("|") for line in expected["observed"]["tshark"][key]]


LAB_SCENARIOS = sorted(p.name for p in LAB.iterdir() if (p / "capture.pcap").is_file())


@pytest.mark.parametrize("name", LAB_SCENARIOS)
def test_lab_capture_reads_as_tshark_reads_it(name: str) -> None:
    a, expected = _lab(name)
    d = a.to_dict()
    server_port = a.server.rsplit(":", 1)[1]
    # every clear alert: frame, sender, level, description
    clear = [(int(f), "server" if port == server_port else "client", int(level), int(desc))
             for f, port, epoch, level, desc in _rows(expected, "alerts") if level]
    assert [(x.frame, x.sender, x.level, x.code) for x in a.alerts if not x.encrypted] == clear
    assert [x.frame for x in a.alerts if x.encrypted] == [int(r[0]) for r in _rows(expected, "alerts") if not r[3]]
    # ChangeCipherSpec frames by side
    ccs = {("server" if port == server_port else "client"): int(f) for f, port in reversed(_rows(expected, "ccs"))}
    assert {k: v for k, v in d["change_cipher_spec"].items() if v is not None} == ccs
    # ServerHello version and suite, ClientHellos, SNI, JA3 of the first ClientHello
    sh = _rows(expected, "server_hello")
    if sh:
        assert (a.server_hello.version, a.server_hello.cipher_suite) == (int(sh[0][1], 16), int(sh[0][2], 16))
    else:
        assert a.server_hello is None
    ch = _rows(expected, "client_hello")
    assert a.client_hellos == len({r[2] for r in ch}) and a.server_name == ch[0][1]
    assert a.fingerprints["ja3"] == ch[0][3]
    assert a.client_hello_sends == sum(1 for r in ch if r[2] == ch[0][2])
    # the frame where the server's Certificate's last fragment came (tshark lists the lengths there)
    certs = [r for r in _rows(expected, "certificate") if r[1]]
    assert a.server_certificate_frame == (int(certs[0][0]) if certs else None)
    if certs:
        assert [len(x) for x in a.server_certificates] == [int(n) for n in certs[0][1].split(",")]


# What the peers said -> outcome, sender and alert, and the cause that the peers' words name.
LAB_TRUTH = {
    "dtls_success": ("established", None, None, None),
    "dtls_hello_verify": ("established", None, None, None),
    "dtls_fragmented_certificate": ("established", None, None, None),
    "dtls_gnutls_success": ("established", None, None, None),
    # s_client: "Verification error: unable to get local issuer certificate"; s_server: "alert unknown ca"
    "dtls_untrusted_server": ("failed", "client", 48, "server_cert_untrusted"),
    # s_server: "no shared cipher"; s_client: "alert handshake failure ... SSL alert number 40"
    "dtls_no_shared_cipher": ("failed", "server", 40, "no_shared_cipher"),
    # gnutls-cli: "The name in the certificate does not match the expected"
    "dtls_gnutls_name_mismatch": ("failed", "client", 42, "server_cert_hostname_mismatch"),
    # s_client: timed out (exit 124) after sending its ClientHello 3 times (tshark)
    "dtls_no_answer": ("failed", "client", None, "server_no_response"),
    # (with key logs: the handshake completes, then both sides' close_notify, encrypted)
    "dtls_success_keys": ("established", None, None, None),
    "dtls_cbc_etm_keys": ("established", None, None, None),
    "dtls_cbc_keys": ("established", None, None, None),
    "dtls_chacha_keys": ("established", None, None, None),
    "dtls10_keys": ("established", None, None, None),
}

KEYED = sorted(p.name for p in LAB.iterdir() if (p / "keylog.txt").is_file())


@pytest.mark.parametrize("name", KEYED)
def test_keyed_encrypted_alerts_read_as_tshark_reads_them(name: str) -> None:
    """With the client's key log (s_client -keylogfile): every encrypted alert opened, its
    level and description those tshark reads with the same key log (DTLS 1.0 and 1.2; AES-GCM,
    CBC with and without encrypt-then-MAC). tshark 4.0 does not open DTLS ChaCha20-Poly1305
    records; there the AEAD tag that authenticates under our keys and nonce (epoch and
    sequence, RFC 7905 §2) is the check, and the alerts are the close_notify s_client and
    s_server send when they stop (tshark reads them so in the other scenarios)."""
    expected = json.loads((LAB / name / "expected.json").read_text())
    (a,) = tlsdissect.analyze(LAB / name / "capture.pcap", keylog=LAB / name / "keylog.txt").dtls
    assert a.master_secret_known and a.outcome() == "established" and a.failure is None
    server_port = a.server.rsplit(":", 1)[1]
    rows = [line.split("|") for line in expected["observed"]["tshark_with_keys"]["alerts"]]
    assert rows and [x.frame for x in a.alerts] == [int(r[0]) for r in rows]
    if all(r[3] for r in rows):  # tshark opened them
        want = [(int(f), "server" if port == server_port else "client", int(level), int(desc))
                for f, port, _, level, desc in rows]
    else:
        assert name == "dtls_chacha_keys"
        want = [(int(f), "server" if port == server_port else "client", 1, 0) for f, port, *_ in rows]
    assert [(x.frame, x.sender, x.level, x.code) for x in a.alerts] == want
    assert all(x.decrypted and not x.encrypted for x in a.alerts)
    # without the key log the same records stay encrypted
    (plain,) = tlsdissect.analyze(LAB / name / "capture.pcap").dtls
    assert all(x.encrypted and not x.decrypted for x in plain.alerts)


def test_keyed_damaged_alert_records_stay_encrypted() -> None:
    """Every byte of an encrypted alert record changed in turn: it does not open (noted), stays
    an encrypted alert, nothing raises; the other side's alert still opens."""
    from tlsdissect.keys.keylog import KeyLog

    name = "dtls_cbc_keys"
    keylog = KeyLog.from_file(LAB / name / "keylog.txt")
    (a,) = tlsdissect.analyze(LAB / name / "capture.pcap", keylog=keylog).dtls
    victim = a.alerts[0].frame
    import dpkt

    with open(LAB / name / "capture.pcap", "rb") as f:
        packets = [(ts, dpkt.ethernet.Ethernet(buf).data.data) for ts, buf in dpkt.pcap.Reader(f)]
    client_port = packets[0][1].sport
    size = len(bytes(packets[victim - 1][1].data))
    for flip in range(13, size):
        s = DtlsSession("c", "s", 1, 0.0, keylog=keylog)
        for i, (ts, udp) in enumerate(packets, 1):
            data = bytes(udp.data)
            if i == victim:
                data = data[:flip] + bytes([data[flip] ^ 0x21]) + data[flip + 1:]
            s.datagram("a" if udp.sport == client_port else "b", i, ts, data)
        r = s.result()
        r.to_dict()
        first = next(x for x in r.alerts if x.frame == victim)
        assert first.encrypted and not first.decrypted
        assert any("does not decrypt" in p for p in r.problems)
        assert [x.code for x in r.alerts if x.frame != victim] == [0]


@pytest.mark.parametrize("name", sorted(LAB_TRUTH))
def test_lab_outcome_and_cause_are_the_peers(name: str) -> None:
    a, expected = _lab(name)
    outcome, sender, code, cause = LAB_TRUTH[name]
    client = " ".join(expected["observed"]["client"])
    assert outcome == ("established" if "exit 0" in client else "failed")  # (the truth table agrees)
    assert a.outcome() == outcome
    if outcome == "failed":
        assert a.failure.sender == sender
        assert (a.failure.alert.code if a.failure.alert else None) == code
        assert a.diagnosis.cause == cause
        assert a.diagnosis.aborted_by == (sender if code is not None else None)
        if code is not None:  # the deciding alert, with its sender, as QUIC's diagnosis gives it
            assert a.diagnosis.alert == {"code": code, "name": a.failure.alert.to_dict()["name"], "sender": sender}
        assert a.to_dict()["diagnosis"]["cause"] == cause
    else:
        assert a.failure is None and a.established_frame is not None
        assert a.diagnosis.cause == "ok" and a.to_dict()["diagnosis"] is None  # (the JSON as from its start)


def test_fragmented_certificate_came_in_pieces() -> None:
    a, expected = _lab("dtls_fragmented_certificate")
    pieces = [r for r in _rows(expected, "handshake") if "11" in r[2].split(",")]
    assert len(pieces) >= 3  # tshark: the Certificate's fragments in several datagrams
    assert a.server_certificates and a.messages[[m["type"] for m in a.messages].index("certificate")]["frame"] == \
        a.server_certificate_frame


def test_cli_exit_status_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    def run(*argv: str) -> tuple[int, str]:
        rc = cli_main(list(argv))
        return rc, capsys.readouterr().out

    assert run("--json", str(LAB / "dtls_success" / "capture.pcap"))[0] == 0
    rc, out = run("--json", str(LAB / "dtls_untrusted_server" / "capture.pcap"))
    (entry,) = json.loads(out)["dtls"]
    assert rc == 1 and (entry["transport"], entry["protocol"], entry["outcome"]) == ("udp", "dtls", "failed")
    assert entry["failure"]["alert"]["name"] == "unknown_ca"
    rc, out = run("--no-color", str(LAB / "dtls_no_answer" / "capture.pcap"))
    assert rc == 1 and "the client sent its ClientHello 3 times and got no answer" in out
    rc, out = run("--json", str(ROOT / "captures" / "tls12_missing_intermediate_openssl" / "capture.pcap"))
    assert "dtls" not in json.loads(out)



# -- public captures: tshark as the oracle, and the facts nDPI and Arkime assert ----------------

def _shared(rel: str) -> Path:
    path = shared_captures_dir() / rel
    if not path.is_file():
        pytest.skip(f"shared capture {rel} not present")
    return path


HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"


def _tshark_hellos_and_alerts(path: Path) -> tuple[set[tuple[int, int]], set[str], set[tuple[int, int]]]:
    """tshark's ServerHellos (frame, suite; not HelloRetryRequests), the JA3 of the ClientHellos,
    and the clear alerts (frame, description): one tshark run."""
    cmd = [TSHARK or "tshark", "-n", "-r", str(path), "-Y", "dtls.handshake.type == 1 || dtls.handshake.type == 2 "
           "|| dtls.alert_message.desc", "-T", "fields", "-E", "separator=|", "-e", "frame.number",
           "-e", "dtls.handshake.type", "-e", "dtls.handshake.ciphersuite", "-e", "dtls.handshake.random", "-e", "dtls.handshake.ja3",
           "-e", "dtls.alert_message.desc"]
    server_hellos: set[tuple[int, int]] = set()
    ja3: set[str] = set()
    alerts: set[tuple[int, int]] = set()
    for line in subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines():
        frame, types, suite, rand, j3, desc = line.split("|")
        if "2" in types.split(",") and "1" not in types.split(",") and rand.replace(":", "").split(",")[-1] != HRR_RANDOM:
            server_hellos.add((int(frame), int(suite, 16)))
        if j3:
            ja3.add(j3)
        if desc:
            alerts.add((int(frame), int(desc)))
    return server_hellos, ja3, alerts


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("rel", SHARED_DTLS)
def test_public_capture_agrees_with_tshark(rel: str) -> None:
    path = _shared(rel)
    found = tlsdissect.analyze(path).dtls
    server_hellos, ja3, alerts = _tshark_hellos_and_alerts(path)
    assert {(a.server_hello_frame, a.server_hello.cipher_suite) for a in found if a.server_hello} == server_hellos
    ours = {a.fingerprints["ja3"] for a in found if a.first_client_hello is not None}
    assert ours <= ja3 and bool(ours) == bool(ja3)
    assert {(x.frame, x.code) for a in found for x in a.alerts if not x.encrypted} == alerts



def _expected_rows() -> list[dict[str, str]]:
    path = shared_captures_dir() / "EXPECTED.tsv"
    if not path.is_file():
        pytest.skip("EXPECTED.tsv of the shared captures not present")
    with path.open() as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if "proto=30" in r["notes"] or "protocol=dtls" in r["notes"]]


def test_public_captures_agree_with_ndpi_and_arkime() -> None:
    """SNI-less WebRTC, VPN and game DTLS from nDPI's and Arkime's suites: version, suite, JA3,
    JA3S, certificate subject as they assert; JA4 as Arkime asserts (nDPI's DTLS JA4 departs
    from FoxIO's specification: 'd' for the SNI flag without SNI, SHA-256 of nothing for an
    empty list, the first two ALPN characters, so only its b part is compared)."""
    checked = agreed = 0
    disagreements = []
    cache: dict[str, list[Any]] = {}
    for r in _expected_rows():
        if r["file"] not in cache:
            cache[r["file"]] = tlsdissect.analyze(shared_captures_dir() / r["file"]).dtls
        ports = set(re.findall(r":(\d+)(?= |->|$)", r["uid_or_flow"]))
        hit = [a for a in cache[r["file"]] if {a.client.rsplit(":", 1)[1], a.server.rsplit(":", 1)[1]} == ports]
        if not hit:
            disagreements.append(("no flow", r["file"], r["uid_or_flow"]))
            continue
        d = hit[0].to_dict()
        fp = d["fingerprints"] or {}
        ours = {"version": d["version"], "cipher": d["cipher"], "ja3": fp.get("ja3"), "ja3s": fp.get("ja3s")}
        facts = {k: r[k].split(" ")[0] for k in ours if r[k]}
        if r["version"].startswith("TLS ("):  # nDPI's words for the pre-RFC DTLS 0x0100
            facts.pop("version")
        if "version" in facts and d["server_hello"] is None:
            facts.pop("version")  # nDPI gives the ClientHello's version when no ServerHello was seen
        if r["ja4"]:
            ja4 = fp.get("ja4") or ""
            if r["expected_source"].startswith("arkime"):
                ours["ja4"], facts["ja4"] = ja4, r["ja4"]
            else:
                ours["ja4_b"], facts["ja4_b"] = ja4.split("_")[1:2], r["ja4"].split("_")[1:2]
        cn = re.search(r"CN=([^,]+)", r["cert_subject"])
        if cn:
            leaf = (d["server_certificates"] or [{}])[0]
            ours["cert_cn"], facts["cert_cn"] = leaf.get("subject_common_name"), cn.group(1)
        for k, want in facts.items():
            checked += 1
            if ours[k] == want:
                agreed += 1
            else:
                disagreements.append((k, r["file"], r["uid_or_flow"], want, ours[k]))
    # Known and justified, checked against the bytes (tshark): dtls_certificate_fragments flow#1's
    # ServerHello is DTLS 1.0 (0xfeff), not the DTLSv1.2 nDPI lists. stun_dtls_unidirectional_server's
    # certificate encodes its default version explicitly, which DER forbids: the x509 stage
    # (cryptography) does not read it, over TCP as over DTLS (a chain finding says so).
    known = {("version", "dtls_certificate_fragments.pcap"), ("cert_cn", "stun_dtls_unidirectional_server.pcap")}
    unexplained = [x for x in disagreements if (x[0], x[1].rsplit("/", 1)[1]) not in known]
    print(f"DTLS rows of EXPECTED.tsv: {agreed}/{checked} facts agree; explained: {disagreements}")
    assert checked >= 60 and not unexplained, unexplained
    assert agreed / checked >= 0.97


def _flight_session(resends: int, answer_after_first: bool = False) -> DtlsSession:
    """A client, a server's flight in two datagrams (ServerHello; ServerHelloDone), then the
    client's flight in two datagrams (a ClientKeyExchange cut in two), sent ``resends`` more
    times; with ``answer_after_first`` the server's ChangeCipherSpec comes after the first resend."""
    s = DtlsSession("10.0.0.1:1", "10.0.0.2:2", 1, 0.0)
    s.datagram("a", 1, 0.0, record(22, handshake_fragment(1, 3, 0, 0, b"abc")))
    s.datagram("b", 2, 0.1, record(22, handshake_fragment(2, 3, 0, 0, b"xyz")))
    s.datagram("b", 3, 0.1, record(22, handshake_fragment(14, 0, 1, 0, b"")))
    flight = [record(22, handshake_fragment(16, 8, 1, 0, b"1234")), record(22, handshake_fragment(16, 8, 1, 4, b"5678"))]
    frame = 4
    for n in range(resends + 1):
        for d in flight:
            s.datagram("a", frame, float(frame), d)
            frame += 1
        if answer_after_first and n == 1:
            s.datagram("b", frame, float(frame), record(20, b"\x01"))
            frame += 1
    return s


def test_a_flight_resent_unanswered_counts_its_sends() -> None:
    a = _flight_session(resends=2).result()
    assert a.outcome() == "failed" and a.failure is not None
    assert (a.failure.kind, a.failure.sender, a.failure.sends, a.failure.frame, a.failure.last_answer_frame) == \
        ("no_answer", "client", 3, 9, 3)
    assert _flight_session(resends=0).result().outcome() == "incomplete"  # sent once: the capture may just end
    assert _flight_session(resends=2, answer_after_first=True).result().failure is None


def test_flows_share_one_budget_of_incomplete_messages() -> None:
    from tlsdissect.dtls.messages import Budget

    budget = Budget(remaining=1000)
    one, two = MessageAssembler(budget), MessageAssembler(budget)
    assert one.add(Fragment(11, 5000, 0, 0, bytes(600))) is None
    assert two.add(Fragment(11, 5000, 0, 0, bytes(600))) is None and "budget" in two.problems[0]
    assert one.add(Fragment(11, 5000, 0, 600, bytes(4400))) is None  # over the shared budget: dropped
    assert budget.remaining == 400


def test_capture_strings_reach_the_screen_escaped() -> None:
    """A ClientHello whose server name holds an escape sequence and a forged line (RFC 6066's
    server_name extension, built byte by byte): the text view prints it escaped, on one line."""
    import io

    from rich.console import Console

    from tlsdissect.report.dtls import dtls_lines
    from tlsdissect.report.text import render_lines

    name = b"\x1b[2Jevil.test\nFAKE: Handshake OK"
    sni = (len(name) + 3).to_bytes(2, "big") + b"\x00" + len(name).to_bytes(2, "big") + name
    ext = b"\x00\x00" + len(sni).to_bytes(2, "big") + sni
    body = b"\xfe\xfd" + bytes(32) + b"\x00" + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00" + len(ext).to_bytes(2, "big") + ext
    s = DtlsSession("10.0.0.1:1", "10.0.0.2:2", 1, 0.0)
    for n in range(2):  # sent twice, unanswered: a failure, shown in full
        s.datagram("a", n + 1, float(n), record(22, handshake_fragment(1, len(body), 0, 0, body), seq=n))
    a = s.result()
    assert a.server_name == name.decode()
    out = io.StringIO()
    render_lines(Console(file=out, color_system=None, width=200), dtls_lines([a]))
    text = out.getvalue()
    assert "\x1b" not in text and "\\x1b[2Jevil.test\\nFAKE: Handshake OK" in text
    assert not any(line.startswith("FAKE") for line in text.splitlines())


def test_a_datagram_captured_twice_is_not_a_resent_flight() -> None:
    """nDPI's dtls.pcap opens with the client's ClientHello twice, at the same microsecond and
    with the same bytes (tshark: frames 1 and 2, time and payload equal), and nothing after it
    on that flow: one datagram captured twice, not a flight resent when its timer ran out (a
    second at first, RFC 6347 §4.2.4.1). The server is not called silent on that."""
    path = shared_captures_dir() / "ntop+nDPI/tests/cfgs/default/pcap/dtls.pcap"
    tshark = shutil.which("tshark")
    if not path.exists() or tshark is None:
        pytest.skip("shared captures or tshark not available")
    out = subprocess.run([tshark, "-n", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "udp.payload",
                          "-Y", "udp.srcport == 40739 or udp.dstport == 40739"],
                         capture_output=True, text=True, timeout=60).stdout.split("\n")
    rows = [line.split("\t") for line in out if line]
    assert len(rows) == 2 and rows[0] == rows[1]  # (the same time, the same bytes)
    flow = next(a for a in tlsdissect.analyze(path).dtls if a.client.endswith(":40739"))
    assert flow.outcome() == "incomplete" and flow.diagnosis.cause != "server_no_response", flow.diagnosis
