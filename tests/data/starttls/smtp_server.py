"""The SMTP server of the STARTTLS captures: aiosmtpd (pip), as it is or refusing STARTTLS.

    python smtp_server.py MODE PORT [CERT KEY]

MODE ``plain``: aiosmtpd without a TLS context (its EHLO reply has no STARTTLS; a STARTTLS
command gets aiosmtpd's own ``454 TLS not available``). ``tls``: with the certificate (STARTTLS
offered and accepted). ``refuse``: STARTTLS offered, then refused with the 454 reply Postfix
gives when it cannot load its certificate (the one small change to aiosmtpd: Postfix itself is
too heavy to install for a capture).
"""

from __future__ import annotations

import asyncio
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        return "250 OK"


class RefusingSmtp(SMTP):
    async def smtp_STARTTLS(self, arg: str) -> None:
        await self.push("454 4.7.0 TLS not available due to local problem")


class RefusingController(Controller):
    def factory(self):  # noqa: ANN201
        return RefusingSmtp(self.handler, **self.SMTP_kwargs)


def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    context = None
    if mode in ("tls", "refuse"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
    cls = RefusingController if mode == "refuse" else Controller
    controller = cls(Sink(), hostname="127.0.0.1", port=port, tls_context=context, server_hostname="mail.lab.test")
    controller.start()
    print(f"aiosmtpd {mode} listening on {port}", flush=True)
    try:
        asyncio.run(asyncio.sleep(30))
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
