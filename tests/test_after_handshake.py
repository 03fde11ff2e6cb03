"""What happens after a completed handshake: a late alert stays a success, a real failure after
the handshake stays a failure (rules/late_alert.py, rules/record_integrity.py, the diagnosis'
after_handshake field). Issue 16's must-hold: successful connections stay established with cause
ok whatever late alerts follow.

The connections are built from the events a TLS 1.3 exchange with a key log produces (both
Finished read, one decrypted application-data record each way), then the one thing each case is
about: when the peer closed, whether the server had answered, which alert.
"""

from __future__ import annotations

from typing import Optional

from tlsdissect.diagnosis.reasoner import diagnose
from tlsdissect.diagnosis.verdict import Diagnosis
from tlsdissect.results.model import Alert, Connection, DirectionStats, Event, TcpClose
from tlsdissect.results.outcome import outcome_of

NAMES = {50: "decode_error", 20: "bad_record_mac", 80: "internal_error"}


def _connection(server_answered: bool, client_fin_before: bool, code: int, alert_frame: int = 13) -> Connection:
    conn = Connection(stream=0, client="10.0.0.1:40000", server="10.0.0.2:443", first_frame=1, last_frame=20,
                      start_time=0.0, end_time=1.0, is_tls=True, version="TLSv1.3", version_code=0x0304,
                      cipher="TLS_AES_128_GCM_SHA256", established=True)
    conn.client_stats = DirectionStats(packets=8, bytes=900)
    conn.server_stats = DirectionStats(packets=8, bytes=5000)
    ev = [Event(1, 0.0, "client", "syn", {}), Event(2, 0.01, "server", "syn_ack", {}),
          Event(4, 0.02, "client", "handshake", {"message": "client_hello"}),
          Event(6, 0.03, "server", "handshake", {"message": "server_hello"}),
          Event(6, 0.03, "server", "handshake", {"message": "finished", "encrypted": True}),
          Event(8, 0.04, "client", "handshake", {"message": "finished", "encrypted": True}),
          Event(9, 0.05, "client", "application_data", {"length": 80, "encrypted": True, "preview": "GET / HTTP/1.1\r\n"})]
    if server_answered:
        ev.append(Event(11, 0.06, "server", "application_data",
                        {"length": 300, "encrypted": True, "preview": "HTTP/1.1 200 OK\r\n"}))
    if client_fin_before:
        ev.append(Event(12, 0.07, "client", "fin", {}))
    alert = Alert(alert_frame, 0.08, "server", "fatal", code, NAMES[code], True, 2)
    ev.append(Event(alert_frame, 0.08, "server", "alert", {"level": "fatal", "code": code, "name": NAMES[code],
                                                           "encrypted": True}))
    ev.sort(key=lambda e: e.frame)
    conn.events = ev
    conn.alerts = [alert]
    conn.tcp_close = TcpClose("client", "fin", 12, 0.07) if client_fin_before else TcpClose("server", "fin", 14, 0.09)
    return conn


def _diagnose(conn: Connection) -> Diagnosis:
    d = diagnose(conn)
    conn.diagnosis = d
    return d


def test_an_alert_after_the_peer_closed_a_finished_exchange_is_late() -> None:
    conn = _connection(server_answered=True, client_fin_before=True, code=50)
    d = _diagnose(conn)
    assert (d.outcome, d.cause, d.alert) == ("established", "ok", None)
    assert outcome_of(conn) == "established"
    after: Optional[dict] = d.after_handshake
    assert after is not None and after["problem"] == "late_alert_after_success"
    assert after["stopped_exchange"] is False and after["alert"]["code"] == 50 and 13 in after["frames"]
    assert d.to_dict()["after_handshake"] == after


def test_an_alert_before_the_exchange_was_over_is_the_failure() -> None:
    # The peer had not closed: the alert ended a working session.
    d = _diagnose(_connection(server_answered=True, client_fin_before=False, code=80))
    assert d.cause != "ok" and d.alert is not None and d.alert.code == 80
    # The server never answered: an alert right after the handshake, before any response.
    d = _diagnose(_connection(server_answered=False, client_fin_before=True, code=50))
    assert d.cause != "ok" and d.alert is not None and d.alert.code == 50


def test_a_record_integrity_alert_is_never_late() -> None:
    conn = _connection(server_answered=True, client_fin_before=True, code=20)
    d = _diagnose(conn)
    assert d.cause == "record_corrupted_in_transit" and d.outcome == "established"
    assert outcome_of(conn) == "failed"
    assert d.after_handshake is not None and d.after_handshake["stopped_exchange"] is True
    assert d.after_handshake["problem"] == "record_corrupted_in_transit"
