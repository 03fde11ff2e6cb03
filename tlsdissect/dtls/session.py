"""One DTLS association read from its datagrams: a sans-I/O state machine fed datagrams in
capture order (``datagram``), summed up by ``result``.

Who is the client: the sender of a ClientHello; failing that, the side that did not send a
server's message (ServerHello, HelloVerifyRequest, Certificate ...); failing that, the side of
the first datagram. Records are read per direction (``records``), handshake fragments of epoch 0
put back together (``messages``), and the whole messages parsed by the TLS stage's parsers
(``hellos`` for the DTLS forms). Records of a later epoch are encrypted: their type, epoch and
frame still say when each side changed keys, finished, and sent data or an alert. With a key
log's master secret (``CLIENT_RANDOM``), the encrypted alerts are opened (dtls.protection) and
read like alerts in clear: a close_notify after the handshake is a close, not a failure.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

from tlsdissect.dtls.association import DtlsAlert, DtlsAssociation, Failure
from tlsdissect.dtls.hellos import parse_dtls_client_hello, parse_hello_verify_request
from tlsdissect.dtls.messages import Budget, FragmentError, HandshakeMessage, MessageAssembler, fragments
from tlsdissect.dtls.protection import DtlsRecordOpener
from tlsdissect.dtls.records import (
    CT_ALERT, CT_APPLICATION_DATA, CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE, DTLS_1_3, DtlsRecord, parse_datagram)
from tlsdissect.errors import ParseError
from tlsdissect.tls.handshake import message_name, parse_certificate, parse_server_hello

# Handshake types only a server sends (hello_request, server_hello, hello_verify_request,
# certificate_request, server_key_exchange, server_hello_done, new_session_ticket).
SERVER_MESSAGES = frozenset((0, 2, 3, 4, 12, 13, 14))
CLIENT_MESSAGES = frozenset((1, 16))
MAX_MESSAGES_LISTED = 64
MAX_ALERTS = 32
MAX_EVENTS = 256  # handshake messages, and alerts, remembered per association
# The message types whose bodies are kept for result() to parse (ClientHello, ServerHello,
# HelloVerifyRequest, Certificate), at most MAX_BODIES of each type per direction; the others
# are remembered by type and length only (memory: a few messages' bytes, not MAX_EVENTS').
PARSED_TYPES = frozenset((1, 2, 3, 11))
MAX_BODIES = 4
MAX_PROBLEMS = 20
MAX_KEPT_ALERT_RECORD = 256  # bytes of an encrypted alert record kept to open with a key log (an alert is ~ 30-100)

# A copy of a datagram this soon after it is the same frame captured twice (as tcp.stall reads
# TCP), not a flight resent when the retransmission timer ran out (RFC 6347 §4.2.4.1: 1 s at first).
DUPLICATE_SECONDS = 0.001


class _Side:
    """One direction's state."""

    def __init__(self, budget: Optional[Budget]) -> None:
        self.assembler = MessageAssembler(budget)
        self.epoch = 0
        self.datagrams = 0
        self.last_frame: Optional[int] = None
        self.last_time = 0.0
        self.hello_sends = 0  # datagrams carrying the start of the first ClientHello
        # The datagrams, since the last one with a new handshake fragment, whose handshake
        # fragments were all already held (a flight sent again): how many, the first and last frame.
        self.resends = 0
        self.first_resend = 0
        self.last_resend = 0
        self.sent_at = 0.0  # when the flight was last sent (its first datagram, or a resend)
        # The flight being sent: the (message_seq, offset) of its first fragment, and how many
        # datagrams the other side had sent when it began (a new flight follows an answer).
        self.flight_first: Optional[tuple[int, int]] = None
        self.flight_other_count = -1


