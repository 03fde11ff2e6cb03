"""Checks of the tshark oracle itself, against facts that do not come from the oracle.

Sources: the raw capture bytes (read here with dpkt, independently of both the
oracle and our engine), the JA4 project's expected fingerprints in
EXPECTED.tsv, nDPI's expected cipher, MANIFEST.tsv notes, and the
record layouts of RFC 5246 section 6.2 / RFC 6101 appendix E.  Pure-logic
tests use hand-built frames and reports.
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

try:
    import shared_captures as sc
    import tshark_oracle as to
except ImportError:  # tests/ imported as a package
    from tests import shared_captures as sc
    from tests import tshark_oracle as to

BADCURVEBALL = "FoxIO-LLC+ja4/pcap/badcurveball.pcap"
SSLV2 = "Lekensteyn+wireshark-notes/ssl3/sslv2.pcapng"
TLS_PORT_80 = "ntop+nDPI/tests/cfgs/default/pcap/tls_port_80.pcapng"


def _capture(rel: str) -> Path:
    to.require_tshark()
    path = sc.require_shared_captures() / rel
    if not path.is_file():
        pytest.skip(f"{path} missing from the shared captures")
    return path


def _tcp_payload(path: Path, frame: int) -> bytes:
    """TCP payload of frame number ``frame`` (1-based), Ethernet link type, read with dpkt."""
    with path.open("rb") as fh:
        try:
            reader = dpkt.pcap.Reader(fh)
        except ValueError:
            fh.seek(0)
            reader = dpkt.pcapng.Reader(fh)
        for n, (_ts, buf) in enumerate(reader, start=1):
            if n == frame:
                ip = dpkt.ethernet.Ethernet(buf).data
                assert isinstance(ip.data, dpkt.tcp.TCP), f"frame {frame} is not TCP"
                return bytes(ip.data.data)
    raise AssertionError(f"no frame {frame} in {path}")


def _keys(events: list[to.OracleEvent]) -> list[tuple]:
    return [e.key() for e in events]


# ------------------------------------------------------------ against capture facts


def test_badcurveball_alert_and_hellos() -> None:
    """MANIFEST: one stream, ClientHello + ServerHello, a plaintext fatal certificate_unknown (46) alert."""
    path = _capture(BADCURVEBALL)
    result = to.oracle(path)
    tls = [s for s in result.streams.values() if s.has_events]
    assert len(tls) == 1
    st = tls[0]
    # JA4 expectation names the flow 172.130.128.76:55318->54.226.182.138:443 with both ja4 and ja4s.
    assert (st.client, st.server) == ("172.130.128.76:55318", "54.226.182.138:443")
    client = st.sequence("client")
    assert _keys(client) == [("handshake", 1), ("alert", 2, 46)]
    assert st.sequence("server")[0].key() == ("handshake", 2)
    # The alert's frame holds exactly the plaintext alert record: type 21, TLS 1.2, length 2, fatal, 46.
    assert _tcp_payload(path, client[1].frame) == bytes([21, 3, 3, 0, 2, 2, 46])
    # The ClientHello's frame starts with a handshake record whose first message is type 1.
    head = _tcp_payload(path, client[0].frame)
    assert head[0] == 22 and head[5] == 1


def test_sslv2_on_nonstandard_port_is_found() -> None:
    """Port 4433 is unknown to tshark and its TLS heuristic ignores SSLv2: the Decode-As pass must find it."""
    path = _capture(SSLV2)
    result = to.oracle(path)
    assert 4433 in result.decode_as_ports
    (st,) = [s for s in result.streams.values() if s.has_events]
    assert st.server.endswith(":4433") and st.role_evidence == "syn"
    ch = st.sequence("client")[0]
    assert ch.key() == ("handshake", 1) and ch.sslv2
    # RFC 6101 appendix E: 2-byte header with the high bit set, then msg type 1 (CLIENT-HELLO), version 0x0002.
    raw = _tcp_payload(path, ch.frame)
    assert raw[0] & 0x80 and raw[2] == 1 and raw[3:5] == b"\x00\x02"
    sh = st.sequence("server")[0]
    assert sh.sslv2 and sh.key() == (
        "sslv2",
        4,
    )  # SSLv2 SERVER-HELLO is message type 4, not a TLS ticket
    assert _tcp_payload(path, sh.frame)[2] == 4


def test_tls_on_port_80_is_found() -> None:
    """nDPI expects TLSv1.2 with an ECDHE_ECDSA cipher (so a ServerHello) on 50541 <-> port 80."""
    path = _capture(TLS_PORT_80)
    result = to.oracle(path)
    (st,) = [s for s in result.streams.values() if s.has_events]
    assert (st.client, st.server) == ("57.91.202.194:50541", "132.49.141.56:80")
    assert st.sequence("client")[0].key() == ("handshake", 1)
    assert st.sequence("server")[0].key() == ("handshake", 2)
    raw = _tcp_payload(path, st.sequence("server")[0].frame)
    assert raw[0] == 22 and raw[1] == 3 and raw[5] == 2


def _ja4_rows(prefix: str) -> list[dict[str, str]]:
    return [
        r
        for r in sc.expected_rows()
        if r["file"].startswith(prefix)
        and r["ja4"].startswith("t")
        and "->" in r["uid_or_flow"]
    ]


def test_ja4_flows_have_client_and_server_hellos() -> None:
    """Every TCP flow with a JA4 (t...) fingerprint starts with a ClientHello from its source; a JA4S means a ServerHello.

    (The Zeek ssl_history rows of tls-handshake.pcapng are QUIC flows, so they cannot check a TCP oracle.)
    """
    sc.require_shared_captures()
    to.require_tshark()
    rows = _ja4_rows("FoxIO-LLC+ja4/")
    assert rows, "EXPECTED.tsv has no JA4 rows for the ja4 captures"
    root = sc.shared_captures_dir()
    to.prefetch(sorted({root / r["file"] for r in rows}))
    checked = 0
    for row in rows:
        src, dst = (
            to.parse_endpoint(x) for x in row["uid_or_flow"].split()[-1].split("->")
        )
        result = to.oracle(root / row["file"])
        matches = [
            s for s in result.streams.values() if {s.client, s.server} == {src, dst}
        ]
        assert matches, f"{row['file']}: no TCP stream {src} <-> {dst}"
        st = next(
            (s for s in matches if s.sequence("client") and s.client == src), matches[0]
        )
        assert st.client == src, (
            f"{row['file']} {src}->{dst}: tshark-side client is {st.client}"
        )
        assert st.sequence("client")[0].key() == ("handshake", 1), (
            f"{row['file']} {src}: {_keys(st.sequence('client'))}"
        )
        if row["ja4s"]:
            assert ("handshake", 2) in _keys(st.sequence("server")), (
                f"{row['file']} {dst}: no ServerHello"
            )
        checked += 1
    assert checked >= 50


def test_fields_order_agrees_with_protocol_tree() -> None:
    """The fast fields export and tshark's JSON protocol tree give the same events for every TLS frame."""
    path = _capture(BADCURVEBALL)
    result = to.oracle(path)
    frames = sorted(
        {
            e.frame
            for s in result.streams.values()
            for evs in s.events.values()
            for e in evs
        }
    )
    tree = to._json_events(path, frames, [], [])
    flat = {}
    for s in result.streams.values():
        for evs in s.events.values():
            for e in evs:
                flat.setdefault(e.frame, []).append(e)
    assert tree == flat


