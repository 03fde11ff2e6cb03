"""QUIC lab peers (aioquic): one server and one client run, each told what to do by argv.

    python peers.py server PORT CERT KEY ALPN[,ALPN...]
    python peers.py client PORT CA ALPN[,ALPN...] [VERSION]

The client prints one JSON line: what aioquic itself says happened (the handshake completed,
or the close it received or sent, with the error code and reason): the ground truth a lab
scenario records. Environment: QUIC_KEYLOG (a file the client appends its TLS secrets to, NSS
key log format), QUIC_SNI (the name the client asks for, www.lab.test by default),
QUIC_SUITES (cipher suites by IANA number, e.g. 0x1303 for ChaCha20-Poly1305 only),
QUIC_MAX_DATAGRAM (the client's UDP payload size, which its Initials are padded to; 1200 by
default), QUIC_TIMEOUT (seconds the client waits for the handshake, 10 by default); for the
server QUIC_RETRY=1 (address validation with a Retry packet).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from aioquic.asyncio import connect, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.tls import CipherSuite


async def run_server(port: int, cert: str, key: str, alpns: list[str]) -> None:
    config = QuicConfiguration(is_client=False, alpn_protocols=alpns)
    config.load_cert_chain(cert, key)
    await serve("127.0.0.1", port, configuration=config, retry=os.environ.get("QUIC_RETRY") == "1")
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
    try:
        async with connect("127.0.0.1", port, configuration=config, wait_connected=True) as client:
            outcome["handshake_completed"] = True
            await client.ping()
    except ConnectionError as e:
        outcome["error"] = str(e)
    except Exception as e:  # noqa: BLE001 - recorded as the client's own words
        outcome["error"] = f"{type(e).__name__}: {e}"
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
