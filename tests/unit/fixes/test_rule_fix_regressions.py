"""Rule fixes that changed what the image does, or never applied (review of the fixes):

* JT304 turned a shell-form CMD/ENTRYPOINT into exec form where the container then runs
  another argv (an ENTRYPOINT in effect, a CMD appended, builtins, odd blanks, other shells);
* ``--verify``'s config comparison took ``/bin/sh -c X`` for the split of X beside an
  ENTRYPOINT, and did not compare labels;
* JT507 wrote the MAINTAINER value as a JSON string (``\\u00e9``, ``\\"`` under a backtick
  escape);
* JT112 left ``curl \\`` before the next instruction (the fixer then discarded the fix);
* JT204 and the multi-stage render wrote ``\\`` continuations in ``# escape=``` files;
* ``--ignore MULTISTAGE`` was rejected as an unknown code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jettison.audit import check_dockerfile
from jettison.audit.codes import check_rule_codes
from jettison.cli import cli
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.errors import JettisonError
from jettison.fixes import verify
from jettison.fixes.apply import fix_source
from jettison.fixes.multistage import Plan, plan_conversion, render
from jettison.fixes.pipeline import fix_pipeline
from jettison.fixes.runtime_libs import LibraryScan
from jettison.fixes.verify import AUTHORS_LABEL, compare_configs


def _fixed(text: str, *codes: str, unsafe: bool = False) -> str:
    outcome = fix_source(text, "Dockerfile", Config(select=list(codes)), unsafe=unsafe)
    assert outcome.skipped == []
    return outcome.text


def _keywords(text: str) -> list[str]:
    return [ins.keyword for ins in parse_dockerfile(text).instructions]


# --- JT304: exec form only when the container runs the same argv -------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # bug (a): the ENTRYPOINT got `/bin/sh -c ...` before, the split words after
        (
            'FROM debian:bookworm-slim\nENTRYPOINT ["/bin/echo", "args:"]\nCMD /bin/echo hi\n',
            "the ENTRYPOINT at line 2",
        ),
        (
            'FROM debian:bookworm-slim\nCMD /bin/echo hi\nENTRYPOINT ["/bin/echo", "args:"]\n',
            "the ENTRYPOINT at line 3",
        ),
        (  # inherited from a parent stage
            'FROM debian:bookworm-slim AS base\nENTRYPOINT ["/bin/echo"]\nFROM base\n'
            "CMD /bin/echo hi\n",
            "the ENTRYPOINT at line 2",
        ),
        (  # a base image that is not a known official one may have an ENTRYPOINT
            "FROM node:20\nCMD node app.js\n",
            "the base image may set an ENTRYPOINT",
        ),
        (
            "FROM registry.example.com/python:3.11\nCMD gunicorn app:app\n",
            "the base image may set an ENTRYPOINT",
        ),
        # bug (b): shell form ignored CMD (it got `$0 $@`); exec form appends it
        (
            "FROM debian:bookworm-slim AS base\nENTRYPOINT /bin/echo start\nFROM base\n"
            'CMD ["--extra"]\n',
            "exec form would append the CMD at line 4",
        ),
        (
            'FROM debian:bookworm-slim\nCMD ["--extra"]\nENTRYPOINT /bin/echo start\n',
            "exec form would append the CMD at line 2",
        ),
    ],
)
def test_shell_form_kept_when_entrypoint_and_cmd_combine(text: str, why: str) -> None:
    assert _fixed(text, "JT304") == text
    findings = check_dockerfile(parse_dockerfile(text), Config(select=["JT304"]))
    assert [f.fix for f in findings] == [None]
    assert f"not rewritten: {why}" in findings[0].message


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("FROM python:3.11-slim\nCMD gunicorn app:app\n", 'CMD ["gunicorn", "app:app"]'),
        (  # `ENTRYPOINT []` sets none, whatever the base image has
            "FROM node:20\nENTRYPOINT []\nCMD node app.js\n",
            'CMD ["node", "app.js"]',
        ),
        (  # a CMD that a later CMD overrides runs nowhere
            'FROM debian:12\nENTRYPOINT ["/x"]\nCMD a b\nCMD ["c"]\n',
            'CMD ["a", "b"]',
        ),
        (
            'FROM python:3.11\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD gunicorn app\n',
            'CMD ["gunicorn", "app"]',
        ),
        ("FROM docker.io/library/python:3.11\nCMD café app\n", 'CMD ["café", "app"]'),
    ],
)
def test_shell_form_rewritten_when_argv_is_the_same(text: str, after: str) -> None:
    result = _fixed(text, "JT304")
    assert after in result.splitlines()


def test_shell_form_entrypoint_rewrite_is_unsafe_only() -> None:
    # an ENTRYPOINT clears the CMD a parent stage set: nothing is appended; but `docker run
    # IMAGE args` would now pass args the shell form ignored, so it is an unsafe fix
    text = 'FROM python:3.11 AS a\nCMD ["x"]\nFROM a\nENTRYPOINT gunicorn app\n'
    assert _fixed(text, "JT304") == text
    result = _fixed(text, "JT304", unsafe=True)
    assert 'ENTRYPOINT ["gunicorn", "app"]' in result.splitlines()


@pytest.mark.parametrize(
    "command",
    [
        "echo hello",  # a builtin of sh; /bin/echo reads options (-e, --version) differently
        "printf ok",
        "time gunicorn app",  # a reserved word of bash
        "! gunicorn app",  # negation
        "gunicorn\u00a0app",  # sh does not split at a no-break space (str.split does)
        "gunicorn\x0bapp",
        "gunicorn --bind=0.0.0.0 app",
        "gunicorn app:$PORT",
        "gunicorn 'app:app'",
    ],
)
def test_shell_form_kept_when_sh_would_not_run_the_split_words(command: str) -> None:
    text = f"FROM python:3.11-slim\nCMD {command}\n"
    assert _fixed(text, "JT304") == text


@pytest.mark.parametrize(
    "shell",
    [
        '["/bin/bash", "-x", "-c"]',  # traces the command to stderr
        '["/bin/bash", "-l", "-c"]',  # reads profiles first
        '["powershell", "-Command"]',
        '["/usr/bin/python3", "-c"]',
    ],
)
def test_shell_form_kept_under_another_shell(shell: str) -> None:
    text = f"FROM python:3.11-slim\nSHELL {shell}\nCMD gunicorn app\n"
    assert _fixed(text, "JT304") == text


def test_shell_form_kept_when_bash_reads_bash_env() -> None:
    text = (
        "FROM python:3.11-slim\nENV BASH_ENV=/etc/profile.d/app.sh\n"
        'SHELL ["/bin/bash", "-c"]\nCMD gunicorn app\n'
    )
    assert _fixed(text, "JT304") == text


# --- --verify: the effective argv, labels and the author ----------------------------------


def test_verify_sees_a_cmd_rewritten_under_an_entrypoint() -> None:
    before = {"Entrypoint": ["/bin/echo", "args:"], "Cmd": ["/bin/sh", "-c", "echo hello"]}
    after = {"Entrypoint": ["/bin/echo", "args:"], "Cmd": ["echo", "hello"]}
    problems, _ = compare_configs(before, after)
    assert any(p.startswith("command changed") for p in problems), problems


def test_verify_sees_a_cmd_appended_to_an_exec_form_entrypoint() -> None:
    before = {"Entrypoint": ["/bin/sh", "-c", "echo start"], "Cmd": ["--extra"]}
    after = {"Entrypoint": ["echo", "start"], "Cmd": ["--extra"]}
    problems, _ = compare_configs(before, after)
    assert any(p.startswith("command changed") for p in problems), problems


def test_verify_does_not_split_shell_syntax() -> None:
    before = {"Cmd": ["/bin/sh", "-c", "echo $HOME"]}
    problems, _ = compare_configs(before, {"Cmd": ["echo", "$HOME"]})
    assert any(p.startswith("command changed") for p in problems), problems


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"Cmd": ["/bin/sh", "-c", "gunicorn app:app"]}, {"Cmd": ["gunicorn", "app:app"]}),
        ({"Entrypoint": ["/bin/sh", "-c", "gunicorn app"]}, {"Entrypoint": ["gunicorn", "app"]}),
        (  # the image's SHELL is the shell of its shell-form commands
            {
                "Shell": ["/bin/bash", "-o", "pipefail", "-c"],
                "Cmd": ["/bin/bash", "-o", "pipefail", "-c", "gunicorn app"],
            },
            {"Shell": ["/bin/bash", "-o", "pipefail", "-c"], "Cmd": ["gunicorn", "app"]},
        ),
    ],
)
def test_verify_accepts_exec_form_of_the_whole_argv(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    problems, notes = compare_configs(before, after)
    assert problems == []
    assert "command written in exec form" in notes


def test_verify_compares_labels() -> None:
    before = {"Labels": {"a": "1", "b": "2"}}
    after = {"Labels": {"a": "9", "c": "3"}}
    problems, _ = compare_configs(before, after)
    assert problems == [
        "label a changed: '1' -> '9'",
        "label b removed",
        "label c added: '3'",
    ]


def test_verify_allows_the_authors_label_with_the_maintainers_value_only() -> None:
    before = {"Author": "Frédéric Dupont", "Labels": {"x": "1"}}
    good = {"Author": "", "Labels": {"x": "1", AUTHORS_LABEL: "Frédéric Dupont"}}
    problems, notes = compare_configs(before, good)
    assert problems == []
    assert f"author moved to label {AUTHORS_LABEL}" in notes
    mangled = {"Labels": {"x": "1", AUTHORS_LABEL: "Fr\\u00e9d\\u00e9ric Dupont"}}
    problems, _ = compare_configs(before, mangled)
    assert f"label {AUTHORS_LABEL} added: 'Fr\\\\u00e9d\\\\u00e9ric Dupont'" in problems
    assert "author changed: 'Frédéric Dupont' -> ''" in problems
    # without a MAINTAINER before, the label is an addition like any other
    problems, _ = compare_configs({}, {"Labels": {AUTHORS_LABEL: "x"}})
    assert problems == [f"label {AUTHORS_LABEL} added: 'x'"]


def test_build_and_check_records_the_images_author(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Info:
        size_bytes, layers, config = 1, 1, {"Cmd": ["true"]}
        layer_digests = ("sha256:aa",)

    class Result:
        image_id, seconds, image = "sha256:1", 0.1, Info()

    class Api:
        def inspect_image(self, ref: str) -> dict[str, Any]:
            assert ref == "sha256:1"
            return {"Author": "Jane", "Config": Info.config}

    class Sdk:
        api = Api()

    monkeypatch.setattr(verify, "build", lambda *a, **k: Result())
    monkeypatch.setattr(verify, "check_image", lambda *a, **k: [])
    inputs = verify.BuildInputs.of(tmp_path / "Dockerfile", tmp_path)
    report = verify.build_and_check(Sdk(), inputs, verify.CheckPlan(), [])
    assert report.config == {"Cmd": ["true"], "Author": "Jane"}
    assert Info.config == {"Cmd": ["true"]}  # the engine's record is left alone


# --- JT507: the label holds exactly the author MAINTAINER set ------------------------------


@pytest.mark.parametrize(
    ("source", "label"),
    [
        (
            "FROM debian:12\nMAINTAINER Frédéric Dupont\n",
            'LABEL org.opencontainers.image.authors="Frédéric Dupont"',
        ),
        (
            'FROM debian:12\nMAINTAINER "Jane" <j@x>\n',
            'LABEL org.opencontainers.image.authors="\\"Jane\\" <j@x>"',
        ),
        (
            '# escape=`\nFROM debian:12\nMAINTAINER "Jane" <j@x>\n',
            'LABEL org.opencontainers.image.authors="`"Jane`" <j@x>"',
        ),
        (  # MAINTAINER never expands: `$` and the escape character stay literal
            "FROM debian:12\nMAINTAINER $X  a\\b ${Y} 's'\n",
            "LABEL org.opencontainers.image.authors=\"\\$X  a\\\\b \\${Y} 's'\"",
        ),
        (
            "# escape=`\nFROM debian:12\nMAINTAINER $X a\\b `x\n",
            'LABEL org.opencontainers.image.authors="`$X a\\b ``x"',
        ),
        (  # continuation lines joined as BuildKit joins them
            "FROM debian:12\nMAINTAINER Jane \\\n  Doe\n",
            'LABEL org.opencontainers.image.authors="Jane   Doe"',
        ),
    ],
)
def test_maintainer_label_value_is_exact(source: str, label: str) -> None:
    result = _fixed(source, "JT507")
    assert result.splitlines()[-1] == label
    assert _keywords(result)[-1] == "LABEL"


# --- JT112: the last package of a continued RUN takes the continuation along --------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "FROM debian:bookworm\nRUN apt-get install -y \\\n    curl \\\n    vim\nCOPY . /app\n",
            "FROM debian:bookworm\nRUN apt-get install -y \\\n    curl\nCOPY . /app\n",
        ),
        (
            # (vim stands in for net-tools, which JT112 no longer takes for a debug tool)
            "FROM debian:12\nRUN apt-get update -y && apt-get install -y \\\n  git \\\n"
            "  vim # we need an editor\n\nRUN mkdir -p /root/.ssh\n",
            "FROM debian:12\nRUN apt-get update -y && apt-get install -y \\\n"
            "  git # we need an editor\n\nRUN mkdir -p /root/.ssh\n",
        ),
        (  # two tools at the end
            "FROM debian:12\nRUN apt-get install -y \\\n    curl \\\n    vim \\\n    nano\n"
            "COPY . /app\n",
            "FROM debian:12\nRUN apt-get install -y \\\n    curl\nCOPY . /app\n",
        ),
        (  # a comment line between stays, now after the RUN
            "FROM debian:12\nRUN apt-get install -y \\\n    curl \\\n    # editors\n    vim\n"
            "COPY . /app\n",
            "FROM debian:12\nRUN apt-get install -y \\\n    curl\n    # editors\nCOPY . /app\n",
        ),
        (  # a tool alone on a continued line goes with its line
            "FROM debian:12\nRUN apt-get install -y \\\n    vim \\\n    curl\n",
            "FROM debian:12\nRUN apt-get install -y \\\n    curl\n",
        ),
        (
            "FROM debian:12\r\nRUN apt-get install -y \\\r\n    curl \\\r\n    vim\r\n"
            "COPY . /app\r\n",
            "FROM debian:12\r\nRUN apt-get install -y \\\r\n    curl\r\nCOPY . /app\r\n",
        ),
        (
            "# escape=`\nFROM debian:12\nRUN apt-get install -y `\n    curl `\n    vim\n"
            "COPY . /app\n",
            "# escape=`\nFROM debian:12\nRUN apt-get install -y `\n    curl\nCOPY . /app\n",
        ),
    ],
)
def test_debug_tool_removal_keeps_the_next_instruction(source: str, expected: str) -> None:
    result = _fixed(source, "JT112", unsafe=True)
    assert result == expected
    assert _keywords(result) == _keywords(source)


# --- JT204 and the multi-stage render: the file's escape character ------------------------


def test_merged_env_and_label_use_the_files_escape_character() -> None:
    source = "# escape=`\nFROM debian:12\nENV A=1\nENV B=2\nLABEL x=1\nLABEL y=2\n"
    assert _fixed(source, "JT204") == (
        "# escape=`\nFROM debian:12\nENV A=1 `\n    B=2\nLABEL x=1 `\n    y=2\n"
    )


BACKTICK_APP = (
    "# escape=`\nFROM python:3.11\n"
    "RUN apt-get update && apt-get install -y gcc libpq-dev `\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
    "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    'COPY . /app\nCMD ["python", "/app/app.py"]\n'
)


def test_multistage_render_uses_the_files_escape_character() -> None:
    plan = plan_conversion(parse_dockerfile(BACKTICK_APP))
    assert isinstance(plan, Plan)
    text = render(plan, ["libpq5"], ["libpq.so.5"])
    assert not any(line.endswith("\\") for line in text.splitlines())
    runs = [i.args[0] for i in parse_dockerfile(text).instructions if i.keyword == "RUN"]
    assert (
        "apt-get update     && apt-get install -y --no-install-recommends libpq5     "
        "&& rm -rf /var/lib/apt/lists/*"
    ) in runs
    assert any(r.startswith("groupadd --system --gid 10001 app     && useradd") for r in runs)


def test_backtick_file_converts_and_refixes_to_itself() -> None:
    def scan(plan: Plan) -> LibraryScan:
        return LibraryScan(["libpq5"], ["libpq.so.5"])

    first = fix_pipeline(BACKTICK_APP, "Dockerfile", Config(), True, scan).outcome
    assert "MULTISTAGE" in {a.code for a in first.applied}
    assert _keywords(first.text).count("FROM") == 2
    again = fix_pipeline(first.text, "Dockerfile", Config(), True, scan).outcome
    assert again.text == first.text


# --- --ignore MULTISTAGE ------------------------------------------------------------------


def test_multistage_is_a_known_code() -> None:
    check_rule_codes(Config(ignore=["JT102", "MULTISTAGE"]))
    check_rule_codes(Config(select=["MULTISTAGE"]))
    with pytest.raises(JettisonError, match="MULTISTAG3"):
        check_rule_codes(Config(ignore=["MULTISTAG3"]))


def test_fix_ignore_multistage_is_accepted_and_skips_the_conversion(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(BACKTICK_APP)
    result = CliRunner().invoke(
        cli, ["fix", "--unsafe-fixes", "--ignore", "JT102,MULTISTAGE", "--diff", str(path)]
    )
    assert "unknown rule code" not in result.output
    assert result.exit_code in (0, 1), result.output
    assert "AS builder" not in result.stdout

    def scan(plan: Plan) -> LibraryScan:
        raise AssertionError("the conversion is off")

    config = Config(ignore=["MULTISTAGE"])
    outcome = fix_pipeline(BACKTICK_APP, "Dockerfile", config, True, scan).outcome
    assert "MULTISTAGE" not in {a.code for a in outcome.applied}
