"""Mutation fuzzing in CI: a fixed-seed small run over a handful of small real captures, the
fuzzer's own machinery (length fields where the RFCs put them, determinism, a watchdog that
does catch a runaway and a lost connection), and the inputs earlier fuzz runs broke us with.

The long run is ``python bench/fuzz.py --count 10000``; see bench/README.md.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import mutations as M
import pytest

from watchdog import deadline
from shared_captures import shared_captures_dir

import tlsdissect

HERE = Path(__file__).resolve().parent
FUZZ_DATA = HERE / "data" / "fuzz"
ZERO_RTT = HERE / "data" / "zero_rtt"

# Small, varied captures: TLS 1.2 with a chain in clear, TLS 1.3 decrypted with a key log,
# pcapng with a key log, 59 connections (for the kept-before-damage invariant), STARTTLS-like.
SHARED_SMALL = (
    "salesforce+ja3/testing/Traces/ssl-curl.pcap",
    "adulau+ssldump/samples/tls1.3_chacha.pcap",
    "Lekensteyn+wireshark-notes/tls/works/dump.pcapng",
    "FoxIO-LLC+ja4/pcap/tls-sni.pcapng",
    "arkime+arkime/tests/pcap/mysql-tls.pcap",
    "ntop+nDPI/tests/cfgs/default/pcap/smtps.pcapng",
)


def small_captures() -> list[tuple[Path, str | None]]:
    """(capture, key log) pairs: the shared ones when present, our own in-repo files always."""
    out: list[tuple[Path, str | None]] = []
    root = shared_captures_dir()
    for rel in SHARED_SMALL:
        p = root / rel
        if p.is_file():
            kl = M.keylog_for(p, root)
            out.append((p, str(kl) if kl else None))
    out.append((ZERO_RTT / "accepted.pcap", str(ZERO_RTT / "accepted_keylog.txt")))
    out.append((ZERO_RTT / "accepted-dsb.pcapng", None))  # keys inside the file (DSB)
    out += [(p, None) for p in sorted(FUZZ_DATA.glob("*.pcap*"))]
    return out


# -- the fuzzer finds length fields where the specifications put them -------------------------

def _client_hello(sni: bytes) -> bytes:
    """RFC 8446 4.1.2 ClientHello with one server_name extension (RFC 6066 3)."""
    name = b"\x00" + struct.pack(">H", len(sni)) + sni
    ext = struct.pack(">HH", 0, len(name) + 2) + struct.pack(">H", len(name)) + name
    body = (b"\x03\x03" + b"\x11" * 32 + b"\x00" + struct.pack(">H", 2) + b"\x13\x01" + b"\x01\x00"
            + struct.pack(">H", len(ext)) + ext)
    return b"\x01" + len(body).to_bytes(3, "big") + body


def _hand_pcap() -> tuple[bytes, dict[str, int]]:
    """Ethernet/IPv4/TCP carrying one TLS record with a ClientHello, and where each field is."""
    hello = _client_hello(b"example.com")
    record = b"\x16\x03\x01" + struct.pack(">H", len(hello)) + hello
    tcp = struct.pack(">HHIIBBHHH", 40000, 443, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(record), 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + record
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    data = header + struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame
    ip_at = 24 + 16 + 14
    tls_at = ip_at + 20 + 20
    hs = tls_at + 5
    ext_len_at = hs + 4 + 2 + 32 + 1 + 2 + 2 + 2
    where = {
        "pcap.caplen": 24 + 8, "ip.total_length": ip_at + 2, "tcp.data_offset": ip_at + 20 + 12,
        "tls.record_length": tls_at + 3, "tls.handshake_length": hs + 1,
        "tls.session_id_length": hs + 4 + 34, "tls.cipher_suites_length": hs + 4 + 35,
        "tls.extensions_length": ext_len_at, "tls.extension_length": ext_len_at + 4,
        "tls.sni_list_length": ext_len_at + 6, "tls.sni_name_length": ext_len_at + 9,
    }
    return data, where


def test_length_fields_are_found_where_the_rfcs_put_them() -> None:
    data, where = _hand_pcap()
    found = {f.kind: f for f in M.length_fields(data)}
    for kind, offset in where.items():
        assert kind in found, kind
        assert found[kind].offset == offset, kind
    assert found["tls.sni_name_length"].read(data) == len(b"example.com")
    assert found["tcp.data_offset"].read(data) == 5
    assert found["ip.total_length"].read(data) == len(data) - 24 - 16 - 14


def test_length_mutation_writes_the_field_and_nothing_else() -> None:
    data, _ = _hand_pcap()
    for seed in range(40):
        m = M.mutate(data, random.Random(seed), kind="length")
        assert len(m.data) == len(data)
        changed = [i for i in range(len(data)) if m.data[i] != data[i]]
        offsets = [int(part.split("@")[1].split(":")[0]) for part in m.detail.split("; ")]
        assert all(any(o <= i < o + 4 for o in offsets) for i in changed), m.detail


def test_mutants_are_deterministic_per_seed() -> None:
    data, _ = _hand_pcap()
    other = (ZERO_RTT / "accepted.pcap").read_bytes()
    for kind in M.KINDS:
        a = M.mutate(data, random.Random(5), kind=kind, other=other)
        b = M.mutate(data, random.Random(5), kind=kind, other=other)
        assert (a.data, a.detail) == (b.data, b.detail)
    many = {M.mutate(other, random.Random(s), kind="bitflip").data for s in range(20)}
    assert len(many) > 15


def test_layout_numbers_records_of_a_pcapng_with_secrets() -> None:
    """accepted-dsb.pcapng: SHB, IDB, DSB, then packet blocks numbered as tshark numbers them (36)."""
    data = (ZERO_RTT / "accepted-dsb.pcapng").read_bytes()
    lay = M.layout(data)
    assert lay.format == "pcapng" and lay.tail == len(data)
    assert [r.frame for r in lay.records if r.frame] == list(range(1, 37))


# -- the watchdog catches what it is there to catch, then the fixed-seed run ----------------------
# One worker process for the module (starting one costs seconds on a busy machine); a hang or
# memory verdict replaces it, so the checks that cause one come after the others.

@pytest.fixture(scope="module")
def checker() -> Iterator[M.Checker]:
    with M.Checker(cpu_limit=10, wall_limit=60, memory_cap_mb=300) as c:
        yield c


def test_checker_reports_a_lost_connection(checker: M.Checker) -> None:
    """A 'cut' that claims to keep the whole file but hands over nothing must be caught."""
    path = ZERO_RTT / "accepted.pcap"
    data = path.read_bytes()
    out = checker.check(M.Mutant("truncate", "", data[:24], cut=len(data), intact=len(data)), original=str(path))
    assert out.status == "invariant" and out.kept_expected >= 1


def test_fixed_seed_mutation_run(checker: M.Checker) -> None:
    """24 mutants per kind (264) of small real captures: no failure of any sort."""
    captures = small_captures()
    rng = random.Random(20261123)
    failures: list[str] = []
    kept = 0
    for i in range(24 * len(M.KINDS)):
        kind = M.KINDS[i % len(M.KINDS)]
        (path, keylog), (other, _) = rng.choice(captures), rng.choice(captures)
        mutant = M.mutate(path.read_bytes(), rng, kind=kind, other=other.read_bytes())
        cli = ("", "text", "json", "jsonl")[i % 4] if i % 3 == 0 else ""
        out = checker.check(mutant, original=str(path), keylog=keylog, cli=cli)
        kept += out.kept_expected
        if out.failed:
            failures.append(f"#{i} {kind} of {path.name} ({mutant.detail[:120]}), cli={cli or '-'}: "
                            f"{out.status} {out.error_type} {out.message}\n{out.traceback[-1500:]}")
    assert not failures, "\n".join(failures[:5])
    assert kept > 0  # the kept-before-damage invariant was exercised


def test_checker_reports_memory_over_the_cap(checker: M.Checker) -> None:
    data = (ZERO_RTT / "accepted.pcap").read_bytes()
    out = checker.check(M.Mutant("none", "", data), memory_cap_mb=1, confirm=False)  # any process holds more
    assert out.status == "memory" and out.peak_mb > 1


def test_checker_reports_a_runaway_as_a_hang(checker: M.Checker) -> None:
    data = (ZERO_RTT / "accepted.pcap").read_bytes()  # decrypting it takes more than 1 ms of CPU
    out = checker.check(M.Mutant("none", "", data), keylog=str(ZERO_RTT / "accepted_keylog.txt"),
                        cpu_limit=0.001, confirm=False)
    assert out.status == "hang" and "CPU" in out.message


# -- inputs that broke the pipeline once (tests/data/fuzz/README.md) ------------------------------

def _analyze(path: Path) -> tlsdissect.Report:
    with deadline(30):
        report = tlsdissect.analyze(path.read_bytes())
        report.to_json()
    return report


@pytest.mark.parametrize("name", sorted(p.name for p in FUZZ_DATA.glob("*.pcap*")))
def test_regression_input_gives_a_result_or_a_clear_error(name: str) -> None:
    try:
        _analyze(FUZZ_DATA / name)
    except tlsdissect.TlsDissectError as e:
        assert str(e)


def test_timestamp_past_year_9999_is_an_implausible_clock_not_a_crash() -> None:
    """One EPB whose timestamp is nanoseconds on a microsecond interface: tshark shows epoch
    1663090558365.644123 s (year ~54 670), past what a datetime holds. The certificate chain
    must be reported with its validity unjudged, as for any implausible capture clock."""
    report = _analyze(FUZZ_DATA / "epb-timestamp-past-year-9999.pcapng")
    (conn,) = report.connections
    assert conn.start_time == pytest.approx(1663090558365.644123)
    ids = [f["id"] for f in conn.extra["chain_findings"]]
    assert "capture_time_implausible" in ids
    assert not {"expired", "not_yet_valid"} & set(ids)
