"""The library's surface: analyze/iter_connections keywords, diagnosis.alert as an Alert, and the
DataFrame's columns and dtypes, checked against what the lab's peers and tshark say about each
capture (expected.json, tshark's fields, openssl's reading of the certificate tshark extracts)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import tlsdissect
from tlsdissect.pipeline.analyzer import Options, iter_shard
from tests.tshark_oracle import tshark_path

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "captures"
OPTION_NAMES = [f.name for f in dataclasses.fields(Options)]


def _expected(name: str) -> dict[str, Any]:
    doc = json.loads((LAB / name / "expected.json").read_text())
    assert not doc.get("held_out"), f"{name} is held out: not for tests"
    return doc["expected"]


# -- keyword parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("func", [tlsdissect.analyze, tlsdissect.iter_connections], ids=lambda f: f.__name__)
def test_every_option_is_a_documented_keyword_parameter(func: Any) -> None:
    params = inspect.signature(func).parameters
    defaults = Options()
    for name in OPTION_NAMES:
        p = params.get(name)
        assert p is not None, f"{func.__name__} lacks the option {name}"
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, name
        assert p.annotation is not inspect.Parameter.empty, name
        assert p.default == getattr(defaults, name), name
        assert f"\n        {name}: " in (func.__doc__ or ""), f"{func.__name__}'s docstring does not explain {name}"
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()), "**options hides the options"


@pytest.mark.parametrize("func", [tlsdissect.analyze, tlsdissect.iter_connections], ids=lambda f: f.__name__)
def test_an_unknown_keyword_is_a_type_error_naming_it(func: Any) -> None:
    cap = LAB / "tls12_success" / "capture.pcap"
    with pytest.raises(TypeError, match="key_log"):
        func(cap, key_log="keys.txt")  # (keylog misspelt)


def test_the_internal_shard_entry_names_an_unknown_option_too() -> None:
    with pytest.raises(TypeError, match="'key_log'.*keylog"):
        iter_shard(LAB / "tls12_success" / "capture.pcap", (0, 1), key_log="keys.txt")


def test_the_options_do_what_they_say() -> None:
    """keylog in each accepted form (a path, a str, a list, a KeyLog) decrypts TLS 1.3: the
    server's certificate_required that expected.json records (the server's own log saw it);
    diagnose=False leaves the diagnosis out; an options dict, as the CLI passes it, still works."""
    from tlsdissect.keys.keylog import KeyLog

    folder = LAB / "tls13_client_cert_missing"
    want = _expected(folder.name)["alert"]
    keys = folder / "keylog.txt"
    cap = folder / "capture.pcap"
    for keylog in (keys, str(keys), [str(keys)], KeyLog.from_file(keys), [KeyLog.from_file(keys)]):
        (conn,) = tlsdissect.analyze(cap, keylog=keylog)
        assert conn.diagnosis.alert is not None, keylog
        assert (conn.diagnosis.alert.name, conn.diagnosis.alert.code) == (want["name"], want["code"]), keylog
    (conn,) = tlsdissect.analyze(cap)
    assert conn.diagnosis.alert is None or conn.diagnosis.alert.code is None  # encrypted without keys
    (conn,) = tlsdissect.iter_connections(cap, diagnose=False)
    assert conn.diagnosis is None
    options: dict[str, Any] = {"include_all": False, "keylog": [str(keys)], "ca_file": None}
    (conn,) = tlsdissect.iter_connections(cap, **options)
    assert conn.diagnosis.alert.name == want["name"]


def test_ca_file_checks_the_chain_against_the_anchor() -> None:
    # The lab's server chain ends at the lab root (captures/README.md); other-ca.crt is another CA.
    cap = LAB / "tls12_success" / "capture.pcap"
    (conn,) = tlsdissect.analyze(cap)
    assert conn.extra["trust"] == "not_checked"
    (conn,) = tlsdissect.analyze(cap, ca_file=LAB / "_trust" / "lab-root-ca.crt")
    assert conn.extra["trust"] == "trusted"
    (conn,) = tlsdissect.analyze(cap, ca_file=str(LAB / "_trust" / "other-ca.crt"))
    assert conn.extra["trust"] == "untrusted_root"


# -- diagnosis.alert --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tls12_missing_intermediate_openssl", "tls12_no_shared_cipher",
                                  "tls12_expired_curl"])
def test_the_deciding_alert_is_an_alert_and_its_json_keeps_its_form(name: str) -> None:
    want = _expected(name)["alert"]  # what tshark and the peers saw (expected.json)
    report = tlsdissect.analyze(LAB / name / "capture.pcap")
    (conn,) = report
    a = conn.diagnosis.alert
    assert isinstance(a, tlsdissect.Alert)
    assert a in conn.alerts  # one of the connection's alerts, not a copy that could differ
    assert (a.sender, a.level, a.code, a.name, a.encrypted) == (
        want["sender"], want["level"], want["code"], want["name"], want["encrypted"])
    assert a.hex == f"0x{want['code']:02x}" and a.fatal and not a.probable
    # The JSON form docs/schema.md gives for diagnosis.alert, in this order, and nothing else.
    form = report.to_dict()["connections"][0]["diagnosis"]["alert"]
    assert list(form) == ["code", "hex", "name", "level", "sender", "encrypted", "frame"]
    assert form == {"code": want["code"], "hex": f"0x{want['code']:02x}", "name": want["name"],
                    "level": want["level"], "sender": want["sender"], "encrypted": want["encrypted"],
                    "frame": a.frame}
    assert f"[{want['name']} 0x{want['code']:02x}]" in conn.diagnosis.verdict


def test_a_probable_alert_is_an_alert_marked_probable() -> None:
    """TLS 1.3 without keys: the server's certificate_required is a 19-byte protected record
    (expected.json: encrypted), read as a probable alert with no code."""
    name = "tls13_client_cert_missing"
    want = _expected(name)["alert"]
    report = tlsdissect.analyze(LAB / name / "capture.pcap")
    (conn,) = report
    a = conn.diagnosis.alert
    assert isinstance(a, tlsdissect.Alert) and a.sender == want["sender"] and a.encrypted
    if a.probable:
        assert a.code is None and a.name is None and a.length > 2
        form = report.to_dict()["connections"][0]["diagnosis"]["alert"]
        assert form["probable"] is True and form["code"] is None and form["frame"] == a.frame
    else:  # an encrypted alert record the TLS stage recognised as one
        assert a in conn.alerts


# -- the DataFrame ----------------------------------------------------------------------------

def test_the_dataframe_columns_are_the_documented_ones() -> None:
    from tlsdissect.results.model import DATAFRAME_COLUMNS

    doc = (ROOT / "docs" / "schema.md").read_text()
    section = doc[doc.index("## DataFrame"):]
    section = section[:section.index("### The Dask DataFrame")]  # (its own table: to_dataframe's columns and one more)
    documented = [name for line in section.splitlines() if line.startswith("| `")
                  for name in [c.strip(" `") for c in line.split("|")[1].split(",")]]
    assert documented == list(DATAFRAME_COLUMNS)


def _tshark_stream(path: Path, stream: int) -> dict[str, Any]:
    """tshark's facts about one tcp.stream: first and last frame times, the ALPN protocol in
    the ServerHello, the server's first certificate (DER) and the alert codes in clear."""
    out = subprocess.run(
        [tshark_path() or "tshark", "-n", "-r", str(path), "-o", "tls.keylog_file:", "-Y", f"tcp.stream == {stream}",
         "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=;",
         "-e", "frame.time_epoch", "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_alpn_str",
         "-e", "tls.handshake.certificate", "-e", "tls.alert_message.desc"],
        capture_output=True, text=True, check=True, timeout=120).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    alpn = cert = None
    alerts: list[int] = []
    for _t, types, alpn_str, certs, descs in rows:
        kinds = types.split(";") if types else []
        if "2" in kinds and alpn is None:  # the ServerHello's ALPN (the ClientHello's list is elsewhere)
            alpn = alpn_str or None
        if "11" in kinds and cert is None and certs:
            cert = bytes.fromhex(certs.split(";")[0].replace(":", ""))
        alerts += [int(d) for d in descs.split(";") if d]
    return {"start": rows[0][0], "end": rows[-1][0], "alpn": alpn, "cert": cert, "alerts": alerts}


