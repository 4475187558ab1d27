"""False positives found by judging a random sample of findings on the precision corpus
(benchmarks/precision): each class with a case that must still fire and one that must not."""

from __future__ import annotations

import pytest

from jettison.audit import check_dockerfile
from jettison.config import Config
from jettison.dockerfile import parse_dockerfile
from jettison.findings import Finding


def found(text: str, code: str, path: str = "Dockerfile") -> list[Finding]:
    return check_dockerfile(parse_dockerfile(text, path), Config(select=[code]))


# -- JT101: `rm -rf /var/lib/apt/lists*` (a glob on the directory itself) ---------------------


@pytest.mark.parametrize(
    "cleanup",
    ["rm -rf /var/lib/apt/lists*", "rm -rf /var/lib/apt/list?", "rm -rf /var/lib/apt/*"],
)
def test_jt101_glob_over_the_lists_directory_is_cleanup(cleanup: str) -> None:
    text = f"FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y curl && {cleanup}\n"
    assert found(text, "JT101") == []


def test_jt101_glob_beside_the_lists_still_fires() -> None:
    text = "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y curl && rm -rf /var/log/*\n"
    assert [f.code for f in found(text, "JT101")] == ["JT101"]


# -- JT103: the RUN removes pip's cache directory (or one above it) after installing ----------


@pytest.mark.parametrize(
    "cleanup", ["rm -rf /root/.cache", "rm -rf /root/.cache/pip", "rm -rf ~/.cache/pip"]
)
def test_jt103_cache_removed_in_the_same_run(cleanup: str) -> None:
    text = f"FROM python:3.13-slim\nRUN pip install -r requirements.txt && {cleanup}\n"
    assert found(text, "JT103") == []


def test_jt103_root_cache_removed_but_another_user_installs() -> None:
    # a non-root user's pip cache is under its own home, not /root/.cache
    text = (
        "FROM python:3.13-slim\nUSER app\n"
        "RUN pip install -r requirements.txt && rm -rf /root/.cache\n"
    )
    assert [f.code for f in found(text, "JT103")] == ["JT103"]


def test_jt103_cache_removed_before_the_install_still_fires() -> None:
    text = "FROM python:3.13-slim\nRUN rm -rf /root/.cache && pip install flask\n"
    assert [f.code for f in found(text, "JT103")] == ["JT103"]


# -- JT116: whole-filesystem copies into builder stages ---------------------------------------

XX = (
    "FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.6.1 AS xx\n"
    "FROM golang:1.24-alpine AS build\n"
    "COPY --from=xx / /\n"
    "RUN go build -o /out/app .\n"
)


def test_jt116_tool_image_copied_whole_into_a_builder_stage() -> None:
    assert found(XX + "FROM scratch\nCOPY --from=build /out/app /app\n", "JT116") == []


def test_jt116_builder_copied_whole_into_the_final_image_still_fires() -> None:
    text = (
        "FROM python:3.12 AS builder\nRUN pip install --prefix=/install flask\n"
        "FROM python:3.12-slim\nCOPY --from=builder / /\n"
    )
    assert [f.code for f in found(text, "JT116")] == ["JT116"]


def test_jt116_stage_index_reference_still_fires() -> None:
    text = "FROM debian:12\nRUN make\nFROM debian:12-slim\nCOPY --from=0 . /\n"
    assert [f.code for f in found(text, "JT116")] == ["JT116"]


# -- JT301: the official interpreter images (CMD is the bare interpreter) --------------------


@pytest.mark.parametrize("cmd", ['CMD ["python3"]', 'CMD ["pypy3"]', "CMD bash"])
def test_jt301_image_whose_command_is_a_bare_interpreter_is_a_base(cmd: str) -> None:
    text = f"FROM python:3.13-slim\nRUN pip install --no-cache-dir numpy\n{cmd}\n"
    assert found(text, "JT301") == []


@pytest.mark.parametrize(
    "cmd",
    [
        'CMD ["python3", "app.py"]',
        'ENTRYPOINT ["python3"]',
        'ENTRYPOINT ["tini", "--"]\nCMD ["python3"]',
    ],
)
def test_jt301_application_image_still_fires(cmd: str) -> None:
    text = f"FROM python:3.13-slim\n{cmd}\n"
    assert [f.code for f in found(text, "JT301")] == ["JT301"]


