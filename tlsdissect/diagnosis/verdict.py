"""What the diagnosis hands out: the Diagnosis of one connection, its evidence lines, and the
one-line verdict that sums it up (remembered by what it is made of: a capture repeats a few).

The rules (:mod:`tlsdissect.diagnosis.rules`) never build a Diagnosis: they propose
candidates, and :mod:`tlsdissect.diagnosis.reasoner` turns the winner into one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from tlsdissect.diagnosis.causes import CAUSES
from tlsdissect.results.model import DATAFRAME_CATEGORIES, Alert

_new = object.__new__

# Where a handshake can stop (Diagnosis.failure_point, docs/diagnosis.md "Failure points"), in
# the order of the handshake (tests/test_library_api.py holds it equal to alerts.PHASES).
FAILURE_POINTS = ("tcp_connect", "client_hello", "server_hello", "server_certificate", "key_exchange",
                  "client_certificate", "finished", "renegotiation", "post_handshake_auth", "application_data")
# The DataFrame's categoricals for the diagnosis's columns: every cause id, every failure point.
DATAFRAME_CATEGORIES["cause"] = list(CAUSES)
DATAFRAME_CATEGORIES["failure_point"] = list(FAILURE_POINTS)


@dataclass(slots=True)
class Evidence:
    """One fact the diagnosis rests on, in words, with the frames that show it."""

    text: str
    frames: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form: ``{text, frames}``."""
        return {"text": self.text, "frames": self.frames}

    def __getitem__(self, key: str) -> Any:
        """``line["text"]``, ``line["frames"]``: a QUIC diagnosis' evidence lines were dicts
        before they became Evidence (diagnosis.udp_verdict), and scripts may read them so."""
        if key not in ("text", "frames"):
            raise KeyError(key)
        return getattr(self, key)


def make_evidence(text: str, frames: list[int]) -> Evidence:
    """``Evidence(text, frames)`` without the class call (which runs the dataclass's __init__
    as a Python frame entered from C, a few times per connection); tests/test_diag_speed.py
    holds the two equal."""
    e = _new(Evidence)
    e.text = text
    e.frames = frames
    return e


# Verdict wording, looked up once per connection (module constants: not rebuilt per call).
_WHO = {"client": "the client", "server": "the server", "middlebox": "a middlebox", "unknown": "an unknown party"}
_HOW = {"alert": "with a TLS alert", "rst": "with a TCP reset", "fin": "by closing the connection",
        "no_response": "by never answering", "capture_ended": "(the capture ends first)",
        "one_way": "(the capture sees one direction only)"}
# What a capture that ends mid-handshake lacks, by the step that was due (failure_point; the
# ClientHello's step is told apart by the last message seen, in _missing).
_MISSING = {
    None: "the capture ends before any TLS handshake",
    "tcp_connect": "the capture ends before the TCP connection is set up",
    "server_hello": "the capture ends before the rest of the server's first flight",
    "server_certificate": "the capture ends before the rest of the server's first flight",
    "key_exchange": "the capture ends before the client's key exchange",
    "client_certificate": "the capture ends before the server's answer to the client's certificate",
    "finished": "the capture ends before the handshake's Finished messages",
}


# Verdict lines by what they are made of (outcome, cause, how, failure point, who aborted,
# confidence, alert name and hex): a capture repeats a few dozen. Bounded: cleared when full.
_VERDICTS_MAX = 1024
_VERDICTS: dict[tuple[Any, ...], str] = {}


def after_handshake_problem(problem: str, confidence: str, stopped_exchange: bool, text: str,
                            frames: list[int], alert: Optional[Alert] = None) -> dict[str, Any]:
    """What ``Diagnosis.after_handshake`` holds (docs/schema.md): the problem's cause id, how
    sure, whether it stopped the exchange (a late alert after a completed exchange does not:
    the connection stays established with cause ok), a sentence, its frames, and its alert."""
    return {"problem": problem, "confidence": confidence, "stopped_exchange": stopped_exchange,
            "text": text, "frames": frames, "alert": alert_json(alert) if alert is not None else None}


