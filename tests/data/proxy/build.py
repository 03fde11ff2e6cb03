"""Rebuild the HTTP proxy (CONNECT) captures: a small forward proxy, openssl s_server and curl
on loopback in a network namespace.

    unshare -n python tests/data/proxy/build.py

Run as root (tcpdump). The proxy (this file, run with ``--proxy MODE``) answers CONNECT with
200 and relays (``ok``), or refuses with 407 and a Proxy-Authenticate header (``407``) or 403
(``403``), as Squid and Apache's mod_proxy_connect do; or speaks SOCKS 5 (``socks-ok``, and
``socks-02``: the reply "connection not allowed by ruleset", as a Dante rule answers). curl is the client (``-x``). Each
scenario keeps ``NAME.pcap`` and ``NAME.peers.txt`` with curl's own words, which the tests
quote as the expected values (tshark's reading of the pcap is the other oracle, at test time).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/data: the shared recording helper

from recording import recording  # noqa: E402

PROXY_PORT, SERVER_PORT = 3128, 4433
SCENARIOS = {"connect_ok_curl": "ok", "connect_407_curl": "407", "connect_403_curl": "403",
             "socks5_ok_curl": "socks-ok", "socks5_ruleset_curl": "socks-02"}
REFUSALS = {
    "407": b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n"
           b"Content-Length: 0\r\n\r\n",
    "403": b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _socks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str) -> None:
    """SOCKS 5 (RFC 1928) with no authentication: CONNECT to 127.0.0.1 at the port asked for, or
    the reply 02 (connection not allowed by ruleset) in mode socks-02."""
    greeting = await reader.readexactly(2)
    await reader.readexactly(greeting[1])
    writer.write(b"\x05\x00")
    head = await reader.readexactly(4)
    if head[3] == 3:
        name = await reader.readexactly((await reader.readexactly(1))[0])
        del name
    else:
        await reader.readexactly(4 if head[3] == 1 else 16)
    port = int.from_bytes(await reader.readexactly(2), "big")
    if mode == "socks-02":
        writer.write(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")
        await writer.drain()
        writer.close()
        return
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + port.to_bytes(2, "big"))
    await writer.drain()
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _proxy(mode: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if mode.startswith("socks"):
            await _socks(reader, writer, mode)
            return
        head = b""
        while b"\r\n\r\n" not in head:
            data = await reader.read(4096)
            if not data:
                writer.close()
                return
            head += data
        if mode in REFUSALS:
            writer.write(REFUSALS[mode])
            await writer.drain()
            writer.close()
            return
        port = int(head.split(b"\r\n")[0].split()[1].rsplit(b":", 1)[1])
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)  # (no DNS in the namespace)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", PROXY_PORT)
    async with server:
        await server.serve_forever()


def _scenario(name: str, mode: str, work: Path) -> None:
    pcap = HERE / f"{name}.pcap"
    with recording(pcap):
        server = subprocess.Popen(["openssl", "s_server", "-accept", str(SERVER_PORT), "-cert", str(work / "cert.pem"),
                                   "-key", str(work / "key.pem"), "-www", "-quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = subprocess.Popen([sys.executable, __file__, "--proxy", mode])
        time.sleep(1)
        scheme = "socks5h" if mode.startswith("socks") else "http"
        client = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "http_code=%{http_code}\\n", "-x",
                                 f"{scheme}://127.0.0.1:{PROXY_PORT}", "--cacert", str(work / "cert.pem"), "--resolve",
                                 f"www.lab.test:{SERVER_PORT}:127.0.0.1", f"https://www.lab.test:{SERVER_PORT}/"],
                                capture_output=True, text=True, timeout=30)
        time.sleep(0.5)
        for p in (server, proxy):
            p.terminate()
            p.wait()
    (HERE / f"{name}.peers.txt").write_text(
        f"client: curl -x {scheme}://127.0.0.1:{PROXY_PORT} https://www.lab.test:{SERVER_PORT}/\n"
        f"client exit status: {client.returncode}\nclient stdout: {client.stdout.strip()}\n"
        f"client stderr: {client.stderr.strip()}\nproxy: {mode}\n")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--proxy":
        asyncio.run(_proxy(sys.argv[2]))
        return
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = Path(tempfile.mkdtemp(prefix="proxy-build-"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem"), "-subj", "/CN=www.lab.test", "-days", "3650",
                    "-addext", "subjectAltName=DNS:www.lab.test"], check=True, capture_output=True)
    for name, mode in SCENARIOS.items():
        if len(sys.argv) == 1 or name in sys.argv[1:]:
            _scenario(name, mode, work)


if __name__ == "__main__":
    os.umask(0o022)
    main()
