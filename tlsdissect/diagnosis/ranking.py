"""Which candidate wins: the deciding event picks a family of rules, tried in order.

The deciding event, in this order of priority:

0. **A plain-text start the server kept from TLS** (``STARTTLS``): STARTTLS or its kin not
   offered, or refused, on a connection whose handshake did not complete.
1. **Not TLS**: a connection that carried data but no TLS, or whose server answered a
   ClientHello in plain text (``NOT_TLS``). A connection that carried no data at all goes to
   ``NO_ALERT``.
2. **A readable alert**: the first fatal one in clear (or decrypted), failing that a warning
   that ends things (``no_renegotiation``, SSLv3's ``no_certificate``). A fatal alert that
   came after the exchange was over (rules/late_alert.py) decides nothing: it is noted as a
   late alert and the connection is read as if it had not come. Its phase and sender
   pick the rules in ``ALERT_RULES``; a phase and sender no family covers, ``ANY_ALERT``.
3. **An encrypted alert inside a TLS 1.2 renegotiation** after a completed handshake
   (``HIDDEN_ALERT``).
4. **A completed handshake** (``AFTER_HANDSHAKE``).
5. **An encrypted alert** on a handshake that did not complete (``HIDDEN_ALERT``).
6. **No alert at all** (``NO_ALERT``).

An alert (readable or encrypted) sent during the handshake after the other side had already
closed or reset the connection is a reaction to that close, not what stopped the handshake: it
is noted as such and the close decides (``NO_ALERT``). After a completed handshake the same
holds for an alert about the close itself (decode_error, unexpected_message, internal_error)
when the closing side had sent no data (``AFTER_HANDSHAKE``).

Every TLS diagnosis starts from the hellos, and an alert's from the alert: those lines are
noted before the family's rules run. Within a family the first rule that returns a candidate
wins; every family ends with a rule that always does. The alternatives are the winner's own.
A winner that names no cause for a readable alert takes the alert model's reading
(rules/alert_model.py): a visible alert never ends as ``unknown``.
"""

from __future__ import annotations

from tlsdissect.diagnosis.alert_codes import (DECODE_ERROR, INTERNAL_ERROR, NO_CERTIFICATE, NO_RENEGOTIATION,
                                              UNEXPECTED_MESSAGE)
from tlsdissect.diagnosis.candidate import Candidate, Rule
from tlsdissect.diagnosis.facts import Facts
from tlsdissect.diagnosis.phases import hidden_alert_phase, phase_at, post_handshake_phase
from tlsdissect.diagnosis.rules.alert_model import read_by_the_alert_model
from tlsdissect.results.model import Alert
from tlsdissect.diagnosis.rules.late_alert import late_alert
from tlsdissect.diagnosis.rules import (
    after_handshake, alpn_unselected, client_certificate, client_certificate_silent, handshake_end, hello_rejected, hidden_alerts, http_answers, key_exchange,
    no_alert, not_tls, post_handshake, record_integrity, revocation, server_certificate, silent_rejection, starttls, tcp_probes,
    transport)

# A plain-text start (STARTTLS and its kin) that the server kept from TLS: tried before anything
# else, TLS or not (a client may send its ClientHello after a refusal anyway).
STARTTLS: tuple[Rule, ...] = (starttls.proxy_refused, starttls.not_offered, starttls.refused)
NOT_TLS: tuple[Rule, ...] = (not_tls.plaintext_http_client, not_tls.plaintext_server, starttls.unanswered,
                             starttls.plain_session, not_tls.not_tls)

_SERVER_REFUSES_HELLO = (
    hello_rejected.legacy_protocol_refused, hello_rejected.fallback_refused, hello_rejected.versions_refused,
    hello_rejected.offered_list_refused,
    hello_rejected.name_unrecognized, hello_rejected.protocol_refused, hello_rejected.access_denied, hello_rejected.hello_field_invalid,
    hello_rejected.internal_error_at_hello, hello_rejected.hello_refused)
_CLIENT_REFUSES_HELLO = (hello_rejected.version_chosen_refused, hello_rejected.retry_group_not_offered,
                         hello_rejected.server_hello_refused)
