"""False positives and wrong fixes found on real Dockerfiles, each class with a case that must
fire (or be fixed) and one that must not: data flow of apt lists across RUNs, apt-get
dist-clean, inline backquote comments, yarn --version, apk --no-network, temporary installs
(apt-mark auto + purge), real slim tags, secret-looking names, variable UIDs, network clients,
base images, shell-form ENTRYPOINT, deliberate RUN separation, exec-form and ONBUILD RUNs,
heredoc fixes, apt cache mounts and docker-clean, and the new pipefail / COPY / USER rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from jettison.audit import check_dockerfile
from jettison.build_context.scan import secret_kind
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.findings import Finding, FixSafety
from jettison.fixes.apply import fix_source
from jettison.rules.security.jt402_secret_in_arg_env import is_secret_name
from jettison.rules.size.base_images import slim_variant


def found(text: str, code: str, path: str = "Dockerfile") -> list[Finding]:
    return check_dockerfile(parse_dockerfile(text, path), Config(select=[code]))


def fixed(text: str, code: str, unsafe: bool = False) -> str:
    return fix_source(text, "Dockerfile", Config(select=[code]), unsafe=unsafe).text


# -- JT101: which RUN's apt lists a later RUN reads ------------------------------------------

PPA = (
    "FROM ubuntu:22.04\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends "
    "software-properties-common && add-apt-repository -y ppa:deadsnakes/ppa && apt-get update\n"
    "RUN apt-get install -y --no-install-recommends python3.10\n"
)


def test_jt101_keeps_lists_a_later_run_installs_from() -> None:
    (finding,) = found(PPA, "JT101")
    assert finding.fix is None
    assert "line 3" in finding.message
    assert fixed(PPA, "JT101") == PPA


def test_jt101_lists_read_by_a_stage_built_from_this_one() -> None:
    text = (
        "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM base AS build\nRUN apt-get install -y gcc\nFROM base\n"
    )
    (finding,) = found(text, "JT101")
    assert finding.fix is None and "line 4" in finding.message


@pytest.mark.parametrize(
    "later",
    [
        "RUN apt-get update && apt-get install -y gcc",  # updates first: its own lists
        "RUN echo done",  # touches no list
        "RUN --mount=type=cache,target=/var/lib/apt apt-get install -y gcc",
    ],
)
def test_jt101_fixed_when_no_later_run_reads_the_lists(later: str) -> None:
    text = f"FROM debian:12\nRUN apt-get update && apt-get install -y curl\n{later}\n"
    finding = found(text, "JT101")[0]
    assert finding.line == 2
    assert finding.fix is not None and finding.fix.safety is FixSafety.SAFE
    assert "apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n" in fixed(text, "JT101")


def test_jt101_a_later_update_shields_later_readers() -> None:
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        "RUN apt-get update && apt-get install -y a && rm -rf /var/lib/apt/lists/*\n"
        "RUN apt-get install -y b\n"
    )
    findings = found(text, "JT101")
    assert [f.line for f in findings] == [2]
    assert findings[0].fix is not None


def test_jt101_dist_clean_removes_the_lists() -> None:
    text = "FROM debian:13\nRUN apt-get update && apt-get install -y curl && apt-get dist-clean\n"
    assert found(text, "JT101") == []
    before = "FROM debian:13\nRUN apt-get dist-clean && apt-get update && apt-get install -y x\n"
    assert len(found(before, "JT101")) == 1  # cleaning before the update does not count


def test_jt101_inline_backquote_comment_in_a_continuation() -> None:
    text = (
        "FROM debian:12\nRUN apt-get update \\\n    `# tools` \\\n"
        "    && apt-get install -y curl `# for downloads` \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
    )
    assert found(text, "JT101") == []
    without = text.replace(" \\\n    && rm -rf /var/lib/apt/lists/*", "")
    (finding,) = found(without, "JT101")
    assert finding.fix is not None
    assert fixed(without, "JT101").endswith("&& rm -rf /var/lib/apt/lists/*\n")
    # a `#` inside quotes is not a comment
    quoted = "FROM debian:12\nRUN apt-get update && echo '`# x`' && apt-get install -y curl\n"
    assert len(found(quoted, "JT101")) == 1


def test_jt101_exec_form_shell_run_is_analysed_and_fixed() -> None:
    text = 'FROM debian:12\nRUN ["/bin/sh", "-c", "apt-get update && apt-get install -y curl"]\n'
    assert len(found(text, "JT101")) == 1
    assert fixed(text, "JT101") == (
        'FROM debian:12\nRUN ["/bin/sh", "-c", "apt-get update && apt-get install -y curl'
        ' && rm -rf /var/lib/apt/lists/*"]\n'
    )
    clean = text.replace("curl", "curl && rm -rf /var/lib/apt/lists/*")
    assert found(clean, "JT101") == []
    not_a_shell = 'FROM debian:12\nRUN ["apt-get", "update"]\n'
    assert found(not_a_shell, "JT101") == []


def test_jt101_onbuild_run_is_analysed() -> None:
    text = "FROM debian:12\nONBUILD RUN apt-get update && apt-get install -y curl\n"
    (finding,) = found(text, "JT101")
    assert finding.line == 2
    assert fixed(text, "JT101").endswith("curl && rm -rf /var/lib/apt/lists/*\n")
    done = text.replace("curl", "curl && rm -rf /var/lib/apt/lists/*")
    assert found(done, "JT101") == []


def test_jt101_heredoc_run_gets_a_fix_that_keeps_failures() -> None:
    text = "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    (finding,) = found(text, "JT101")
    assert finding.fix is not None
    # chained to the last command: a failed install still fails the RUN
    assert "apt-get install -y curl && rm -rf /var/lib/apt/lists/*\nEOF\n" in fixed(text, "JT101")
    under_set_e = (
        "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n"
    )
    assert fixed(under_set_e, "JT101").endswith("curl\nrm -rf /var/lib/apt/lists/*\nEOF\n")
    nested = (
        "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\n"
        "cat > /x <<END\nhi\nEND\nEOF\n"
    )
    (finding,) = found(nested, "JT101")
    assert finding.fix is None  # the last line ends a nested heredoc: nothing may follow it


def test_heredoc_with_a_non_shell_interpreter_is_not_a_shell_script() -> None:
    text = "FROM debian:12\nRUN <<EOF\n#!/usr/bin/env python3\nprint('apt-get update')\nEOF\n"
    df = parse_dockerfile(text)
    assert df.instructions[1].script is None


# -- JT104, JT106 ---------------------------------------------------------------------------


def test_jt104_apk_no_network_downloads_no_index() -> None:
    assert found("FROM alpine:3.19\nRUN apk add --no-network --virtual .d a\n", "JT104") == []
    assert len(found("FROM alpine:3.19\nRUN apk add --virtual .d a\n", "JT104")) == 1


@pytest.mark.parametrize("command", ["yarn --version", "yarn -v", "yarn --help"])
def test_jt106_yarn_information_commands(command: str) -> None:
    assert found(f"FROM node:20\nRUN {command}\n", "JT106") == []


def test_jt106_bare_yarn_installs() -> None:
    assert len(found("FROM node:20\nRUN yarn\n", "JT106")) == 1
    assert len(found("FROM node:20\nRUN yarn --frozen-lockfile\n", "JT106")) == 1


# -- JT118, JT110: installs removed again in the same RUN ----------------------------------

DOCKER_LIBRARY = (
    "FROM debian:12\nRUN curl -fsSL https://x -o /x\n"
    'RUN set -eux; savedAptMark="$(apt-mark showmanual)"; apt-get update; '
    "apt-get install -y --no-install-recommends wget gcc; wget -O /y https://y; "
    "apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; "
    "apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false; "
    "rm -rf /var/lib/apt/lists/*\n"
)


def test_jt118_install_use_and_purge_in_one_run() -> None:
    assert found(DOCKER_LIBRARY, "JT118") == []
    assert found(DOCKER_LIBRARY, "JT110") == []
    kept = DOCKER_LIBRARY.replace("apt-mark auto '.*' > /dev/null; ", "")
    assert len(found(kept, "JT118")) == 1


def test_jt118_purge_by_name_and_apk_virtual_group() -> None:
    by_name = (
        "FROM debian:12\nRUN curl -o /a https://a\n"
        "RUN apt-get install -y wget && wget https://b && apt-get purge -y wget\n"
    )
    assert found(by_name, "JT118") == []
    virtual = (
        "FROM alpine:3.19\nRUN curl -o /a https://a\n"
        "RUN apk add --no-cache --virtual .fetch wget && wget https://b && apk del .fetch\n"
    )
    assert found(virtual, "JT118") == []
    # removing before installing removes nothing
    order = (
        "FROM debian:12\nRUN curl -o /a https://a\n"
        "RUN apt-get purge -y wget; apt-get install -y wget\n"
    )
    assert len(found(order, "JT118")) == 1


# -- JT111: only tags that exist ------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "slim"),
    [
        ("python:3.11", "python:3.11-slim"),
        ("python:3.11-bookworm", "python:3.11-slim-bookworm"),
        ("node:20", "node:20-slim"),
        ("node:lts-bookworm", "node:lts-bookworm-slim"),
        ("node:carbon", "node:carbon-slim"),
        ("debian:bookworm", "debian:bookworm-slim"),
        ("debian:12", "debian:12-slim"),
        ("ruby:3.2-bookworm", "ruby:3.2-slim-bookworm"),
        ("openjdk:11-jdk", "openjdk:11-jdk-slim"),
        ("php:8-apache", None),
        ("php:8.2", None),
        ("python:3-onbuild", None),
        ("debian:latest", None),
        ("debian:7.8", None),
        ("node:20-alpine", None),
    ],
)
def test_jt111_slim_tags(image: str, slim: str | None) -> None:
    assert slim_variant(image) == slim


def test_jt111_debian_is_not_said_to_carry_compilers() -> None:
    (finding,) = found("FROM debian:bookworm\n", "JT111")
    assert "compilers" not in finding.message and "man pages" in finding.message
    (finding,) = found("FROM python:3.11\n", "JT111")
    assert "compilers" in finding.message
    assert found("FROM php:8-apache\n", "JT111") == []


# -- JT112, JT117, JT402 --------------------------------------------------------------------


@pytest.mark.parametrize("package", ["openssh-client", "net-tools", "iputils-ping", "dnsutils"])
def test_jt112_network_clients_are_not_interactive(package: str) -> None:
    assert found(f"FROM debian:12\nRUN apt-get install -y {package}\n", "JT112") == []


def test_jt112_editors_still_flagged() -> None:
    assert len(found("FROM debian:12\nRUN apt-get install -y vim curl\n", "JT112")) == 1


def test_jt117_uid_through_its_arg_value() -> None:
    low = "FROM debian:12\nARG USER_UID=1000\nRUN useradd -u ${USER_UID} app\n"
    assert found(low, "JT117") == []
    high = "FROM debian:12\nARG USER_UID=1000000\nRUN useradd -u ${USER_UID} app\n"
    assert len(found(high, "JT117")) == 1
    unknown = "FROM debian:12\nARG USER_UID\nRUN useradd -u $USER_UID app\n"
    assert found(unknown, "JT117") == []


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("USERNAME", False),
        ("DJANGO_SU_USERNAME", False),
        ("TOKENIZERS_PARALLELISM", False),
        ("DB_PASSWORD_FILE", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("GPG_KEY", False),
        ("RSA_KEY_SIZE", False),
        ("GITHUB_TOKEN", True),
        ("SECRET_KEY_BASE", True),
        ("PGPASSWORD", True),
        ("USER_NAME_SECRET", True),
        ("apiKey", True),
        ("RAILS_MASTER_KEY", True),
    ],
)
def test_jt402_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_jt402_arg_username() -> None:
    assert found("FROM debian:12\nARG USERNAME=vscode\n", "JT402") == []


# -- JT603: environment-file templates ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        (".env", True),
        (".env.production", True),
        ("prod.env", True),
        (".env.example", False),
        (".env.sample.local", False),
        (".env-dist", False),
        ("example.env", False),
        (".env.tpl", False),
        (".envoy.yaml", False),
        ("env.py", False),  # Alembic's migrations/env.py
        ("env.d.ts", False),
        ("env.sh", True),  # exports the values itself
        ("env.list", True),  # docker run --env-file env.list
    ],
)
def test_jt603_env_templates(name: str, secret: bool, tmp_path: Path) -> None:
    file = tmp_path / name
    file.write_text("A=1\n")
    assert bool(secret_kind(file, name)) is secret


# -- JT301: base images, unsafe fix ---------------------------------------------------------


def test_jt301_fix_is_unsafe() -> None:
    (finding,) = found('FROM python:3.11-slim\nCMD ["python", "app.py"]\n', "JT301")
    assert finding.fix is not None and finding.fix.safety is FixSafety.UNSAFE
    text = 'FROM python:3.11-slim\nCMD ["python", "app.py"]\n'
    assert fixed(text, "JT301") == text  # safe fixes only: nothing


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("base/Dockerfile", "FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy\n"),
        ("Dockerfile.base", "FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy\n"),
        ("Dockerfile", "FROM python:3.11-slim AS base\nRUN pip install --no-cache-dir numpy\n"),
        ("Dockerfile", 'FROM python:3.11\nONBUILD COPY . /app\nCMD ["python"]\n'),
    ],
)
def test_jt301_not_pushed_into_base_images(path: str, text: str) -> None:
    assert found(text, "JT301", path) == []


def test_jt301_app_images_still_flagged() -> None:
    text = "FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy\n"
    assert len(found(text, "JT301", "app/Dockerfile")) == 1
    assert len(found(text, "JT301", "database/Dockerfile")) == 1


# -- JT304: ENTRYPOINT rewrites are unsafe --------------------------------------------------


def test_jt304_entrypoint_rewrite_is_unsafe() -> None:
    text = "FROM debian:12\nENTRYPOINT gunicorn app:app\n"
    (finding,) = found(text, "JT304")
    assert finding.fix is not None and finding.fix.safety is FixSafety.UNSAFE
    assert fixed(text, "JT304") == text
    assert fixed(text, "JT304", unsafe=True).endswith('ENTRYPOINT ["gunicorn", "app:app"]\n')


def test_jt304_cmd_rewrite_stays_safe() -> None:
    text = "FROM debian:12\nCMD gunicorn app:app\n"
    (finding,) = found(text, "JT304")
    assert finding.fix is not None and finding.fix.safety is FixSafety.SAFE


# -- JT205: RUNs the file separates on purpose ----------------------------------------------


@pytest.mark.parametrize(
    "between",
    [
        "RUN mkdir /a\n# then the logs\nRUN mkdir /b\n",  # a comment between
        "RUN mkdir /a\n\nRUN mkdir /b\n",  # a blank line between
        "RUN apt-get install -y curl\nRUN pip install flask\n",  # two package managers
        "RUN pip install -r requirements.txt\nRUN mkdir /b\n",  # a manifest install
    ],
)
def test_jt205_deliberate_separation(between: str) -> None:
    assert found(f"FROM debian:12\n{between}", "JT205") == []


def test_jt205_adjacent_single_commands() -> None:
    assert len(found("FROM debian:12\nRUN mkdir /a\nRUN chown app /a\n", "JT205")) == 1
    same = "FROM debian:12\nRUN apt-get install -y g++\nRUN apt-get install -y swig\n"
    assert len(found(same, "JT205")) == 1


# -- JT203: apt cache mount and docker-clean ------------------------------------------------


def test_jt203_apt_mount_removes_docker_clean() -> None:
    text = (
        "# syntax=docker/dockerfile:1\nFROM debian:12\n"
        "RUN apt-get update && apt-get install -y curl\n"
    )
    out = fixed(text, "JT203", unsafe=True)
    assert (
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked "
        "rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update" in out
    )
    done = text.replace("RUN apt-get", "RUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN apt-get")
    out = fixed(done, "JT203", unsafe=True)
    assert out.count("docker-clean") == 1  # already gone: not removed twice


def test_jt203_pip_mount_has_no_docker_clean() -> None:
    text = "# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN pip install flask\n"
    assert "docker-clean" not in fixed(text, "JT203", unsafe=True)


# -- new rules: JT508 pipefail, JT509 COPY sources, JT411 numeric USER -----------------------


def test_jt508_pipe_without_pipefail() -> None:
    text = "FROM debian:12\nRUN curl -fsSL https://x | tar -xz\n"
    (finding,) = found(text, "JT508")
    assert finding.fix is not None and finding.fix.safety is FixSafety.UNSAFE
    # Debian's dash refuses `set -o pipefail`: the fix is a bash SHELL before the RUN
    assert fixed(text, "JT508", unsafe=True) == (
        'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        "RUN curl -fsSL https://x | tar -xz\n"
    )
    alpine = "FROM alpine:3.19\nRUN wget -qO- https://x | tar -xz\n"
    assert fixed(alpine, "JT508", unsafe=True).endswith(
        "RUN set -o pipefail && wget -qO- https://x | tar -xz\n"
    )
    unknown = "FROM example.com/base:1\nRUN curl https://x | tar -xz\n"
    (finding,) = found(unknown, "JT508")
    assert finding.fix is None


@pytest.mark.parametrize(
    "text",
    [
        'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl x | tar -xz\n',
        'FROM debian:12\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN curl x | tar -xz\n',
        "FROM alpine:3.19\nRUN set -eo pipefail; curl https://x | tar -xz\n",
        "FROM debian:12\nRUN yes | apt-get install x\n",
        "FROM debian:12\nRUN echo hi | tee /x\n",
        "FROM debian:12\nRUN curl -o /x https://x && tar -xzf /x\n",
        'FROM debian:12\nRUN ["/bin/bash", "-o", "pipefail", "-c", "curl https://x | tar -xz"]\n',
    ],
)
def test_jt508_negative(text: str) -> None:
    assert found(text, "JT508") == []


def test_jt509_several_sources_to_a_file_path() -> None:
    text = "FROM debian:12\nCOPY a.txt b.txt /app\n"
    (finding,) = found(text, "JT509")
    assert finding.severity.value == "error"
    assert finding.fix is not None and finding.fix.safety is FixSafety.UNSAFE
    assert fixed(text, "JT509", unsafe=True).endswith("COPY a.txt b.txt /app/\n")
    workdir = "FROM debian:12\nWORKDIR /app\nCOPY a.txt b.txt /app\n"
    (finding,) = found(workdir, "JT509")
    assert finding.severity.value == "warning" and finding.fix is not None
    assert finding.fix.safety is FixSafety.SAFE
    for ok in ("COPY a b /app/", "COPY a b .", "COPY a /app", "COPY a b ./"):
        assert found(f"FROM debian:12\n{ok}\n", "JT509") == []


def test_jt411_user_name() -> None:
    text = "FROM debian:12\nRUN useradd -u 10001 app\nUSER app\n"
    (finding,) = found(text, "JT411")
    assert "10001" in finding.message
    assert fixed(text, "JT411", unsafe=True).endswith("USER 10001\n")
    (finding,) = found("FROM debian:12\nRUN useradd app\nUSER app:app\n", "JT411")
    assert finding.fix is None
    for ok in ("USER 10001", "USER 10001:10001", "USER root"):
        assert found(f"FROM debian:12\n{ok}\n", "JT411") == []
    assert found("FROM debian:12\nARG U\nUSER $U\n", "JT411") == []


# --- JT204: an ENV that refers to a name set just before it starts a new run --------------


def test_jt204_does_not_report_envs_that_refer_to_each_other() -> None:
    text = "FROM debian:12\nENV JAVA_HOME=/opt/java\nENV PATH=$JAVA_HOME/bin:$PATH\n"
    assert found(text, "JT204") == []


def test_jt204_reports_and_merges_the_part_that_can_merge() -> None:
    text = (
        "FROM debian:12\nENV JAVA_HOME=/opt/java\nENV PATH=$JAVA_HOME/bin:$PATH\nENV A=1\nENV B=2\n"
    )
    findings = found(text, "JT204")
    assert [(f.line, f.message.split(";")[0]) for f in findings] == [
        (4, "3 consecutive ENV instructions")
    ]
    assert fixed(text, "JT204") == (
        "FROM debian:12\nENV JAVA_HOME=/opt/java\n"
        "ENV PATH=$JAVA_HOME/bin:$PATH \\\n    A=1 \\\n    B=2\n"
    )


def test_jt204_labels_and_independent_envs_still_merge() -> None:
    text = "FROM debian:12\nENV A=1\nENV B=2\nLABEL a=$A\nLABEL b=2\n"
    assert len(found(text, "JT204")) == 2


# --- JT134: packaging tools upgraded in a layer of their own -------------------------------


def test_jt134_removes_a_lone_upgrade_run_and_a_chained_upgrade() -> None:
    lone = "FROM python:3.11-slim\nRUN pip install --upgrade pip\nRUN pip install -r r.txt\n"
    assert fixed(lone, "JT134", unsafe=True) == (
        "FROM python:3.11-slim\nRUN pip install -r r.txt\n"
    )
    chained = "FROM python:3.11-slim\nRUN pip install -U pip wheel && \\\n    pip install x\n"
    assert fixed(chained, "JT134", unsafe=True) == "FROM python:3.11-slim\nRUN pip install x\n"
    assert fixed(chained, "JT134") == chained  # unsafe: not applied by default


def test_jt134_leaves_real_installs_builders_and_fresh_venvs_alone() -> None:
    for text in (
        "FROM python:3.11-slim\nRUN pip install -U pip -r requirements.txt\n",
        "FROM python:3.11 AS b\nRUN pip install -U pip\nFROM python:3.11-slim\n",
        "FROM python:3.11-slim\nRUN python -m venv /v && /v/bin/pip install -U pip\n",
        "FROM python:3.11-slim\nRUN pip install --upgrade requests\n",
    ):
        assert found(text, "JT134") == [], text


# --- JT135: a copied virtualenv that still holds its packaging tools -----------------------

VENV_BUILD = (
    "FROM python:3.11 AS builder\n"
    "RUN python -m venv /venv && /venv/bin/pip install -r requirements.txt\n"
    "\n"
    "FROM python:3.11-slim\n"
    "COPY --from=builder /venv /venv\n"
    'CMD ["/venv/bin/python", "-m", "app"]\n'
)


def test_jt135_uninstalls_the_tools_in_the_builder_once() -> None:
    out = fixed(VENV_BUILD, "JT135", unsafe=True)
    assert out.count("RUN /venv/bin/python -m pip uninstall -y pip setuptools wheel") == 1
    builder, final = out.split("FROM python:3.11-slim", 1)
    assert "uninstall" in builder and "uninstall" not in final
    assert found(out, "JT135") == []  # fixed: no finding, and fixing again is a no-op
    assert fixed(out, "JT135", unsafe=True) == out


def test_jt135_not_when_the_final_image_runs_pip_or_the_venv_has_none() -> None:
    runs_pip = VENV_BUILD.replace("CMD", "RUN /venv/bin/pip install gunicorn\nCMD")
    without = VENV_BUILD.replace("-m venv /venv", "-m venv --without-pip /venv")
    for text in (runs_pip, without):
        assert found(text, "JT135") == [], text


def test_jt135_follows_the_venv_path_through_env() -> None:
    text = VENV_BUILD.replace(
        "RUN python -m venv /venv && /venv/bin/pip",
        "ENV VIRTUAL_ENV=/venv\nRUN python -m venv $VIRTUAL_ENV && /venv/bin/pip",
    )
    assert [f.code for f in found(text, "JT135")] == ["JT135"]
