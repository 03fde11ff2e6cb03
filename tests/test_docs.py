"""The user documentation cannot drift silently from the code and the lab.

docs/causes.md must have one section per cause id in ``tlsdissect.diagnosis.causes.CAUSES`` (and no
other) with the catalogue's meaning and remedies, name only captures that exist, and its "Lab
capture" lines must agree with the lab's own sidecars (captures/*/expected.json, written from how
each scenario was built, not by us); every cause has a family, and the sidecars' cause families
are the catalogue's.
docs/schema.md must document every key the JSON really has on the lab captures, with the type
it really has, and every field of the stable contract must exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

import tlsdissect
from tlsdissect.diagnosis.causes import CAUSE_FAMILIES, CAUSES, remedy_lines

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CAPTURES = ROOT / "captures"
CAUSES_MD = DOCS / "causes.md"
SCHEMA_MD = DOCS / "schema.md"


# -- reading the markdown ----------------------------------------------------------------


def _sections(text: str, level: str = "## ") -> dict[str, str]:
    """Heading line (without the marker) -> body up to the next heading of the same level."""
    out: dict[str, str] = {}
    current = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(level):
            if current is not None:
                out[current] = "\n".join(lines)
            current, lines = line[len(level) :].strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        out[current] = "\n".join(lines)
    return out


def _section(text: str, title_prefix: str) -> str:
    matches = [
        body
        for title, body in _sections(text).items()
        if title.startswith(title_prefix)
    ]
    assert len(matches) == 1, (
        f"schema.md: expected one section starting with {title_prefix!r}"
    )
    return matches[0]


def _table_rows(body: str) -> Iterator[list[str]]:
    for line in body.splitlines():
        if not line.startswith("| ") or set(line.replace("|", "").strip()) <= {
            "-",
            " ",
        }:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("field", "type", "letter"):
            continue
        yield cells


def _names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _documented(body: str) -> dict[str, str]:
    """Field name -> documented type cell, from the tables of a section."""
    out: dict[str, str] = {}
    for cells in _table_rows(body):
        for name in _names(cells[0]):
            out[name] = cells[1] if len(cells) > 1 else ""
    return out


_TYPE_WORDS = {
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "string": (str,),
    "list": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _type_ok(value: Any, type_cell: str) -> bool:
    allowed: tuple[type, ...] = ()
    for alternative in type_cell.split(" or "):
        for word in alternative.replace(",", " ").split():
            if word in _TYPE_WORDS:
                allowed += _TYPE_WORDS[word]
                break
    assert allowed, f"schema.md: cannot read the type {type_cell!r}"
    if isinstance(value, bool) and bool not in allowed:
        return False
    return isinstance(value, allowed)


# -- the lab's reports -------------------------------------------------------------------


def _lab_captures() -> list[Path]:
    return sorted(p.parent for p in CAPTURES.glob("*/capture.pcap"))


@lru_cache(maxsize=1)
def _reports() -> tuple[dict[str, Any], ...]:
    """Every lab capture, without and (when the lab kept one) with its key log."""
    out = []
    for folder in _lab_captures():
        out.append(tlsdissect.analyze(folder / "capture.pcap").to_dict())
        keylog = folder / "keylog.txt"
        if keylog.exists():
            out.append(
                tlsdissect.analyze(
                    folder / "capture.pcap", keylog=str(keylog)
                ).to_dict()
            )
    return tuple(out)


def _connections() -> Iterator[dict[str, Any]]:
    for report in _reports():
        yield from report["connections"]


needs_lab = pytest.mark.skipif(
    not _lab_captures(), reason="no lab captures in captures/"
)


# -- causes.md ---------------------------------------------------------------------------


def _cause_sections() -> dict[str, str]:
    out = {}
    for title, body in _sections(CAUSES_MD.read_text()).items():
        m = re.fullmatch(r"`([a-z0-9_]+)`", title)
        if m:
            out[m.group(1)] = body
    return out


def test_every_cause_has_a_section_and_every_section_is_a_cause() -> None:
    documented = set(_cause_sections())
    assert documented - set(CAUSES) == set(), (
        "sections in docs/causes.md for unknown cause ids"
    )
    assert set(CAUSES) - documented == set(), (
        "cause ids without a section in docs/causes.md"
    )


def test_every_cause_section_says_what_it_is_and_names_a_lab_capture_or_none() -> None:
    for cid, body in _cause_sections().items():
        assert "**Meaning.**" in body and "**In the bytes.**" in body, cid
        assert "**Remedy.**" in body, cid
        assert re.search(r"\*\*Lab captures?[:.]", body), (
            f"{cid}: no 'Lab capture' line (say 'None' if so)"
        )
        if CAUSES[cid].check:
            assert "**Check.**" in body, cid


def test_every_capture_named_in_causes_md_exists() -> None:
    names = set(re.findall(r"captures/([A-Za-z0-9_.-]+)", CAUSES_MD.read_text()))
    assert names, "docs/causes.md names no capture"
    missing = sorted(n for n in names if not (CAPTURES / n).exists())
    assert missing == [], f"docs/causes.md names captures that do not exist: {missing}"


def test_lab_capture_lines_agree_with_the_sidecars() -> None:
    """A capture listed as a cause's example has that cause in its hand-written sidecar."""
    checked = 0
    for cid, body in _cause_sections().items():
        for line in body.splitlines():
            m = re.match(r"\*\*Lab captures?:\*\*(.*)", line)
            if not m:
                continue
            for name in re.findall(r"`captures/([A-Za-z0-9_.-]+)`", m.group(1)):
                sidecar = CAPTURES / name / "expected.json"
                if not sidecar.exists():
                    continue  # the existence test reports it
                expected = json.loads(sidecar.read_text())["expected"]
                assert cid in (expected["cause"], expected.get("refined_cause")), (
                    f"{name}: sidecar says {expected['cause']}, docs say {cid}"
                )
                checked += 1
    assert checked >= 20


