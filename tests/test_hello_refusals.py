"""A refused ClientHello: which of its lists is the narrow one, a fallback retry linked to the
attempt before it, and a TLS 1.3 server that gives up right after its ServerHello.

Expectations come from the protocol bytes: ClientHellos built here field by field (RFC 8446
4.1.2 and the IANA code points), and the lab's captures, whose sidecars (expected.json) hold
what the peers logged (curl's and openssl's errors, the servers' log lines).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import dpkt
import pytest

import tlsdissect
from tlsdissect.diagnosis import offer_lists, stack_defaults
from tlsdissect.diagnosis.reasoner import diagnose
from tlsdissect.pipeline.neighbours import Neighbours
from tlsdissect.tls.handshake import parse_client_hello

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


# -- ClientHellos built field by field -----------------------------------------------------
def _u16s(values: list[int]) -> bytes:
    return b"".join(struct.pack(">H", v) for v in values)


def _ext(etype: int, body: bytes) -> bytes:
    return struct.pack(">HH", etype, len(body)) + body


def client_hello(suites: list[int], groups: list[int] | None = None, schemes: list[int] | None = None,
                 versions: list[int] | None = None) -> bytes:
    """A ClientHello body (RFC 8446 4.1.2) with the given lists; None leaves an extension out."""
    exts = b""
    if groups is not None:
        exts += _ext(10, struct.pack(">H", 2 * len(groups)) + _u16s(groups))
    if schemes is not None:
        exts += _ext(13, struct.pack(">H", 2 * len(schemes)) + _u16s(schemes))
    if versions is not None:
        exts += _ext(43, bytes([2 * len(versions)]) + _u16s(versions))
    return (b"\x03\x03" + bytes(32) + b"\x00" + struct.pack(">H", 2 * len(suites)) + _u16s(suites)
            + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)


DEFAULT_GROUPS = [0x001D, 0x0017, 0x001E, 0x0019, 0x0018]  # OpenSSL 3.0's list (captures/tls12_no_shared_cipher)
BOTH_KEY_SCHEMES = [0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501]
TLS13_SUITES = [0x1302, 0x1303, 0x1301]


def _narrowest(body: bytes, **kw: object) -> offer_lists.ListReading:
    return offer_lists.read_lists(parse_client_hello(body), **kw)[0]  # type: ignore[arg-type]


def test_one_group_is_the_narrow_list() -> None:
    top = _narrowest(client_hello(TLS13_SUITES + [0x00FF], [0x0017], BOTH_KEY_SCHEMES, [0x0304]))
    assert (top.cause, top.offered, top.narrow) == ("no_common_group", ("secp256r1",), True)
    assert "secp256r1" in top.line() and "0x0017" not in top.line()


def test_rsa_only_schemes_are_the_narrow_list_and_name_the_key_they_leave_out() -> None:
    top = _narrowest(client_hello(TLS13_SUITES, DEFAULT_GROUPS, [0x0804, 0x0401, 0x0805], [0x0304]))
    assert top.cause == "no_common_signature_scheme" and top.narrow
    assert top.offered == ("rsa_pss_rsae_sha256", "rsa_pkcs1_sha256", "rsa_pss_rsae_sha384")
    assert "ECDSA key" in top.why


def test_one_tls12_suite_is_the_narrow_list() -> None:
    top = _narrowest(client_hello([0xC02F, 0x00FF], DEFAULT_GROUPS, BOTH_KEY_SCHEMES))
    assert (top.cause, top.offered) == ("no_shared_cipher", ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",))


def test_ordinary_lists_are_not_narrow() -> None:
    readings = offer_lists.read_lists(parse_client_hello(
        client_hello(TLS13_SUITES + [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8], DEFAULT_GROUPS,
                     BOTH_KEY_SCHEMES, [0x0304, 0x0303])))
    assert [r.narrow for r in readings] == [False, False, False]


def test_a_group_the_retry_request_asks_for_and_the_client_lacks_decides() -> None:
    top = _narrowest(client_hello(TLS13_SUITES, [0x0017, 0x001D, 0x0018], BOTH_KEY_SCHEMES, [0x0304]),
                     hrr_group=0x001E)
    assert (top.cause, top.narrowness) == ("no_common_group", 1.0)
    assert "x448" in top.why


def test_a_server_key_seen_elsewhere_that_no_scheme_fits_decides() -> None:
    top = _narrowest(client_hello(TLS13_SUITES, DEFAULT_GROUPS, [0x0403, 0x0503], [0x0304]), server_key="RSA")
    assert (top.cause, top.narrowness) == ("no_common_signature_scheme", 1.0)


def test_the_stack_table_holds_what_every_stack_accepts() -> None:
    # RFC 8446 9.1: secp256r1 and x25519 are the groups a TLS 1.3 implementation must / should
    # support; P-384 is in every one of the six defaults too. X448 is in OpenSSL's only.
    assert stack_defaults.UNIVERSAL_GROUPS == {0x001D, 0x0017, 0x0018}
    assert stack_defaults.stacks_accepting("groups", frozenset({0x001E})) == ["openssl"]
    assert stack_defaults.UNIVERSAL_TLS13_SUITES == {0x1301, 0x1302, 0x1303}
    assert {0x0403, 0x0804, 0x0401} <= stack_defaults.UNIVERSAL_SCHEMES
    assert all(d.source for d in stack_defaults.STACK_DEFAULTS)


# -- the lab's refusals ---------------------------------------------------------------------
@pytest.mark.parametrize("scenario, cause, named", [
    # curl --curves P-256 against s_server -groups X448 ("no suitable key share" in its log)
    ("wide_no_common_group_s_server", "no_common_group", "secp256r1"),
    # s_client -sigalgs rsa_pss_rsae_sha256:rsa_pkcs1_sha256:rsa_pss_rsae_sha384 against an ECDSA-only HAProxy
    ("wide_no_common_sigalg_haproxy", "no_common_signature_scheme", "rsa_pkcs1_sha256"),
    # a Node.js client with one suite against gnutls-serv limited to AES-256-GCM
    ("wide_no_shared_cipher_gnutls_serv_node", "no_shared_cipher", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ("tls13_no_shared_cipher", "no_shared_cipher", "TLS_AES_128_GCM_SHA256"),
    ("tls12_no_shared_cipher", "no_shared_cipher", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
])
def test_lab_refusals_name_the_narrow_list(scenario: str, cause: str, named: str) -> None:
    conn = tlsdissect.analyze(CAPTURES / scenario / "capture.pcap").connections[0]
    d = conn.diagnosis
    assert (d.cause, d.confidence, d.failure_point, d.aborted_by) == (cause, "likely", "client_hello", "server")
    lists = [e.text for e in d.evidence if e.text.startswith("The client's ")]
    assert len(lists) == 3 and named in lists[0]


def test_a_server_key_from_another_connection_makes_the_scheme_reading_certain_of_its_list() -> None:
    conn = tlsdissect.analyze(CAPTURES / "wide_no_common_sigalg_haproxy" / "capture.pcap", diagnose=False).connections[0]
    d = diagnose(conn, peer_server_key=("EC", 7))
    assert d.cause == "no_common_signature_scheme"
    assert any("Stream 7" in e.text and "ECDSA key" in e.text for e in d.evidence)


# -- TLS_FALLBACK_SCSV and the attempt before it ---------------------------------------------
def _frames(scenario: str) -> list[tuple[float, bytes]]:
    with open(CAPTURES / scenario / "capture.pcap", "rb") as f:
        return [(ts, buf) for ts, buf in dpkt.pcap.Reader(f)]


def _moved(frames: list[tuple[float, bytes]], old_port: int, new_port: int, t0: float) -> list[tuple[float, bytes]]:
    """The frames with the server's port changed and the times shifted to start at ``t0``."""
    out = []
    start = frames[0][0]
    for ts, buf in frames:
        eth = dpkt.ethernet.Ethernet(buf)
        tcp = eth.data.data
        if tcp.sport == old_port:
            tcp.sport = new_port
        if tcp.dport == old_port:
            tcp.dport = new_port
        tcp.sum = 0  # recomputed when packed
        eth.data.sum = 0
        out.append((t0 + ts - start, bytes(eth)))
    return out


