"""The optional compiled build: with TLSDISSECT_MYPYC=1 in the environment, the hot modules
(COMPILED, below) are compiled with mypyc into C extensions; without it (the default) this
adds nothing and the package installs as pure Python. Both run the same source and give the
same output; ``tlsdissect --version`` says which one runs. See README, "Compiled build"."""

from __future__ import annotations

import os

from setuptools import setup

# The modules mypyc compiles: the per-packet and per-record paths, the TLS session, what the
# pipeline does per finished connection (assemble, enrich, fingerprints, the diagnosis' facts,
# ranking and rules). Grown as mypyc accepts modules (docs/compiled.md lists what is compiled, what is not
# and why, and the measured speed).
COMPILED = [
    "tlsdissect/capture/packet.py",
    # (not capture/reader.py: its file wrappers subclass io.RawIOBase, which mypyc cannot compile)
    "tlsdissect/tcp/reassembly.py",
    "tlsdissect/tcp/flows.py",
    "tlsdissect/tcp/stall.py",
    "tlsdissect/tcp/window.py",
    "tlsdissect/tcp/relays.py",
    "tlsdissect/tls/cursor.py",
    "tlsdissect/tls/records.py",
    "tlsdissect/tls/handshake.py",
    "tlsdissect/tls/extensions.py",
    "tlsdissect/tls/session.py",
    "tlsdissect/tls/handlers.py",
    "tlsdissect/tls/conclusions.py",
    "tlsdissect/tls/jsonforms.py",
    "tlsdissect/pipeline/packet_loop.py",
    "tlsdissect/pipeline/assemble.py",
    "tlsdissect/pipeline/relays.py",
    "tlsdissect/pipeline/neighbours.py",
    "tlsdissect/pipeline/enrich.py",
    "tlsdissect/fingerprints/connection.py",
    "tlsdissect/fingerprints/hellofields.py",
    "tlsdissect/fingerprints/ja3.py",
    "tlsdissect/fingerprints/ja4.py",
    "tlsdissect/diagnosis/facts.py",
    "tlsdissect/diagnosis/ranking.py",
    "tlsdissect/diagnosis/reasoner.py",
    "tlsdissect/diagnosis/phases.py",
    "tlsdissect/diagnosis/texts.py",
    "tlsdissect/diagnosis/rules/after_handshake.py",
    "tlsdissect/diagnosis/rules/alert_model.py",
    "tlsdissect/diagnosis/rules/alpn_unselected.py",
    "tlsdissect/diagnosis/rules/client_certificate.py",
    "tlsdissect/diagnosis/rules/client_certificate_silent.py",
    "tlsdissect/diagnosis/rules/handshake_end.py",
    "tlsdissect/diagnosis/rules/hello_rejected.py",
    "tlsdissect/diagnosis/rules/hidden_alerts.py",
    "tlsdissect/diagnosis/rules/http_answers.py",
    "tlsdissect/diagnosis/rules/key_exchange.py",
    "tlsdissect/diagnosis/rules/late_alert.py",
    "tlsdissect/diagnosis/rules/no_alert.py",
    "tlsdissect/diagnosis/rules/not_tls.py",
    "tlsdissect/diagnosis/rules/post_handshake.py",
    "tlsdissect/diagnosis/rules/record_integrity.py",
    "tlsdissect/diagnosis/rules/revocation.py",
    "tlsdissect/diagnosis/rules/server_certificate.py",
    "tlsdissect/diagnosis/rules/silent_rejection.py",
    "tlsdissect/diagnosis/rules/starttls.py",
    "tlsdissect/diagnosis/rules/transport.py",
]


def _ext_modules() -> list:
    if os.environ.get("TLSDISSECT_MYPYC", "") in ("", "0"):
        return []
    from mypyc.build import mypycify

    return mypycify(["--config-file", "pyproject.toml", *COMPILED], opt_level="3")


setup(ext_modules=_ext_modules())
