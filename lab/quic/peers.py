"""QUIC lab peers (aioquic): one server and one client run, each told what to do by argv.

    python peers.py server PORT CERT KEY ALPN[,ALPN...]
    python peers.py client PORT CA ALPN[,ALPN...] [VERSION]

The client prints one JSON line: what aioquic itself says happened (the handshake completed,
or the close it received or sent, with the error code and reason): the ground truth a lab
scenario records. Environment: QUIC_KEYLOG (a file the client appends its TLS secrets to, NSS
key log format), QUIC_SNI (the name the client asks for, www.lab.test by default),
QUIC_SUITES (cipher suites by IANA number, e.g. 0x1303 for ChaCha20-Poly1305 only),
QUIC_KEY_UPDATES (the client updates its 1-RTT keys this many times, a ping after each),
QUIC_SERVER_CLOSE (the server closes each connection 0.3 s after its handshake completed:
``CODE`` for an application close, 0x1d; ``CODE,FRAME_TYPE`` for a transport close, 0x1c; a
reason phrase may follow after a second comma), QUIC_ZERO_RTT (the client connects twice: the
second time it resumes with the first connection's session ticket and sends a PING as 0-RTT
early data; the server keeps its tickets to accept it), QUIC_H3_STATUS (the server speaks
HTTP/3 and answers every request with this status; the client then sends GET / over HTTP/3 and
reports the status it got), QUIC_MAX_DATAGRAM (the client's UDP payload size, which its Initials are padded to; 1200 by
default), QUIC_TIMEOUT (seconds the client waits for the handshake, 10 by default); for the
server QUIC_RETRY=1 (address validation with a Retry packet).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import HeadersReceived
from aioquic.quic.events import HandshakeCompleted, QuicEvent
from aioquic.tls import CipherSuite


class ClosingServer(QuicConnectionProtocol):
    """A server connection that closes itself after its handshake, as QUIC_SERVER_CLOSE says."""

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            asyncio.get_running_loop().call_later(0.3, self._close)

    def _close(self) -> None:
        parts = os.environ["QUIC_SERVER_CLOSE"].split(",", 2)
        frame_type = int(parts[1], 16) if len(parts) > 1 and parts[1] else None
        self._quic.close(error_code=int(parts[0], 16), frame_type=frame_type,
                         reason_phrase=parts[2] if len(parts) > 2 else "")
        self.transmit()


class H3Server(QuicConnectionProtocol):
    """An HTTP/3 server that answers every request with the status QUIC_H3_STATUS says."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - the protocol's own arguments
        super().__init__(*args, **kwargs)
        self._http = H3Connection(self._quic)

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self._http.handle_event(event):
            if isinstance(h3_event, HeadersReceived) and h3_event.stream_ended:
                status = os.environ["QUIC_H3_STATUS"].encode()
                self._http.send_headers(h3_event.stream_id, [(b":status", status), (b"server", b"lab")],
                                        end_stream=True)
        self.transmit()


