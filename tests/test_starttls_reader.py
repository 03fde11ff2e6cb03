"""The STARTTLS reader on exchanges written from the RFCs' own examples (the refusals no loopback
server here gives: XMPP <failure/>, an LDAP 52 with its diagnosticMessage, a PostgreSQL
ErrorResponse, a MySQL error packet, greetings that refuse the session), cut into segments
anywhere, and on hostile input (bounded, never raising)."""

from __future__ import annotations

import struct

import pytest

from tlsdissect.results.starttls import StartTls
from tlsdissect.starttls.lines import MAX_LINE
from tlsdissect.starttls.reader import PRELUDE_BYTES, PreludeReader, worth_reporting

CLIENT, SERVER = 0, 1
HELLO = bytes.fromhex("160301002a010000260303") + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00"


def run(turns: list[tuple[int, bytes]], cut: int = 0, port: int = 25) -> StartTls:
    """Feed (direction, bytes) turns, each cut into ``cut``-byte segments (0: whole), frames from 1."""
    reader = PreludeReader()
    frame = 0
    for d, data in turns:
        pieces = [data[i:i + cut] for i in range(0, len(data), cut)] if cut else [data]
        for piece in pieces:
            frame += 1
            reader.data(d, piece, frame)
    result = reader.result(port)
    assert result is not None
    return result


CUTS = (0, 1, 7)


