"""A TLS server written as a Python program would write one: asyncio.start_server with an
ssl.SSLContext (Python's ssl module, OpenSSL underneath). The fifth wide lab (lab/wide5.py)
uses it as a server role Python never had in the earlier labs.

It answers each request with a small HTTP page and logs every connection and every failed
handshake (asyncio reports those on its own logger, at debug level) on stdout, which the lab
keeps as the server's log.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
BODY = b"<html><body>TLS lab (Python asyncio)</body></html>\n"


def context(args: argparse.Namespace) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.tls_min:
        ctx.minimum_version = VERSIONS[args.tls_min]
    if args.tls_max:
        ctx.maximum_version = VERSIONS[args.tls_max]
    if args.cafile:
        ctx.load_verify_locations(args.cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED if args.verify == "required" else ssl.CERT_OPTIONAL
    if args.crl:  # a CRL file for the client CA: revoked client certificates are refused
        ctx.load_verify_locations(args.crl)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    if args.keylog:
        ctx.keylog_filename = args.keylog
    return ctx


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    sslobj = writer.get_extra_info("ssl_object")
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
        logging.info("%s %s %s client_cert=%s %r", peer, sslobj.version(), sslobj.cipher()[0],
                     bool(sslobj.getpeercert()), line.decode(errors="replace").strip())
        while (await asyncio.wait_for(reader.readline(), 5)).strip():
            pass
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                     + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY)
        await writer.drain()
    except (OSError, asyncio.TimeoutError) as exc:
        logging.info("%s connection error: %r", peer, exc)
    finally:
        writer.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True, help="certificate chain (leaf first), PEM")
    ap.add_argument("--key", required=True)
    ap.add_argument("--cafile", help="CA for client certificates (asks for one)")
    ap.add_argument("--verify", choices=("required", "optional"), default="required")
    ap.add_argument("--crl")
    ap.add_argument("--tls-min", choices=tuple(VERSIONS))
    ap.add_argument("--tls-max", choices=tuple(VERSIONS))
    ap.add_argument("--keylog")
    args = ap.parse_args()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port, ssl=context(args),
                                        ssl_handshake_timeout=10)
    logging.info("asyncio TLS server (%s) listening on %d", ssl.OPENSSL_VERSION, args.port)
    async with server:
        await asyncio.sleep(30)


if __name__ == "__main__":
    # asyncio logs a failed handshake ("SSL handshake failed ...") only in debug mode
    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(), debug=True)
