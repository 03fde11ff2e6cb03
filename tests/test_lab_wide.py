"""The wide labs' captures (captures/wide_* and wide2_*: HAProxy, lighttpd, stunnel, gnutls-serv, Go and
Node.js peers, relays; lab/wide.py; wide3_*: Java JSSE, NSS, Erlang/OTP, Botan, wolfSSL, mbedTLS,
lab/wide3.py; wide4_*: failure modes and peers no earlier lab used, lab/wide4.py; wide5_*: more
of them, lab/wide5.py; wide6_*: h2o, Caddy, lighttpd on GnuTLS, Squid, Ruby, PHP, ncat, wget2 and
the Python HTTP libraries, lab/wide6.py): what
tlsdissect must already read right from the bytes.

Not the diagnosis (lab/score.py measures that, and many of these causes are not in the
catalogue yet) but the facts under it, checked against what tshark decoded when the lab made
the capture (observed.tshark_alerts, with the key log where tshark needed it) and what the
scenario fixes (expected.version, expected.server_name, the outcome):

- every alert tshark saw on the connection: same frame, sender, level and code; without the
  key log, an encrypted TLS 1.2 alert is still an alert from that sender (its code unknown);
- no fatal alert tshark did not see;
- the version the ServerHello chose and the SNI the client sent;
- established for every connection the sidecar calls established, and not established where
  the handshake stopped before any Finished (the hello, the key exchange, or a fatal alert
  about the server certificate).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tlsdissect

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
# The first wide lab (wide_*, about a third held out), the second (wide2_*, lab/wide2.py: a
# held-out set as a whole, added after the rules were tuned on the first) and the third
# (wide3_*, lab/wide3.py: stacks never used before, held out as a whole) and the fourth
# (wide4_*, lab/wide4.py: failure modes never made before, held out as a whole) and the fifth
# (wide5_*, lab/wide5.py: revocation, PSK, STARTTLS, proxies, pinning; held out) and the sixth
# (wide6_*, lab/wide6.py: peers and failure modes none of the five used; held out) and the
# seventh (wide7_*, lab/wide7.py: zero windows, unanswered keep-alives, relays that alter or reset
# a connection with both legs captured, socat as a client; held out). Reading the
# facts (alerts, version, SNI) is checked on all of them; only the diagnosis is kept apart.
WIDE = sorted(p for p in CAPTURES.glob("wide*_*/expected.json")
              if p.parent.name.startswith(("wide_", "wide2_", "wide3_", "wide4_", "wide5_",
                                           "wide6_", "wide7_")))
# "frame 6 127.0.0.1:20720->127.0.0.1:56712 fatal no_application_protocol (120) [encrypted, ...]"
ALERT_LINE = re.compile(r"frame (\d+) (\S+)->(\S+) (\w+) \S+ \((\d+)\)( \[encrypted)?")
# "frame 24 127.0.0.1:21510->127.0.0.1:54294 encrypted alert (undecrypted)": a TLS 1.2 alert
# record tshark could not decrypt (no key log: the Botan, NSS and Java peers of wide3_* write none)
UNDECRYPTED_LINE = re.compile(r"frame (\d+) (\S+)->(\S+) encrypted alert \(undecrypted\)$")
BEFORE_FINISHED = ("client_hello", "server_hello", "key_exchange")


# Facts the third wide lab (held out) showed tlsdissect reading wrong, left for the lead to
# decide on: strict, so that a fix is noticed. (None left of the third's since the JSSE padded
# alert, 35 bytes, is read as below the smallest TLS 1.3 Finished record:
# tls/conclusions.min_finished_record.)
# The fourth (held out too): plain HTTP to a TLS port whose server closes without answering
# (HAProxy, Node.js) is no connection at all for tlsdissect today; the Apache-era capture, where
# mod_ssl answers with a plain-HTTP 400, is read as one.
_SILENT_TLS_PORT = ("plain HTTP to a TLS port whose server closes without a word: tlsdissect "
                    "reports no connection")
MISREAD_TODAY: dict[tuple[str, bool], str] = {
}


def _cases():
    for side in WIDE:
        reason = MISREAD_TODAY.get((side.parent.name, False))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(side, False, id=f"{side.parent.name}-nokeys", marks=marks)
        if (side.parent / "keylog.txt").exists():
            yield pytest.param(side, True, id=f"{side.parent.name}-keylog")


def _tshark_alerts(doc: dict) -> list[dict]:
    out = []
    for line in doc["observed"]["tshark_alerts"]:
        u = UNDECRYPTED_LINE.match(line)
        if u:
            out.append({"frame": int(u.group(1)), "src": u.group(2), "dst": u.group(3),
                        "level": None, "code": None, "encrypted": True})
            continue
        m = ALERT_LINE.match(line)
        assert m, line
        frame, src, dst, level, code, enc = m.groups()
        out.append({"frame": int(frame), "src": src, "dst": dst, "level": level,
                    "code": int(code), "encrypted": bool(enc)})
    return out


def test_the_wide_lab_is_there() -> None:
    first = [p for p in WIDE if p.parent.name.startswith("wide_")]
    assert len(first) >= 30
    held = [p for p in first if json.loads(p.read_text())["expected"]["held_out"]]
    assert len(first) // 4 <= len(held) <= len(first) // 2  # about a third held out
    second = [p for p in WIDE if p.parent.name.startswith("wide2_")]
    assert len(second) >= 12
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in second)
    third = [p for p in WIDE if p.parent.name.startswith("wide3_")]
    assert len(third) >= 25
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in third)
    # each under 200 KB: the third wide lab's captures are small handshakes
    assert all((p.parent / "capture.pcap").stat().st_size < 200_000 for p in third)
    fourth = [p for p in WIDE if p.parent.name.startswith("wide4_")]
    assert len(fourth) >= 30
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in fourth)
    # small too: the longest is a response cut by a firewall after 20 kB
    assert all((p.parent / "capture.pcap").stat().st_size < 200_000 for p in fourth)
    fifth = [p for p in WIDE if p.parent.name.startswith("wide5_")]
    assert len(fifth) >= 25
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in fifth)
    assert all((p.parent / "capture.pcap").stat().st_size < 100_000 for p in fifth)
    sixth = [p for p in WIDE if p.parent.name.startswith("wide6_")]
    assert len(sixth) >= 30
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in sixth)
    assert all((p.parent / "capture.pcap").stat().st_size < 100_000 for p in sixth)
    seventh = [p for p in WIDE if p.parent.name.startswith("wide7_")]
    assert len(seventh) >= 20
    assert all(json.loads(p.read_text())["expected"]["held_out"] for p in seventh)
    # the largest: a 400 kB download through a zero window that opens again
    assert all((p.parent / "capture.pcap").stat().st_size < 500_000 for p in seventh)


@pytest.mark.parametrize("sidecar,with_keys", list(_cases()))
def test_wide_capture_facts(sidecar: Path, with_keys: bool) -> None:
    doc = json.loads(sidecar.read_text())
    e = doc["expected"]
    folder = sidecar.parent
    report = tlsdissect.analyze(folder / "capture.pcap",
                                keylog=str(folder / "keylog.txt") if with_keys else None)
    want_stream = e.get("stream", 0)
    conn = next((c for c in report.connections if c.stream == want_stream), None)
    assert conn is not None, [c.stream for c in report.connections]

    assert conn.server_name == e["server_name"]
    if e["version"] is not None:
        assert conn.version == e["version"]

    ours = {(a.frame, a.sender): a for a in conn.alerts}
    seen = set()
    for t in _tshark_alerts(doc):
        if {t["src"], t["dst"]} != {conn.client, conn.server}:
            continue  # the other leg of a relay
        sender = "server" if t["src"] == conn.server else "client"
        seen.add((t["frame"], sender))
        a = ours.get((t["frame"], sender))
        if t["encrypted"] and (not with_keys or t["code"] is None):
            # TLS 1.3 hides an alert among application_data records; TLS 1.2 does not.
            if conn.version == "TLSv1.2":
                assert a is not None and a.encrypted, (t, conn.alerts)
            continue
        assert a is not None, (t, conn.alerts)
        assert (a.level, a.code) == (t["level"], t["code"]), (t, a)
    extra = [a for a in conn.alerts if a.fatal and (a.frame, a.sender) not in seen]
    assert not extra, extra

    if e["outcome"] == "established":
        assert conn.established
    stopped_early = e["failure_point"] in BEFORE_FINISHED or (
        e["failure_point"] == "server_certificate" and e["how"] == "alert"
        and e["alert"]["level"] == "fatal")
    if stopped_early:
        assert not conn.established


def test_score_reports_the_three_sets(capsys: pytest.CaptureFixture[str]) -> None:
    """lab/score.py (the figures quoted in docs/lab.md) runs on the committed captures and
    totals the tuning, held-out and Apache-era sets, without and with key logs."""
    import importlib.util
    import sys

    path = CAPTURES.parent / "lab" / "score.py"
    spec = importlib.util.spec_from_file_location("lab_score", path)
    assert spec and spec.loader
    score = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = score  # its dataclass looks its module up
    spec.loader.exec_module(score)
    assert score.main([]) == 0
    out = capsys.readouterr().out
    for s in ("tuning", "held_out", "apache"):
        assert re.search(rf"^{s}\s+nokeys\s+\d+", out, re.MULTILINE), s
        assert re.search(rf"^{s}\s+keys\s+\d+", out, re.MULTILINE), s
