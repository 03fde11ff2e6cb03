"""JA3, JA3S, JA4, JA4S and JA4X against values published by the projects that define them.

Expectations come from outside our code: FoxIO's own test vectors (the JA4 Rust crate's unit
tests and its expected outputs for its captures, via shared/captures/EXPECTED.tsv), the JA3
project's expected ssl.log values, X.690's OID encoding, and the JA4 specification's ALPN
examples. The per-row agreement with nDPI, Arkime and ja4 expectations is in
tests/test_expected_tsv.py (fields ja3, ja3s, ja4, ja4s).
"""

from __future__ import annotations

import csv
import hashlib
import struct

import pytest

import tlsdissect
from tests.shared_captures import shared_captures_dir
from tlsdissect.fingerprints import ja3, ja3s, ja4, ja4s
from tlsdissect.fingerprints.ja4 import alpn_chars
from tlsdissect.fingerprints.ja4x import oid_hex
from tlsdissect.tls.handshake import parse_client_hello, parse_server_hello


def _ext(ext_type: int, body: bytes) -> bytes:
    return struct.pack(">HH", ext_type, len(body)) + body


def _u16_list(values: list[int], width: int = 2) -> bytes:
    raw = b"".join(struct.pack(">H", v) for v in values)
    return len(raw).to_bytes(width, "big") + raw


def _client_hello(ciphers: list[int], extensions: list[tuple[int, bytes]], version: int = 0x0303) -> bytes:
    exts = b"".join(_ext(t, b) for t, b in extensions)
    return (struct.pack(">H", version) + bytes(32) + b"\x00" + _u16_list(ciphers) + b"\x01\x00"
            + struct.pack(">H", len(exts)) + exts)


def _sni(name: str) -> bytes:
    entry = b"\x00" + struct.pack(">H", len(name)) + name.encode()
    return struct.pack(">H", len(entry)) + entry


def _alpn(*names: bytes) -> bytes:
    lst = b"".join(bytes([len(n)]) + n for n in names)
    return struct.pack(">H", len(lst)) + lst


# The JA4 crate's test_client_stats_into_out (rust/ja4/src/tls.rs): ciphers, extensions (in the
# order sent) and signature algorithms of a Chrome ClientHello, with SNI and ALPN h2.
FOXIO_CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
                 0x009C, 0x009D, 0x002F, 0x0035]
FOXIO_EXTS = [0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023, 0x0012,
              0x002B, 0xFF01, 0x000B, 0x000A, 0x0015]
FOXIO_SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]


def _foxio_hello(grease: bool = False):
    bodies = {0x0000: _sni("example.com"), 0x0010: _alpn(b"h2"), 0x000D: _u16_list(FOXIO_SIGS),
              0x002B: b"\x04\x03\x04\x03\x03", 0x000A: _u16_list([0x001D, 0x0017]), 0x000B: b"\x01\x00"}
    exts = [(t, bodies.get(t, b"")) for t in FOXIO_EXTS]
    ciphers = list(FOXIO_CIPHERS)
    if grease:  # GREASE in every list must change nothing
        exts = [(0x0A0A, b""), *exts, (0xFAFA, b"\x00")]
        ciphers = [0x2A2A, *ciphers]
    return parse_client_hello(_client_hello(ciphers, exts))


@pytest.mark.parametrize("grease", [False, True])
def test_ja4_equals_foxio_unit_vector(grease: bool) -> None:
    j = ja4(_foxio_hello(grease))
    assert j is not None
    assert j.ja4 == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert j.ja4_r == ("t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
                       "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
                       "0403,0804,0401,0503,0805,0501,0806,0601")
    assert j.ja4_o == "t13d1516h2_acb858a92679_18f69afefd3d"
    assert j.ja4_ro == ("t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_"
                        "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_"
                        "0403,0804,0401,0503,0805,0501,0806,0601")


def test_ja4s_equals_foxio_unit_vector() -> None:
    # test_server_stats_into_out: TLS 1.2, c030, extensions 0005,0017,ff01,0000, no ALPN.
    exts = b"".join(_ext(t, b"") for t in (0x0005, 0x0017, 0xFF01, 0x0000))
    body = struct.pack(">H", 0x0303) + bytes(32) + b"\x00" + struct.pack(">HB", 0xC030, 0) + struct.pack(">H", len(exts)) + exts
    j = ja4s(parse_server_hello(body))
    assert j is not None
    assert j.ja4s == "t120400_c030_4e8089b08790"
    assert j.ja4s_r == "t120400_c030_0005,0017,ff01,0000"