class DtlsSession:
    """Fed one UDP flow's datagrams in capture order (direction "a" = the first datagram's sender)."""

    def __init__(self, a: str, b: str, frame: int, ts: float, budget: Optional[Budget] = None,
                 keylog: Any = None) -> None:
        self.keylog = keylog  # keys.keylog.KeyLog: encrypted alerts are opened with its master secret
        self.endpoints = {"a": a, "b": b}
        self.sides = {"a": _Side(budget), "b": _Side(budget)}
        self.first_frame, self.first_time = frame, ts
        self.last_frame, self.last_time = frame, ts
        self.client_dir: Optional[str] = None  # "a" or "b" once a message says who is the client
        self.record_version: Optional[int] = None
        self.first_hello_seq: Optional[int] = None  # the message_seq of the first ClientHello
        self.problems: list[str] = []
        # What the session found, by direction, in capture order; roles are applied in result().
        # Bounded: messages and alerts (each kind at most MAX_EVENTS), other kinds once per direction.
        self.events: list[tuple[str, str, int, float, Any]] = []  # (kind, direction, frame, time, value)
        self.counts: dict[str, int] = {}
        self.firsts: set[tuple[str, str]] = set()
        self.bodies_kept: dict[tuple[str, int], int] = {}  # (direction, msg_type) -> bodies kept

    # -- feeding -----------------------------------------------------------------------------

    def datagram(self, direction: str, frame: int, ts: float, data: bytes) -> None:
        side = self.sides[direction]
        side.datagrams += 1
        side.last_frame, side.last_time = frame, ts
        self.last_frame, self.last_time = frame, ts
        records, problem = parse_datagram(data, side.epoch)
        if problem is not None:
            self._problem(f"frame {frame}: {problem}")
        new_fragments = old_fragments = 0
        first: Optional[tuple[int, int]] = None  # the datagram's first handshake fragment
        for rec in records:
            if self.record_version is None and rec.version is not None:
                self.record_version = rec.version
            if rec.epoch > side.epoch and not rec.unified:
                side.epoch = rec.epoch
            elif rec.unified and rec.epoch > side.epoch:
                side.epoch = rec.epoch
            if rec.content_type == CT_HANDSHAKE and not rec.protected:
                new, old, key = self._handshake(direction, frame, ts, rec)
                new_fragments, old_fragments = new_fragments + new, old_fragments + old
                first = first or key
            else:
                self._other_record(direction, frame, ts, rec)
        other_count = self.sides["b" if direction == "a" else "a"].datagrams
        if old_fragments and not new_fragments:
            if first == side.flight_first and ts - side.sent_at < DUPLICATE_SECONDS:
                pass  # the same datagram captured twice (two interfaces, a mirror), not a resend
            elif first == side.flight_first:  # the flight sent again from its start: one more send
                side.sent_at = ts
                if not side.resends:
                    side.first_resend = frame
                side.resends += 1
            if side.resends:
                side.last_resend = frame
        elif new_fragments:
            side.resends = 0
            side.sent_at = ts
            if side.flight_other_count != other_count:
                side.flight_first, side.flight_other_count = first, other_count

    def _problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def _handshake(self, direction: str, frame: int, ts: float,
                   rec: DtlsRecord) -> tuple[int, int, Optional[tuple[int, int]]]:
        """(new, already held) fragments of a plaintext handshake record, and the (message_seq,
        offset) of its first."""
        assembler = self.sides[direction].assembler
        new = old = 0
        first: Optional[tuple[int, int]] = None
        try:
            for frag in fragments(rec.fragment):
                first = first or (frag.message_seq, frag.offset)
                if frag.msg_type == 1 and frag.offset == 0:
                    if self.first_hello_seq is None:
                        self.first_hello_seq = frag.message_seq
                    if frag.message_seq == self.first_hello_seq:
                        self.sides[direction].hello_sends += 1
                before = assembler.retransmitted
                message = assembler.add(frag)
                if assembler.retransmitted > before:
                    old += 1
                else:
                    new += 1
                if message is not None:
                    self._message(direction, frame, ts, message)
        except FragmentError as e:
            self._problem(f"frame {frame}: {e}")
        return new, old, first

    def _event(self, kind: str, direction: str, frame: int, ts: float, value: Any) -> None:
        if kind in ("message", "alert"):
            n = self.counts.get(kind, 0)
            if n >= MAX_EVENTS:
                return
            self.counts[kind] = n + 1
        elif (kind, direction) in self.firsts:
            return
        else:
            self.firsts.add((kind, direction))
        self.events.append((kind, direction, frame, ts, value))

    def _message(self, direction: str, frame: int, ts: float, m: HandshakeMessage) -> None:
        if self.client_dir is None:
            if m.msg_type in CLIENT_MESSAGES:
                self.client_dir = direction
            elif m.msg_type in SERVER_MESSAGES:
                self.client_dir = "b" if direction == "a" else "a"
        key = (direction, m.msg_type)
        kept = self.bodies_kept.get(key, 0)
        if m.msg_type in PARSED_TYPES and kept < MAX_BODIES:
            self.bodies_kept[key] = kept + 1
            self._event("message", direction, frame, ts, (m, len(m.body)))
        else:
            self._event("message", direction, frame, ts, (HandshakeMessage(m.msg_type, m.message_seq, b""), len(m.body)))

    def _other_record(self, direction: str, frame: int, ts: float, rec: DtlsRecord) -> None:
        if rec.content_type == CT_CHANGE_CIPHER_SPEC:
            self._event("ccs", direction, frame, ts, None)
        elif rec.content_type == CT_ALERT:
            if rec.protected:
                kept = rec if self.keylog is not None and len(rec.fragment) <= MAX_KEPT_ALERT_RECORD else None
                self._event("alert", direction, frame, ts, (rec.epoch, None, None, kept))
            else:
                body = rec.fragment
                if len(body) < 2:
                    self._problem(f"frame {frame}: an alert record of {len(body)} byte(s)")
                for i in range(0, len(body) - 1, 2):
                    self._event("alert", direction, frame, ts, (rec.epoch, body[i], body[i + 1], None))
        elif rec.content_type == CT_HANDSHAKE:  # protected: a Finished (or a later message)
            self._event("finished", direction, frame, ts, rec.epoch)
        elif rec.content_type == CT_APPLICATION_DATA and rec.epoch > 0:
            self._event("application_data", direction, frame, ts, rec.epoch)
        elif rec.unified:
            # DTLS 1.3: epoch 2 carries the encrypted handshake (and alerts), epoch 3 and later
            # application data (and ACKs); the content type is hidden.
            self._event("application_data" if rec.epoch >= 3 else "protected_handshake", direction, frame, ts,
                        rec.epoch)

    # -- the summary -------------------------------------------------------------------------

    def result(self) -> DtlsAssociation:
        """The association as the datagrams so far show it (roles resolved)."""
        client_dir = self.client_dir or "a"
        server_dir = "b" if client_dir == "a" else "a"
        role = {client_dir: "client", server_dir: "server"}
        a = DtlsAssociation(self.endpoints[client_dir], self.endpoints[server_dir], self.first_frame,
                            self.last_frame, self.first_time, self.last_time, record_version=self.record_version)
        a.problems = list(self.problems)
        for d, side in self.sides.items():
            a.datagrams[role[d]] = side.datagrams
            a.retransmissions[role[d]] = side.assembler.retransmitted
            for p in side.assembler.problems:
                if len(a.problems) < MAX_PROBLEMS:
                    a.problems.append(f"{role[d]}: {p}")
        a.client_hello_sends = self.sides[client_dir].hello_sends
        opener: Optional[DtlsRecordOpener] = None
        for kind, d, frame, ts, value in self.events:
            sender = role[d]
            if kind == "message":
                self._apply_message(a, sender, frame, ts, *value)
            elif kind == "ccs" and a.change_cipher_spec[sender] is None:
                a.change_cipher_spec[sender] = frame
            elif kind == "finished" and a.finished[sender] is None:
                a.finished[sender] = frame
            elif kind == "application_data" and a.application_data[sender] is None:
                a.application_data[sender] = frame
            elif kind == "alert" and len(a.alerts) < MAX_ALERTS:
                epoch, level, code, record = value
                if record is not None:
                    opener = opener or self._opener(a)
                    level, code = self._open_alert(a, opener, sender, frame, record)
                a.alerts.append(DtlsAlert(sender, frame, ts, epoch, level, code, decrypted=record is not None
                                          and code is not None))
            self._check_established(a, frame)
        a.failure = self._failure(a, role)
        return a

    def _opener(self, a: DtlsAssociation) -> DtlsRecordOpener:
        """The key log's record decryption for this association (once its hellos are read)."""
        opener = DtlsRecordOpener(self.keylog if a.client_hello is not None and a.server_hello is not None
                                  else None, a.client_hello, a.server_hello)
        a.master_secret_known = opener.master_secret_known
        if opener.problem:
            self._note(a, opener.problem)
        return opener

    def _open_alert(self, a: DtlsAssociation, opener: DtlsRecordOpener, sender: str, frame: int,
                    record: DtlsRecord) -> tuple[Optional[int], Optional[int]]:
        """(level, description) of an encrypted alert record, or (None, None) when it does not open."""
        opened = opener.open(sender, record)
        if opened is None:
            if opener.master_secret_known:
                self._note(a, f"frame {frame}: the {sender}'s encrypted alert does not decrypt with the key log's "
                              "master secret")
            return None, None
        content_type, plain = opened
        if content_type != CT_ALERT or len(plain) != 2:
            self._note(a, f"frame {frame}: the {sender}'s encrypted alert record opens to {len(plain)} byte(s), "
                          "not an alert")
            return None, None
        return plain[0], plain[1]

    def _apply_message(self, a: DtlsAssociation, sender: str, frame: int, ts: float, m: HandshakeMessage,
                       length: int) -> None:
        hrr = False
        try:
            if length and not m.body:  # a body not kept (MAX_BODIES of its type): listed, not parsed
                a.client_hellos += m.msg_type == 1 and sender == "client"
            elif m.msg_type == 1 and sender == "client":
                a.client_hellos += 1
                a.client_hello, a.cookie = parse_dtls_client_hello(m.body)
                if a.first_client_hello is None:
                    a.first_client_hello = a.client_hello
                a.client_hello_frame = frame
            elif m.msg_type == 2 and sender == "server":
                sh = parse_server_hello(m.body)
                if a.first_server_hello is None:
                    a.first_server_hello = sh
                if sh.is_hello_retry_request:
                    hrr = True
                    if a.hello_retry_request_frame is None:
                        a.hello_retry_request_frame = frame
                elif a.server_hello is None:
                    a.server_hello, a.server_hello_frame = sh, frame
            elif m.msg_type == 3 and sender == "server":
                hvr = parse_hello_verify_request(m.body)
                if a.hello_verify_request_frame is None:
                    a.hello_verify_request_frame, a.hello_verify_cookie = frame, hvr.cookie
            elif m.msg_type == 11:
                chain = parse_certificate(m.body, tls13=a.version == DTLS_1_3).ders
                if sender == "server" and a.server_certificate_frame is None:
                    a.server_certificates, a.server_certificate_frame = chain, frame
                    a.server_certificate_time = ts
                elif sender == "client" and not a.client_certificates:
                    a.client_certificates = chain
            elif m.msg_type == 13 and sender == "server" and a.certificate_request_frame is None:
                a.certificate_request_frame = frame
        except (ParseError, ValueError, IndexError, struct.error) as e:
            self._note(a, f"frame {frame}: the {sender}'s {message_name(m.msg_type)} does not parse: {e}")
        if len(a.messages) < MAX_MESSAGES_LISTED:
            a.messages.append({"frame": frame, "sender": sender, "type": message_name(m.msg_type, hrr),
                               "message_seq": m.message_seq, "length": length})

    @staticmethod
    def _note(a: DtlsAssociation, text: str) -> None:
        if len(a.problems) < MAX_PROBLEMS:
            a.problems.append(text)

    @staticmethod
    def _check_established(a: DtlsAssociation, frame: int) -> None:
        if a.established_frame is not None or any(al.ends_handshake for al in a.alerts):
            return
        both_finished = a.finished["client"] is not None and a.finished["server"] is not None
        both_data = a.application_data["client"] is not None and a.application_data["server"] is not None
        if both_finished or both_data:
            a.established_frame = frame

    def _failure(self, a: DtlsAssociation, role: dict[str, str]) -> Optional[Failure]:
        """The deciding alert (the first that ends the handshake, before it was established), or
        a side that resent its flight after the other's last datagram and got nothing."""
        for alert in a.alerts:
            if a.established_frame is not None and alert.frame > a.established_frame:
                break
            if alert.ends_handshake:
                return Failure("encrypted_alert" if alert.encrypted else "alert", alert.sender, alert.frame,
                               alert_phase(a, alert.sender, alert.frame), alert)
        if a.established_frame is not None:
            return None
        for d, side in self.sides.items():
            other = self.sides["b" if d == "a" else "a"]
            if not side.resends or (other.last_frame is not None and other.last_frame > side.first_resend):
                continue  # no resend, or the other side answered after the first one
            waiting = role[d]
            return Failure("no_answer", waiting, side.last_resend, waiting_phase(a, waiting),
                           sends=side.resends + 1, last_answer_frame=other.last_frame)
        return None