def marked_title(cause: str, confidence: str) -> str:
    """The cause's title, marked as probable or possible by the confidence."""
    title = _title(cause)
    if confidence not in ("possible", "likely"):
        return title
    first = title.split(" ", 1)[0]
    if len(first) < 2 or not first.isupper():  # (an acronym keeps its capitals: "TLS was sent ...")
        title = title[0].lower() + title[1:]
    return ("Possibly: " if confidence == "possible" else "Probably: ") + title


def _title(cause: str) -> str:
    c = CAUSES.get(cause)
    return c.title if c is not None else cause


def alert_json(a: Alert) -> dict[str, Any]:
    """The deciding alert's JSON form (``diagnosis.alert`` in docs/schema.md): the alert's
    own fields but its time, and ``probable: true`` only when it is a probable one."""
    d = {"code": a.code, "hex": a.hex, "name": a.name, "level": a.level, "sender": a.sender,
         "encrypted": a.encrypted, "frame": a.frame}
    if a.probable:
        d["probable"] = True
    return d


@dataclass(slots=True)
class Diagnosis:
    """Why one connection's handshake ended as it did, and what to change (docs/schema.md,
    Diagnosis; docs/diagnosis.md says how it is decided).

    ``verdict`` sums it up in one line; ``explanation``, ``evidence`` (each line with its frame
    numbers) and ``remedy`` tell the rest. ``cause`` is an id of the catalogue
    (docs/causes.md), ``"ok"`` for a success or ``"unknown"``.

    Attributes:
        outcome: the handshake's own outcome: ``established``, ``failed``, ``incomplete`` or
            ``not_tls`` (``Connection.outcome`` also counts a problem found after a
            completed handshake as failed).
        cause: the cause id (docs/causes.md), ``ok``, ``not_tls`` or ``unknown``.
        confidence: ``certain`` (the bytes prove it), ``likely`` or ``possible``.
        failure_point: the handshake step where it stopped (docs/diagnosis.md), e.g.
            ``server_certificate``; None for a success.
        last_completed: the last handshake message before the end:
            ``{message, sender, frame, encrypted}``.
        aborted_by: ``client``, ``server``, ``middlebox`` or ``unknown``; None for nobody.
        how: ``alert``, ``rst``, ``fin``, ``no_response``, ``capture_ended`` or ``one_way``.
        alert: the deciding :class:`Alert`, if an alert decided.
        alternatives: other cause ids the evidence leaves open.
        explanation: what happened, in words.
        evidence: the facts used, each an :class:`Evidence` with its frame numbers.
        remedy: what to change, Apache mod_ssl first, then other servers.
        check_command: a shell command that checks the fix (values from the capture quoted).
        check_command_withheld: why there is no check command although the cause has one.
        wireshark_filter: the display filter of the connection.
        hidden: what the capture hides without keys and would decide the case.
    """

    outcome: str  # established | failed | incomplete | not_tls (the handshake's own)
    cause: str  # an id of docs/causes.md, or "ok" / "not_tls" / "unknown"
    confidence: str  # certain | likely | possible
    failure_point: Optional[str] = None  # the handshake step that did not happen (docs/schema.md)
    last_completed: Optional[dict[str, Any]] = None  # the last handshake message before the end
    aborted_by: Optional[str] = None  # client | server | middlebox | unknown
    how: Optional[str] = None  # alert | rst | fin | no_response | capture_ended | one_way
    alert: Optional[Alert] = None  # the deciding alert (one of the connection's alerts, or a probable one)
    alternatives: list[str] = field(default_factory=list)
    explanation: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    remedy: list[str] = field(default_factory=list)
    check_command: Optional[str] = None
    check_command_withheld: Optional[str] = None  # why there is no check_command (a hostile name)
    wireshark_filter: str = ""
    hidden: list[str] = field(default_factory=list)  # what the capture cannot show without keys
    # A problem found after a completed handshake (see AfterHandshake), or None.
    after_handshake: Optional[dict[str, Any]] = None

    @property
    def verdict(self) -> str:
        """One line: the cause's title, where it stopped, who stopped it and how."""
        alert = self.alert
        last = self.last_completed
        key = (self.outcome, self.cause, self.how, self.failure_point, self.aborted_by, self.confidence,
               alert.name if alert else None, alert.code if alert else None,
               (last.get("sender"), last.get("message")) if last else None)
        text = _VERDICTS.get(key)
        if text is None:
            text = self._verdict()
            if len(_VERDICTS) >= _VERDICTS_MAX:
                _VERDICTS.clear()
            _VERDICTS[key] = text
        return text

    def _verdict(self) -> str:
        if self.outcome == "established" and self.cause == "ok":
            return "Handshake completed."
        how = self.how
        point = self.failure_point
        if how == "capture_ended":
            if self.cause == "unknown":
                return f"Incomplete: {self._missing()}."
            return f"{self._title()}; the capture ends before the connection does."
        if how == "one_way":
            return "Incomplete: the capture sees one direction only."
        if point == "client_hello" and self.cause == "unknown" and self.outcome == "incomplete" and how != "alert":
            # (a capture that starts mid-connection: no "stopped at client hello" of a handshake it lacks)
            ending = ""
            if how in ("fin", "rst"):
                ending = (f"; {_WHO.get(self.aborted_by or '', 'nobody')} "
                          + ("resets" if how == "rst" else "closes") + " the connection")
            return f"Incomplete: {self._missing()}{ending}."
        if how == "no_response":
            where = f" to the {point.replace('_', ' ')}" if point else ""
            return f"{_title(self.cause)}: no answer{where}" + (", the client gave up." if self.aborted_by == "client" else ".")
        who = _WHO.get(self.aborted_by or "", "nobody")
        how_text = _HOW.get(how or "", "")
        title = self._title()
        where = f" at {point.replace('_', ' ')}" if point else ""
        alert = ""
        if self.alert is not None and self.alert.name:
            alert = f" [{self.alert.name} {self.alert.hex}]"
        return f"{title}. Stopped{where} by {who} {how_text}{alert}.".replace("  ", " ")

    def _title(self) -> str:
        """The cause's title, marked as probable or possible by the confidence."""
        return marked_title(self.cause, self.confidence)

    def _missing(self) -> str:
        """What the capture lacks when it ends in the middle of the handshake."""
        point = self.failure_point
        if point == "client_hello":
            last = self.last_completed
            if last is None or last.get("sender") != "client":
                return "the capture does not show the ClientHello"
            if last.get("message") == "client_hello":
                return "the capture ends before the server's answer to the ClientHello"
            return "the capture shows none of the server's handshake messages"
        found = _MISSING.get(point)
        return found if found is not None else f"the capture ends before {str(point).replace('_', ' ')}"

    def to_dict(self) -> dict[str, Any]:
        """Its JSON form (``connections[].diagnosis`` in docs/schema.md)."""
        evidence = []  # (a loop, not a list comprehension: no function object made per call)
        for e in self.evidence:
            evidence.append({"text": e.text, "frames": e.frames})
        return {
            "outcome": self.outcome,
            "failure_point": self.failure_point,
            "last_completed": self.last_completed,
            "aborted_by": self.aborted_by,
            "how": self.how,
            "alert": alert_json(self.alert) if self.alert is not None else None,
            "cause": self.cause,
            "confidence": self.confidence,
            "alternatives": self.alternatives,
            "explanation": self.explanation,
            "evidence": evidence,
            "remedy": self.remedy,
            "check_command": self.check_command,
            "check_command_withheld": self.check_command_withheld,
            "wireshark_filter": self.wireshark_filter,
            "verdict": self.verdict,
            "hidden": self.hidden,
            "after_handshake": self.after_handshake,
        }