def test_ja3_string_follows_the_definition() -> None:
    """Salesforce's README: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
    in decimal, GREASE left out; MD5 of it."""
    h = _foxio_hello(grease=True)
    got = ja3(h)
    assert got is not None
    md5, text = got
    assert text == ("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
                    "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23,0")
    assert md5 == hashlib.md5(text.encode()).hexdigest()


def test_no_fingerprint_of_an_sslv2_hello() -> None:
    h = _foxio_hello()
    h.sslv2 = True
    assert ja3(h) is None and ja4(h) is None


@pytest.mark.parametrize("name, chars", [
    # JA4.md, "ALPN Extension Value", including its examples for bytes that are not alphanumeric
    (None, "00"), (b"", "00"), (b"h2", "h2"), (b"http/1.1", "h1"), (b"h", "hh"),
    (b"\xab", "ab"), (b"\xab\xcd", "ad"), (b"\x30\xab", "3b"), (b"\x30\x31\xab\xcd", "3d"),
    (b"\x30\xab\xcd\x31", "01"),
])
def test_alpn_characters(name: bytes | None, chars: str) -> None:
    assert alpn_chars(name) == chars


def test_non_ascii_alpn_bytes_reach_the_fingerprint() -> None:
    """The decoder shows a non-ASCII name with replacement characters; the fingerprint reads
    the bytes (protocols_hex)."""
    h = parse_client_hello(_client_hello([0x1301], [(0x0010, _alpn(b"\xba\xad", b"h2"))]))
    ext = h.ext(0x0010)
    assert ext is not None and ext.decoded is not None
    assert ext.decoded["protocols_hex"] == ["baad", "6832"]
    j = ja4(h)
    assert j is not None and j.ja4[8:10] == "bd"


@pytest.mark.parametrize("dotted, der_hex", [
    ("2.5.4.3", "550403"),  # commonName: 2*40+5 = 0x55
    ("1.2.840.113549.1.1.11", "2a864886f70d01010b"),  # sha256WithRSAEncryption
    ("2.5.29.17", "551d11"),  # subjectAltName
    ("1.3.6.1.5.5.7.1.1", "2b06010505070101"),  # authorityInfoAccess
])
def test_oid_hex_is_the_der_content(dotted: str, der_hex: str) -> None:
    assert oid_hex(dotted) == der_hex


def test_ja3s_of_a_server_hello() -> None:
    exts = _ext(0xFF01, b"\x00") + _ext(0x000B, b"\x01\x00")
    body = struct.pack(">H", 0x0303) + bytes(32) + b"\x00" + struct.pack(">HB", 0xC02F, 0) + struct.pack(">H", len(exts)) + exts
    got = ja3s(parse_server_hello(body))
    assert got is not None and got[1] == "771,49199,65281-11"


