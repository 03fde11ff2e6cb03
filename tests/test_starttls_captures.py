"""STARTTLS conversations in real captures: what the plain-text exchange came to.

The captures (tests/data/starttls/, made by build.py on loopback) hold real servers (aiosmtpd,
PostgreSQL 15, Dovecot, vsftpd, OpenLDAP's slapd, Prosody, MariaDB) and real clients (openssl
s_client -starttls, curl --ssl-reqd, psql, Python's smtplib, ldapsearch -ZZ, the mariadb
client). The expected values come from the peers' own words kept beside each capture
(``NAME.peers.txt``: each quoted string is asserted to be there) and from tshark's dissectors
(the frames of the request and the answer, the codes), run here as an oracle only.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional

import pytest

from tlsdissect import analyze

DATA = Path(__file__).resolve().parent / "data" / "starttls"

# name: (port, tshark protocol, expected starttls fields, outcome, cause, what the peers said)
CASES: dict[str, tuple[int, str, dict[str, Any], str, str, tuple[str, ...]]] = {
    "smtp_not_offered_smtplib": (2525, "smtp", dict(protocol="smtp", result="not_offered", offered=False,
                                                    requested=False, answer_code=None),
                                 "failed", "starttls_not_offered",
                                 ("smtplib: STARTTLS extension not supported by server.",)),
    "smtp_not_offered_s_client": (2526, "smtp", dict(protocol="smtp", result="refused", offered=False, requested=True,
                                                     answer_code="454", answer_text="TLS not available"),
                                  "failed", "starttls_not_offered",
                                  ("Didn't find STARTTLS in server response, trying anyway...",)),
    "smtp_refused_454_curl": (2527, "smtp", dict(protocol="smtp", result="refused", offered=True, requested=True,
                                                 answer_code="454",
                                                 answer_text="4.7.0 TLS not available due to local problem"),
                              "failed", "starttls_refused",
                              ("< 250-STARTTLS", "< 454 4.7.0 TLS not available due to local problem",
                               "curl: (64) STARTTLS denied, code 454")),
    "smtp_accepted_s_client": (2528, "smtp", dict(protocol="smtp", result="accepted", offered=True, requested=True,
                                                  answer_code="220", answer_text="Ready to start TLS"),
                               "established", "ok", ("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",)),
    "pgsql_n_require": (5433, "pgsql", dict(protocol="postgresql", result="not_offered", offered=False, requested=True,
                                            answer_code="N"),
                        "failed", "starttls_not_offered", ("server does not support SSL, but SSL was required",)),
    "pgsql_n_prefer": (5434, "pgsql", dict(protocol="postgresql", result="not_offered", offered=False, requested=True,
                                           answer_code="N"),
                       "failed", "starttls_not_offered", ("(1 row)",)),
    "pgsql_s_require": (5435, "pgsql", dict(protocol="postgresql", result="accepted", offered=True, requested=True,
                                            answer_code="S"),
                        "established", "ok", ("(1 row)",)),
    "imap_not_offered_s_client": (1143, "imap", dict(protocol="imap", result="refused", offered=False, requested=True,
                                                     answer_code="BAD", answer_text="TLS support isn't enabled."),
                                  "failed", "starttls_not_offered",
                                  ("Didn't find STARTTLS in server response, trying anyway...",)),
    "imap_not_offered_curl": (1144, "imap", dict(protocol="imap", result="not_offered", offered=False,
                                                 requested=False),
                              "failed", "starttls_not_offered", ("curl: (64) STARTTLS not available.",)),
    "pop3_not_offered_s_client": (1112, "pop", dict(protocol="pop3", result="refused", offered=None, requested=True,
                                                    answer_code="-ERR", answer_text="TLS support isn't enabled."),
                                  "failed", "starttls_refused", ("wrong version number",)),
    "imap_accepted_s_client": (1146, "imap", dict(protocol="imap", result="accepted", offered=True, requested=True,
                                                  answer_code="OK"),
                               "established", "ok", ("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",)),
    "ftp_refused_curl": (2121, "ftp", dict(protocol="ftp", result="refused", offered=None, requested=True,
                                           answer_code="530", answer_text="Please login with USER and PASS."),
                         "failed", "starttls_refused", ("> AUTH TLS", "< 530 Please login with USER and PASS.")),
    "ftp_accepted_s_client": (2122, "ftp", dict(protocol="ftp", result="accepted", requested=True, answer_code="234"),
                              "established", "ok", ("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",)),
    "ldap_refused_ldapsearch": (3389, "ldap", dict(protocol="ldap", result="refused", requested=True, answer_code="2",
                                                   answer_name="protocolError",
                                                   answer_text="unsupported extended operation"),
                                "failed", "starttls_refused",
                                ("ldap_start_tls: Protocol error (2)", "additional info: unsupported extended operation")),
    # slapd says yes (err=0), then ldapsearch refuses the self-signed certificate: the usual TLS diagnosis
    "ldap_accepted_ldapsearch": (3390, "ldap", dict(protocol="ldap", result="accepted", requested=True,
                                                    answer_code="0", answer_name="success"),
                                 "failed", "client_closed_without_alert",
                                 ("RESULT oid= err=0", "ldap_start_tls: Connect error (-11)")),
    "xmpp_not_offered_s_client": (5297, "xmpp", dict(protocol="xmpp", result="not_offered", offered=False,
                                                     requested=False),
                                  "failed", "starttls_not_offered", ("exit status 124",)),
    # Prosody's mod_tls without a certificate: <proceed/>, then handshake_failure to a ClientHello without SNI
    "xmpp_accepted_no_cert_s_client": (5298, "xmpp", dict(protocol="xmpp", result="accepted", offered=True,
                                                          requested=True, answer_code="proceed"),
                                       "failed", "no_shared_cipher", ("SSL alert number 40",)),
    "xmpp_accepted_s_client": (5299, "xmpp", dict(protocol="xmpp", result="accepted", offered=True, requested=True,
                                                  answer_code="proceed"),
                               "established", "ok", ("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",)),
    "mysql_not_offered_s_client": (3307, "mysql", dict(protocol="mysql", result="not_offered", offered=False,
                                                       requested=False),
                                   "failed", "starttls_not_offered", ("SSL handshake has read 104 bytes and written 0",)),
}
# The mariadb client with --ssl goes on in plain text when the greeting lacks CLIENT_SSL (MariaDB
# 10.11: --ssl asks, it does not require): no TLS asked for, so not reported without --all.
PLAIN = "mysql_not_offered_client"


def _conn(name: str, include_all: bool = False) -> Any:
    conns = analyze(str(DATA / f"{name}.pcap"), include_all=include_all).connections
    assert len(conns) == 1, [c.stream for c in conns]
    return conns[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_prelude_and_the_verdict_match_the_peers(name: str) -> None:
    _, _, fields, outcome, cause, said = CASES[name]
    peers = (DATA / f"{name}.peers.txt").read_text(errors="replace")
    for words in said:
        assert words in peers, f"{name}: the peers did not say {words!r}"
    c = _conn(name)
    st = c.starttls
    assert st is not None
    got = {k: getattr(st, k) for k in fields}
    assert got == fields
    assert c.outcome == outcome
    assert c.diagnosis.cause == cause
    d = c.to_dict()
    assert d["starttls"]["result"] == fields["result"] and d["outcome"] == outcome


def test_a_client_that_goes_on_in_plain_text_is_no_tls_failure() -> None:
    peers = (DATA / f"{PLAIN}.peers.txt").read_text(errors="replace")
    assert "exit status 0" in peers  # the query ran, unencrypted
    assert analyze(str(DATA / f"{PLAIN}.pcap")).connections == []
    c = _conn(PLAIN, include_all=True)
    assert c.starttls.result == "plaintext" and c.starttls.offered is False and not c.starttls.requested
    assert c.outcome == "not_tls" and c.diagnosis.cause == "not_tls"
    assert "plain-text MySQL session" in c.diagnosis.explanation


# -- tshark as the oracle for frames and codes --------------------------------------------------

_TSHARK_FIELDS = {
    "smtp": ("smtp.req.command", "smtp.response.code"),
    "ftp": ("ftp.request.command", "ftp.response.code"),
    "imap": ("imap.request.command", "imap.response.status"),
    "pop": ("pop.request.command", "pop.response.indicator"),
    "ldap": ("ldap.requestName", "ldap.resultCode"),
    "pgsql": ("pgsql.type", "tcp.payload"),
    "mysql": ("mysql.caps.sl", "mysql.version"),
}
_REQUESTS = {"smtp": ("STAR", "STARTTLS"), "ftp": ("AUTH",), "imap": ("STARTTLS",), "pop": ("STLS",),
             "ldap": ("1.3.6.1.4.1.1466.20037",), "pgsql": ("SSL request",)}


def _tshark(name: str, port: int, proto: str) -> list[tuple[int, str, str]]:
    fields = _TSHARK_FIELDS[proto]
    out = subprocess.run(
        ["tshark", "-r", str(DATA / f"{name}.pcap"), "-d", f"tcp.port=={port},{proto}", "-Y", f"{proto} or tcp.len > 0",
         "-T", "fields", "-e", "frame.number", "-e", fields[0], "-e", fields[1]],
        capture_output=True, text=True, timeout=120, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = (line.split("\t") + ["", ""])[:3]
        if not parts[0].isdigit():
            continue  # the rest of a "command" tshark read from a ClientHello sent after a refusal
        rows.append((int(parts[0]), parts[1], parts[2]))
    return rows


def _request_and_answer(rows: list[tuple[int, str, str]], proto: str) -> tuple[Optional[int], Optional[int], str]:
    """The last request for TLS and the first answer after it, as tshark reads them."""
    request = None
    for frame, req, _ in rows:
        if req and any(req.startswith(r) for r in _REQUESTS[proto]):
            request = frame
    if request is None:
        return None, None, ""
    for frame, req, answer in rows:
        if frame > request and answer and not req:
            return request, frame, answer
    return request, None, ""


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (the oracle)")
@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case[1] in _REQUESTS))
def test_frames_and_codes_agree_with_tshark(name: str) -> None:
    port, proto, fields, *_ = CASES[name]
    st = _conn(name).starttls
    request, answer, code = _request_and_answer(_tshark(name, port, proto), proto)
    assert st.frames.get("request") == request
    if proto == "pgsql":  # tshark names no answer byte: the payload of the server's next segment is it
        assert bytes.fromhex(code).decode() == st.answer_code
    elif proto == "ldap":
        assert code == st.answer_code
    elif answer is not None and proto != "imap":
        assert code == st.answer_code
    assert st.frames.get("answer") == answer


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (the oracle)")
def test_the_mysql_greeting_agrees_with_tshark() -> None:
    rows = [r for r in _tshark("mysql_not_offered_s_client", 3307, "mysql") if r[2]]
    frame, ssl_flag, version = rows[0]
    st = _conn("mysql_not_offered_s_client").starttls
    assert (st.frames["greeting"], st.offered, st.greeting) == (frame, ssl_flag == "1", version)


# -- the shared captures' STARTTLS conversations (other projects' test captures) ---------------

# (file under the shared folder, tcp.stream, server port, tshark protocol, our protocol)
SHARED = (
    ("Lekensteyn+wireshark-notes/tls/smtp-ssl.pcapng", 0, 25, "smtp", "smtp"),
    ("Lekensteyn+wireshark-notes/tls/imap-ssl.pcapng", 0, 143, "imap", "imap"),
    ("Lekensteyn+wireshark-notes/tls/pop-ssl.pcapng", 0, 110, "pop", "pop3"),
    ("Lekensteyn+wireshark-notes/tls/ldap-ssl.pcapng", 0, 389, "ldap", "ldap"),
    ("Lekensteyn+wireshark-notes/tls/pgsql-ssl.pcapng", 0, 5432, "pgsql", "postgresql"),
    ("arkime+arkime/tests/pcap/smtp-starttls.pcap", 0, 25, "smtp", "smtp"),
    ("ntop+nDPI/tests/cfgs/default/pcap/smtp-starttls.pcap", 1, 25, "smtp", "smtp"),
    ("ntop+nDPI/tests/cfgs/default/pcap/imap-starttls.pcap", 0, 143, "imap", "imap"),
    ("ntop+nDPI/tests/cfgs/default/pcap/pop3_stls.pcap", 0, 110, "pop", "pop3"),
    ("ntop+nDPI/tests/cfgs/default/pcap/ftp-start-tls.pcap", 0, 21, "ftp", "ftp"),
    ("ntop+nDPI/tests/cfgs/default/pcap/pgsql2.pcapng", 0, 60102, "pgsql", "postgresql"),
)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (the oracle)")
@pytest.mark.parametrize("rel,stream,port,proto,ours", SHARED)
def test_shared_starttls_conversations_agree_with_tshark(rel: str, stream: int, port: int, proto: str,
                                                         ours: str) -> None:
    from tests.shared_captures import shared_captures_dir

    path = shared_captures_dir() / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not in the shared captures")
    conn = next(c for c in analyze(str(path)).connections if c.stream == stream)
    st = conn.starttls
    assert st is not None and (st.protocol, st.result, st.requested) == (ours, "accepted", True)
    assert conn.outcome == "established"
    out = subprocess.run(
        ["tshark", "-r", str(path), "-d", f"tcp.port=={port},{proto}", "-Y", f"tcp.stream eq {stream} and tcp.len > 0",
         "-T", "fields", "-e", "frame.number", "-e", _TSHARK_FIELDS[proto][0], "-e", _TSHARK_FIELDS[proto][1]],
        capture_output=True, text=True, timeout=120, check=True).stdout
    rows = []
    for line in out.splitlines():
        parts = (line.split("\t") + ["", ""])[:3]
        if parts[0].isdigit():
            rows.append((int(parts[0]), parts[1], parts[2]))
    request, answer, code = _request_and_answer(rows, proto)
    assert (st.frames.get("request"), st.frames.get("answer")) == (request, answer)
    if proto in ("smtp", "ftp", "pop"):
        assert code == st.answer_code


def test_the_table_columns_and_the_zeek_fields_say_where_it_stopped(tmp_path: Path) -> None:
    """The DataFrame, --csv and ssl.log carry the prelude's result and the server's answer (issue 19):
    the values of CASES (the peers' words), for every capture at once."""
    import csv
    import os
    import sys

    import pandas as pd

    from tests.test_zeek_logs import read_log

    names = sorted(CASES)
    frames = [analyze(str(DATA / f"{n}.pcap")).to_dataframe() for n in names]
    for name, df in zip(names, frames):
        fields = CASES[name][2]
        (row,) = df.to_dict("records")
        assert row["starttls_protocol"] == fields["protocol"] and row["starttls_result"] == fields["result"], name
        want_code = fields.get("answer_code")
        assert (None if pd.isna(row["starttls_answer_code"]) else row["starttls_answer_code"]) == want_code, name
        if "answer_text" in fields:
            assert row["starttls_answer_text"] == fields["answer_text"], name
    both = pd.concat(frames, ignore_index=True)
    assert isinstance(both["starttls_result"].dtype, pd.CategoricalDtype)
    assert isinstance(both["starttls_protocol"].dtype, pd.CategoricalDtype)
    caps = [str(DATA / f"{n}.pcap") for n in names]
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "tlsdissect", "--csv", str(tmp_path / "t.csv"), "--zeek",
                          str(tmp_path / "z"), *caps], capture_output=True, text=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)}, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert [r["starttls_result"] for r in rows] == [CASES[n][2]["result"] for n in names]
    ssl = read_log(tmp_path / "z" / "ssl.log")[2]
    conn = read_log(tmp_path / "z" / "conn.log")[2]
    by_uid = {r["uid"]: r for r in ssl}
    for name, c in zip(names, conn):  # (conn.log has a line per connection, in order; ssl.log only TLS ones)
        fields = CASES[name][2]
        if c["uid"] in by_uid:
            r = by_uid[c["uid"]]
            assert r["tlsdissect_starttls_result"] == fields["result"], name
            code, text = fields.get("answer_code"), fields.get("answer_text")
            if code is None:
                assert r["tlsdissect_starttls_answer"] == "-", name
            elif text is not None:
                assert r["tlsdissect_starttls_answer"] == f"{code} {text}", name
            else:
                assert r["tlsdissect_starttls_answer"].split(" ")[0] == code, name

