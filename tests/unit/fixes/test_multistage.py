"""The multi-stage conversion as a text transform (the engine step is in tests/engine)."""

from __future__ import annotations

import pytest

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.fixes.multistage import Plan, Refusal, plan_conversion, render
from jettison.fixes.pipeline import fix_pipeline, restrict
from jettison.fixes.runtime_libs import LibraryScan

WEB = """\
# API with a compiled driver
FROM python:3.11
ENV APP_PORT=8000
WORKDIR /srv/app
COPY requirements.txt .
# system headers for psycopg2
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev gcc curl \\
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
HEALTHCHECK CMD curl -f http://127.0.0.1:8000/health
ENTRYPOINT ["gunicorn"]
CMD ["--bind", "0.0.0.0:8000", "app:app"]
"""


def _plan(text: str) -> Plan | Refusal | None:
    return plan_conversion(parse_dockerfile(text, "Dockerfile"))


def _fixed_scan(packages: list[str]) -> LibraryScan:
    return LibraryScan(packages, [f"lib{p}.so" for p in packages])


def test_render_builder_and_runtime_exactly() -> None:
    plan = _plan(WEB)
    assert isinstance(plan, Plan)
    text = render(plan, ["libpq5"], ["libpq.so.5"])
    assert (
        text
        == """\
# API with a compiled driver
# build stage: compilers, headers and a virtualenv with the application's packages
FROM python:3.11 AS builder
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
ENV APP_PORT=8000
WORKDIR /srv/app
COPY requirements.txt .
# system headers for psycopg2
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev gcc curl \\
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r requirements.txt

# runtime stage: the slim base, the virtualenv and the application only
FROM python:3.11-slim
ENV APP_PORT=8000
# shared libraries the installed packages load: libpq.so.5
RUN apt-get update \\
    && apt-get install -y --no-install-recommends curl libpq5 \\
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \\
    && useradd --no-log-init --system --uid 10001 --gid app --create-home app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN mkdir -p /srv/app && chown app:app /srv/app
WORKDIR /srv/app
COPY --chown=app:app . .
USER app
EXPOSE 8000
HEALTHCHECK CMD curl -f http://127.0.0.1:8000/health
ENTRYPOINT ["gunicorn"]
CMD ["--bind", "0.0.0.0:8000", "app:app"]
"""
    )
    df = parse_dockerfile(text, "Dockerfile")
    assert [s.name for s in df.stages] == ["builder", None]


def test_render_is_deterministic_in_package_order() -> None:
    plan = _plan(WEB)
    assert isinstance(plan, Plan)
    assert render(plan, ["libz", "liba"]) == render(plan, ["liba", "libz"])


def test_pip_cache_mount_only_when_file_uses_buildkit() -> None:
    plain = _plan(WEB)
    assert isinstance(plain, Plan)
    assert "--mount" not in render(plain, [])
    bk = WEB.replace("COPY . .", "COPY --chmod=644 . .")
    plan = _plan(bk)
    assert isinstance(plan, Plan)
    out = render(plan, [])
    assert "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt" in out
    builder = out.split("AS builder")[1].split("FROM")[0]
    assert "--no-cache-dir" not in builder.split("pip install")[1]


def test_existing_user_is_kept_and_no_user_added() -> None:
    text = WEB.replace("EXPOSE 8000", "RUN useradd -l -m web\nUSER web\nEXPOSE 8000")
    plan = _plan(text)
    assert isinstance(plan, Plan)
    out = render(plan, [])
    assert "useradd --no-log-init --system" not in out
    assert out.count("USER ") == 1 and "USER web" in out