def _foxio_ja4x_rows() -> list[tuple[str, str, list[str]]]:
    base = shared_captures_dir()
    if not (base / "EXPECTED.tsv").is_file():
        return []
    out = []
    with open(base / "EXPECTED.tsv", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            notes = r.get("notes", "")
            if not r["file"].startswith("FoxIO-LLC+ja4/") or "ja4x=" not in notes:
                continue
            value = notes.split("ja4x=", 1)[1].split(";", 1)[0].strip()
            out.append((r["file"], r["uid_or_flow"], value.split(",")))
    return out


JA4X_ROWS = _foxio_ja4x_rows()


@pytest.mark.parametrize("file, flow, expected", JA4X_ROWS, ids=[f"{r[0]}|{r[1]}" for r in JA4X_ROWS])
def test_ja4x_equals_foxio_expected(file: str, flow: str, expected: list[str]) -> None:
    """FoxIO's expected JA4X per certificate of the server's chain, in order."""
    client, server = flow.replace(" ", "").split("->")
    report = tlsdissect.analyze(shared_captures_dir() / file, diagnose=False)
    hits = [c for c in report if {c.client.replace("[", "").replace("]", ""),
                                   c.server.replace("[", "").replace("]", "")} == {client, server}]
    assert hits, f"no connection {flow}"
    conn = max(hits, key=lambda c: len(c.server_certificates_der))
    assert conn.fingerprints is not None
    assert conn.fingerprints.ja4x == expected


def test_fingerprints_in_json_and_dataframe() -> None:
    path = shared_captures_dir() / "salesforce+ja3/testing/Traces/ssl-curl.pcap"
    if not path.is_file():
        pytest.skip("shared captures not available")
    report = tlsdissect.analyze(path)
    conn = next(c for c in report if c.client_hello is not None)
    # The JA3 project's expected ssl.log (ja3-tests.curl_test1) for this capture.
    assert conn.to_dict()["fingerprints"]["ja3"] == "2a26b1a62e40d25d4de3babc9d532f30"
    df = report.to_dataframe()
    assert "2a26b1a62e40d25d4de3babc9d532f30" in set(df["ja3"])


def test_fingerprints_to_dict_is_the_dataclass_as_a_dict() -> None:
    # to_dict is written out field by field (no dataclasses.asdict, for speed): it must still
    # be what asdict gives, every field in order, and a copy of the ja4x list.
    import dataclasses

    from tlsdissect.fingerprints.connection import Fingerprints

    names = [f.name for f in dataclasses.fields(Fingerprints)]
    values = {n: f"value-{n}" for n in names if n != "ja4x"}
    fp = Fingerprints(**values, ja4x=["x1", None])  # type: ignore[arg-type]
    got = fp.to_dict()
    assert list(got) == names
    assert got == dataclasses.asdict(fp)
    assert got["ja4x"] is not fp.ja4x


# -- tshark's JA3/JA3S as a second oracle ------------------------------------------------------

def _tshark_ja3(path, tshark: str) -> dict[int, tuple[set[str], set[str]]]:
    """tcp.stream -> (JA3 full strings, JA3S full strings) tshark computes for the stream."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as cfg:
        env = {**os.environ, "WIRESHARK_CONFIG_DIR": cfg}
        out = subprocess.run(
            [tshark, "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t",
             "-e", "tcp.stream", "-e", "tls.handshake.ja3_full", "-e", "tls.handshake.ja3s_full"],
            capture_output=True, text=True, env=env, timeout=300).stdout
    streams: dict[int, tuple[set[str], set[str]]] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].isdigit() or not (parts[1] or parts[2]):
            continue
        ja3_set, ja3s_set = streams.setdefault(int(parts[0]), (set(), set()))
        if parts[1]:
            ja3_set.add(parts[1])
        if parts[2]:
            ja3s_set.add(parts[2])
    return streams


def _bundled_captures() -> list:
    """One bundled capture per distinct set of ClientHellos and ServerHellos (their raw JA3
    inputs), so each client and server program's hellos are checked without paying tshark's
    start-up on 118 captures that repeat the same few programs."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "captures"
    picked, seen = [], set()
    for path in sorted(root.glob("*/capture.pcap")):
        report = tlsdissect.analyze(path, diagnose=False)
        key = frozenset((c.fingerprints.ja3_string, c.fingerprints.ja3s_string) for c in report
                        if c.fingerprints is not None)
        if key and key not in seen:
            seen.add(key)
            picked.append(path)
    return picked


@pytest.mark.parametrize("path", _bundled_captures(), ids=lambda p: p.parent.name)
def test_ja3_agrees_with_tshark(path) -> None:
    """tshark 4.0 computes JA3 and JA3S (tls.handshake.ja3_full / ja3s_full) for every hello it
    dissects: ours must be one of the strings tshark gives for the same stream (one per frame
    with a hello: the first hello of the frame, since the full strings hold commas themselves
    and cannot be told apart in a list)."""
    import shutil

    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed (it is only a test oracle)")
    theirs = _tshark_ja3(path, tshark)
    report = tlsdissect.analyze(path, diagnose=False)
    compared = 0
    for conn in report:
        fp = conn.fingerprints
        if fp is None or conn.stream not in theirs:
            continue
        ja3_strings, ja3s_strings = theirs[conn.stream]
        if fp.ja3_string is not None and ja3_strings:
            assert fp.ja3_string in ja3_strings, (conn.stream, fp.ja3_string, ja3_strings)
            compared += 1
        if fp.ja3s_string is not None and ja3s_strings:
            assert fp.ja3s_string in ja3s_strings, (conn.stream, fp.ja3s_string, ja3s_strings)
    if not any(c.client_hello is not None for c in report):
        return
    assert compared or not theirs