def _openssl_reads(der: bytes) -> dict[str, Any]:
    """openssl's reading of a certificate: subject and issuer (RFC 2253) and notAfter."""
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-issuer", "-enddate",
                          "-nameopt", "RFC2253"], input=der, capture_output=True, check=True, timeout=60).stdout
    fields = dict(line.split("=", 1) for line in out.decode().splitlines())
    not_after = datetime.strptime(fields["notAfter"], "%b %d %H:%M:%S %Y GMT").replace(tzinfo=timezone.utc)
    return {"subject": fields["subject"], "issuer": fields["issuer"], "not_after": not_after}


def _epoch_ns(text: str) -> int:
    """tshark's frame.time_epoch ('1795453537.307713000') as integer nanoseconds, exactly."""
    whole, _, frac = text.partition(".")
    return int(whole) * 10**9 + int((frac + "000000000")[:9])


def _value(cell: Any) -> Any:
    """A DataFrame cell with pandas' missing values (None, NaN, NaT) as None."""
    import pandas as pd

    return None if pd.isna(cell) else cell


DATAFRAME_CASES = ["tls12_success", "tls12_missing_intermediate_openssl", "tls12_expired_curl",
                   "tls12_hostname_mismatch_curl", "tls12_no_shared_cipher", "tls13_success"]


