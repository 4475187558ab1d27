"""One spec file per rule, in the style of hadolint's specs and sqlfluff's YAML cases:
``cases/JT101.toml`` holds the Dockerfiles that must give JT101 findings (on which lines, and
the text its fix makes of them) and the ones that must give none. Context and compose rules
read a project instead: their cases hold its ``files`` (a text, or a size in bytes), written
to a temporary directory, and the ``fixed_files`` the fix writes. A case's ``config`` table
sets configuration fields (``trusted_registries``). Adding a rule means adding its case file;
nothing here changes."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from jettison.audit import audit_paths, check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.findings import FixSafety
from jettison.fixes.apply import fix_source
from jettison.fixes.fix_paths import FixRequest, fix_paths
from jettison.rules.registry import Rule, all_rules, get_rule

CASES_DIR = Path(__file__).parent / "cases"


def load(path: Path) -> dict[str, list[dict[str, Any]]]:
    with path.open("rb") as f:
        data = tomllib.load(f)
    unknown = set(data) - {"fail", "pass"}
    assert not unknown, f"{path.name}: unknown tables {unknown}"
    return data


def cases() -> list[Any]:
    out = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        code = path.stem
        for kind in ("fail", "pass"):
            for i, case in enumerate(load(path).get(kind, [])):
                out.append(pytest.param(code, kind, case, id=f"{code}-{kind}-{i}"))
    return out


def rule_of(code: str) -> Rule:
    rule = get_rule(code)
    assert rule is not None, f"cases/{code}.toml: no rule {code}"
    return rule


def write_project(root: Path, files: dict[str, str | int]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            path.write_bytes(b"x" * content)
        else:
            path.write_text(content)


def project_case(code: str, kind: str, case: dict[str, Any], root: Path) -> None:
    """A context or compose rule's case: the project's files, audited and fixed in ``root``."""
    rule = rule_of(code)
    write_project(root, case["files"])
    target = str(root / case["audit"]) if "audit" in case else str(root)
    config = Config(select=[code], **case.get("config", {}))
    result = audit_paths([target], config, jobs=1)
    found = [f for f in result.findings if f.code == code]
    note = case.get("note", "")
    assert result.errors == [], note
    if kind == "pass":
        assert found == [], note
        return
    assert [f.line for f in found] == case["lines"], note
    if "paths" in case:
        assert [Path(f.path).relative_to(root).as_posix() for f in found] == case["paths"], note
    if "fixed_files" in case:
        unsafe = rule.fix_safety is FixSafety.UNSAFE
        fix_paths(FixRequest(paths=[target], config=config, unsafe_fixes=unsafe))
        for name, content in case["fixed_files"].items():
            assert (root / name).read_text() == content, f"{name}: {note}"


@pytest.mark.parametrize(("code", "kind", "case"), cases())
def test_rule_case(code: str, kind: str, case: dict[str, Any], tmp_path: Path) -> None:
    if "files" in case:
        project_case(code, kind, case, tmp_path)
        return
    rule = rule_of(code)
    text = case["dockerfile"]
    config = Config(select=[code], **case.get("config", {}))
    found = check_dockerfile(parse_dockerfile(text, "Dockerfile"), config)
    lines = [f.line for f in found if f.code == code]
    if kind == "pass":
        assert lines == [], case.get("note", "")
        return
    assert lines == case["lines"], case.get("note", "")
    if "fixed" in case:
        unsafe = rule.fix_safety is FixSafety.UNSAFE
        assert fix_source(text, "Dockerfile", config, unsafe=unsafe).text == case["fixed"]


def test_every_rule_has_a_case_file_with_both_kinds() -> None:
    for rule in all_rules():
        path = CASES_DIR / f"{rule.code}.toml"
        assert path.is_file(), f"no cases/{rule.code}.toml"
        data = load(path)
        assert data.get("fail") and data.get("pass"), f"cases/{rule.code}.toml"
        if rule.fixable:
            # a Dockerfile rule whose fix reads the build context (JT208: pyproject.toml) shows
            # it on a project's files
            keys = ("fixed", "fixed_files") if rule.scope == "dockerfile" else ("fixed_files",)
            assert any(k in c for c in data["fail"] for k in keys), (
                f"cases/{rule.code}.toml: no {' or '.join(keys)}"
            )