def test_cache_returns_same_result(tmp_path: Path) -> None:
    """A second call reads the cache and yields identical streams; an identical copy shares the entry."""
    path = _capture(BADCURVEBALL)
    first = to.oracle(path)
    copy = tmp_path / "copy.pcap"
    copy.write_bytes(path.read_bytes())
    second = to.oracle(copy)
    assert second.capture == str(copy)
    assert second.streams == first.streams
    assert to.OracleResult.from_json(first.to_json()).streams == first.streams


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(to.OracleError, match="no such capture"):
        to.oracle(tmp_path / "absent.pcap")


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    to.require_tshark()
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a capture file at all")
    with pytest.raises(to.OracleError, match="tshark failed"):
        to.oracle(bad)


# ------------------------------------------------------------ pure logic


def _frame(cts: list[int], hs: list[int], alerts: list[tuple[int, int]]) -> to._Frame:
    return to._Frame(
        number=7,
        time=0.0,
        stream=0,
        src="10.0.0.1:1000",
        dst="10.0.0.2:443",
        syn=False,
        ack=True,
        seq=1,
        length=10,
        has_tls=True,
        content_types=cts,
        hs_types=hs,
        alert_levels=[a for a, _ in alerts],
        alert_descs=[d for _, d in alerts],
        payload_head=b"",
    )