@pytest.mark.parametrize("name", DATAFRAME_CASES)
def test_the_dataframe_row_says_what_the_peers_and_tshark_saw(name: str) -> None:
    pd = pytest.importorskip("pandas")
    if tshark_path() is None or shutil.which("openssl") is None:
        pytest.skip("needs tshark and openssl as oracles")
    want = _expected(name)
    cap = LAB / name / "capture.pcap"
    df = tlsdissect.analyze(str(cap)).to_dataframe()
    assert len(df) == 1
    row = df.iloc[0]
    ts = _tshark_stream(cap, int(row["stream"]))

    assert row["capture"] == str(cap)
    # What the peers did (expected.json, from the client's and the server's own output).
    assert row["outcome"] == want["outcome"]
    assert row["cause"] == want["cause"]
    assert _value(row["aborted_by"]) == want["aborted_by"]
    assert _value(row["failure_point"]) == want["failure_point"]
    assert _value(row["server_name"]) == want["server_name"] and _value(row["version"]) == want["version"]
    alert = want.get("alert")
    if alert and not alert["encrypted"]:
        assert row["last_alert"] == alert["name"]
        assert ts["alerts"][-1] == alert["code"]  # tshark's last alert in clear is the same one
    elif not ts["alerts"]:
        assert _value(row["last_alert"]) is None
    assert row["confidence"] in ("certain", "likely", "possible")
    # What tshark reads in the packets: the times of the stream's first and last frame, to the
    # nanosecond (the capture has microseconds), and the protocol the ServerHello selected.
    assert row["start_time"] == pd.Timestamp(_epoch_ns(ts["start"]), unit="ns", tz="UTC")
    assert row["end_time"] == pd.Timestamp(_epoch_ns(ts["end"]), unit="ns", tz="UTC")
    assert row["duration"] == pd.Timedelta(_epoch_ns(ts["end"]) - _epoch_ns(ts["start"]), unit="ns")
    assert _value(row["alpn"]) == ts["alpn"]
    # The leaf certificate tshark extracts, as openssl reads it (none in clear in TLS 1.3).
    if ts["cert"] is None:
        assert _value(row["server_cert_subject"]) is None and pd.isna(row["server_cert_not_after"])
    else:
        cert = _openssl_reads(ts["cert"])
        assert row["server_cert_subject"] == cert["subject"]
        assert row["server_cert_issuer"] == cert["issuer"]
        assert row["server_cert_not_after"] == pd.Timestamp(cert["not_after"])


def test_the_dataframe_dtypes_survive_concatenation() -> None:
    """A table of several captures (the notebook's) keeps its datetimes and categoricals."""
    pd = pytest.importorskip("pandas")
    frames = [tlsdissect.analyze(LAB / n / "capture.pcap").to_dataframe() for n in DATAFRAME_CASES]
    table = pd.concat(frames, ignore_index=True)
    dtypes = {c: str(t) for c, t in table.dtypes.items()}
    assert dtypes["start_time"] == dtypes["end_time"] == "datetime64[ns, UTC]"
    assert dtypes["duration"] == "timedelta64[ns]"
    assert dtypes["server_cert_not_after"] == "datetime64[us, UTC]"
    for col in ("outcome", "confidence", "aborted_by", "cause", "failure_point"):
        assert dtypes[col] == "category", col
    assert list(table["outcome"].cat.categories) == ["established", "failed", "incomplete", "not_tls"]
    assert set(table["cause"].dropna()) == {_expected(n)["cause"] for n in DATAFRAME_CASES}
    assert dtypes["stream"] == dtypes["first_frame"] == "int64"
    assert dtypes["established"] == dtypes["resumed"] == "bool"
    assert table["capture"].nunique() == len(DATAFRAME_CASES)
    assert (table["outcome"] == "failed").sum() == sum(
        _expected(n)["outcome"] == "failed" for n in DATAFRAME_CASES)


def test_an_empty_report_has_the_same_dtypes() -> None:
    pytest.importorskip("pandas")
    from tlsdissect.results.model import Report

    empty = Report(capture="none").to_dataframe()
    full = tlsdissect.analyze(LAB / "tls12_success" / "capture.pcap").to_dataframe()
    assert len(empty) == 0
    same = ("stream", "first_frame", "established", "resumed", "start_time", "end_time", "duration",
            "server_cert_not_after", "outcome", "confidence", "aborted_by")
    assert {c: str(empty[c].dtype) for c in same} == {c: str(full[c].dtype) for c in same}


def test_the_dataframe_vocabularies_are_the_diagnosis_s() -> None:
    """The fixed categories of cause and failure_point are the catalogue's ids and the alert
    model's phases (plus tcp_connect, where no alert travels); a value outside them is kept."""
    pd = pytest.importorskip("pandas")
    from tlsdissect.diagnosis.alerts import PHASES
    from tlsdissect.diagnosis.causes import CAUSES
    from tlsdissect.diagnosis.verdict import FAILURE_POINTS
    from tlsdissect.results.model import DATAFRAME_CATEGORIES, Report

    assert FAILURE_POINTS == ("tcp_connect", *PHASES)
    assert DATAFRAME_CATEGORIES["cause"] == list(CAUSES)
    report = tlsdissect.analyze(LAB / "tls12_success" / "capture.pcap")
    (conn,) = report
    conn.diagnosis.cause = "a_cause_from_the_future"
    df = Report(capture="x", connections=[conn]).to_dataframe()
    assert df["cause"].iloc[0] == "a_cause_from_the_future" and str(df["cause"].dtype) == "category"
    assert not pd.isna(df["outcome"].iloc[0])