class H3Client(QuicConnectionProtocol):
    """An HTTP/3 client: GET / and the response's status."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._http = H3Connection(self._quic)
        self.status: asyncio.Future = asyncio.get_event_loop().create_future()

    def quic_event_received(self, event: QuicEvent) -> None:
        for h3_event in self._http.handle_event(event):
            if isinstance(h3_event, HeadersReceived) and not self.status.done():
                self.status.set_result(dict(h3_event.headers).get(b":status", b"").decode())

    def get(self) -> None:
        stream_id = self._quic.get_next_available_stream_id()
        self._http.send_headers(stream_id, [(b":method", b"GET"), (b":scheme", b"https"),
                                            (b":authority", b"www.lab.test"), (b":path", b"/")], end_stream=True)
        self.transmit()


async def run_server(port: int, cert: str, key: str, alpns: list[str]) -> None:
    config = QuicConfiguration(is_client=False, alpn_protocols=alpns)
    config.load_cert_chain(cert, key)
    protocol = ClosingServer if os.environ.get("QUIC_SERVER_CLOSE") else QuicConnectionProtocol
    if os.environ.get("QUIC_H3_STATUS"):
        protocol, config.alpn_protocols = H3Server, H3_ALPN
    tickets: dict = {}
    await serve("127.0.0.1", port, configuration=config, create_protocol=protocol,
                session_ticket_fetcher=tickets.get, session_ticket_handler=lambda t: tickets.__setitem__(t.ticket, t),
                retry=os.environ.get("QUIC_RETRY") == "1")
    await asyncio.sleep(3600)


async def run_client(port: int, ca: str, alpns: list[str], version: int | None) -> dict:
    config = QuicConfiguration(is_client=True, alpn_protocols=alpns,
                               server_name=os.environ.get("QUIC_SNI", "www.lab.test"))
    config.load_verify_locations(ca)
    if os.environ.get("QUIC_KEYLOG"):
        config.secrets_log_file = open(os.environ["QUIC_KEYLOG"], "a")  # noqa: SIM115 - open while the client runs
    if os.environ.get("QUIC_SUITES"):
        config.cipher_suites = [CipherSuite(int(x, 16)) for x in os.environ["QUIC_SUITES"].split(",")]
    if version is not None:
        config.supported_versions = [version]
    if os.environ.get("QUIC_MAX_DATAGRAM"):
        config.max_datagram_size = int(os.environ["QUIC_MAX_DATAGRAM"])
    outcome: dict = {}
    if os.environ.get("QUIC_ZERO_RTT"):
        return await _resume_with_early_data(port, config)
    if os.environ.get("QUIC_H3_GET"):
        async with connect("127.0.0.1", port, configuration=config, create_protocol=H3Client) as client:
            outcome["handshake_completed"] = True
            client.get()
            outcome["status"] = await asyncio.wait_for(client.status, 5)
        return outcome
    try:
        async with connect("127.0.0.1", port, configuration=config, wait_connected=True) as client:
            outcome["handshake_completed"] = True
            await client.ping()
            for _ in range(int(os.environ.get("QUIC_KEY_UPDATES", "0"))):
                client._quic.request_key_update()
                await client.ping()
                outcome["key_updates"] = outcome.get("key_updates", 0) + 1
            if os.environ.get("QUIC_WAIT"):
                await asyncio.sleep(float(os.environ["QUIC_WAIT"]))
    except ConnectionError as e:
        outcome["error"] = str(e)
    except Exception as e:  # noqa: BLE001 - recorded as the client's own words
        outcome["error"] = f"{type(e).__name__}: {e}"
    return outcome


async def _resume_with_early_data(port: int, config: QuicConfiguration) -> dict:
    """A first connection for the session ticket, then a second that resumes with it and sends
    a PING in 0-RTT packets before its handshake completes."""
    tickets: list = []
    async with connect("127.0.0.1", port, configuration=config, session_ticket_handler=tickets.append) as client:
        await client.ping()
        await asyncio.sleep(0.3)
    outcome: dict = {"first_handshake_completed": True, "ticket": bool(tickets)}
    config.session_ticket = tickets[-1]
    async with connect("127.0.0.1", port, configuration=config, wait_connected=False) as client:
        ping = asyncio.ensure_future(client.ping())
        await client.wait_connected()
        await ping
        outcome["handshake_completed"] = True
        outcome["early_data_accepted"] = client._quic.tls.early_data_accepted
    return outcome


def main() -> None:
    role, port = sys.argv[1], int(sys.argv[2])
    if role == "server":
        asyncio.run(run_server(port, sys.argv[3], sys.argv[4], sys.argv[5].split(",")))
    else:
        version = int(sys.argv[5], 16) if len(sys.argv) > 5 else None
        timeout = float(os.environ.get("QUIC_TIMEOUT", "10"))
        try:
            result = asyncio.run(asyncio.wait_for(run_client(port, sys.argv[3], sys.argv[4].split(","), version),
                                                  timeout))
        except asyncio.TimeoutError:
            result = {"error": f"no handshake within {timeout:g} s"}
        print(json.dumps(result))


if __name__ == "__main__":
    main()