def test_frame_order_from_record_types() -> None:
    hs_then_alert = to._frame_events(_frame([22, 22, 21], [2, 11], [(2, 40)]))
    assert hs_then_alert is not None and _keys(hs_then_alert) == [
        ("handshake", 2),
        ("handshake", 11),
        ("alert", 2, 40),
    ]
    alert_then_hs = to._frame_events(_frame([21, 22], [1], [(1, 0)]))
    assert alert_then_hs is not None and _keys(alert_then_hs) == [
        ("alert", 1, 0),
        ("handshake", 1),
    ]
    assert (
        to._frame_events(_frame([22, 21, 22], [2, 14], [(2, 40)])) is None
    )  # interleaved: needs the tree
    assert to._frame_events(_frame([22, 20, 22], [16], [])) is not None
    only_sslv2 = to._frame_events(_frame([], [1], []))
    assert only_sslv2 is not None and only_sslv2[0].sslv2


@pytest.mark.parametrize(
    "head, expected",
    [
        (bytes.fromhex("1603010200"), True),  # handshake record, TLS 1.0 header
        (bytes.fromhex("1503030002"), True),  # alert record
        (bytes.fromhex("8022010002"), True),  # SSLv2 ClientHello, version 2
        (
            bytes.fromhex("80c2010301"),
            True,
        ),  # SSLv2-compatible ClientHello offering TLS 1.0
        (b"GET / HTTP/1.1", False),
        (bytes.fromhex("1603050200"), False),  # no such minor version
        (bytes.fromhex("16030100"), False),  # too short for a header
        (bytes.fromhex("160301ffff"), False),  # length beyond 2^14 + 2048
    ],
)
def test_looks_like_tls(head: bytes, expected: bool) -> None:
    assert to._looks_like_tls(head) is expected


def _result() -> to.OracleResult:
    ev = to.OracleEvent
    st = to.OracleStream(
        3,
        "10.0.0.1:5555",
        "10.0.0.2:443",
        "syn",
        {
            "10.0.0.1:5555": [ev("handshake", 1, 4), ev("alert", 46, 9, 2)],
            "10.0.0.2:443": [ev("handshake", 2, 6), ev("handshake", 11, 7)],
        },
        tls_frames=4,
    )
    return to.OracleResult(
        "x.pcap",
        "test",
        {3: st, 4: to.OracleStream(4, "10.0.0.1:6666", "10.0.0.2:80", "syn")},
    )


def _report(
    client_events: list[dict], stream: int = 3, client: str = "10.0.0.1:5555"
) -> dict:
    server_events = [
        {
            "frame": 6,
            "sender": "server",
            "type": "handshake",
            "code": 2,
            "encrypted": False,
        },
        {
            "frame": 7,
            "sender": "server",
            "type": "handshake",
            "code": 11,
            "encrypted": False,
        },
        {
            "frame": 8,
            "sender": "server",
            "type": "handshake",
            "code": None,
            "encrypted": True,
        },
    ]
    server = "10.0.0.2:443" if client == "10.0.0.1:5555" else "10.0.0.1:5555"
    return {
        "capture": "x.pcap",
        "connections": [
            {
                "stream": stream,
                "client": client,
                "server": server,
                "events": client_events + server_events,
            }
        ],
    }


