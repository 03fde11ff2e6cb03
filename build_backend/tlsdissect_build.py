"""The build backend: setuptools' own, plus mypy (which brings mypyc) among the build
requirements when the compiled build is asked for (TLSDISSECT_MYPYC=1; see setup.py). The
default build needs neither mypy nor a C compiler."""

from __future__ import annotations

import os
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  (the backend's hooks, unchanged)

_MYPYC = ["mypy>=1.8"]


def _compiled() -> bool:
    return os.environ.get("TLSDISSECT_MYPYC", "") not in ("", "0")


def get_requires_for_build_wheel(config_settings: Any = None) -> list[str]:
    return list(_setuptools.get_requires_for_build_wheel(config_settings)) + (_MYPYC if _compiled() else [])


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    return list(_setuptools.get_requires_for_build_editable(config_settings)) + (_MYPYC if _compiled() else [])