_CLIENT_REFUSES_CERTIFICATE = (
    key_exchange.server_signature_invalid, key_exchange.unverifiable_signature_refused,
    key_exchange.weak_dh_group_refused,
    revocation.server_certificate_revoked,
    server_certificate.unseen_certificate_expired, server_certificate.unseen_weak_key,
    server_certificate.unseen_certificate_refused,
    server_certificate.finding_explains_refusal, server_certificate.root_not_trusted,
    server_certificate.server_certificate_refused)
_SERVER_REFUSES_CERTIFICATE = (client_certificate.client_certificate_missing, revocation.client_certificate_revoked,
                               client_certificate.client_flight_unseen, client_certificate.client_certificate_refused)
_AFTER_HANDSHAKE_ALERT = (post_handshake.post_handshake_failure,)
_AT_FINISHED = (handshake_end.finished_check_failed,)
_DURING_DATA = (record_integrity.record_failed_check, handshake_end.unexplained_alert)
# (phase, sender) of the deciding readable alert -> its rules; any other -> ANY_ALERT.
ALERT_RULES: dict[tuple[str, str], tuple[Rule, ...]] = {
    ("client_hello", "server"): _SERVER_REFUSES_HELLO,
    ("server_hello", "client"): _CLIENT_REFUSES_HELLO,
    ("server_certificate", "client"): _CLIENT_REFUSES_CERTIFICATE,
    ("key_exchange", "client"): _CLIENT_REFUSES_CERTIFICATE,
    ("client_certificate", "server"): _SERVER_REFUSES_CERTIFICATE,
    ("renegotiation", "client"): _AFTER_HANDSHAKE_ALERT,
    ("renegotiation", "server"): _AFTER_HANDSHAKE_ALERT,
    ("post_handshake_auth", "client"): _AFTER_HANDSHAKE_ALERT,
    ("post_handshake_auth", "server"): _AFTER_HANDSHAKE_ALERT,
    ("finished", "client"): _AT_FINISHED,
    ("finished", "server"): _AT_FINISHED,
    ("application_data", "client"): _DURING_DATA,
    ("application_data", "server"): _DURING_DATA,
}
ANY_ALERT: tuple[Rule, ...] = (handshake_end.unexplained_alert,)

# Tried first for a TLS connection with relay legs, whatever family decides (none of it always applies).
RELAY: tuple[Rule, ...] = (transport.relay_changed_bytes,)

HIDDEN_ALERT: tuple[Rule, ...] = (
    no_alert.one_way_capture, no_alert.no_client_hello_seen, hidden_alerts.client_renegotiation_refused,
    hidden_alerts.renegotiation_answered_with_alert, hidden_alerts.renegotiated_then_aborted,
    hidden_alerts.renegotiation_aborted, hidden_alerts.host_name_check_failed, hidden_alerts.client_closed_before_data,
    hidden_alerts.hidden_alert_abort)

AFTER_HANDSHAKE: tuple[Rule, ...] = (
    transport.relay_reset, no_alert.middlebox_reset, after_handshake.closed_at_once_on_name_mismatch,
    alpn_unselected.required_protocol_not_selected, alpn_unselected.required_protocol_hidden,
    silent_rejection.client_closed_after_handshake,
    after_handshake.client_left_after_its_finished, after_handshake.client_goodbye_before_data,
    http_answers.http_refusal, tcp_probes.probes_unanswered, tcp_probes.stopped_reading, http_answers.response_cut_short, after_handshake.client_auth_refused_later,
    client_certificate_silent.server_left_after_client_certificate,
    after_handshake.reset_after_handshake, after_handshake.closed_without_answer,
    after_handshake.client_certificate_unread, after_handshake.handshake_completed)

NO_ALERT: tuple[Rule, ...] = (
    no_alert.one_way_capture, no_alert.tcp_connect_failed, no_alert.no_client_hello_seen, no_alert.middlebox_reset, transport.relay_reset,
    transport.flight_never_acknowledged,
    no_alert.capture_ends_after_hello, no_alert.hello_never_answered, no_alert.closed_on_hello,
    client_certificate_silent.server_left_after_client_certificate, no_alert.flight_never_answered, no_alert.capture_ends_mid_handshake, no_alert.client_probable_alert,
    no_alert.server_probable_alert, silent_rejection.client_closed_on_certificate, no_alert.closed_without_alert)


# Alerts an OpenSSL-based server sends when the peer's close cuts a read short (lighttpd and
# openssl s_server answer a client's bare FIN with decode_error).
_EOF_REACTIONS = frozenset({DECODE_ERROR, UNEXPECTED_MESSAGE, INTERNAL_ERROR})