# -- JT402: a boolean setting and a public OpenPGP fingerprint are no secrets ---------------


@pytest.mark.parametrize(
    "line",
    [
        "ENV ANSIBLE_HOST_KEY_CHECKING=False",
        "ENV VERIFY_KEY 0",
        "ARG SWIFT_SIGNING_KEY=A62AE125BBBFBB96A6E042EC925CC1CCED3D1561",
        'ARG NEXTCLOUD_KEY="2880 6A87 8AE4 23A2 8372  792E D758 99B9 A724 937A"',
        "ARG RELEASE_KEY=0x3B04D753C9050D9A",
    ],
)
def test_jt402_settings_and_fingerprints(line: str) -> None:
    assert found(f"FROM alpine:3.20\n{line}\n", "JT402") == []


def test_jt402_env_passing_on_an_arg_fingerprint() -> None:
    text = (
        "FROM alpine:3.20\nARG SWIFT_SIGNING_KEY=E813C892820A6FA13755B268F167DF1ACF9CE069\n"
        "ENV SWIFT_SIGNING_KEY=$SWIFT_SIGNING_KEY\n"
    )
    assert found(text, "JT402") == []


@pytest.mark.parametrize(
    "line",
    [
        "ARG SIGNING_KEY=3f9a1c0d2e7b4a6c8d1e0f2a3b4c5d6e7f8a9b0c",  # lower-case hex: a token
        "ENV API_TOKEN=ghp_abc123",
        "ARG SECRET_KEY",
        "ENV DB_PASSWORD=true-story",
    ],
)
def test_jt402_secrets_still_fire(line: str) -> None:
    assert [f.code for f in found(f"FROM alpine:3.20\n{line}\n", "JT402")] == ["JT402"]


# -- JT410: bases that run as a non-root user themselves -------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "mcr.microsoft.com/windows/nanoserver:ltsc2025",
        "mcr.microsoft.com/dotnet/runtime-deps:8.0-azurelinux3.0-distroless",
        "mcr.microsoft.com/dotnet/aspnet:9.0-noble-chiseled",
        "mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022",
    ],
)
def test_jt410_non_root_bases(base: str) -> None:
    assert found(f"FROM {base}\nCOPY app /app\n", "JT410") == []


def test_jt410_arg_resolved_distroless_base() -> None:
    text = (
        "ARG REPO=mcr.microsoft.com/dotnet/runtime-deps\n"
        "FROM $REPO:8.0.30-azurelinux3.0-distroless-arm64v8\nCOPY app /app\n"
    )
    assert found(text, "JT410") == []


@pytest.mark.parametrize(
    "base",
    [
        "mcr.microsoft.com/windows/servercore:ltsc2022",
        "mcr.microsoft.com/dotnet/aspnet:8.0",
        "gcr.io/distroless/python3-debian12",
    ],
)
def test_jt410_root_bases_still_fire(base: str) -> None:
    assert [f.code for f in found(f"FROM {base}\nCOPY app /app\n", "JT410")] == ["JT410"]


# -- JT508: a pipe that ends in a checksum check fails by itself ----------------------------


@pytest.mark.parametrize(
    "pipe",
    [
        'grep " node.tar.xz$" SHASUMS256.txt | sha256sum -c -',
        "awk '$2 == \"a.tgz\"' sums.txt | sha512sum --check",
        'grep a.tgz sums | cut -d" " -f1 | sha256sum -c',
    ],
)
def test_jt508_pipe_into_a_checksum_check(pipe: str) -> None:
    assert found(f"FROM alpine:3.20\nRUN {pipe}\n", "JT508") == []


@pytest.mark.parametrize(
    "pipe",
    [
        "curl -fsSL https://x/a.tgz | tar -xz",
        "grep a sums | sha256sum",  # no -c: prints a hash, checks nothing
        "grep a sums | sha256sum -c && curl -fsSL https://x | sh",
        "x=\"$(dpkg --print-architecture | awk -F- '{ print $NF }')\"",
    ],
)
def test_jt508_other_pipes_still_fire(pipe: str) -> None:
    assert [f.code for f in found(f"FROM alpine:3.20\nRUN {pipe}\n", "JT508")] == ["JT508"]