def test_added_user_can_write_where_the_app_writes() -> None:
    """The WORKDIR is created and handed to the new user in one layer, copies into it are
    owned by that user, and so are directories a RUN makes; system directories are not."""
    text = (
        "FROM python:3.11\nWORKDIR /srv/app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nCOPY entry.sh /usr/local/bin/\n"
        "RUN mkdir -p logs /data /var/log && python -m compileall .\n"
        'CMD ["celery", "-A", "tasks", "worker", "--logfile", "worker.log"]\n'
    )
    plan = _plan(text)
    assert isinstance(plan, Plan)
    runtime = render(plan, []).split("\nFROM python:3.11-slim\n")[1]
    assert "RUN mkdir -p /srv/app && chown app:app /srv/app\nWORKDIR /srv/app\n" in runtime
    assert "COPY --chown=app:app . .\n" in runtime
    assert "COPY entry.sh /usr/local/bin/\n" in runtime  # outside the owned tree
    assert "&& python -m compileall . && chown app:app /srv/app/logs /data\n" in runtime
    assert runtime.index("useradd") < runtime.index("chown")
    # the file's own USER: nothing changes hands
    own = _plan(text.replace("CMD", "USER nobody\nCMD"))
    assert isinstance(own, Plan)
    assert "chown" not in render(own, [])


def test_pyproject_project_copies_sources_to_builder() -> None:
    text = (
        "FROM python:3.12-bookworm\nWORKDIR /app\nCOPY pyproject.toml .\nCOPY src/ src/\n"
        'RUN pip install .\nCMD ["myapp"]\n'
    )
    plan = _plan(text)
    assert isinstance(plan, Plan)
    out = render(plan, [])
    builder, runtime = out.split("\nFROM python:3.12-slim-bookworm\n")
    assert "COPY pyproject.toml ." in builder and "COPY src/ src/" in builder
    assert "COPY pyproject.toml" not in runtime and "COPY --chown=app:app src/ src/" in runtime
    assert "RUN pip install ." in builder and "pip install" not in runtime


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FROM continuumio/miniconda3\nRUN conda install numpy\nRUN pip install x\n", "conda"),
        ("FROM python:3.11\nRUN pip install poetry\nRUN poetry install\n", "poetry"),
        ("FROM python:3.11\nRUN pip install --user flask\n", "--user"),
        (
            "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc && pip install x "
            "&& useradd -m web\n",
            "mixes apt-get and pip with `useradd`",
        ),
        (  # a file written by the apt RUN (a repository list) may be needed by the runtime
            "FROM python:3.11\nRUN echo 'deb http://x/ y main' > /etc/apt/sources.list.d/y.list"
            " && apt-get update && apt-get install -y libfoo\nRUN pip install x\n",
            "mixes apt-get with `echo`",
        ),
        (
            "FROM python:3.11\nRUN pip install x && find /opt -name '*.sh' -exec sh {} \\;\n",
            "mixes pip installs with `find`",
        ),
        ("FROM python:3.11\nRUN pip install x && mkdir /data\n", "`mkdir`"),
        ("FROM ubuntu:22.04\nRUN pip install flask\n", "not an official python image"),
        ("FROM python:3.11-alpine\nRUN pip install flask\n", "no -slim variant"),
        ("FROM python:3.11\nUSER app\nRUN pip install flask\n", "USER before"),
        ("ARG BASE=python:3.11\nFROM $BASE\nRUN pip install flask\n", "variable"),
    ],
)
def test_refusals_give_a_reason(text: str, reason: str) -> None:
    result = _plan(text)
    assert isinstance(result, Refusal), result
    assert reason in result.reason


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.11 AS b\nRUN pip install x\nFROM python:3.11-slim\nCOPY --from=b / /\n",
        "FROM python:3.11\nRUN apt-get update && apt-get install -y curl\n",
        # upgrading pip's own tooling installs no application package
        "FROM python:3.11\nRUN apt-get update && apt-get install -y libaio1 "
        "&& pip install --upgrade pip setuptools==69.0 wheel\nCOPY . /app\n",
    ],
)
def test_not_applicable(text: str) -> None:
    assert _plan(text) is None


ONE_STEP = """\
# syntax=docker/dockerfile:1
FROM python:3.11
COPY requirements.txt /tmp/requirements.txt
RUN set -ex && apt-get update \\
    && apt-get install -y --no-install-recommends build-essential libpq-dev libmagic1 \\
    && pip install --no-cache-dir -r /tmp/requirements.txt > /dev/null 2>&1 \\
    && apt-get purge -y --auto-remove build-essential libpq-dev \\
    && rm -rf /var/lib/apt/lists/* ~/.cache \\
    && find /usr/local -name '*.pyc' -delete
WORKDIR /app
COPY . .
CMD ["python", "app.py"]
"""


