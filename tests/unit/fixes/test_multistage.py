"""The multi-stage conversion as a text transform (the engine step is in tests/engine)."""

from __future__ import annotations

import pytest

from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.errors import DockerfileParseError
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
        (  # pipenv's own virtualenv (no --system): the image runs it by a path that goes
            "FROM python:3.11\nRUN pip install pipenv\nRUN pipenv install --deploy\n",
            "pipenv installs into a virtualenv of its own",
        ),
        (
            "FROM python:3.11\nRUN pip install pipenv\nRUN pipenv install --system\n"
            'CMD ["pipenv", "run", "app"]\n',
            "the runtime runs pipenv",
        ),
        (  # pdm's global project: where it installs is not the project's .venv
            "FROM python:3.11\nWORKDIR /app\nRUN pip install pdm\nRUN pdm install -g\n",
            "cannot be read",
        ),
        (
            "FROM python:3.11\nWORKDIR /app\nRUN pip install pdm\nRUN pdm install\n"
            'CMD ["pdm", "run", "app"]\n',
            "the runtime runs pdm",
        ),
        ("FROM python:3.11\nRUN pip install --user flask\n", "--user"),
        (  # a repository list the install reads: the runtime stage's install needs it first
            "FROM python:3.11\nRUN echo 'deb http://x/ y main' > /etc/apt/sources.list.d/y.list"
            " && apt-get update && apt-get install -y libfoo\nRUN pip install x\n",
            "apt repositories or keys",
        ),
        (  # a loop cannot be cut into its install and the rest
            "FROM python:3.11\nRUN pip install x && for f in a b; do mkdir /$f; done\n",
            "in a loop, condition or pipe",
        ),
        (
            "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc && pip install x\n"
            "RUN make -C /src install\n",
            "compiles with the toolchain",
        ),
        (
            "FROM python:3.11\nRUN python -m venv /app/.venv\nRUN pip install flask\n",
            "outside the virtualenv /app/.venv",
        ),
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


# --- real shapes --------------------------------------------------------------------------


def test_slim_service_without_toolchain_is_not_a_candidate() -> None:
    """Nothing for a builder to take away: its virtualenv would only add bytes."""
    text = (
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
        "RUN apt-get update && apt-get install -y curl\nCOPY . .\nCMD ['python', 'app.py']\n"
    )
    assert _plan(text) is None
    # the same with a compiler in the final image is one
    assert isinstance(_plan(text.replace("install -y curl", "install -y curl gcc")), Plan)


INHERITED = """\
ARG PY=3.11
FROM python:${PY}-slim-bookworm AS base
WORKDIR /app
RUN apt-get update && apt-get install -y build-essential libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM node:20 AS assets
RUN echo built > /assets.txt

# the command-line tool
FROM base AS cli
COPY --from=assets /assets.txt /app/assets.txt
COPY . .
ENTRYPOINT ["mytool"]
"""


def test_toolchain_inherited_from_an_earlier_stage_moves_to_a_builder() -> None:
    plan = _plan(INHERITED)
    assert isinstance(plan, Plan), plan
    out = render(plan, ["libpq5"], ["libpq.so.5"], ["pip", "setuptools"])
    df = parse_dockerfile(out, "Dockerfile")
    # the other stage as it was, then the builder, then the runtime under the final's name
    assert [s.name for s in df.stages] == ["assets", "builder", "cli"]
    assert "FROM python:${PY}-slim-bookworm AS builder" in out
    builder, runtime = out.split("FROM python:${PY}-slim-bookworm AS cli\n")
    assert "build-essential libpq-dev" in builder and "build-essential" not in runtime
    assert "RUN /opt/venv/bin/python -m pip uninstall -y pip setuptools" in builder
    assert "apt-get install -y --no-install-recommends libpq5" in runtime
    assert "COPY --chown=app:app --from=assets /assets.txt /app/assets.txt" in runtime
    assert "# the command-line tool" in out and runtime.rstrip().endswith('["mytool"]')


