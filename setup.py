"""The optional compiled build: with TLSDISSECT_MYPYC=1 in the environment, the hot modules
(COMPILED, below) are compiled with mypyc into C extensions; without it (the default) this
adds nothing and the package installs as pure Python. Both run the same source and give the
same output; ``tlsdissect --version`` says which one runs. See README, "Compiled build"."""

from __future__ import annotations

import os

from setuptools import setup

# The modules mypyc compiles: the per-packet and per-record paths. Grown as mypyc accepts
# modules (docs/compiled.md lists what is compiled and the measured speed).
COMPILED = [
    "tlsdissect/capture/packet.py",
    # (not capture/reader.py: its file wrappers subclass io.RawIOBase, which mypyc cannot compile)
    "tlsdissect/tcp/reassembly.py",
    "tlsdissect/tcp/flows.py",
    "tlsdissect/tcp/stall.py",
    "tlsdissect/tcp/relays.py",
    "tlsdissect/tls/cursor.py",
    "tlsdissect/tls/records.py",
    "tlsdissect/tls/handshake.py",
    "tlsdissect/tls/extensions.py",
]


def _ext_modules() -> list:
    if os.environ.get("TLSDISSECT_MYPYC", "") in ("", "0"):
        return []
    from mypyc.build import mypycify

    return mypycify(["--config-file", "pyproject.toml", *COMPILED], opt_level="3")


setup(ext_modules=_ext_modules())
