"""LDAP (RFC 4511; StartTLS: RFC 4513 section 3, the extended operation 1.3.6.1.4.1.1466.20037).

Each direction is a sequence of BER-encoded LDAPMessages: SEQUENCE { messageID, protocolOp, ... }.
The client's ExtendedRequest ([APPLICATION 23]) naming the StartTLS OID is answered by an
ExtendedResponse ([APPLICATION 24]) whose resultCode 0 means TLS follows; any other code
refuses, with the server's diagnosticMessage. A root DSE entry read before it lists the
server's ``supportedExtension`` values: the OID among them means StartTLS is offered.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.starttls.exchange import Exchange, looks_like_tls, text

STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
MAX_MESSAGE = 16384  # bytes of one LDAPMessage waited for (the reader reads less)
_BIND, _UNBIND, _SEARCH, _ENTRY, _EXTENDED_REQUEST, _EXTENDED_RESPONSE = 0x60, 0x42, 0x63, 0x64, 0x77, 0x78
# Operations a client may send before StartTLS without going on with its business.
_NEUTRAL_REQUESTS = frozenset((_SEARCH, 0x50))  # a search (the root DSE), an abandon
# RFC 4511 section 4.1.9's resultCode names (and RFC 4513's for StartTLS): what the number means.
RESULT_CODES: dict[int, str] = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 4: "sizeLimitExceeded",
    7: "authMethodNotSupported", 8: "strongerAuthRequired", 10: "referral", 11: "adminLimitExceeded",
    12: "unavailableCriticalExtension", 13: "confidentialityRequired", 14: "saslBindInProgress",
    32: "noSuchObject", 48: "inappropriateAuthentication", 49: "invalidCredentials",
    50: "insufficientAccessRights", 51: "busy", 52: "unavailable", 53: "unwillingToPerform", 54: "loopDetect",
    80: "other",
}


def tlv(buf: bytes, pos: int) -> Optional[tuple[int, int, int]]:
    """(tag, start of content, end of content) of the BER element at ``pos``; None when it is
    not complete in ``buf`` or its length is not one BER allows here."""
    if pos + 2 > len(buf):
        return None
    tag, first = buf[pos], buf[pos + 1]
    start = pos + 2
    if first & 0x80:
        n = first & 0x7F
        if n == 0 or n > 3 or start + n > len(buf):
            return None
        length = int.from_bytes(buf[start:start + n], "big")
        start += n
    else:
        length = first
    end = start + length
    return (tag, start, end) if end <= len(buf) else None


def message_start(buf: bytes) -> Optional[tuple[int, int]]:
    """(messageID, protocolOp tag) when ``buf`` starts like an LDAPMessage, else None."""
    if len(buf) < 2 or buf[0] != 0x30:
        return None
    first = buf[1]
    if first & 0x80 and not 1 <= first & 0x7F <= 3:
        return None
    pos = 2 + (first & 0x7F if first & 0x80 else 0)
    msgid = tlv(buf, pos)
    if msgid is None or buf[pos] != 0x02 or not 1 <= msgid[2] - msgid[1] <= 4 or msgid[2] >= len(buf):
        return None
    op = buf[msgid[2]]
    if not 0x40 <= op <= 0x7F:
        return None
    return int.from_bytes(buf[msgid[1]:msgid[2]], "big"), op


class Ldap(Exchange):
    protocol = "ldap"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.bufs = (bytearray(), bytearray())
        self.message_id: Optional[int] = None  # the StartTLS request's

    def feed(self, d: int, data: bytes, frame: int) -> None:
        if d != self.server and looks_like_tls(data):
            self.mark("tls_after_refusal" if self.accepted is False else "tls_without_answer", frame)
            self.done = True
            return
        buf = self.bufs[d]
        buf += data
        while buf and not self.done:
            whole = tlv(bytes(buf[:MAX_MESSAGE]), 0)
            if whole is None:
                if len(buf) >= MAX_MESSAGE or buf[:1] != b"\x30":
                    self.done = True  # not LDAP framing, or a message past what is read
                return
            message = bytes(buf[:whole[2]])
            del buf[:whole[2]]
            self._message(d, message, whole[1], frame)

    def _message(self, d: int, msg: bytes, start: int, frame: int) -> None:
        msgid = tlv(msg, start)
        if msgid is None or msg[start] != 0x02:
            return
        op = tlv(msg, msgid[2])
        if op is None:
            return
        number = int.from_bytes(msg[msgid[1]:msgid[2]], "big")
        tag, content = msg[msgid[2]], msg[op[1]:op[2]]
        if d == self.server:
            self._server_op(tag, number, content, frame)
        else:
            self._client_op(tag, number, content, frame)

    def _client_op(self, tag: int, number: int, content: bytes, frame: int) -> None:
        if self.accepted is False:
            self.mark("quit" if tag == _UNBIND else "plaintext", frame)
            self.done = True
        elif tag == _EXTENDED_REQUEST:
            name = tlv(content, 0)
            if name is not None and content[0] == 0x80 and content[name[1]:name[2]] == STARTTLS_OID:
                self.message_id = number
                self.request(frame)
        elif tag == _UNBIND:
            self.mark("quit", frame)
            self.done = True
        elif tag not in _NEUTRAL_REQUESTS and not self.requested:
            self.went_on_in_plain_text(frame)

    def _server_op(self, tag: int, number: int, content: bytes, frame: int) -> None:
        if tag == _ENTRY and b"supportedextension" in content.lower():
            self.capability_list(["supportedExtension"], STARTTLS_OID in content, frame)
        elif tag == _EXTENDED_RESPONSE and (number == self.message_id or number == 0):
            fields: list[bytes] = []
            pos = 0
            while len(fields) < 3:
                part = tlv(content, pos)
                if part is None:
                    break
                fields.append(content[part[1]:part[2]])
                pos = part[2]
            if not fields or content[:1] != b"\x0a":
                return
            code = int.from_bytes(fields[0][:4], "big")
            self.answer(str(code), text(fields[2]) if len(fields) > 2 else "", code == 0, frame)
            self.answer_name = RESULT_CODES.get(code)
