"""What BuildKit's instruction parser refuses is an error with file and line, in its words
(frontend/dockerfile/instructions: bflag.go and parse.go); what it accepts still parses."""

from __future__ import annotations

import pytest

from jettison.dockerfile import parse_dockerfile
from jettison.errors import DockerfileParseError
from tests.unit.cli_helpers import one_error, run


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("COPY --from build /app/x /x", "missing a value on flag: --from"),
        ("COPY --chown /a /b", "missing a value on flag: --chown"),
        ("COPY --bogus=1 a /b", "unknown flag: --bogus"),
        ("COPY --chwon=1 a /b", "unknown flag: --chwon (did you mean --chown?)"),
        ("COPY --chown=1 --chown=2 a /b", "duplicate flag specified: --chown"),
        ("COPY --link=maybe a /b", "expecting boolean value for flag --link, not: maybe"),
        ("COPY --link= a /b", "missing a value on flag: --link"),
        ("ADD --from=x a /b", "unknown flag: --from"),
        ("USER --x=1 app", "unknown flag: --x"),
        ("WORKDIR --x=1 /app", "unknown flag: --x"),
        ("ENV --x=1 A=b", "unknown flag: --x"),
        ("RUN --network=foo true", 'invalid network mode "foo"'),
        ("RUN --network none true", "missing a value on flag: --network"),
        ("RUN --security=weird true", 'security "weird" is not valid'),
        ("RUN --mount=type=volume,target=/x true", 'unsupported mount type "volume"'),
        ("RUN --nope=1 true", "unknown flag: --nope"),
        ("HEALTHCHECK --interval=1 CMD true", 'time: missing unit in duration "1"'),
        ("HEALTHCHECK --interval=5x CMD true", 'time: unknown unit "x" in duration "5x"'),
        ("HEALTHCHECK --timeout=10us CMD true", 'Interval "timeout" cannot be less than 1ms'),
        ("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"),
        (
            "HEALTHCHECK --start-periods=1s CMD true",
            "unknown flag: --start-periods (did you mean --start-period?)",
        ),
        ("HEALTHCHECK FOO true", 'Unknown type "FOO" in HEALTHCHECK (try CMD)'),
        ("HEALTHCHECK NONE true", "HEALTHCHECK NONE takes no arguments"),
        ("ONBUILD FROM debian:12", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD ONBUILD RUN true", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ARG =x", "ARG names can not be blank"),
    ],
)
def test_refused_with_buildkit_message_and_line(line: str, message: str) -> None:
    with pytest.raises(DockerfileParseError) as caught:
        parse_dockerfile(f"FROM debian:12\n{line}\n", "Dockerfile")
    assert caught.value.message == message
    assert caught.value.line == 2


def test_invalid_stage_name() -> None:
    with pytest.raises(DockerfileParseError, match="invalid name for build stage") as caught:
        parse_dockerfile("FROM debian:12 AS 1build\n", "Dockerfile")
    assert caught.value.line == 1


@pytest.mark.parametrize(
    "line",
    [
        "COPY --from=build --chown=1:1 --chmod=644 --link a /b",
        "COPY --link=false --exclude=*.pyc --exclude=*.md --parents a /b/",
        "ADD --checksum=sha256:abc --keep-git-dir --unpack=true https://x/y.tgz /b",
        "RUN --mount=type=cache,target=/c --mount=type=bind,source=a,target=/a true",
        "RUN --network=none --security=insecure true",
        "RUN --network=$NET true",
        "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=0 --retries=3 CMD true",
        "HEALTHCHECK NONE",
        "STOPSIGNAL --whatever SIGTERM",  # BuildKit never reads STOPSIGNAL's flags
        "ONBUILD RUN --mount=type=cache,target=/c apt-get update",
        "COPY -- --odd /b",
    ],
)
def test_accepted(line: str) -> None:
    parse_dockerfile(f"FROM debian:12\n{line}\n", "Dockerfile")


def test_audit_reports_it_as_one_error_with_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:12 AS build\nFROM debian:12\nCOPY --from build /app/x /x\n")
    code, _, err = run("audit", "--no-context", str(bad))
    one_error(code, err, f"{bad}:3", "missing a value on flag: --from")
