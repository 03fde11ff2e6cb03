"""The client refuses the server's key exchange: its signature, or its DH group (TLS <= 1.2).

Both rules read what the capture proves about the message the client stopped at: the
signature checked with the leaf certificate's public key (x509.handshake_signature, done by the
pipeline on handshakes that did not complete: the ServerKeyExchange's, or with a key log a TLS
1.3 CertificateVerify's), and the DH prime's length against OpenSSL's security levels
(x509.security_levels). They run first among the rules for a client's alert
after the server's certificate: a bad signature or a refused group explains the alert better
than any certificate finding. The failure point is ``key_exchange`` for a ServerKeyExchange: the
client had it and had not answered it with its own key exchange.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.alert_codes import (
    DECODE_ERROR, DECRYPT_ERROR, HANDSHAKE_FAILURE, ILLEGAL_PARAMETER, INSUFFICIENT_SECURITY)
from tlsdissect.diagnosis.alerts import STACK_HABITS, stacks_sending
from tlsdissect.diagnosis.candidate import Candidate, alert_label, deciding, ended_by_alert
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.x509.security_levels import level_refusing_modulus, refused_from

# Alerts after which a verified signature is worth saying: those a corrupted message would bring
# (and those a stack sends for a bad signature, STACK_HABITS "bad_signature").
_CORRUPTION_ALERTS = frozenset({DECRYPT_ERROR, ILLEGAL_PARAMETER, DECODE_ERROR} | {
    h.alert for h in STACK_HABITS if h.failure == "bad_signature" and h.role == "client" and h.alert is not None})
# What a client that refuses a DH group sends (OpenSSL and LibreSSL: handshake_failure;
# insufficient_security is the RFC 5246 alert for it).
_WEAK_GROUP_ALERTS = frozenset({HANDSHAKE_FAILURE, INSUFFICIENT_SECURITY})


def _answered_key_exchange(f: Facts, before: int) -> bool:
    """The client sent its ClientKeyExchange (it accepted the ServerKeyExchange) before ``before``."""
    return f.has("client_key_exchange", "client", before) is not None


def _leaf_words(f: Facts) -> tuple[str, list[int]]:
    """The leaf's name and the frame of the server's Certificate message."""
    chain = f.server_chain
    leaf = chain.certificates[0].label if chain is not None and chain.certificates else "the server's certificate"
    cert_ev = f.has("certificate", "server")
    return leaf, [cert_ev.frame] if cert_ev else []


_MESSAGE_WORDS = {"server_key_exchange": "ServerKeyExchange", "certificate_verify": "CertificateVerify"}


def server_signature_invalid(f: Facts) -> Optional[Candidate]:
    """The server's handshake signature (ServerKeyExchange; TLS 1.3 with a key log: its
    CertificateVerify) does not verify with the leaf's key, and the client stopped there. When
    it does verify and the alert is one corruption would bring, that is noted: the message
    arrived as the server signed it."""
    found = f.server_signature
    if found is None:
        return None
    check, msg_frame = found
    a = deciding(f)
    if a.sender != "client" or a.frame < msg_frame or _answered_key_exchange(f, a.frame):
        return None
    message = _MESSAGE_WORDS.get(check.message, check.message)
    leaf, cert_frames = _leaf_words(f)
    frames = sorted({msg_frame, *cert_frames})
    if check.verified is True:
        if a.code in _CORRUPTION_ALERTS:
            f.note(f"The {message}'s {check.scheme} signature verifies with the public key of {leaf} "
                   f"({check.key}): the message arrived as the server signed it, not corrupted on the way.",
                   frames)
        return None
    if check.verified is not False:
        return None
    habits = stacks_sending(a.code, "bad_signature", "client") if a.code is not None else []
    confidence = "certain" if a.code == DECRYPT_ERROR or habits else "likely"
    why = "" if check.reason.startswith("the signature does not verify") else f": {check.reason}"
    line = make_evidence(f"The {message}'s {check.scheme} signature does not verify with the public key of "
                         f"{leaf} ({check.key}){why}.", frames)
    who = f" (as {', '.join(sorted({h.stack for h in habits}))} clients do)" if habits else ""
    phase = "key_exchange" if check.message == "server_key_exchange" else f.phase
    return ended_by_alert(
        a, phase, "handshake_signature_invalid", confidence, ["middlebox_tampering"],
        f"The client aborted with {alert_label(f)}{who} right after the {message}, whose signature does not "
        f"verify with the public key of {leaf}: the bytes were changed in transit or the server signs with a key that "
        "does not match its certificate.", [line])


def unverifiable_signature_refused(f: Facts) -> Optional[Candidate]:
    """decrypt_error from the client right after a ServerKeyExchange whose signature the capture
    cannot check (it covers the client's random, and the capture starts after the ClientHello):
    the alert RFC 5246 names for a signature that does not verify, at the one signature the
    client had to check."""
    a = deciding(f)
    checked = f.server_signature
    if (checked is not None and checked[0].verified is not None) or a.sender != "client" or a.code != DECRYPT_ERROR \
            or f.hellos()[0] is not None or _answered_key_exchange(f, a.frame):
        return None
    ske = f.has("server_key_exchange", "server", a.frame)
    if ske is None:
        return None
    line = make_evidence("The ServerKeyExchange's signature covers the client's random, which was in the ClientHello "
                         "the capture does not hold: it cannot be checked here.", [ske.frame])
    return ended_by_alert(
        a, "key_exchange", "handshake_signature_invalid", "possible", ["middlebox_tampering", "server_cert_rejected"],
        f"The client aborted with {alert_label(f)} right after the ServerKeyExchange: decrypt_error is the alert for "
        "a signature that does not verify, and the ServerKeyExchange's is the one the client checks there (bytes "
        "changed in transit, or a server key that does not match its certificate). A capture that includes the "
        "ClientHello would let the signature be checked.", [line])


def weak_dh_group_refused(f: Facts) -> Optional[Candidate]:
    """A DHE group below OpenSSL's default floor, and the client refused right after it."""
    ske = f.c.server_key_exchange
    bits = getattr(ske, "dh_prime_bits", None)
    if not bits:
        return None
    level = level_refusing_modulus(bits)
    a = deciding(f)
    if level is None or level > 2 or a.sender != "client" or a.code not in _WEAK_GROUP_ALERTS \
            or _answered_key_exchange(f, a.frame):
        return None
    ske_ev = f.has("server_key_exchange", "server", a.frame)
    if ske_ev is None:
        return None
    habits = stacks_sending(a.code, "weak_dh", "client") if a.code is not None else []
    who = f" (as {', '.join(sorted({h.stack for h in habits}))} clients do)" if habits else ""
    line = make_evidence(f"The ServerKeyExchange offers a {bits}-bit Diffie-Hellman group; {refused_from(level)}.",
                         [ske_ev.frame])
    return ended_by_alert(
        a, "key_exchange", "weak_dh_group", "certain" if a.code == INSUFFICIENT_SECURITY else "likely",
        ["no_shared_cipher"],
        f"The server chose {f.c.cipher or 'a DHE suite'} and sent a {bits}-bit Diffie-Hellman group; the client "
        f"refused it with {alert_label(f)}{who} before sending its own key exchange.", [line])