def _fallback_capture(gap: float) -> bytes:
    """The lab's TLS 1.3 attempt refused by s_server (port 20780), then, ``gap`` seconds after
    it ended, the lab's s_client retry with -tls1_2 -fallback_scsv moved to the same server."""
    first = _frames("wide_no_common_group_s_server")
    retry = _moved(_frames("wide_inappropriate_fallback_s_server"), 20740, 20780, first[-1][0] + gap)
    out = io.BytesIO()
    w = dpkt.pcap.Writer(out, snaplen=262144, linktype=dpkt.pcap.DLT_EN10MB)
    for ts, buf in first + retry:
        w.writepkt(buf, ts=ts)
    return out.getvalue()


def test_the_fallback_retry_is_linked_to_the_attempt_it_retries() -> None:
    report = tlsdissect.analyze(_fallback_capture(0.5))
    first, retry = report.connections
    assert (first.stream, retry.stream) == (0, 1)
    assert 0x5600 in retry.client_hello.cipher_suites and first.client_hello.max_version == 0x0304
    d = retry.diagnosis
    assert (d.cause, d.confidence, d.alert.code) == ("inappropriate_fallback", "certain", 86)
    assert "TLS_FALLBACK_SCSV" in " ".join(e.text for e in d.evidence)
    link = retry.to_dict()["retry_of"]
    assert (link["stream"], link["first_frame"], link["max_version"]) == (0, 1, "TLSv1.3")
    assert "handshake_failure" in link["ended"]
    line = next(e for e in d.evidence if e.text.startswith("Stream 0 was"))
    assert line.frames == [1] and "TLSv1.3" in line.text
    assert "retry_of" not in first.to_dict()