def _after_the_peer_closed(f: Facts, a: Alert) -> bool:
    """An alert sent during the handshake after the other side had already closed (FIN or RST)
    is the sender's reaction to that close (lighttpd answers a client's bare FIN with
    decode_error), not why the handshake stopped: the close decides. Noted as such. After a
    completed handshake the same holds for an alert about the close itself (_EOF_REACTIONS)
    when the closing side had sent no data: a gRPC client that leaves at once, answered by
    openssl s_server's decode_error."""
    close = f.c.tcp_close
    if close is None or close.by == a.sender or close.frame >= a.frame \
            or f.hellos()[0] is None:  # (a capture that starts mid-connection: nothing says which handshake)
        return False
    if f.c.established and (a.code not in _EOF_REACTIONS or any(
            e.sender == close.by and e.frame < close.frame for e in f.by_type.get("application_data", ()))):
        return False  # (after the handshake only an error about the close itself, and only before any data)
    what = f"{a.level} {a.name} ({a.hex})" if a.code is not None else "encrypted alert"
    f.note(f"The {a.sender}'s {what} comes after the {close.by} had "
           f"{'reset' if close.how == 'rst' else 'closed'} the connection (frame {close.frame}): "
           "a reaction to that close, not its cause.", [a.frame])
    return True


def decide(f: Facts) -> Candidate:
    """The winning candidate: the deciding event (see the module's docstring for the order)
    picks a family of rules, what they all start from is noted (the hellos, the alert), and
    the first of its rules that proposes a candidate wins (the last one always does)."""
    c = f.c
    if c.starttls is not None and not c.established:
        for rule in STARTTLS:
            found = rule(f)
            if found is not None:
                return found
    rules = NO_ALERT
    if not c.is_tls:
        if c.client_stats.bytes or c.server_stats.bytes:  # (no data at all: NO_ALERT)
            rules = NOT_TLS
    elif "not_tls" in f.by_type and f.first_event("not_tls", "server") is not None \
            and f.first_event("not_tls", "client") is None:
        rules = NOT_TLS
    else:
        f.note_hellos()
        f.note_relay_legs()
        # The deciding readable alert is the first fatal one; failing that, a warning alert
        # that ends things (the client refusing renegotiation, SSLv3's no_certificate).
        fatal = warn = hidden = None
        for a in c.alerts:
            code = a.code
            if code is None:
                if hidden is None:
                    hidden = a
            elif a.level == "fatal":
                fatal = a
                break
            elif warn is None and (code == NO_RENEGOTIATION or code == NO_CERTIFICATE):
                warn = a
        if fatal is not None and late_alert(f, fatal):
            fatal = None  # noted as the after-handshake problem; the exchange had succeeded
        alert = warn if fatal is None else fatal
        if alert is not None and _after_the_peer_closed(f, alert):
            rules = AFTER_HANDSHAKE if c.established else NO_ALERT  # the close decides (see _after_the_peer_closed)
        elif alert is None and hidden is not None and _after_the_peer_closed(f, hidden):
            rules = AFTER_HANDSHAKE if c.established else NO_ALERT
        elif alert is not None:
            f.alert = alert
            f.evidence.append(f.alert_line(alert))
            f.phase = phase = phase_at(f, alert.frame, alert.sender)
            rules = ALERT_RULES.get((phase, alert.sender), ANY_ALERT)
        elif hidden is not None and (not c.established or (
                not f.tls13 and post_handshake_phase(f, hidden.frame) == "renegotiation")):
            f.alert = hidden
            f.evidence.append(f.alert_line(hidden))
            f.hidden.append("the alert's description (encrypted); " + f.keys_hint())
            f.phase = hidden_alert_phase(f, hidden.frame, hidden.sender)
            rules = HIDDEN_ALERT
        elif c.established:
            rules = AFTER_HANDSHAKE
    if c.is_tls and rules is not NOT_TLS and c.extra.get("relay_legs"):
        rules = RELAY + rules  # (when the legs' bytes differ, a relay changed them: before any family)
    for rule in rules:
        found = rule(f)
        if found is not None:
            if found.cause == "unknown" and f.alert is not None:
                return read_by_the_alert_model(f, found)  # a visible alert never ends as unknown
            return found
    raise AssertionError(f"no rule applied: {rules[-1].__name__} should always apply")