def test_stage_reading_from_the_final_images_stages_is_refused() -> None:
    text = INHERITED.replace("FROM node:20 AS assets", "FROM base AS assets")
    result = _plan(text)
    assert isinstance(result, Refusal) and "built FROM a stage of the final image" in result.reason


USER_VENV = """\
FROM python:3.11
WORKDIR /app
ENV VIRTUAL_ENV=/app/.venv
RUN python -m venv $VIRTUAL_ENV
ENV PATH=$VIRTUAL_ENV/bin:$PATH
RUN pip install pip-tools
COPY requirements.in .
RUN pip-compile -o requirements.txt requirements.in
RUN pip install -r requirements.txt
COPY . .
CMD ["python", "app.py"]
"""


def test_user_virtualenv_is_copied_at_its_own_path_and_pip_compile_stays_in_the_builder() -> None:
    plan = _plan(USER_VENV)
    assert isinstance(plan, Plan), plan
    assert plan.venv == "/app/.venv" and plan.own_venv
    builder, runtime = render(plan, []).split("\nFROM python:3.11-slim\n")
    assert "/opt/venv" not in builder + runtime
    assert "RUN python -m venv $VIRTUAL_ENV" in builder and "pip-compile" in builder
    assert "pip-compile" not in runtime and "python -m venv" not in runtime
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime
    assert "ENV PATH=$VIRTUAL_ENV/bin:$PATH" in runtime


def test_run_mixing_apt_with_other_commands_is_split() -> None:
    text = (
        "FROM python:3.11\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends gcc curl \\\n"
        "    && useradd -m svc \\\n"
        "    && rm -rf /var/lib/apt/lists/* \\\n"
        "    && mkdir -p /data && chown svc /data\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt && python -m compileall -q /opt\n"
        'USER svc\nCMD ["python", "-m", "app"]\n'
    )
    plan = _plan(text)
    assert isinstance(plan, Plan), plan
    builder, runtime = render(plan, []).split("\nFROM python:3.11-slim\n")
    assert "gcc curl" in builder and "useradd -m svc" in builder
    assert (
        "RUN useradd -m svc \\\n    && rm -rf /var/lib/apt/lists/* \\\n"
        "    && mkdir -p /data && chown svc /data\n" in runtime
    )
    assert "apt-get install -y --no-install-recommends curl\n" in runtime.replace(" \\\n", "\n")
    assert "RUN python -m compileall -q /opt\n" in runtime
    assert "gcc" not in runtime and "pip install" not in runtime


def test_toolchain_removed_when_nothing_was_compiled() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "# headers for the driver\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n"
        'CMD ["python", "app.py"]\n'
    )
    wheels = LibraryScan(["libpq5"], ["libpq.so.5"], compiled=[], saved_bytes=200_000_000)
    result = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: wheels)
    out = result.outcome.text
    assert result.note is not None and "toolchain removed instead of moved" in result.note
    assert "AS builder" not in out and "gcc" not in out and "libpq-dev" not in out
    assert "apt-get install -y --no-install-recommends curl libpq5" in out
    assert "# headers for the driver" in out
    # fixing the result again changes nothing
    again = fix_pipeline(out, "Dockerfile", Config(), True, lambda p: wheels)
    assert again.outcome.text == out
    # the same file with a compiled distribution: moved into a builder instead
    built = LibraryScan(["libpq5"], ["libpq.so.5"], compiled=["psycopg2"], saved_bytes=10**8)
    moved = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: built).outcome.text
    assert "AS builder" in moved


def test_toolchain_install_left_empty_goes_with_its_apt_work() -> None:
    text = (
        "FROM python:3.11-slim\n"
        "RUN apt-get update && apt-get install -y gcc g++ && rm -rf /var/lib/apt/lists/*\n"
        "RUN pip install -r requirements.txt\n"
    )
    plan = _plan(text)
    assert isinstance(plan, Plan)
    from jettison.fixes.multistage import render_removal

    assert render_removal(plan, []) == (
        "FROM python:3.11-slim\nRUN pip install -r requirements.txt\n"
    )
    with_libs = render_removal(plan, ["libgomp1"])
    assert "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends libgomp1" in (
        with_libs
    )


