"""Regressions found by running ``jettison fix`` over the shared corpus (and variants of it):
a fix that still parses but makes BuildKit read other instructions, and CRLF files that got
a stray CR."""

from __future__ import annotations

import re

import pytest

from jettison.config import Config
from jettison.dockerfile import Dockerfile, parse_dockerfile
from jettison.findings import Edit, Finding, Fix, FixSafety, Severity
from jettison.fixes.apply import RESTRUCTURED, fix_source


def _keywords(text: str) -> list[str]:
    return [ins.keyword for ins in parse_dockerfile(text).instructions]


def test_removed_last_package_does_not_swallow_the_next_instruction() -> None:
    # JT112 used to delete `    vim` only, leaving `curl \\` before `COPY`: BuildKit then
    # joins `COPY . /app` into the RUN. It now takes the continuation along.
    source = (
        "FROM debian:bookworm\n"
        "RUN apt-get install -y \\\n"
        "    curl \\\n"
        "    vim\n"
        "COPY . /app\n"
        'CMD ["bash"]\n'
    )
    outcome = fix_source(source, "Dockerfile", Config(select=["JT112"]), unsafe=True)
    assert _keywords(outcome.text) == ["FROM", "RUN", "COPY", "CMD"]
    assert outcome.text == source.replace("curl \\\n    vim\n", "curl\n")
    assert outcome.skipped == []


def test_removed_package_before_a_shell_comment_does_not_swallow_the_next_run() -> None:
    # corpus: `net-tools # we need ifconfig` as the last continued line; without the word
    # the line was a comment line inside the continuation, so the next RUN became arguments
    # (JT112 no longer removes net-tools, a network client: an editor stands in for it)
    source = (
        "FROM debian:12\n"
        "RUN apt-get update -y && apt-get install -y \\\n"
        "  git \\\n"
        "  vim # we need an editor\n"
        "\n"
        "RUN mkdir -p /root/.ssh\n"
    )
    outcome = fix_source(source, "Dockerfile", Config(), unsafe=True)
    runs = [i for i in parse_dockerfile(outcome.text).instructions if i.keyword == "RUN"]
    assert len(runs) == 2
    assert runs[1].text.startswith("mkdir -p /root/.ssh")
    assert "JT112" in {a.code for a in outcome.applied}
    assert "vim" not in outcome.text and "# we need an editor" in outcome.text
    # the other fixes still apply
    assert "--no-install-recommends" in outcome.text


def test_other_fixes_of_the_round_still_apply_when_one_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fix that leaves `curl \\` before the next instruction (what JT112 once did) is
    # dropped alone; the other fixes of its round still apply
    import jettison.fixes.apply as fix_module

    source = "FROM debian:bookworm\nRUN apt-get install -y \\\n    curl \\\n    vim\nCOPY . /app\n"
    from jettison.audit import check_dockerfile as real

    def with_a_bad_fix(df: Dockerfile, config: Config) -> list[Finding]:
        found = list(real(df, config))
        start = df.source.find("    vim")
        if start != -1:
            edit = Edit(start, start + len("    vim"), "")
            bad = Fix("delete the word only", FixSafety.SAFE, (edit,))
            found.append(Finding("JT999", "bad", "Dockerfile", 4, 4, Severity.INFO, fix=bad))
        return found

    monkeypatch.setattr(fix_module, "check_dockerfile", with_a_bad_fix)
    outcome = fix_source(source, "Dockerfile", Config(select=["JT102"]), unsafe=True)
    assert _keywords(outcome.text) == ["FROM", "RUN", "COPY"]
    assert "apt-get install --no-install-recommends -y" in outcome.text
    assert "vim" in outcome.text
    assert [(code, reason) for code, _, reason in outcome.skipped] == [("JT999", RESTRUCTURED)]
    again = fix_source(outcome.text, "Dockerfile", Config(select=["JT102"]), True)
    assert again.text == outcome.text


def test_crlf_file_gets_no_stray_cr_when_a_copy_moves_below_the_install() -> None:
    # corpus (a CRLF file): JT201 moves the broad COPY below the install; the copied block
    # kept its CR and was inserted between the RUN line's CR and LF: `...txt\r\r\nCOPY`
    source = (
        "FROM python:3.11\r\n"
        "COPY . /app\r\n"
        "RUN apt-get update && apt-get install -y gcc\r\n"
        "RUN pip install -r /app/requirements.txt\r\n"
        'CMD ["python"]\r\n'
    )
    outcome = fix_source(source, "Dockerfile", Config(select=["JT201"]), unsafe=True)
    assert "\r\r" not in outcome.text
    assert not re.search(r"(?<!\r)\n", outcome.text)
    assert outcome.text == (
        "FROM python:3.11\r\n"
        "RUN apt-get update && apt-get install -y gcc\r\n"
        "COPY requirements*.txt /app/\r\n"
        "RUN pip install -r /app/requirements.txt\r\n"
        "COPY . /app\r\n"
        'CMD ["python"]\r\n'
    )


def test_merging_env_keeps_a_comment_inside_the_continuation() -> None:
    # JT204 joined `ENV \` + comment line + `B=2` onto the previous ENV by deleting the
    # text up to `B=2`: the comment line went with it
    source = "FROM debian:bookworm\nENV A=1\nENV \\\n    # the second one\n    B=2\n"
    outcome = fix_source(source, "Dockerfile", Config(select=["JT204"]))
    assert "# the second one" in outcome.text
    assert outcome.text == source
    assert [(code, reason) for code, _, reason in outcome.skipped] == [
        ("JT204", "the result would drop a comment")
    ]
    # without the comment the merge still applies
    plain = "FROM debian:bookworm\nENV A=1\nENV B=2\n"
    assert fix_source(plain, "Dockerfile", Config(select=["JT204"])).text == (
        "FROM debian:bookworm\nENV A=1 \\\n    B=2\n"
    )