GOOD_CLIENT = [
    {
        "frame": 4,
        "sender": "client",
        "type": "handshake",
        "code": 1,
        "encrypted": False,
    },
    {"frame": 5, "sender": "client", "type": "application_data"},
    {
        "frame": 9,
        "sender": "client",
        "type": "alert",
        "level": "fatal",
        "code": 46,
        "encrypted": False,
    },
]


def test_compare_accepts_agreement() -> None:
    assert to.compare(_result(), _report(GOOD_CLIENT)) == []


def test_compare_reports_first_difference() -> None:
    client = [dict(GOOD_CLIENT[0]), dict(GOOD_CLIENT[2], code=40)]
    (problem,) = to.compare(_result(), _report(client))
    assert (
        problem.kind == "sequence"
        and problem.direction == "client"
        and problem.stream == 3
    )
    assert (
        "position 1" in problem.text
        and "handshake_failure(40)" in problem.text
        and "certificate_unknown(46)" in problem.text
    )


def test_compare_reports_frames_role_extra_and_missing() -> None:
    moved = [GOOD_CLIENT[0], dict(GOOD_CLIENT[2], frame=10)]
    assert [p.kind for p in to.compare(_result(), _report(moved))] == ["frames"]
    assert to.compare(_result(), _report(moved), check_frames=False) == []
    swapped = to.compare(_result(), _report([], client="10.0.0.2:443"))
    assert "role" in {p.kind for p in swapped}
    extra = _report(GOOD_CLIENT)
    extra["connections"].append(
        {
            "stream": 4,
            "client": "10.0.0.1:6666",
            "server": "10.0.0.2:80",
            "events": [
                {
                    "frame": 20,
                    "sender": "client",
                    "type": "handshake",
                    "code": 1,
                    "encrypted": False,
                }
            ],
        }
    )
    assert [p.kind for p in to.compare(_result(), extra)] == ["extra_stream"]
    assert [p.kind for p in to.compare(_result(), {"connections": []})] == [
        "missing_stream"
    ]


def test_endpoint_canonical_forms() -> None:
    assert to.parse_endpoint("[2001:db8:0:0::1]:443") == "[2001:db8::1]:443"
    assert to.parse_endpoint("10.0.0.1:80") == "10.0.0.1:80"
    assert (
        to.endpoint("2001:4998:ef83:14:8000::100d", "64034")
        == "[2001:4998:ef83:14:8000::100d]:64034"
    )


def test_embedded_secrets_are_not_used() -> None:
    """A pcapng with a Decryption Secrets Block must not be decrypted: after a TLS 1.3 ServerHello
    (JA4S t13...) everything is encrypted (RFC 8446 section 2), so only the two hellos are plaintext."""
    path = _capture("FoxIO-LLC+ja4/pcap/http2-with-cookies.pcapng")
    assert to.has_embedded_secrets(path)
    result = to.oracle(path)
    assert result.secrets_discarded
    (st,) = [s for s in result.streams.values() if s.has_events]
    assert _keys(st.sequence("client")) == [("handshake", 1)]
    assert _keys(st.sequence("server")) == [("handshake", 2)]


def test_compare_pairs_by_endpoints_and_reports_stream_numbers() -> None:
    """A numbering difference is one stream_number mismatch, not a cascade of sequence mismatches."""
    renumbered = _report(GOOD_CLIENT, stream=7)
    assert [p.kind for p in to.compare(_result(), renumbered)] == ["stream_number"]
    twice = _report(GOOD_CLIENT)
    twice["connections"].append(dict(twice["connections"][0]))
    assert [p.kind for p in to.compare(_result(), twice)] == ["bad_report"]