def test_a_conversion_that_does_not_shrink_is_not_offered() -> None:
    text = (
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y pkg-config\n"
        "RUN pip install six\n"
    )
    tiny = LibraryScan([], [], compiled=[], saved_bytes=300_000)
    result = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: tiny)
    assert result.note is not None and "not offered" in result.note
    assert "(estimated 0.3 MB saved, under the 1 MiB a conversion must save)" in result.note
    bigger = LibraryScan([], [], compiled=[], saved_bytes=-404_200_000)
    note = fix_pipeline(text, "Dockerfile", Config(), True, lambda p: bigger).note
    assert note is not None and note.endswith("smaller (estimated 404.2 MB larger)"), note
    assert "MULTISTAGE" not in [a.code for a in result.outcome.applied]


def test_git_kept_when_the_runtime_runs_it() -> None:
    text = (
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y git gcc\n"
        "RUN pip install -r requirements.txt\n"
        'RUN git config --global safe.directory /data\nCMD ["tool"]\n'
    )
    plan = _plan(text)
    assert isinstance(plan, Plan)
    assert "git" in plan.apt_runtime_packages and plan.vcs_packages == []
    dropped = _plan(text.replace("RUN git config --global safe.directory /data\n", ""))
    assert isinstance(dropped, Plan) and dropped.vcs_packages == ["git"]
    assert "git" not in dropped.apt_runtime_packages


def test_packaging_tools_kept_when_the_runtime_runs_pip() -> None:
    text = (
        "FROM python:3.11\nCOPY . /src\nRUN pip install -r /src/requirements.txt\n"
        "RUN pip install --no-deps -e /src\n"
    )
    plan = _plan(text)
    assert isinstance(plan, Plan)
    assert not plan.runtime_uses_pip  # both installs are in the builder
    later = _plan(text + "CMD pip list && app\n")
    assert isinstance(later, Plan) and later.runtime_uses_pip


def _corpus_candidates() -> list[object]:
    from tests.conftest import REPO

    corpus = REPO.parent / "shared" / "corpus" / "dockerfiles"
    if not corpus.is_dir():
        return []
    out: list[object] = []
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        try:
            if isinstance(_plan(path.read_text(encoding="utf-8")), Plan):
                out.append(path)
        except (UnicodeDecodeError, DockerfileParseError):
            continue
    return out


@pytest.mark.parametrize("path", _corpus_candidates(), ids=lambda p: getattr(p, "name", p))
@pytest.mark.parametrize("compiled", [["psycopg2"], []], ids=["moved", "removed"])
def test_corpus_conversions_parse_and_refix_to_themselves(
    path: object, compiled: list[str]
) -> None:
    """Both forms (toolchain moved into a builder, toolchain removed) on every corpus file
    the conversion applies to: the result parses and fixing it again changes nothing."""
    from pathlib import Path

    assert isinstance(path, Path)
    source = path.read_text(encoding="utf-8")

    def scan(plan: Plan) -> LibraryScan:
        return LibraryScan(
            ["libpq5"], ["libpq.so.5"], compiled=compiled, strip=["pip"], saved_bytes=10**8
        )

    first = fix_pipeline(source, str(path), Config(), True, scan)
    assert "MULTISTAGE" in [a.code for a in first.outcome.applied], first.note
    parse_dockerfile(first.outcome.text, str(path))
    second = fix_pipeline(first.outcome.text, str(path), Config(), True, scan).outcome
    assert second.text == first.outcome.text, second.diff()


# --- what the runtime image does not need: -dev packages and git (JT132, JT133) -----------


def _runtime_rule(text: str, code: str, tmp_path: object = None) -> tuple[list[str], str]:
    from jettison.fixes.apply import fix_source

    path = "Dockerfile" if tmp_path is None else str(tmp_path) + "/Dockerfile"
    out = fix_source(text, path, Config(select=[code]), unsafe=True)
    return [f.message for f in out.remaining] + [a.code for a in out.applied], out.text