def alert_phase(a: DtlsAssociation, sender: str, frame: int) -> str:
    """The step the alert's sender had reached, judged by what it had received from the other
    side before the alert (the alert model's phase words, diagnosis.alerts.PHASES)."""
    received = [m["type"] for m in a.messages if m["sender"] != sender and m["frame"] < frame]
    other = "server" if sender == "client" else "client"
    other_finished = a.finished[other]
    if other_finished is not None and other_finished < frame:
        return "finished"
    if sender == "client":
        if "server_hello_done" in received or "server_key_exchange" in received:
            return "key_exchange" if "certificate" not in received else "server_certificate"
        if "certificate" in received:
            return "server_certificate"
        return "server_hello" if "server_hello" in received or "hello_retry_request" in received else "client_hello"
    client_ccs = a.change_cipher_spec["client"]
    if client_ccs is not None and client_ccs < frame:
        return "finished"
    if "certificate" in received or "certificate_verify" in received:
        return "client_certificate"
    if "client_key_exchange" in received:
        return "key_exchange"
    return "client_hello"


def waiting_phase(a: DtlsAssociation, waiting: str) -> str:
    """The phase in which a side waited in vain for the other's flight."""
    if waiting == "client":
        if a.server_hello is None:
            return "client_hello"
        return "finished" if a.change_cipher_spec["client"] is not None else "server_hello"
    return "server_certificate" if a.server_certificate_frame is not None else "server_hello"
