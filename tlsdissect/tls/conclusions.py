"""What a finished session concludes: was the handshake established, was the session
resumed, its ssl_history, its whole timeline.

Functions of a session (TlsSession binds them as its methods ``established``, ``resumed``,
``ssl_history`` and ``full_timeline``, which the pipeline calls once per connection): they
only read what the session gathered, so they live apart from the per-record code that gathers
it.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Optional, Sequence

from tlsdissect.tls import handshake as hs
from tlsdissect.tls.recordevents import CT_ALERT, CT_APPLICATION_DATA, CT_HANDSHAKE

# A session.TlsSession, typed loosely (the session imports this module).
Session = Any
PROBABLE_ALERT_MAX = 24  # a protected record this small (2-byte alert + type + tag) is likely an alert
# The smallest protected record a TLS 1.3 Finished fits in: 4-byte header + 32-byte verify_data
# (SHA-256, the shortest) + inner content type + the AEAD tag (16 bytes; 8 for
# TLS_AES_128_CCM_8_SHA256). A client record after the server's flight below this is no
# Finished: an alert, padded by stacks that pad (Java's JSSE sends 35 bytes), or an empty
# Certificate (25) that a Finished follows.
_FINISHED_BEFORE_TAG = 4 + 32 + 1
_SHORT_TAG_SUITES = {0x1305: 8}  # TLS_AES_128_CCM_8_SHA256 (RFC 8446 B.4)


def min_finished_record(cipher_suite: Optional[int]) -> int:
    """The smallest protected record a TLS 1.3 Finished fits in, under ``cipher_suite``."""
    return _FINISHED_BEFORE_TAG + _SHORT_TAG_SUITES.get(cipher_suite or 0, 16)


# A server record after the client's Finished up to this size is no NewSessionTicket: the
# smallest real one is 34 bytes + nonce + a ticket of 16 bytes or more (RFC 8446 4.6.1), so
# this bound leaves room for an alert padded as Java's JSSE pads it (35 bytes).
PADDED_ALERT_MAX = 48
_SHA384_SUITES = {0x1302}  # TLS_AES_256_GCM_SHA384; the other TLS 1.3 suites hash with SHA-256
_EMPTY_CERTIFICATE = 4 + 1 + 3  # handshake header, empty request context, empty certificate_list


def finished_record(cipher_suite: Optional[int]) -> int:
    """The exact size of an unpadded protected TLS 1.3 Finished record under ``cipher_suite``:
    4-byte header + the suite's hash length + inner type + tag."""
    return 4 + (48 if cipher_suite in _SHA384_SUITES else 32) + 1 + _SHORT_TAG_SUITES.get(cipher_suite or 0, 16)


def client_certificate_shown(lengths: Sequence[int], cipher_suite: Optional[int]) -> Optional[str]:
    """TLS 1.3 without keys: what the sizes of the client's protected records after the
    ServerHello say about a client certificate. ``"empty"``: an empty Certificate record
    (8 bytes + inner type + tag) right before a Finished of the suite's exact size, so the
    server asked for a certificate (CertificateRequest) and the client had none. ``"sent"``:
    two records before the Finished, the first big enough for a certificate (Certificate,
    CertificateVerify). None: the Finished alone, padding, or nothing readable."""
    tag = _SHORT_TAG_SUITES.get(cipher_suite or 0, 16)
    finished = finished_record(cipher_suite)
    if finished not in lengths:
        return None
    before = list(lengths[:lengths.index(finished)])
    if before and before[0] <= 4 + 1 + tag:  # EndOfEarlyData (0-RTT accepted) comes first
        before = before[1:]
    if before == [_EMPTY_CERTIFICATE + 1 + tag]:
        return "empty"
    if len(before) == 2 and before[0] >= 100:
        return "sent"
    return None
# Server messages of a full handshake (absent from an abbreviated, resumed one).
_FULL_HANDSHAKE = frozenset((hs.CERTIFICATE, hs.SERVER_KEY_EXCHANGE, hs.SERVER_HELLO_DONE))


def established(s: Session, client: int) -> bool:
    """Did the handshake complete? (Our definition, docs/schema.md.)

    TLS <= 1.2: both sides sent ChangeCipherSpec followed by a protected record (their
    Finished), with no fatal alert in clear before. TLS 1.3: after the ServerHello the
    server sent its protected flight and the client a protected record larger than an
    alert (its Finished), and the server did not answer that with only a probable alert.
    """
    server = 1 - client
    if s.server_hello is None or s.sslv2_server_hello is not None:
        return False
    fin_c, fin_s = s.finished[client], s.finished[server]
    if fin_c is not None and fin_s is not None:
        # Both Finished messages were read (in clear or decrypted).
        last = max(fin_c, fin_s)
        for (ad, frame, ts, level, code, enc, ln) in s.alerts:
            if level == 2 and frame <= last:
                return False
            if s.tls13 and level == 2 and ad == server and frame > fin_c:
                # TLS 1.3: the server may still refuse the client's flight (its
                # certificate) after the client's Finished, before any data of its own.
                first_data = s.first_data_frame[server]
                server_post = [f for (pd, f, m) in s.post_handshake if pd == server and f < frame]
                if (first_data is None or first_data > frame) and not server_post:
                    return False
        return True
    for (ad, frame, ts, level, code, enc, ln) in s.alerts:
        if level == 2:
            return False
    if not s.tls13:
        return s.after_ccs_record[client] is not None and s.after_ccs_record[server] is not None
    sh_frame = server_hello_frame(s)
    client_recs = [r for r in s.protected_log[client] if r[0] >= sh_frame and r[2] == CT_APPLICATION_DATA]
    server_recs = [r for r in s.protected_log[server] if r[2] == CT_APPLICATION_DATA]
    if not server_recs:
        return False
    fin = next((r for r in client_recs if r[3] >= min_finished_record(s.server_hello.cipher_suite)), None)
    if fin is None:
        return False
    after = [r for r in server_recs if r[0] > fin[0]]
    if after and after[0][3] <= PROBABLE_ALERT_MAX and all(r[3] <= PROBABLE_ALERT_MAX for r in after[:2]) \
            and not any(r[3] > PROBABLE_ALERT_MAX for r in after):
        # The server answered the client's Finished only with alert-sized records (no
        # session ticket, no data): a rejection, typically of the client certificate. A
        # client that sends its request meanwhile (curl does) does not change that.
        return False
    if len(after) == 1 and after[0][3] <= PADDED_ALERT_MAX \
            and client_certificate_shown([r[3] for r in client_recs], s.server_hello.cipher_suite) is not None:
        # The client's flight shows the server asked for its certificate, and the server's
        # one answer is too small for a session ticket: a padded alert refusing it (JSSE).
        return False
    return True