def test_no_link_to_an_attempt_long_before() -> None:
    retry = tlsdissect.analyze(_fallback_capture(600.0)).connections[1]
    assert retry.diagnosis.cause == "inappropriate_fallback"
    assert "retry_of" not in retry.to_dict()


def test_the_lab_fallbacks_alone_say_why_without_a_link() -> None:
    for scenario in ("wide_inappropriate_fallback_s_server", "wide_inappropriate_fallback_nginx"):
        conn = tlsdissect.analyze(CAPTURES / scenario / "capture.pcap").connections[0]
        assert conn.diagnosis.cause == "inappropriate_fallback"
        assert "first attempt failed" in conn.diagnosis.explanation
        assert "retry_of" not in conn.to_dict()


def test_the_cross_connection_memory_is_bounded_and_remembers_server_keys() -> None:
    conns = [tlsdissect.analyze(CAPTURES / s / "capture.pcap").connections[0]
             for s in ("tls12_success", "tls12_no_shared_cipher")]
    shown, refused = conns
    assert shown.to_dict()["server_certificates"][0]["key_type"] == "RSA"
    nb = Neighbours(limit=1)
    nb.link(shown)
    refused.server = shown.server  # the same server (the lab used one port per scenario)
    assert nb.server_key(refused) == ("RSA", shown.stream)
    nb.link(refused)
    assert len(nb.attempts) == 1 and len(nb.server_keys) == 1


# -- a TLS 1.3 server's early encrypted abort -------------------------------------------------
def test_an_encrypted_abort_right_after_the_server_hello_is_read_as_alpn_not_client_cert() -> None:
    # Go's server refuses curl's h2,http/1.1 after its ServerHello (server log: "client requested
    # unsupported application protocols"); the client never sent an encrypted flight.
    conn = tlsdissect.analyze(CAPTURES / "wide_alpn_mismatch_go_curl" / "capture.pcap").connections[0]
    d = conn.diagnosis
    assert (d.cause, d.confidence, d.failure_point, d.aborted_by) == ("alpn_mismatch", "possible", "server_hello",
                                                                     "server")
    assert "client_cert_missing" not in d.alternatives
    assert any("h2, http/1.1" in e.text for e in d.evidence)
    assert any("key log" in h for h in d.hidden)


@pytest.mark.parametrize("scenario", ["tls13_client_cert_missing", "tls13_client_cert_expired",
                                      "tls13_client_cert_unknown_ca"])
def test_client_certificate_refusals_after_the_clients_flight_stay(scenario: str) -> None:
    conn = tlsdissect.analyze(CAPTURES / scenario / "capture.pcap").connections[0]
    expected = __import__("json").loads((CAPTURES / scenario / "expected.json").read_text())
    assert conn.diagnosis.cause == expected["expected"]["cause"]