def _paragraph(body: str, label: str) -> str:
    """The text of the paragraph that starts with ``**label.**``, on one line."""
    m = re.search(rf"^\*\*{re.escape(label)}\.\*\*(.*?)(?:\n\n|\Z)", body, re.MULTILINE | re.DOTALL)
    assert m, label
    return " ".join(m.group(1).split())


def test_remedies_in_causes_md_are_the_catalogue_text() -> None:
    """The remedy bullets are the catalogue's own words, in its order (Apache httpd, nginx,
    HAProxy, then the general lines): what the diagnosis prints."""
    sections = _cause_sections()
    for cid in CAUSES:
        remedy = sections[cid].split("**Remedy.**", 1)[1].lstrip("\n").split("\n\n", 1)[0]
        bullets = [line[2:] for line in remedy.splitlines() if line.startswith("- ")]
        assert bullets == remedy_lines(cid), cid


def test_meaning_in_causes_md_is_the_catalogue_text() -> None:
    sections = _cause_sections()
    for cid, cause in CAUSES.items():
        assert _paragraph(sections[cid], "Meaning") == " ".join(cause.meaning.split()), cid


# -- cause families ----------------------------------------------------------------------


def test_every_cause_has_a_family_from_the_vocabulary() -> None:
    assert set(CAUSE_FAMILIES) == {
        "server_rejects_hello", "client_rejects_server_cert", "client_rejects_server_params",
        "server_rejects_client_cert", "path_or_middlebox", "after_handshake", "transport", "not_tls",
        "ok", "unknown",
    }
    for cid, cause in CAUSES.items():
        assert cause.family in CAUSE_FAMILIES, (cid, cause.family)
    assert CAUSES["ok"].family == "ok" and CAUSES["unknown"].family == "unknown"


def test_every_sidecar_names_a_catalogue_cause_and_its_family() -> None:
    sidecars = sorted(CAPTURES.glob("*/expected.json"))
    with_family = 0
    for sidecar in sidecars:
        expected = json.loads(sidecar.read_text())["expected"]
        cid = expected["cause"]
        assert cid in CAUSES, f"{sidecar.parent.name}: {cid} is not in the catalogue"
        if "cause_family" in expected:
            assert expected["cause_family"] == CAUSES[cid].family, (
                f"{sidecar.parent.name}: cause_family {expected['cause_family']}, the catalogue's "
                f"family of {cid} is {CAUSES[cid].family}")
            with_family += 1
    assert with_family >= 30  # the wide lab's sidecars


