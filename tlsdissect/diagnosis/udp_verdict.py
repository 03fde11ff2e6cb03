"""The verdict on a handshake over UDP (a QUIC handshake, a DTLS association): one shape for both.

QUIC's and DTLS's diagnoses (diagnosis.quic, diagnosis.dtls) read different evidence but say
the same things a TCP connection's Diagnosis says: the cause (a catalogue id, docs/causes.md)
and its family, how sure, where the handshake stopped and who stopped it, the TLS alert that
decided it, the evidence lines with their frames, and what to change. The views (text, HTML,
DataFrame, Zeek logs) read these fields by name whatever the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from tlsdissect.diagnosis.causes import CAUSES
from tlsdissect.diagnosis.verdict import Evidence, marked_title


@dataclass
class UdpDiagnosis:
    """The verdict on one QUIC or DTLS handshake (docs/schema.md, quic[].diagnosis, dtls[].diagnosis).

    ``candidates`` and ``likelihood`` are the alert model's readings of a DTLS alert (the
    fields the DTLS JSON had from its start); empty and None for QUIC."""

    outcome: str  # established | failed | incomplete
    cause: str  # a catalogue id (docs/causes.md)
    confidence: str  # certain | likely | possible
    failure_point: Optional[str] = None  # the handshake phase where it stopped
    aborted_by: Optional[str] = None  # client | server
    alert: Optional[dict[str, Any]] = None  # {code, name, sender} of the deciding TLS alert
    explanation: str = ""
    # Evidence lines (diagnosis.verdict.Evidence: ``text``, ``frames``, as a TCP connection's): the
    # rules may give them as {text, frames} dicts, made Evidence here.
    evidence: list[Any] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    remedy: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # what a key log would show
    after_handshake: Optional[dict[str, Any]] = None  # QUIC: a late close's problem (docs/schema.md)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # DTLS: {cause, likelihood}
    likelihood: Optional[str] = None  # DTLS: the alert model's word for the cause (likely, possible, rare)
    protocol: str = field(default="QUIC", repr=False)  # QUIC | DTLS: the verdict's words

    # How the deciding alert travels, as the verdict says it.
    ALERT_CARRIERS: ClassVar[dict[str, str]] = {"QUIC": "CRYPTO_ERROR", "DTLS": "a TLS alert"}

    def __post_init__(self) -> None:
        self.evidence = [e if isinstance(e, Evidence) else Evidence(str(e["text"]), list(e["frames"]))
                         for e in self.evidence]

    @property
    def family(self) -> Optional[str]:
        """The cause's family (diagnosis.causes.CAUSE_FAMILIES), as a TCP connection's cause has."""
        known = CAUSES.get(self.cause)
        return known.family if known is not None else None

    @property
    def title(self) -> str:
        known = CAUSES.get(self.cause)
        return known.title if known is not None else self.cause

    @property
    def verdict(self) -> str:
        if self.outcome == "incomplete" and self.cause == "unknown":
            return f"Incomplete: the capture ends before the {self.protocol} handshake does."
        title = marked_title(self.cause, self.confidence)
        if self.outcome != "failed":
            return title + "."
        who = f" by the {self.aborted_by}" if self.aborted_by else ""
        carrier = self.ALERT_CARRIERS.get(self.protocol, "a TLS alert")
        how = f" with {carrier} [{self.alert['name']} {self.alert['code']}]" if self.alert else ""
        where = f" at {self.failure_point.replace('_', ' ')}" if self.failure_point else ""
        return f"{title}. Stopped{where}{who}{how}."

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "cause": self.cause, "confidence": self.confidence,
                "failure_point": self.failure_point, "aborted_by": self.aborted_by, "alert": self.alert,
                "verdict": self.verdict, "explanation": self.explanation,
                "evidence": [e.to_dict() for e in self.evidence],
                "alternatives": self.alternatives, "remedy": self.remedy, "hidden": self.hidden,
                "after_handshake": self.after_handshake, "family": self.family, "title": self.title, "likelihood": self.likelihood,
                "candidates": self.candidates}