@pytest.mark.parametrize("cut", CUTS)
def test_xmpp_failure_rfc6120(cut: int) -> None:
    # RFC 6120 5.4.2.2: the server's <failure/> to <starttls/>
    st = run([(CLIENT, b"<?xml version='1.0'?><stream:stream to='im.example.com' version='1.0' "
                       b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"),
              (SERVER, b"<stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' version='1.0' "
                       b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
                       b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"),
              (CLIENT, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
              (SERVER, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")], cut, 5222)
    assert (st.protocol, st.result, st.offered, st.requested, st.answer_code) == (
        "xmpp", "refused", True, True, "failure")
    assert "starttls" in st.capabilities and "required" in st.capabilities


def test_xmpp_stream_error_refuses_the_session() -> None:
    # RFC 6120 4.9.3.6: host-unknown, with a text
    st = run([(CLIENT, b"<stream:stream to='example.net' version='1.0' xmlns='jabber:client' "
                       b"xmlns:stream='http://etherx.jabber.org/streams'>"),
              (SERVER, b"<stream:stream from='example.net' id='x' version='1.0' xmlns='jabber:client' "
                       b"xmlns:stream='http://etherx.jabber.org/streams'><stream:error><host-unknown "
                       b"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
                       b"no such host</text></stream:error></stream:stream>")])
    assert (st.result, st.answer_code, st.answer_text, st.requested) == ("refused", "host-unknown", "no such host", False)


def _ber(tag: int, body: bytes) -> bytes:
    return bytes([tag, len(body)]) + body


@pytest.mark.parametrize("cut", CUTS)
def test_ldap_starttls_refused_with_its_diagnostic_message(cut: int) -> None:
    # RFC 4511 4.12 / RFC 4513 3.1: ExtendedRequest [APPLICATION 23] { [0] requestName }
    request = _ber(0x30, _ber(0x02, b"\x01") + _ber(0x77, _ber(0x80, b"1.3.6.1.4.1.1466.20037")))
    # ExtendedResponse [APPLICATION 24] { resultCode 52 unavailable, matchedDN "", diagnosticMessage }
    response = _ber(0x30, _ber(0x02, b"\x01") + _ber(0x78, _ber(0x0A, b"\x34") + _ber(0x04, b"")
                                                     + _ber(0x04, b"Could not initialize TLS")))
    unbind = _ber(0x30, _ber(0x02, b"\x02") + b"\x42\x00")
    st = run([(CLIENT, request), (SERVER, response), (CLIENT, unbind)], cut, 389)
    assert (st.protocol, st.result, st.requested, st.answer_code, st.answer_name, st.answer_text) == (
        "ldap", "refused", True, "52", "unavailable", "Could not initialize TLS")
    assert st.frames["request"] < st.frames["answer"] < st.frames["quit"]


def test_postgresql_error_response_to_the_ssl_request() -> None:
    # ErrorResponse: 'E', int32 length, fields S/C/M, terminator
    body = b"SFATAL\x00C08P01\x00Mno pg_hba.conf entry\x00\x00"
    st = run([(CLIENT, struct.pack("!II", 8, 80877103)), (SERVER, b"E" + struct.pack("!I", 4 + len(body)) + body)],
             port=5432)
    assert (st.result, st.answer_code, st.answer_text) == ("refused", "08P01", "no pg_hba.conf entry")


@pytest.mark.parametrize("cut", CUTS)
def test_postgresql_gssenc_then_ssl_request(cut: int) -> None:
    # libpq with gssencmode=prefer: GSSENCRequest answered 'N', then the SSLRequest answered 'S'
    st = run([(CLIENT, struct.pack("!II", 8, 80877104)), (SERVER, b"N"), (CLIENT, struct.pack("!II", 8, 80877103)),
              (SERVER, b"S"), (CLIENT, HELLO)], cut, 5432)
    assert (st.result, st.answer_code, st.offered) == ("accepted", "S", True)


def test_mysql_error_packet_instead_of_the_greeting() -> None:
    message = b"Host '10.1.2.3' is not allowed to connect to this MariaDB server"
    payload = b"\xff" + struct.pack("<H", 1130) + message
    st = run([(SERVER, struct.pack("<I", len(payload))[:3] + b"\x00" + payload)], port=3306)
    assert (st.protocol, st.result, st.answer_code, st.answer_text) == ("mysql", "refused", "1130", message.decode())


@pytest.mark.parametrize("greeting,code", [(b"554 5.3.2 mail.example.org service closed\r\n", "554"),
                                           (b"421 4.3.2 Service not available\r\n", "421")])
def test_smtp_greeting_that_refuses_the_session(greeting: bytes, code: str) -> None:
    st = run([(SERVER, greeting)])
    assert (st.result, st.answer_code, st.requested) == ("refused", code, False)
    assert worth_reporting(st)


def test_imap_no_and_pop3_err_greeting() -> None:
    st = run([(SERVER, b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
              (CLIENT, b"a1 STARTTLS\r\n"), (SERVER, b"a1 NO [UNAVAILABLE] TLS temporarily unavailable\r\n")], port=143)
    assert (st.protocol, st.result, st.offered, st.answer_code, st.answer_text) == (
        "imap", "refused", True, "NO", "[UNAVAILABLE] TLS temporarily unavailable")
    st = run([(SERVER, b"-ERR too many connections\r\n")], port=110)
    assert (st.protocol, st.result, st.answer_code, st.answer_text) == ("pop3", "refused", "-ERR", "too many connections")


def test_smtp_pipelined_replies_answer_commands_in_order() -> None:
    st = run([(SERVER, b"220 mx ESMTP\r\n"), (CLIENT, b"EHLO a\r\nNOOP\r\nSTARTTLS\r\n"),
              (SERVER, b"250-mx\r\n250 STARTTLS\r\n250 ok\r\n220 go ahead\r\n"), (CLIENT, HELLO)])
    assert (st.result, st.offered, st.answer_code, st.answer_text) == ("accepted", True, "220", "go ahead")


def test_a_plain_session_is_not_worth_reporting() -> None:
    st = run([(SERVER, b"220 mx ESMTP\r\n"), (CLIENT, b"EHLO a\r\n"), (SERVER, b"250-mx\r\n250 STARTTLS\r\n"),
              (CLIENT, b"MAIL FROM:<a@b>\r\n")])
    assert st.result == "plaintext" and st.offered is True and not worth_reporting(st)


def test_ftp_feat_lists_auth_tls() -> None:
    st = run([(SERVER, b"220 ProFTPD Server\r\n"), (CLIENT, b"FEAT\r\n"),
              (SERVER, b"211-Features:\r\n AUTH TLS\r\n MDTM\r\n211 End\r\n"), (CLIENT, b"AUTH TLS\r\n"),
              (SERVER, b"234 AUTH TLS successful\r\n")], port=21)
    assert (st.protocol, st.result, st.offered, st.answer_code) == ("ftp", "accepted", True, "234")


# -- hostile and odd input -------------------------------------------------------------------

def test_unknown_bytes_and_tls_are_no_prelude() -> None:
    for first in (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08", HELLO, b"GET / HTTP/1.1\r\n\r\n",
                  b"200 news.example.org NNTP service ready\r\n"):
        reader = PreludeReader()
        reader.data(0, first, 1)
        assert reader.result(443) is None


def test_long_lines_are_cut_and_the_budget_holds() -> None:
    huge = b"250-" + b"A" * 100_000 + b"\r\n"
    st = run([(SERVER, b"220-" + b"x" * 3000 + b"\r\n220 hi\r\n"), (CLIENT, b"EHLO a\r\n"), (SERVER, huge)], cut=1000)
    assert st.greeting is not None and len(st.greeting) <= 300
    assert st.truncated and st.result == "incomplete"
    reader = PreludeReader()
    reader.data(1, b"220 ok\r\n", 1)
    for i in range(2000):
        reader.data(0, b"NOOP\r\n" * 10, i + 2)
    assert reader.read[0] == PRELUDE_BYTES and MAX_LINE == 1024


def test_capture_text_is_kept_exactly_and_never_raises() -> None:
    evil = "\x1b]0;owned\x07\u202e454 fake\r"
    st = run([(SERVER, b"220 mx\r\n"), (CLIENT, b"STARTTLS\r\n"), (SERVER, b"454 " + evil.encode() + b"\xff\xfe\r\n")])
    assert st.answer_text is not None and st.answer_text.startswith("\x1b]0;owned")  # escaped by the views, not here
    assert st.answer_text.endswith("\\xff\\xfe")
    for junk in (b"\x30\x84\xff\xff\xff\xff", b"<stream" + b"<" * 5000, b"* OK " + b"[CAPABILITY " * 500,
                 bytes(range(256)) * 20):
        for d in (0, 1):
            reader = PreludeReader()
            reader.data(d, junk, 1)
            reader.data(1 - d, junk, 2)
            reader.result(25)
