"""Per-rule specs in the style of hadolint's: each rule with cases that must and must not fire."""

from __future__ import annotations

import pytest

from jettison.audit import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.rules.registry import all_rules


def codes(text: str, select: str | None = None) -> list[str]:
    config = Config(select=[select] if select else [])
    return [f.code for f in check_dockerfile(parse_dockerfile(text, "Dockerfile"), config)]


# (code, Dockerfile, should fire?)
CASES: list[tuple[str, str, bool]] = [
    ("JT101", "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", True),
    (
        "JT101",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl "
        "&& rm -rf /var/lib/apt/lists/*\n",
        False,
    ),
    (
        "JT101",
        "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists "
        "apt-get update && apt-get install -y curl\n",
        False,
    ),
    # builder stage whose files are only copied from: not in the final image
    (
        "JT101",
        "FROM debian:12 AS b\nRUN apt-get update && apt-get install -y gcc\n"
        "FROM debian:12-slim\nCOPY --from=b /x /x\n",
        False,
    ),
    # ... but a stage the final one is built FROM is
    (
        "JT101",
        "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y gcc\n"
        'FROM base\nCMD ["x"]\n',
        True,
    ),
    (
        "JT101",
        "FROM debian:12\nRUN if true; then apt-get update; fi && apt-get install -y a\n",
        True,
    ),
    ("JT102", "FROM debian:12\nRUN apt-get install -y curl\n", True),
    ("JT102", "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n", False),
    ("JT102", "FROM debian:12\nRUN (cd /x && sudo apt-get install -y curl)\n", True),
    ("JT103", "FROM python:3.11\nRUN pip install flask\n", True),
    ("JT103", "FROM python:3.11\nRUN python -m pip install flask\n", True),
    ("JT103", "FROM python:3.11\nRUN pip install --no-cache-dir flask\n", False),
    ("JT103", "FROM python:3.11\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n", False),
    (
        "JT103",
        "FROM python:3.11\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
        False,
    ),
    ("JT103", "FROM python:3.11\nRUN pip download flask\n", False),
    ("JT104", "FROM alpine:3.19\nRUN apk add curl\n", True),
    ("JT104", "FROM alpine:3.19\nRUN apk add --no-cache curl\n", False),
    ("JT105", "FROM centos:7\nRUN yum install -y httpd\n", True),
    ("JT105", "FROM centos:7\nRUN yum install -y httpd && yum clean all\n", False),
    ("JT106", "FROM node:20\nRUN yarn install && yarn cache clean\n", False),
    ("JT106", "FROM node:20\nRUN yarn install\n", True),
    ("JT107", "FROM continuumio/miniconda3:23.5.2-0\nRUN conda install -y numpy\n", True),
    (
        "JT107",
        "FROM continuumio/miniconda3:23.5.2-0\nRUN conda install -y numpy && conda clean -afy\n",
        False,
    ),
    ("JT108", "FROM debian:12\nRUN apt-get update && apt-get upgrade -y\n", True),
    ("JT108", "FROM debian:12\nRUN apt-get update && apt-get install -y x\n", False),
    ("JT109", "FROM debian:12\nCOPY big.tar /tmp/big.tar\nRUN rm /tmp/big.tar\n", True),
    (
        "JT109",
        "FROM debian:12\nWORKDIR /tmp\nRUN wget -O x.tgz http://e/x.tgz\nRUN rm x.tgz\n",
        True,
    ),
    ("JT109", "FROM debian:12\nRUN wget -O /x.tgz http://e/x.tgz && rm /x.tgz\n", False),
    ("JT110", "FROM python:3.11-slim\nRUN apt-get install -y gcc libpq-dev\n", True),
    (
        "JT110",
        "FROM python:3.11-slim\nRUN apt-get install -y gcc && pip install x "
        "&& apt-get purge -y gcc\n",
        False,
    ),
    (
        "JT110",
        "FROM python:3.11-slim AS b\nRUN apt-get install -y gcc\n"
        "FROM python:3.11-slim\nCOPY --from=b /v /v\n",
        False,
    ),
    ("JT111", "FROM python:3.11\n", True),
    ("JT111", "FROM python:3.11-slim\n", False),
    ("JT111", "ARG BASE=python:3.11\nFROM ${BASE}\n", True),
    ("JT111", "FROM python:3.11 AS build\nFROM python:3.11-slim\n", False),
    ("JT112", "FROM debian:12\nRUN apt-get install -y vim curl\n", True),
    ("JT112", "FROM debian:12\nRUN apt-get install -y curl\n", False),
    ("JT113", "FROM debian:12\nADD https://e.com/x.tgz /tmp/\n", True),
    ("JT113", "FROM debian:12\nADD --checksum=sha256:abc https://e.com/x.tgz /tmp/\n", False),
    ("JT114", "FROM debian:12\nADD app.py /app/\n", True),
    ("JT114", "FROM debian:12\nADD app.tar.gz /app/\n", False),
    ("JT115", "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN tar xzf /tmp/app.tar.gz\n", True),
    ("JT115", "FROM debian:12\nADD app.tar.gz /opt/\n", False),
    ("JT116", "FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b / /\n", True),
    ("JT116", "FROM debian:12 AS b\nFROM debian:12\nCOPY --from=b /venv /venv\n", False),
    ("JT117", "FROM debian:12\nRUN useradd -u 1000000 app\n", True),
    ("JT117", "FROM debian:12\nRUN useradd -l -u 1000000 app\n", False),
    ("JT117", "FROM debian:12\nRUN useradd -u 1000 app\n", False),
    ("JT118", "FROM debian:12\nRUN curl -o a http://x\nRUN wget http://y\n", True),
    ("JT118", "FROM debian:12\nRUN curl -o a http://x\nFROM debian:12\nRUN wget http://y\n", False),
    ("JT119", "FROM python:3.11-slim\nCOPY tests/ /app/tests/\n", True),
    ("JT119", "FROM python:3.11-slim\nCOPY src/ /app/src/\n", False),
    ("JT130", "FROM debian:12\nCOPY . /app\nRUN chown -R app:app /app\n", True),
    ("JT130", "FROM debian:12\nCOPY --chown=app:app . /app\nRUN chown app:app /app\n", False),
    (
        "JT131",
        "FROM python:3.11 AS b\nRUN pip wheel -w /wheels six\nFROM python:3.11-slim\n"
        "COPY --from=b /wheels /wheels\nRUN pip install /wheels/*\n",
        True,
    ),
    (
        "JT131",
        "FROM python:3.11 AS b\nRUN pip wheel -w /wheels six\nFROM python:3.11-slim\n"
        "RUN --mount=type=bind,from=b,source=/wheels,target=/wheels pip install /wheels/*\n",
        False,
    ),
    ("JT201", "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt\n", True),
    (
        "JT201",
        "FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r "
        "requirements.txt\nCOPY . .\n",
        False,
    ),
    ("JT201", "FROM node:20\nCOPY . .\nRUN npm ci\n", True),
    ("JT202", "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n", True),
    ("JT202", "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n", False),
    ("JT203", "# syntax=docker/dockerfile:1\nFROM python:3.11\nRUN pip install x\n", True),
    ("JT203", "FROM python:3.11\nRUN pip install x\n", False),
    ("JT204", "FROM debian:12\nENV A=1\nENV B=2\n", True),
    ("JT204", "FROM debian:12\nENV A=1 B=2\n", False),
    ("JT204", "FROM debian:12\nARG A=1\nARG B=2\n", True),
    ("JT118", "FROM debian:12\nRUN apt-get install -y curl wget\n", True),
    ("JT205", "FROM debian:12\nRUN mkdir /a\nRUN mkdir /b\n", True),
    ("JT205", "FROM debian:12\nRUN mkdir /a\nCOPY x /x\nRUN mkdir /b\n", False),
    ("JT205", "FROM debian:12\nRUN --mount=type=cache,target=/c mkdir /a\nRUN mkdir /b\n", False),
    ("JT301", 'FROM python:3.11-slim\nCMD ["python", "app.py"]\n', True),
    ("JT301", "FROM python:3.11-slim\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n", False),
    ("JT301", 'FROM debian:12\nCMD ["bash"]\n', False),
    ("JT302", 'FROM python:3.11\nCMD ["flask", "run", "--host=0.0.0.0"]\n', True),
    ("JT302", "FROM python:3.11\nCMD python manage.py runserver 0.0.0.0:8000\n", True),
    ("JT302", 'FROM python:3.11\nCMD ["gunicorn", "app:app"]\n', False),
    ("JT303", 'FROM python:3.11\nCMD ["gunicorn", "app:app"]\n', True),
    ("JT303", 'FROM python:3.11\nCMD ["gunicorn", "--max-requests", "1000", "a:b"]\n', False),
    ("JT303", 'FROM python:3.11\nCMD ["celery", "-A", "app", "worker"]\n', True),
    ("JT304", "FROM debian:12\nCMD python app.py\n", True),
    ("JT304", 'FROM debian:12\nCMD ["python", "app.py"]\n', False),
    ("JT305", "FROM debian:12\nEXPOSE 80\n", True),
    ("JT305", "FROM debian:12\nEXPOSE 80\nHEALTHCHECK CMD curl -f http://localhost/\n", False),
    ("JT410", 'FROM debian:12\nCMD ["x"]\n', True),
    ("JT410", "FROM debian:12\nUSER app\n", False),
    ("JT410", "FROM debian:12 AS base\nUSER app\nFROM base\n", False),
    ("JT401", "FROM debian:12\nUSER app\nUSER root\n", True),
    ("JT401", "FROM debian:12\nUSER app\n", False),
    ("JT121", "FROM fedora:39\nRUN dnf install -y x\n", True),
    ("JT121", "FROM fedora:39\nRUN dnf install -y x && dnf clean all\n", False),
    ("JT122", "FROM opensuse/leap:15\nRUN zypper install -y x\n", True),
    ("JT122", "FROM opensuse/leap:15\nRUN zypper install -y x && zypper clean --all\n", False),
    ("JT120", "FROM node:20\nRUN npm ci\n", True),
    ("JT120", "FROM node:20\nRUN npm ci && npm cache clean --force\n", False),
    ("JT402", "FROM debian:12\nENV SECRET_KEY_BASE=x\n", True),
    ("JT114", "FROM debian:12\nARG APP=x\nADD rel/$APP/bin /bin/\n", True),
    ("JT506", "RUN echo hi\nWORKDIR /x\nFROM debian:12\n", True),
    ("JT402", "FROM debian:12\nARG GITHUB_TOKEN\n", True),
    ("JT402", "FROM debian:12\nENV DB_PASSWORD=x\n", True),
    ("JT402", "FROM debian:12\nENV DB_PASSWORD_FILE=/run/secrets/db\n", False),
    ("JT403", "FROM python\n", True),
    ("JT403", "FROM python:3.11\n", False),
    ("JT403", "ARG BASE\nFROM $BASE\n", False),
    ("JT403", "FROM debian:12 AS b\nFROM b\n", False),
    ("JT404", "FROM ubuntu:latest\n", True),
    ("JT404", "FROM ubuntu:24.04\n", False),
    ("JT405", "FROM debian:12\nRUN sudo apt-get install -y x\n", True),
    ("JT405", "FROM debian:12\nRUN apt-get install -y sudo\n", False),
    ("JT406", "FROM debian:12\nRUN curl -fsSL https://x.sh | sh\n", True),
    ("JT406", "FROM debian:12\nRUN curl -fsSL https://x.tgz | tar xz\n", False),
    ("JT407", "FROM debian:12\nRUN chmod -R 777 /app\n", True),
    ("JT407", "FROM debian:12\nRUN chmod 755 /app\n", False),
    ("JT408", "FROM debian:12\nRUN curl -k https://x -o y\n", True),
    ("JT408", "FROM debian:12\nRUN pip install --trusted-host pypi.org x\n", True),
    ("JT408", "FROM debian:12\nENV PYTHONHTTPSVERIFY=0\n", True),
    ("JT408", "FROM debian:12\nRUN curl -fsSL https://x -o y\n", False),
    ("JT409", "FROM debian:12\nRUN apt-get install -y --allow-unauthenticated x\n", True),
    ("JT409", "FROM debian:12\nRUN apt-get install -y x\n", False),
    ("JT501", "FROM debian:12 AS build\nFROM debian:12\nCOPY --from=buidl /a /a\n", True),
    ("JT501", "FROM debian:12 AS build\nFROM debian:12\nCOPY --from=build /a /a\n", False),
    ("JT501", "FROM debian:12\nCOPY --from=nginx:1.25 /etc/nginx /etc/nginx\n", False),
    (
        "JT501",
        "ARG S=build\nFROM debian:12 AS build\nFROM debian:12\nARG S\nCOPY --from=$S /a /a\n",
        False,
    ),
    ("JT502", "FROM debian:12 AS a\nFROM debian:12 AS a\n", True),
    ("JT502", "FROM debian:12 AS a\nFROM debian:12 AS b\n", False),
    ("JT503", "FROM debian:12\nWORKDIR app\n", True),
    ("JT503", "FROM debian:12\nWORKDIR /app\n", False),
    ("JT504", 'FROM debian:12\nCMD ["a"]\nCMD ["b"]\n', True),
    ("JT504", 'FROM debian:12\nCMD ["a"]\nFROM debian:12\nCMD ["b"]\n', False),
    ("JT505", "FROM debian:12\nRUN apt-get install curl\n", True),
    ("JT505", "FROM debian:12\nRUN apt-get install -qq curl\n", False),
    ("JT506", "RUN echo hi\nFROM debian:12\n", True),
    ("JT506", "ARG X=1\nFROM debian:12\n", False),
    ("JT507", "FROM debian:12\nMAINTAINER me\n", True),
    ("JT507", "FROM debian:12\nLABEL a=b\n", False),
    ("JT508", "FROM debian:12\nRUN curl -fsSL https://x | tar -xz\n", True),
    ("JT508", "FROM alpine:3.19\nRUN set -o pipefail && curl https://x | tar -xz\n", False),
    ("JT509", "FROM debian:12\nCOPY a b /app\n", True),
    ("JT509", "FROM debian:12\nCOPY a b /app/\n", False),
    ("JT411", "FROM debian:12\nUSER app\n", True),
    ("JT411", "FROM debian:12\nUSER 10001\n", False),
    ("JT132", "FROM python:3.11-slim\nRUN apt-get install -y libpq-dev\n", True),
    ("JT132", "FROM python:3.11-slim\nRUN apt-get install -y gcc libpq-dev\n", False),
    (
        "JT133",
        "FROM python:3.11-slim\nRUN apt-get install -y git && pip install git+https://x/y\n",
        True,
    ),
    ("JT133", 'FROM python:3.11-slim\nRUN apt-get install -y git\nCMD ["git", "log"]\n', False),
    ("JT134", "FROM python:3.11-slim\nRUN pip install --upgrade pip\n", True),
    ("JT134", "FROM python:3.11-slim\nRUN python -m venv /v && /v/bin/pip install -U pip\n", False),
    (
        "JT135",
        "FROM python:3.11 AS b\nRUN python -m venv /v\n"
        "FROM python:3.11-slim\nCOPY --from=b /v /v\n",
        True,
    ),
    (
        "JT135",
        "FROM python:3.11 AS b\nRUN python -m venv --without-pip /v\n"
        "FROM python:3.11-slim\nCOPY --from=b /v /v\n",
        False,
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "fires"),
    CASES,
    ids=[f"{c}-{'pos' if f else 'neg'}-{i}" for i, (c, _, f) in enumerate(CASES)],
)
def test_rule_case(code: str, text: str, fires: bool) -> None:
    assert (code in codes(text, code)) is fires


def test_every_dockerfile_rule_has_positive_and_negative_cases() -> None:
    dockerfile_rules = {r.code for r in all_rules() if r.scope == "dockerfile"}
    positive = {c for c, _, f in CASES if f}
    negative = {c for c, _, f in CASES if not f}
    assert dockerfile_rules - positive == set()
    assert dockerfile_rules - negative == set()


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
