"""What holds for every rule: docs, suppression comments, exact lines. The per-rule cases
are in ``cases/<code>.toml`` (run by test_rule_cases.py)."""

from __future__ import annotations

from jettison.audit import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.rules.registry import all_rules


def codes(text: str, select: str | None = None) -> list[str]:
    config = Config(select=[select] if select else [])
    return [f.code for f in check_dockerfile(parse_dockerfile(text, "Dockerfile"), config)]


def test_every_rule_is_documented() -> None:
    for r in all_rules():
        assert r.doc.what and r.doc.why and r.doc.example and r.doc.use_instead, r.code
        assert r.code.startswith("JT") and len(r.code) == 5
        if r.fix_safety is not None:
            assert r.doc.fix != "No automatic fix.", r.code


def test_suppression_comments() -> None:
    text = "FROM debian:12\n# jettison: ignore=JT102\nRUN apt-get install -y curl\n"
    assert "JT102" not in codes(text)
    text = "FROM debian:12\n# hadolint ignore=DL3015\nRUN apt-get install -y curl\n"
    assert "JT102" not in codes(text)
    text = "# jettison: ignore-file=JT102\nFROM debian:12\nRUN apt-get install -y curl\n"
    assert "JT102" not in codes(text)
    text = "FROM debian:12\n# hadolint ignore=DL3009\nRUN apt-get install -y curl\n"
    assert "JT102" in codes(text)


def test_findings_have_exact_lines() -> None:
    text = "FROM debian:12\n\n# c\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    df = parse_dockerfile(text, "Dockerfile")
    found = [f for f in check_dockerfile(df, Config(select=["JT102"]))]
    assert [(f.line, f.end_line, f.column) for f in found] == [(5, 5, 5)]
