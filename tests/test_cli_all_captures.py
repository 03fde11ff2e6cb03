"""`tlsdissect --json` on every public capture: valid JSON, a documented exit status, and never
a traceback (run in-process through the CLI's own entry point, as the console script does)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from tests import shared_captures as sc
from tlsdissect import cli

CAPTURES = sc.shared_captures()


@pytest.mark.parametrize("capture", [pytest.param(c, id=c.relpath) for c in CAPTURES] or
                         [pytest.param(None, marks=pytest.mark.skip(reason="shared captures not available"))])
def test_json_cli_on_every_shared_capture(capture: sc.CaptureFile) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(capture.path), "--json"])
    assert "Traceback" not in err.getvalue()
    doc = json.loads(out.getvalue())
    assert rc in (0, 1) or (rc == 2 and doc["truncated"]), (rc, err.getvalue())
    for conn in doc["connections"]:
        assert conn["diagnosis"]["outcome"] in ("established", "failed", "incomplete", "not_tls")
