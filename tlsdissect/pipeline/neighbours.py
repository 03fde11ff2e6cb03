"""What one connection of a capture tells about another: the same client's earlier attempt at
the same server (the reason behind a fallback retry), and the key type of a server's
certificate seen on another connection to it (which signature schemes it can sign with).

A pass over the connections in the order they end, as the pipeline hands them out (streaming:
nothing is held back): before a connection's diagnosis, :meth:`Neighbours.server_key` tells it
what an earlier connection showed of its server's certificate; after it, :meth:`Neighbours.link`
links it to the earlier attempt it retries and remembers it for the connections still to come.
Bounded: at most ``limit`` attempts and servers, the least recently seen forgotten first.

Only an attempt that ended before the retry did is found (the usual case: a client retries after
the failure). With ``--jobs`` each worker sees only its own connections, so the pass is off
there (docs/limits.md).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Optional

from tlsdissect.diagnosis.texts import earlier_attempt_text
from tlsdissect.diagnosis.verdict import make_evidence
from tlsdissect.results.model import Connection
from tlsdissect.tls import tables

RETRY_WINDOW = 60.0  # seconds from the end of an attempt to the start of its retry
MAX_REMEMBERED = 4096  # attempts (client, server, name) and servers (server, name) kept
FALLBACK_SCSV = 0x5600


@dataclass(slots=True)
class Attempt:
    """What a later connection may need to know about an earlier one."""

    stream: int
    first_frame: int
    start_time: float
    end_time: float
    max_version: int  # the highest version its ClientHello offered
    failed: bool
    ended: str  # how it ended, in words (its diagnosis' verdict)


def _client_address(conn: Connection) -> str:
    """The client's address without its port ("[::1]:5000" -> "[::1]")."""
    return conn.client.rsplit(":", 1)[0]


class Neighbours:
    """The pipeline's cross-connection memory (see the module docstring)."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self.attempts: OrderedDict[tuple[str, str, str], Attempt] = OrderedDict()
        self.server_keys: OrderedDict[tuple[str, str], tuple[str, int]] = OrderedDict()

    def server_key(self, conn: Connection) -> Optional[tuple[str, int]]:
        """The key type of the server's certificate (``RSA``, ``EC``, ``Ed25519`` ...) and the
        stream that showed it, when an earlier connection to the same server and name did."""
        return self.server_keys.get((conn.server, conn.server_name or ""))

    def link(self, conn: Connection) -> None:
        """After ``conn``'s diagnosis: link it to the earlier attempt it retries (``retry_of``
        and an evidence line), then remember it."""
        ch = conn.client_hello
        if ch is None:
            return
        key = (_client_address(conn), conn.server, conn.server_name or "")
        earlier = self.attempts.get(key)
        top = ch.max_version
        if earlier is not None and self._is_retry(conn, earlier, top):
            conn.extra["retry_of"] = {"stream": earlier.stream, "first_frame": earlier.first_frame,
                                      "max_version": tables.version_name(earlier.max_version),
                                      "ended": earlier.ended}
            diagnosis = conn.diagnosis
            if diagnosis is not None and hasattr(diagnosis, "evidence"):
                diagnosis.evidence.append(make_evidence(
                    earlier_attempt_text(earlier.stream, tables.version_name(earlier.max_version), earlier.ended,
                                         FALLBACK_SCSV in ch.cipher_suites), [earlier.first_frame]))
        self._remember(key, conn, top)

    @staticmethod
    def _is_retry(conn: Connection, earlier: Attempt, top: int) -> bool:
        """``conn`` offers a lower version than ``earlier``, which failed just before it."""
        return (earlier.failed and earlier.max_version > top and earlier.start_time <= conn.start_time
                and conn.start_time - earlier.end_time <= RETRY_WINDOW)

    def _remember(self, key: tuple[str, str, str], conn: Connection, top: int) -> None:
        diagnosis: Any = conn.diagnosis
        failed = not conn.established if diagnosis is None else (
            diagnosis.outcome != "established" or diagnosis.cause != "ok")
        ended = diagnosis.verdict if diagnosis is not None else ("completed" if conn.established else "failed")
        attempts = self.attempts
        attempts[key] = Attempt(conn.stream, conn.first_frame, conn.start_time, conn.end_time, top, failed, ended)
        attempts.move_to_end(key)
        if len(attempts) > self.limit:
            attempts.popitem(last=False)
        certs = conn.extra.get("server_certificates")
        key_type = certs[0].get("key_type") if certs and isinstance(certs[0], dict) else None
        if key_type:
            servers = self.server_keys
            skey = (conn.server, conn.server_name or "")
            servers[skey] = (key_type, conn.stream)
            servers.move_to_end(skey)
            if len(servers) > self.limit:
                servers.popitem(last=False)