def test_the_lab_s_family_table_is_the_catalogue_s() -> None:
    """lab/groundtruth.py keeps its own copy (the lab runs without tlsdissect installed): the
    same family for every cause it knows, and only catalogue causes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lab_groundtruth", ROOT / "lab" / "groundtruth.py")
    assert spec and spec.loader
    groundtruth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(groundtruth)
    assert set(groundtruth.CAUSES) <= set(CAUSES)
    assert {cid: CAUSES[cid].family for cid in groundtruth.FAMILIES} == groundtruth.FAMILIES


def test_the_family_table_in_causes_md_is_the_catalogue_s() -> None:
    rows = {}
    for line in CAUSES_MD.read_text().splitlines():
        m = re.fullmatch(r"\| `([a-z_]+)` \| (.+) \| (.+) \|", line)
        if m:
            rows[m.group(1)] = (m.group(2), re.findall(r"\[([a-z0-9_]+)\]\(#", m.group(3)))
    assert set(rows) == set(CAUSE_FAMILIES)
    for family, (meaning, members) in rows.items():
        assert meaning == CAUSE_FAMILIES[family], family
        assert members == [cid for cid, c in CAUSES.items() if c.family == family], family


# -- schema.md ---------------------------------------------------------------------------

SCHEMA = SCHEMA_MD.read_text() if SCHEMA_MD.exists() else ""


def _contract_paths() -> list[str]:
    body = _section(SCHEMA, "The contract")
    return re.findall(r"^- `([^`]+)`$", body, flags=re.MULTILINE)


def _resolve(obj: Any, parts: list[str]) -> bool:
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        key = head[:-2]
        if not isinstance(obj, dict) or not isinstance(obj.get(key), list):
            return False
        return any(_resolve(item, rest) for item in obj[key]) if rest else key in obj
    return isinstance(obj, dict) and head in obj and _resolve(obj[head], rest)


def test_the_contract_lists_the_fields_users_rely_on() -> None:
    paths = set(_contract_paths())
    for must in (
        "capture",
        "connections",
        "connections[].stream",
        "connections[].ssl_history",
        "connections[].alerts[].encrypted",
        "connections[].tcp_close.how",
        "connections[].diagnosis.cause",
        "connections[].diagnosis.remedy",
    ):
        assert must in paths, must
    assert "we add fields, we never rename" in SCHEMA


@needs_lab
def test_every_contract_field_exists_in_real_output() -> None:
    for path in _contract_paths():
        parts = path.split(".")
        assert any(_resolve(r, parts) for r in _reports()), (
            f"stable field {path} never appears"
        )


@needs_lab
def test_every_top_level_key_is_documented_with_its_type() -> None:
    documented = _documented(_section(SCHEMA, "Top level"))
    for report in _reports():
        for key, value in report.items():
            assert key in documented, (
                f"top-level key {key!r} missing from docs/schema.md"
            )
            assert _type_ok(value, documented[key]), (key, value, documented[key])


@needs_lab
def test_every_connection_key_is_documented_with_its_type() -> None:
    documented = _documented(_section(SCHEMA, "Connection"))
    seen = set()
    for conn in _connections():
        for key, value in conn.items():
            seen.add(key)
            assert key in documented, (
                f"connection key {key!r} missing from docs/schema.md"
            )
            assert _type_ok(value, documented[key]), (key, value, documented[key])
    assert {"stream", "diagnosis", "events"} <= seen


@pytest.mark.parametrize(
    "section,path",
    [
        ("Alert", ("alerts",)),
        ("tcp_close", ("tcp_close",)),
        ("diagnosis", ("diagnosis",)),
        ("stats", ("stats", "client")),
        ("decryption", ("decryption",)),
        ("Certificate", ("server_certificates",)),
        ("chain_findings", ("chain_findings",)),
        ("certificate_request", ("certificate_request",)),
        ("server_key_exchange", ("server_key_exchange",)),
        ("Hello messages", ("client_hello",)),
        ("Hello messages", ("server_hello",)),
    ],
)
@needs_lab
def test_every_nested_key_is_documented(section: str, path: tuple[str, ...]) -> None:
    documented = _documented(_section(SCHEMA, section))
    typed = section not in ("Hello messages",)
    found = 0
    for conn in _connections():
        obj: Any = conn
        for key in path:
            obj = obj.get(key) if isinstance(obj, dict) else None
        items = obj if isinstance(obj, list) else [obj]
        for item in items:
            if not isinstance(item, dict):
                continue
            found += 1
            for key, value in item.items():
                assert key in documented, (
                    f"{'.'.join(path)}: key {key!r} missing from docs/schema.md ({section})"
                )
                if typed and documented[key]:
                    assert _type_ok(value, documented[key]), (
                        path,
                        key,
                        value,
                        documented[key],
                    )
    assert found, f"no lab capture has {'.'.join(path)}"


@needs_lab
def test_every_event_type_and_field_is_documented() -> None:
    body = _section(SCHEMA, "Events")
    tables = body.split("Fields of a `handshake` event")
    assert len(tables) == 2
    extra_by_type: dict[str, set[str]] = {}
    for cells in _table_rows(tables[0]):
        for name in _names(cells[0]):
            extra_by_type[name] = set(_names(cells[1]))
    handshake_fields = set(_documented(tables[1]))
    common = {"frame", "time", "sender", "type"}
    for conn in _connections():
        for event in conn["events"]:
            etype = event["type"]
            assert etype in extra_by_type, (
                f"event type {etype!r} missing from docs/schema.md"
            )
            allowed = common | (
                handshake_fields if etype == "handshake" else extra_by_type[etype]
            )
            extra = set(event) - allowed
            assert not extra, (
                f"{etype} event fields {extra} missing from docs/schema.md"
            )


@needs_lab
def test_every_finding_id_seen_is_documented() -> None:
    body = _section(SCHEMA, "chain_findings")
    documented = set(re.findall(r"`([a-z0-9_]+)`", body.split("Finding ids:", 1)[1]))
    for conn in _connections():
        for finding in conn.get("chain_findings", []):
            assert finding["id"] in documented, (
                f"finding id {finding['id']!r} missing from docs/schema.md"
            )


def test_documented_finding_ids_exist_in_the_code() -> None:
    body = _section(SCHEMA, "chain_findings")
    documented = set(re.findall(r"`([a-z0-9_]+)`", body.split("Finding ids:", 1)[1]))
    source = "".join(p.read_text() for p in sorted((ROOT / "tlsdissect" / "x509").rglob("*.py"))) + (
        ROOT / "tlsdissect" / "pipeline" / "enrich.py"
    ).read_text()
    for fid in documented:
        if fid.startswith("eku_not_"):  # built as f"eku_not_{role}_auth"
            assert '"eku_not_' in source or 'f"eku_not_' in source, fid
            continue
        assert f'"{fid}"' in source, (
            f"docs/schema.md documents finding id {fid!r} the code never emits"
        )


@needs_lab
def test_ssl_history_uses_only_documented_letters() -> None:
    letters = set()
    for cells in _table_rows(_section(SCHEMA, "Definitions")):
        for cell in cells[0::2]:
            if re.fullmatch(r"[A-Z]", cell):
                letters.add(cell)
    assert {"C", "S", "X", "F", "I", "L"} <= letters
    allowed = letters | {x.lower() for x in letters}
    for conn in _connections():
        history = conn["ssl_history"]
        assert set(history) <= allowed, history
        assert len(history) <= 100


@needs_lab
def test_diagnosis_values_are_the_documented_ones() -> None:
    diag_md = (DOCS / "diagnosis.md").read_text()
    outcomes = set(
        re.findall(
            r"^\| `([a-z_]+)` \|", _section(diag_md, "Outcome"), flags=re.MULTILINE
        )
    )
    phases = set(
        re.findall(
            r"^\| `([a-z_]+)` \|",
            _section(diag_md, "Failure points"),
            flags=re.MULTILINE,
        )
    )
    assert {"established", "failed", "incomplete", "not_tls"} <= outcomes
    for conn in _connections():
        d = conn["diagnosis"]
        assert d["outcome"] in outcomes, d["outcome"]
        assert d["failure_point"] is None or d["failure_point"] in phases, d[
            "failure_point"
        ]
        assert d["cause"] in CAUSES


@needs_lab
def test_cli_json_is_the_documented_object(capsys: pytest.CaptureFixture[str]) -> None:
    """`tlsdissect --json` prints what to_dict() returns, plus only documented keys."""
    from tlsdissect.cli import main

    folder = CAPTURES / "tls12_missing_intermediate_openssl"
    if not (folder / "capture.pcap").exists():
        folder = _lab_captures()[0]
    main(["--json", str(folder / "capture.pcap")])
    printed = json.loads(capsys.readouterr().out)
    library = tlsdissect.analyze(folder / "capture.pcap").to_dict()
    documented = _documented(_section(SCHEMA, "Top level"))
    for key, value in printed.items():
        assert key in documented, (
            f"--json top-level key {key!r} missing from docs/schema.md"
        )
        assert _type_ok(value, documented[key]), (key, value)
    assert printed["connections"] == library["connections"]
    assert {k: v for k, v in printed.items() if k != "connections_order"} == library


# -- docs/limits.md ----------------------------------------------------------------------

_UNITS = {"s": 1, "bytes": 1, "KiB": 1024, "MiB": 1024 * 1024, "": 1}


def _limit_rows() -> list[tuple[str, str]]:
    """(value cell, `module.CONSTANT`) of every table row of docs/limits.md that names one."""
    rows = []
    for line in (DOCS / "limits.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            m = re.fullmatch(r"`([\w.]+)\.([A-Z_]+)`", cells[2])
            if m:
                rows.append((cells[1], m.group(1) + "." + m.group(2)))
    return rows


def test_limits_page_quotes_the_constants_as_they_are() -> None:
    import importlib

    rows = _limit_rows()
    assert len(rows) >= 14
    for value, name in rows:
        module, const = name.rsplit(".", 1)
        actual = getattr(importlib.import_module(f"tlsdissect.{module}"), const)
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(\w*)", value)
        assert m, f"{name}: cannot read {value!r}"
        quoted = float(m.group(1)) * _UNITS[m.group(2)]
        assert quoted == actual, f"docs/limits.md says {name} is {value}, the code has {actual}"