# -- a HelloRetryRequest whose group the client lacks ----------------------------------------
def _hrr(group: int) -> object:
    """A HelloRetryRequest (RFC 8446 4.1.3: a ServerHello with the special random) selecting ``group``."""
    from tlsdissect.tls.handshake import HRR_RANDOM, parse_server_hello

    exts = _ext(43, b"\x03\x04") + _ext(51, struct.pack(">H", group))
    body = b"\x03\x03" + HRR_RANDOM + b"\x00" + b"\x13\x01" + b"\x00" + struct.pack(">H", len(exts)) + exts
    hrr = parse_server_hello(body)
    assert hrr.is_hello_retry_request or hrr.random == HRR_RANDOM
    return hrr


def _retry_connection(alert_sender: str, code: int, name: str) -> object:
    from tlsdissect.results.model import Alert, Connection, Event, TcpClose

    conn = Connection(stream=0, client="10.0.0.1:40000", server="10.0.0.2:443", first_frame=1, last_frame=9,
                      start_time=0.0, end_time=0.1, is_tls=True, version="TLSv1.3", version_code=0x0304)
    conn.client_hello = parse_client_hello(client_hello(TLS13_SUITES, [0x0017, 0x001D], BOTH_KEY_SCHEMES, [0x0304]))
    conn.hello_retry_request = _hrr(0x001E)  # x448
    conn.events = [Event(1, 0.0, "client", "syn", {}),
                   Event(3, 0.01, "client", "handshake", {"message": "client_hello"}),
                   Event(4, 0.02, "server", "handshake", {"message": "hello_retry_request"})]
    if alert_sender == "server":
        conn.events.append(Event(6, 0.03, "client", "handshake", {"message": "client_hello"}))
    conn.events.append(Event(7, 0.04, alert_sender, "alert", {}))
    conn.alerts = [Alert(7, 0.04, alert_sender, "fatal", code, name, False, 7)]
    conn.tcp_close = TcpClose(alert_sender, "fin", 8, 0.05)
    return conn


def test_a_client_refusing_a_retry_request_for_a_group_it_never_offered() -> None:
    d = diagnose(_retry_connection("client", 47, "illegal_parameter"))  # type: ignore[arg-type]
    assert (d.cause, d.failure_point, d.aborted_by) == ("no_common_group", "server_hello", "client")
    assert any("x448" in e.text and "secp256r1, x25519" in e.text for e in d.evidence)


def test_a_server_refusing_the_second_client_hello_is_at_the_hello_and_reads_the_retry_group() -> None:
    d = diagnose(_retry_connection("server", 40, "handshake_failure"))  # type: ignore[arg-type]
    assert (d.cause, d.failure_point, d.confidence) == ("no_common_group", "client_hello", "likely")
    assert any("HelloRetryRequest asks for x448" in e.text for e in d.evidence)


def test_signature_algorithms_cert_for_one_key_type_narrows_the_schemes() -> None:
    body = client_hello(TLS13_SUITES, DEFAULT_GROUPS, BOTH_KEY_SCHEMES, [0x0304])
    # append signature_algorithms_cert (50) holding only ECDSA schemes (RFC 8446 4.2.3)
    ext = _ext(50, struct.pack(">H", 4) + _u16s([0x0403, 0x0503]))
    hello = parse_client_hello(client_hello(TLS13_SUITES, DEFAULT_GROUPS, BOTH_KEY_SCHEMES, [0x0304]))
    assert offer_lists.read_schemes(hello).narrow is False
    start = 2 + 32 + 1 + 2 + 2 * len(TLS13_SUITES) + 2  # version, random, session id, suites, compression:
    # the extensions block's length follows
    total = struct.unpack(">H", body[start:start + 2])[0]
    with_cert = body[:start] + struct.pack(">H", total + len(ext)) + body[start + 2:] + ext
    reading = offer_lists.read_schemes(parse_client_hello(with_cert))
    assert reading is not None and reading.narrow and "signature_algorithms_cert" in reading.why
    assert "ecdsa_secp256r1_sha256" in reading.why and "RSA key" in reading.why
