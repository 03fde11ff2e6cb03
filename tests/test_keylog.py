"""NSS key log parsing: good lines, bad lines, several files, pcapng DSB payloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_captures import shared_captures_dir

from tlsdissect.keys.keylog import DSB_TLS_KEY_LOG, KeyLog, KeyLogError, keylog_from_dsb

CR1 = bytes(range(32))
CR2 = bytes(range(32, 64))
MS = bytes(range(100, 148))
S32 = bytes([7]) * 32
S48 = bytes([9]) * 48

GOOD = f"""# a comment
CLIENT_RANDOM {CR1.hex()} {MS.hex()}

CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR2.hex()} {S32.hex()}
SERVER_HANDSHAKE_TRAFFIC_SECRET {CR2.hex()} {S48.hex().upper()}
CLIENT_TRAFFIC_SECRET_0 {CR2.hex()} {S32.hex()}
SERVER_TRAFFIC_SECRET_0 {CR2.hex()} {S32.hex()}
CLIENT_EARLY_TRAFFIC_SECRET {CR2.hex()} {S32.hex()}
EARLY_EXPORTER_SECRET {CR2.hex()} {S32.hex()}
EXPORTER_SECRET {CR2.hex()} {S32.hex()}
RSA 0102030405060708 {MS.hex()}
"""


def test_good_lines() -> None:
    log = KeyLog.from_text(GOOD)
    assert log.malformed == [] and log.conflicts == []
    assert log.master_secret_for(CR1) == MS
    assert log.secrets_for(CR1) == {"CLIENT_RANDOM": MS}
    s = log.secrets_for(CR2)
    assert set(s) == {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
        "CLIENT_EARLY_TRAFFIC_SECRET",
        "EARLY_EXPORTER_SECRET",
        "EXPORTER_SECRET",
    }
    assert s["SERVER_HANDSHAKE_TRAFFIC_SECRET"] == S48  # upper-case hex is fine
    assert log.rsa_premaster_for(bytes.fromhex("0102030405060708") + b"rest of ciphertext") == MS
    assert log.secrets_for(b"\x00" * 32) == {} and log.master_secret_for(b"\xff" * 32) is None
    assert CR1 in log and b"\x00" * 32 not in log
    assert len(log) == 3 and log.rsa_entry_count == 1
    # secrets_for returns a copy: changing it leaves the log alone
    s.clear()
    assert len(log.secrets_for(CR2)) == 7


def test_malformed_lines_are_counted_with_line_numbers_and_never_fatal() -> None:
    text = "\n".join(
        [
            f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}",  # 1 good
            f"CLIENT_RANDOM {CR1.hex()}",  # 2 two fields
            f"CLIENT_RANDOM {CR1.hex()[:-2]} {MS.hex()}",  # 3 short random
            f"CLIENT_RANDOM {CR2.hex()} {MS.hex()[:-1]}",  # 4 odd hex
            f"CLIENT_RANDOM {CR2.hex()} zz{MS.hex()[2:]}",  # 5 not hex
            f"BOGUS_LABEL {CR2.hex()} {S32.hex()}",  # 6 unknown label
            f"CLIENT_TRAFFIC_SECRET_0 {CR2.hex()} {S32.hex()[:-4]}",  # 7 30-byte secret
            f"RSA 01020304 {MS.hex()}",  # 8 short RSA prefix
            "   # indented comment",  # 9 ignored
            "\t",  # 10 blank
            f"CLIENT_RANDOM {CR2.hex()} {MS.hex()} extra",  # 11 four fields
            "CLIENT_RANDOM caf\u00e9 00",  # 12 non-ASCII
            f"SERVER_TRAFFIC_SECRET_0 {CR2.hex()} {S32.hex()}\r",  # 13 good, CRLF
        ]
    )
    log = KeyLog.from_text(text, source="t.log")
    assert [m.line_no for m in log.malformed] == [2, 3, 4, 5, 6, 7, 8, 11, 12]
    assert all(m.source == "t.log" and m.reason for m in log.malformed)
    assert "unknown label" in log.malformed[4].reason
    assert log.master_secret_for(CR1) == MS
    assert log.secrets_for(CR2) == {"SERVER_TRAFFIC_SECRET_0": S32}
    assert "9 malformed line(s)" in log.summary() and "t.log:2" in log.summary()


def test_ech_lines_are_not_malformed() -> None:
    log = KeyLog.from_text(f"ECH_SECRET {CR1.hex()} {S32.hex()}\nECH_CONFIG {CR1.hex()} 0011\n")
    assert log.malformed == [] and log.secrets_for(CR1) == {}


def test_conflicting_lines_keep_the_first_value() -> None:
    other = bytes(48)
    log = KeyLog.from_text(
        f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}\n"
        f"CLIENT_RANDOM {CR1.hex()} {other.hex()}\n"
        f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}\n"
    )
    assert log.master_secret_for(CR1) == MS
    assert [c.line_no for c in log.conflicts] == [2] and log.malformed == []


def test_from_files_merges_in_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text(f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}\nnonsense\n")
    b.write_bytes(f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR2.hex()} {S32.hex()}\r\n".encode() + b"\xff\xfe junk\n")
    log = KeyLog.from_files([a, str(b)])
    assert log.master_secret_for(CR1) == MS
    assert log.secrets_for(CR2) == {"CLIENT_HANDSHAKE_TRAFFIC_SECRET": S32}
    assert [(Path(m.source).name, m.line_no) for m in log.malformed] == [("a.log", 2), ("b.log", 2)]
    assert log.sources == [str(a), str(b)]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyLogError, match="cannot read key log .*nope.log"):
        KeyLog.from_files([tmp_path / "nope.log"])
    with pytest.raises(KeyLogError):
        KeyLog.from_file(tmp_path)  # a directory


def test_merge() -> None:
    a = KeyLog.from_text(f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}\n", "a")
    b = KeyLog.from_text(
        f"CLIENT_RANDOM {CR1.hex()} {bytes(48).hex()}\nEXPORTER_SECRET {CR1.hex()} {S32.hex()}\nbad\n", "b"
    )
    assert a.merge(b) is a
    assert a.secrets_for(CR1) == {"CLIENT_RANDOM": MS, "EXPORTER_SECRET": S32}
    assert len(a.conflicts) == 1 and len(a.malformed) == 1
    assert a.sources == ["a", "b"]


def test_dsb_payload() -> None:
    payload = f"CLIENT_RANDOM {CR1.hex()} {MS.hex()}\n".encode() + b"\x00\x00\x00"  # padded to 32 bits
    log = keylog_from_dsb(0x544C534B, payload)
    assert log is not None and log.master_secret_for(CR1) == MS and log.malformed == []
    assert DSB_TLS_KEY_LOG == int.from_bytes(b"TLSK", "big")
    assert keylog_from_dsb(0x57474B4C, payload) is None  # WireGuard key log: not ours


def test_dsb_block_from_real_pcapng_bytes() -> None:
    # A Decryption Secrets Block laid out by the pcapng spec (block type 0x0000000A):
    # type, total length, secrets type, secrets length, data padded to 4 bytes, total length.
    secrets = f"SERVER_TRAFFIC_SECRET_0 {CR2.hex()} {S32.hex()}\n".encode()
    pad = (-len(secrets)) % 4
    total = 12 + 8 + len(secrets) + pad
    block = (
        (0x0A).to_bytes(4, "little")
        + total.to_bytes(4, "little")
        + DSB_TLS_KEY_LOG.to_bytes(4, "little")
        + len(secrets).to_bytes(4, "little")
        + secrets
        + b"\x00" * pad
        + total.to_bytes(4, "little")
    )
    stype = int.from_bytes(block[8:12], "little")
    length = int.from_bytes(block[12:16], "little")
    log = keylog_from_dsb(stype, block[16 : 16 + length + pad])
    assert log is not None and log.secrets_for(CR2) == {"SERVER_TRAFFIC_SECRET_0": S32}


CAPTURES = shared_captures_dir()  # TLSDISSECT_SHARED_CAPTURES / TLSDISSECT_CAPTURES, else ../shared/captures


@pytest.mark.parametrize(
    "relpath,sessions,malformed",
    [
        ("adulau+ssldump/samples/log.txt", 9, 0),
        ("Lekensteyn+wireshark-notes/all/premaster.txt", 146, 0),
    ],
)
def test_public_key_logs(relpath: str, sessions: int, malformed: int) -> None:
    path = CAPTURES / relpath
    if not path.exists():
        pytest.skip(f"shared captures not found at {CAPTURES} (set TLSDISSECT_SHARED_CAPTURES)")
    log = KeyLog.from_file(path)
    # Expected counts: distinct client randoms in the file, counted with awk/sort/uniq.
    assert len(list(log.client_randoms())) == sessions
    assert len(log.malformed) == malformed


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=80),
            st.sampled_from(["CLIENT_RANDOM", "RSA", "EXPORTER_SECRET", "#", ""]).flatmap(
                lambda label: st.tuples(st.just(label), st.binary(max_size=40), st.binary(max_size=60)).map(
                    lambda t: f"{t[0]} {t[1].hex()} {t[2].hex()}"
                )
            ),
        ),
        max_size=20,
    )
)
def test_any_text_parses_without_raising(lines: list[str]) -> None:
    log = KeyLog.from_text("\n".join(lines))
    assert len(log.malformed) + len(log.conflicts) <= len("\n".join(lines).splitlines())
    for cr in log.client_randoms():
        assert len(cr) == 32 and log.secrets_for(cr)


def test_repr_does_not_show_secrets() -> None:
    log = KeyLog.from_text(GOOD)
    assert MS.hex() not in repr(log) and "2 session(s)" in repr(log)