def server_hello_frame(s: Session) -> int:
    """The frame of the ServerHello (not a HelloRetryRequest), 0 if none was read."""
    timeline: list[tuple[int, int, float, str, dict[str, Any]]] = s.timeline
    for (d, frame, ts, typ, info) in timeline:
        if typ == "handshake" and info.get("code") == 2 and not info.get("hello_retry_request"):
            return frame
    return 0


def resumed(s: Session) -> bool:
    """Was the session resumed? (TLS 1.3: a pre-shared key accepted; before: the session id
    echoed, or an abbreviated handshake.)"""
    sh = s.server_hello
    if sh is None:
        return False
    if s.tls13:
        return sh.ext(41) is not None
    if s.client_hellos:
        ch = s.client_hellos[0][1]
        if sh.session_id and sh.session_id == ch.session_id:
            return True
    # Abbreviated handshake with a ticket: the server's CCS comes right after its hello,
    # with no Certificate / ServerKeyExchange / ServerHelloDone in between.
    d = s.server_hello_dir
    if d is not None and s.ccs[d] is not None:
        return _FULL_HANDSHAKE.isdisjoint(s.handshake_messages[d])
    return False


def ssl_history(s: Session, client: int) -> str:
    """Zeek's ssl_history string, the client's letters in upper case."""
    h = "".join(s.history)
    return h if client == 0 else h.swapcase()


def full_timeline(self: Session) -> list[tuple[int, int, float, str, dict[str, Any]]]:
    """The timeline with the listed protected records' "encrypted_record" events in their
    places (each where the timeline ended when it was read; see on_protected)."""
    timeline: list[tuple[int, int, float, str, dict[str, Any]]] = self.timeline
    logs = self.protected_log
    if not logs[0] and not logs[1]:
        return timeline
    listed = sorted(((rec[4], d, rec) for d in (0, 1) for rec in logs[d]), key=_FIRST)  # (stable)
    out: list[tuple[int, int, float, str, dict[str, Any]]] = []
    append = out.append
    j = 0
    n = len(listed)
    for i, entry in enumerate(timeline):
        while j < n and listed[j][0] <= i:
            append(_protected_event(listed[j][1], listed[j][2]))
            j += 1
        append(entry)
    while j < n:
        append(_protected_event(listed[j][1], listed[j][2]))
        j += 1
    return out


def _protected_event(d: int, rec: tuple[int, float, int, int, int]) -> tuple[int, int, float, str, dict[str, Any]]:
    """The timeline event of a listed protected record (a protected_log entry of direction ``d``)."""
    frame, ts, ct, length, _pos = rec
    return (d, frame, ts, "encrypted_record", {"content_type": _PROTECTED_TYPES.get(ct) or str(ct), "length": length})


_FIRST = itemgetter(0)
_PROTECTED_TYPES = {CT_HANDSHAKE: "handshake", CT_APPLICATION_DATA: "application_data", CT_ALERT: "alert"}


# A CertificateVerify record: handshake header (4), signature scheme (2), signature length (2),
# the signature, inner content type (1), tag.
_CERTIFICATE_VERIFY_OVERHEAD = 4 + 2 + 2 + 1


def server_signature_length(lengths: Sequence[int], cipher_suite: Optional[int]) -> Optional[int]:
    """TLS 1.3 without keys: the length of the server's CertificateVerify signature, read from
    the sizes of its protected records after the ServerHello when each handshake message went in
    a record of its own (OpenSSL, GnuTLS, Go and most servers do): the record right before the
    first one of the Finished's exact size, with EncryptedExtensions and Certificate before it.
    An RSA signature is as long as the key's modulus (128 bytes: a 1024-bit key). None when the
    messages share records, or a record is padded so that no Finished-sized one comes."""
    finished = finished_record(cipher_suite)
    if finished not in lengths:
        return None
    at = list(lengths).index(finished)
    if at < 3:
        return None  # (EncryptedExtensions, Certificate and CertificateVerify each in a record first)
    signature = lengths[at - 1] - _CERTIFICATE_VERIFY_OVERHEAD - _SHORT_TAG_SUITES.get(cipher_suite or 0, 16)
    return signature if signature > 0 else None