def test_dev_package_for_its_library_becomes_the_library() -> None:
    found, text = _runtime_rule(
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y libpq-dev gettext\n"
        "RUN pip install psycopg2-binary\n",
        "JT132",
    )
    assert found == ["JT132"] and "install -y libpq5 gettext" in text
    # bullseye names some libraries differently
    _, text = _runtime_rule(
        "FROM python:3.11-slim-bullseye\nRUN apt-get install -y libffi-dev\n", "JT132"
    )
    assert "install -y libffi7" in text
    # a compiler in the image may build against the headers: no finding
    found, _ = _runtime_rule(
        "FROM python:3.11-slim\nRUN apt-get install -y gcc libpq-dev\nRUN pip install x\n",
        "JT132",
    )
    assert found == []


def test_dev_package_message_gives_its_size() -> None:
    from jettison.audit import check_dockerfile

    df = parse_dockerfile("FROM python:3.11-slim\nRUN apt-get install -y libssl-dev\n")
    messages = [f.message for f in check_dockerfile(df, Config(select=["JT132"]))]
    assert messages == [
        "`libssl-dev` (12.5 MB installed, headers and archives) in an image that compiles "
        "nothing: install the library `libssl3` instead"
    ]


def test_git_for_a_git_requirement_only_is_purged_in_its_run(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    found, text = _runtime_rule(
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y git "
        '&& pip install git+https://example.com/lib.git\nCMD ["app"]\n',
        "JT133",
    )
    assert found == ["JT133"]
    assert text.splitlines()[1].endswith(
        "pip install git+https://example.com/lib.git && apt-get purge -y --auto-remove git"
    )
    # in a requirements file, a separate RUN: a finding, no fix
    (tmp_path / "requirements.txt").write_text("flask\ngit+https://example.com/lib.git\n")
    separate = (
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y git\n"
        'COPY requirements.txt .\nRUN pip install -r requirements.txt\nCMD ["app"]\n'
    )
    found, text = _runtime_rule(separate, "JT133", tmp_path)
    assert len(found) == 1 and "only used by `pip install` of a git+ requirement" in found[0]
    # the app drives git (GitPython), or a command runs it: git stays, no finding
    (tmp_path / "requirements.txt").write_text("GitPython\ngit+https://example.com/lib.git\n")
    assert _runtime_rule(separate, "JT133", tmp_path)[0] == []
    (tmp_path / "requirements.txt").write_text("git+https://example.com/lib.git\n")
    assert _runtime_rule(separate.replace('["app"]', '["git", "log"]'), "JT133", tmp_path)[0] == []


def _plan_without_venv(text: str) -> Plan | Refusal | None:
    """A plan with a build context of its own (this repository's has a .venv)."""
    import tempfile

    with tempfile.TemporaryDirectory() as context:
        return plan_conversion(parse_dockerfile(text, f"{context}/Dockerfile", context))


UV_PIP = """\
FROM python:3.12
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir uv \\
    && uv pip install --system --no-cache -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app"]
"""


def test_uv_pip_install_goes_into_the_builders_virtualenv_without_system() -> None:
    """`uv pip install --system`: in the builder, uv installs into the virtualenv the
    conversion makes (VIRTUAL_ENV), so --system goes; uv itself, put there by pip, is a
    packaging tool the runtime drops when it does not run uv."""
    plan = _plan_without_venv(UV_PIP)
    assert isinstance(plan, Plan), plan
    text = render(plan, [], strip=["pip", "setuptools", "wheel", "uv"])
    builder, runtime = text.split("# runtime stage")
    assert "uv pip install --no-cache -r requirements.txt" in builder, text
    assert "--system" not in builder, text
    assert 'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"' in builder
    assert "pip uninstall -y pip setuptools wheel uv" in builder
    assert "uv pip" not in runtime and "COPY --from=builder /opt/venv /opt/venv" in runtime


UV_SYNC = """\
FROM python:3.12
COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /uvx /bin/
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-install-project --no-dev
COPY . .
RUN uv sync --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
CMD ["gunicorn", "app:app"]
"""


def test_uv_sync_project_environment_is_the_virtualenv_the_runtime_copies() -> None:
    """`uv sync` fills the project's environment (`.venv` in the WORKDIR): the builder runs
    both syncs, the runtime copies /app/.venv at its own path, and uv's binary stays in the
    builder when the runtime does not run uv."""
    plan = _plan_without_venv(UV_SYNC)
    assert isinstance(plan, Plan), plan
    assert plan.own_venv and plan.venv == "/app/.venv"
    text = render(plan, [])
    builder, runtime = text.split("# runtime stage")
    assert builder.count("uv sync --locked") == 2 and "astral-sh/uv" in builder
    assert "astral-sh/uv" not in runtime and "uv sync" not in runtime, text
    assert "COPY --from=builder /app/.venv /app/.venv" in runtime
    assert "FROM python:3.12-slim" in runtime


def test_uv_binary_stays_when_the_runtime_runs_uv() -> None:
    plan = _plan_without_venv(
        UV_SYNC.replace('CMD ["gunicorn", "app:app"]', 'CMD ["uv", "run", "app.py"]')
    )
    assert isinstance(plan, Plan), plan
    runtime = render(plan, []).split("# runtime stage")[1]
    assert "COPY --from=ghcr.io/astral-sh/uv:0.9.5 /uv /uvx /bin/" in runtime


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (  # the runtime runs uv, but uv came from pip into the system Python of the builder
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install uv && uv sync\n"
            'CMD ["uv", "run", "app.py"]\n',
            "the runtime runs uv",
        ),
        (
            "FROM python:3.12\nENV UV_SYSTEM_PYTHON=1\n"
            "RUN pip install uv && uv pip install flask\n",
            "UV_SYSTEM_PYTHON",
        ),
        (
            "FROM python:3.12\nRUN pip install uv && uv tool install ruff && uv pip install x\n",
            "`uv tool`",
        ),
        (
            "FROM python:3.12\nRUN pip install uv && uv pip install --target /deps flask\n",
            "outside the environment",
        ),
    ],
)
def test_uv_shapes_not_handled_say_why(text: str, reason: str) -> None:
    result = _plan_without_venv(text)
    assert isinstance(result, Refusal), result
    assert reason in result.reason


