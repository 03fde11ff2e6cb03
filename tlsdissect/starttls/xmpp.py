"""XMPP (RFC 6120 section 5): stream features, ``<starttls/>``, ``<proceed/>`` or ``<failure/>``.

The client opens the stream; the server's ``<stream:features>`` lists ``<starttls>`` when it
offers TLS. The client's ``<starttls/>`` is answered by ``<proceed/>`` (TLS follows) or
``<failure/>``; a ``<stream:error>`` (``host-unknown``, ``policy-violation``, ...) ends the
stream instead. The elements are found by pattern in the bounded text of each direction (no
XML parser on capture data: the prelude is a few elements, and a pattern cannot be made to
expand entities).
"""

from __future__ import annotations

import re

from tlsdissect.starttls.exchange import Exchange, looks_like_tls, text

MAX_XML = 8192  # bytes of one direction kept to look in (the reader reads less than this)
MAX_SCANS = 64  # looks per direction (one per segment that ends an element): bounded work on 1-byte segments
_NAME = rb"(?:[A-Za-z0-9_.-]+:)?"  # an optional namespace prefix
_STREAM_OPEN = re.compile(rb"<" + _NAME + rb"stream\b[^>]{0,1024}>")
_FEATURES = re.compile(rb"<" + _NAME + rb"features\b[^>]{0,512}>(.{0,4096}?)</" + _NAME + rb"features\s*>", re.DOTALL)
_FEATURES_EMPTY = re.compile(rb"<" + _NAME + rb"features\b[^>]{0,512}/>")
_ELEMENT = re.compile(rb"<(" + _NAME + rb"[A-Za-z0-9_.-]+)")
_STARTTLS = re.compile(rb"<" + _NAME + rb"starttls\b")
_PROCEED = re.compile(rb"<" + _NAME + rb"proceed\b")
_FAILURE = re.compile(rb"<" + _NAME + rb"failure\b")
_STREAM_ERROR = re.compile(rb"<" + _NAME + rb"error\b[^>]{0,512}>(.{0,2048}?)</" + _NAME + rb"error\s*>", re.DOTALL)
_TEXT = re.compile(rb"<" + _NAME + rb"text\b[^>]{0,512}>(.{0,1024}?)</", re.DOTALL)
_CLOSE = re.compile(rb"</" + _NAME + rb"stream\s*>")
_GOING_ON = re.compile(rb"<" + _NAME + rb"(?:auth|iq|message|presence)\b")


def _local(name: bytes) -> str:
    return text(name.rsplit(b":", 1)[-1])


class Xmpp(Exchange):
    protocol = "xmpp"

    def __init__(self, server: int) -> None:
        super().__init__(server)
        self.xml = (bytearray(), bytearray())
        self.scans = [0, 0]

    def feed(self, d: int, data: bytes, frame: int) -> None:
        buf = self.xml[d]
        if d != self.server and looks_like_tls(data):
            self.mark("tls_after_refusal" if self.accepted is False else "tls_without_answer", frame)
            self.done = True
            return
        buf += data[:MAX_XML - len(buf)]
        if b">" not in data:
            return  # no element ended here: nothing new to find
        self.scans[d] += 1
        if self.scans[d] > MAX_SCANS:
            self.done = True
            return
        if d == self.server:
            self._server(bytes(buf), frame)
        else:
            self._client(bytes(buf), frame)

    def _server(self, xml: bytes, frame: int) -> None:
        if self.greeting is None:
            opened = _STREAM_OPEN.search(xml)
            if opened:
                self.greeting = text(opened.group(0))
                self.mark("greeting", frame)
        if "capabilities" not in self.frames:
            features = _FEATURES.search(xml)
            if features:
                names = [_local(m) for m in _ELEMENT.findall(features.group(1))]
                self.capability_list(names, "starttls" in names, frame)
            elif _FEATURES_EMPTY.search(xml):
                self.capability_list([], False, frame)
        error = _STREAM_ERROR.search(xml)
        if error:
            inner = error.group(1)
            conditions = [_local(m) for m in _ELEMENT.findall(inner) if _local(m) != "text"]
            said = _TEXT.search(inner)
            self.answer(conditions[0] if conditions else "stream-error", text(said.group(1)) if said else "",
                        False, frame)
        elif self.requested:
            if _PROCEED.search(xml):
                self.answer("proceed", "", True, frame)
            elif _FAILURE.search(xml):
                said = _TEXT.search(xml)
                self.answer("failure", text(said.group(1)) if said else "", False, frame)

    def _client(self, xml: bytes, frame: int) -> None:
        if self.accepted is False:
            self.mark("quit" if _CLOSE.search(xml) else "plaintext", frame)
            self.done = True
        elif not self.requested and _STARTTLS.search(xml):
            self.request(frame)
        elif not self.requested and _GOING_ON.search(xml):
            self.went_on_in_plain_text(frame)
        elif _CLOSE.search(xml):
            self.mark("quit", frame)
            self.done = True
