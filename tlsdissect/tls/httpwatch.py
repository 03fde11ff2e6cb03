"""HTTP inside the decrypted session: which protocol, what each side sent, what was left unfinished.

The session hands every decrypted application-data record to :class:`HttpWatch` (only with a
key log: without one nothing is readable). The protocol is told from the first bytes: the
HTTP/2 client preface or a server's SETTINGS frame (http2.py), otherwise HTTP/1.x (http1.py).
:meth:`HttpWatch.summary` is the connection's ``http`` field (docs/schema.md): each side's
messages or streams, and what was unfinished when the data stopped, which the diagnosis reads
(a truncated response, an HTTP refusal carrying the TLS reason).
"""

from __future__ import annotations

from typing import Any, Optional, Union

from tlsdissect.tls.http1 import Http1Reader
from tlsdissect.tls.http2 import PREFACE, Http2Reader, looks_like_server_start

Reader = Union[Http1Reader, Http2Reader]


class HttpWatch:
    """Both directions of one connection's decrypted application data (0: client, 1: server)."""

    __slots__ = ("readers", "last_frame", "h2")

    def __init__(self) -> None:
        self.readers: list[Optional[Reader]] = [None, None]
        self.last_frame: list[Optional[int]] = [None, None]
        self.h2: Optional[bool] = None  # decided by the first bytes seen

    def feed(self, side: int, data: bytes, frame: int) -> None:
        """``data``: the plaintext of one application-data record of ``side`` (0 client, 1 server)."""
        if not data:
            return
        self.last_frame[side] = frame
        reader = self.readers[side]
        if reader is None:
            if self.h2 is None:
                self.h2 = (data[:len(PREFACE)] == PREFACE[:len(data)]) if side == 0 else looks_like_server_start(data)
            if self.h2:
                reader = Http2Reader(client=side == 0)
            else:
                other = self.readers[1 - side]
                methods = other.methods if isinstance(other, Http1Reader) else None
                reader = Http1Reader(responses=side == 1, methods=methods)  # (one list of request methods)
            self.readers[side] = reader
        reader.feed(data, frame)

    def summary(self) -> Optional[dict[str, Any]]:
        client, server = self.readers
        if not any(r is not None and r.speaks_http() for r in (client, server)):
            return None  # (no data, or not HTTP: another protocol inside TLS)
        d: dict[str, Any] = {"protocol": "h2" if self.h2 else "http/1"}
        if client is not None:
            d["client"] = client.summary()
        if server is not None:
            d["server"] = server.summary()
        d["unfinished"] = self._unfinished()
        d["last_data_frame"] = {"client": self.last_frame[0], "server": self.last_frame[1]}
        return d

    def _unfinished(self) -> Optional[dict[str, Any]]:
        """The first response the server had started and not finished when the data stopped,
        or the first request it had not answered at all; None when every request was answered."""
        client, server = self.readers
        if isinstance(server, Http1Reader) or isinstance(client, Http1Reader):
            return self._unfinished_http1(client, server)
        if isinstance(client, Http2Reader):
            return self._unfinished_h2(client, server if isinstance(server, Http2Reader) else None)
        return None

    @staticmethod
    def _unfinished_http1(client: Optional[Reader], server: Optional[Reader]) -> Optional[dict[str, Any]]:
        if isinstance(server, Http1Reader):
            msg = server.open_message()
            if msg is not None:
                d = {"answered": True, "line": msg.line, "status": msg.status, "framing": msg.framing,
                     "frame": msg.frame, "body_bytes": msg.received}
                if msg.expected is not None:
                    d["content_length"] = msg.expected
                return d
            if server.state == "head" and server.buf:
                return {"answered": True, "line": None, "status": None, "framing": "head",
                        "frame": None, "body_bytes": 0}
        requests = client.count if isinstance(client, Http1Reader) else 0
        answered = server.count if isinstance(server, Http1Reader) else 0
        if requests > answered:
            return {"answered": False, "requests": requests, "responses": answered}
        return None

    @staticmethod
    def _unfinished_h2(client: Http2Reader, server: Optional[Http2Reader]) -> Optional[dict[str, Any]]:
        goaway = server.goaway if server is not None else None
        for sid, req in client.streams.items():
            if sid % 2 == 0:
                continue
            resp = server.streams.get(sid) if server is not None else None
            if resp is not None and (resp["ended"] or "reset" in resp):
                continue
            if "reset" in req:
                continue  # the client cancelled it
            if resp is None:
                if goaway is not None and sid > goaway["last_stream"]:
                    continue  # refused by the GOAWAY: never processed
                return {"answered": False, "stream": sid, "method": req.get("method"), "path": req.get("path")}
            return {"answered": True, "stream": sid, "status": resp.get("status"), "framing": "end_stream",
                    "frame": resp["frame"], "body_bytes": resp["body_bytes"]}
        return None