def test_context_venv_copied_over_the_environment_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / ".venv" / "bin").mkdir(parents=True)
    df = parse_dockerfile(UV_SYNC, str(root / "Dockerfile"), str(root))
    result = plan_conversion(df)
    assert isinstance(result, Refusal) and ".venv would be copied" in result.reason, result
    (root / ".dockerignore").write_text(".venv\n")
    df = parse_dockerfile(UV_SYNC, str(root / "Dockerfile"), str(root))
    assert isinstance(plan_conversion(df), Plan)


POETRY = """\
FROM python:3.12
RUN pip install --no-cache-dir poetry==1.8.3
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN poetry config virtualenvs.create false \\
    && poetry install --no-root --only main --no-interaction
COPY . .
CMD ["gunicorn", "app:app"]
"""


def test_poetry_installs_into_the_builders_virtualenv_and_poetry_stays_outside_it() -> None:
    """poetry uses the active virtualenv (VIRTUAL_ENV, set in the builder): the dependencies
    go there; poetry itself is installed with the base image's Python, outside it, so the
    runtime's copy of the virtualenv carries none of poetry's own dependencies."""
    plan = _plan_without_venv(POETRY)
    assert isinstance(plan, Plan), plan
    text = render(plan, [])
    builder, runtime = text.split("# runtime stage")
    assert "RUN /usr/local/bin/python -m pip install --no-cache-dir poetry==1.8.3" in builder
    assert "poetry install --no-root --only main" in builder
    assert "poetry" not in runtime.replace("poetry.lock", ""), text
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime


def test_poetry_in_the_runtime_is_refused() -> None:
    result = _plan_without_venv(
        POETRY.replace('CMD ["gunicorn"', 'CMD ["poetry", "run", "gunicorn"')
    )
    assert isinstance(result, Refusal) and "runs poetry" in result.reason, result
    result = _plan_without_venv(POETRY.replace("--no-interaction", "&& poetry run pytest"))
    assert isinstance(result, Refusal) and "`poetry run`" in result.reason, result