def test_one_step_apt_and_pip_run_goes_to_the_builder_whole() -> None:
    plan = _plan(ONE_STEP)
    assert isinstance(plan, Plan), plan
    out = render(plan, ["libpq5"])
    builder, runtime = out.split("\nFROM python:3.11-slim\n")
    # the RUN stays one step in the builder, with a pip cache mount (the file uses BuildKit)
    assert "RUN --mount=type=cache,target=/root/.cache/pip set -ex && apt-get update" in builder
    assert "--no-cache-dir" not in builder and "find /usr/local -name '*.pyc' -delete" in builder
    # the runtime stage installs the non-build package it asked for and the scanned library
    assert "apt-get install -y --no-install-recommends libmagic1 libpq5 \\" in runtime
    assert "pip install" not in runtime and "build-essential" not in runtime
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime


def test_shell_state_and_read_only_commands_do_not_block_a_pip_run() -> None:
    text = (
        "FROM python:3.11\nWORKDIR /src\nCOPY . .\n"
        "RUN cd /src && export PIP_NO_CACHE_DIR=1 && sudo pip install . && pip list "
        '&& pip cache purge\nCMD ["app"]\n'
    )
    plan = _plan(text)
    assert isinstance(plan, Plan), plan
    builder, runtime = render(plan, []).split("\nFROM python:3.11-slim\n")
    assert "sudo pip install ." in builder and "pip" not in runtime.replace("/opt/venv", "")


def test_pipeline_refusal_falls_back_to_rule_fixes_with_a_note() -> None:
    text = "FROM python:3.11\nRUN pip install --user flask\n"
    result = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: _fixed_scan([]))
    assert result.note is not None and "--user" in result.note
    assert "AS builder" not in result.outcome.text
    assert "python:3.11-slim" in result.outcome.text  # JT111 still applies


def test_pipeline_without_engine_skips_conversion() -> None:
    result = fix_pipeline(WEB, "Dockerfile", Config(), True, None)
    assert result.note is not None and "engine" in result.note
    assert "AS builder" not in result.outcome.text


def test_pipeline_converts_keeps_comments_and_is_idempotent() -> None:
    result = fix_pipeline(WEB, "Dockerfile", Config(), True, lambda p: _fixed_scan(["libpq5"]))
    text = result.outcome.text
    assert "MULTISTAGE" in [a.code for a in result.outcome.applied]
    assert "# API with a compiled driver" in text and "# system headers for psycopg2" in text
    assert "FROM python:3.11 AS builder" in text and "FROM python:3.11-slim\n" in text
    again = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: _fixed_scan(["other"]))
    assert again.outcome.text == text
    assert not again.outcome.applied


def test_pipeline_safe_mode_never_converts() -> None:
    def boom(plan: Plan) -> LibraryScan:
        raise AssertionError("no engine step without --unsafe-fixes")

    result = fix_pipeline(WEB, "Dockerfile", Config(), False, boom)
    assert "AS builder" not in result.outcome.text


def test_restrict_to_subset_of_fixes() -> None:
    scanner = lambda p: _fixed_scan([])  # noqa: E731
    only_ms = fix_pipeline(
        WEB, "Dockerfile", restrict(Config(), frozenset({"MULTISTAGE"})), True, scanner
    )
    assert "AS builder" in only_ms.outcome.text
    assert {a.code for a in only_ms.outcome.applied} == {"MULTISTAGE"}
    without = fix_pipeline(
        WEB, "Dockerfile", restrict(Config(), frozenset({"JT111"})), True, scanner
    )
    assert "AS builder" not in without.outcome.text
    assert "FROM python:3.11-slim" in without.outcome.text


def test_scan_cache_is_used() -> None:
    calls: list[int] = []

    def scanner(plan: Plan) -> LibraryScan:
        calls.append(1)
        return _fixed_scan([])

    cache: dict[str, LibraryScan] = {}
    fix_pipeline(WEB, "Dockerfile", Config(), True, scanner, scans=cache)
    fix_pipeline(WEB, "Dockerfile", Config(), True, scanner, scans=cache)
    assert len(calls) == 1
