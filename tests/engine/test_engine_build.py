"""The engine layer against the real engine: builds, failures, the smoke check, on every
selected engine."""

from __future__ import annotations

import secrets
from pathlib import Path

import docker
import pytest

from jettison.engine import (
    BuildStepError,
    build,
    cache_stats,
    docker_client,
    find_build_client,
    remove_image,
    verify,
)
from tests.engine.conftest import Engine

pytestmark = pytest.mark.engine


@pytest.fixture
def tag() -> str:
    name = f"jettison-test-{secrets.token_hex(4)}:t"
    yield name
    remove_image(name)


def _project(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for rel, text in (files or {}).items():
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_client_really_builds_with_buildkit(each_engine: Engine, tmp_path: Path, tag: str) -> None:
    client = find_build_client()
    ctx = _project(
        tmp_path,
        "FROM debian:bookworm-slim\nCOPY a.txt /a.txt\n"
        "RUN --mount=type=tmpfs,target=/scratch cat /a.txt > /b.txt\n",
        {"a.txt": "hello\n"},
    )
    first = build(ctx, tag=tag, client=client)
    # RUN --mount only parses under BuildKit: the legacy builder would have failed
    assert first.progress.buildkit
    assert [s.instruction.split()[0] for s in first.steps] == ["COPY", "RUN"]
    again = build(ctx, tag=tag, client=client)
    assert (again.steps_total, again.steps_cached) == (2, 2)
    attrs = docker.from_env().api.inspect_image(tag)
    assert again.image_id == attrs["Id"]
    assert again.image.size_bytes == attrs["Size"]
    assert again.image.layers == len(attrs["RootFS"]["Layers"])
    # content no earlier run built (the cache is keyed by content, not by time)
    (ctx / "a.txt").write_text(f"changed {secrets.token_hex(8)}\n")
    changed = build(ctx, tag=tag, client=client)
    assert [s.cached for s in changed.steps] == [False, False]
    cold = build(ctx, tag=tag, client=client, no_cache=True)
    assert cold.steps_cached == 0
    for image_id in {first.image_id, changed.image_id, cold.image_id} - {again.image_id}:
        remove_image(image_id)


def test_failing_step_names_line_and_log_tail(each_engine: Engine, tmp_path: Path) -> None:
    ctx = _project(
        tmp_path,
        "FROM debian:bookworm-slim\nRUN echo fine\n"
        "RUN echo about to fail && ls /nonexistent-jettison\nRUN echo never\n",
    )
    with pytest.raises(BuildStepError) as info:
        build(ctx)
    err = info.value
    assert err.exit_code == 1 and err.line == 3
    assert err.step is not None and err.step.index == 3
    assert any("nonexistent-jettison" in line for line in err.log_tail)
    assert "RUN echo about to fail" in str(err)


def test_verify_service_one_shot_crash_and_pruned_dependency(
    each_engine: Engine, tmp_path: Path, tag: str
) -> None:
    sdk = docker_client()

    def probe_containers() -> set[str]:
        return {
            c.id for c in sdk.containers.list(all=True, filters={"label": "org.jettison.verify=1"})
        }

    earlier = probe_containers()  # another test's leftovers are not this test's to judge
    example = Path(__file__).parents[2] / "examples" / "bench-tiny"
    service = tmp_path / "svc"
    service.mkdir()
    _project(
        service,
        (example / "Dockerfile.optimized").read_text(),
        {"app.py": (example / "app.py").read_text(), "requirements.txt": ""},
    )
    build(service, tag=tag)
    ok = verify(tag, sdk=sdk)
    assert ok.ok, ok.summary()
    assert {c.name: c.ok for c in ok.checks} == {"start": True, "ports": True, "imports": True}
    assert "HTTP 200" in next(c.detail for c in ok.checks if c.name == "ports")

    crash = tmp_path / "crash"
    crash.mkdir()
    _project(crash, 'FROM debian:bookworm-slim\nCMD ["sh", "-c", "echo boom >&2; exit 3"]\n')
    crash_tag = f"jettison-test-{secrets.token_hex(4)}:crash"
    try:
        build(crash, tag=crash_tag)
        bad = verify(crash_tag, sdk=sdk)
        start = bad.checks[0]
        assert not bad.ok and start.name == "start" and "code 3" in start.detail
        assert "boom" in start.detail
    finally:
        remove_image(crash_tag)

    # an installed distribution whose own dependency is gone: the import check names it
    pruned = tmp_path / "pruned"
    pruned.mkdir()
    site = "/usr/local/lib/python3.11/site-packages"
    _project(
        pruned,
        "FROM python:3.11-slim\n"
        f"RUN mkdir -p {site}/brokenpkg {site}/brokenpkg-1.0.dist-info"
        f" && echo 'import missingdep' > {site}/brokenpkg/__init__.py"
        f" && printf 'Metadata-Version: 2.1\\nName: brokenpkg\\nVersion: 1.0\\n'"
        f" > {site}/brokenpkg-1.0.dist-info/METADATA"
        f" && echo brokenpkg > {site}/brokenpkg-1.0.dist-info/top_level.txt\n"
        'CMD ["python", "-c", "print(1)"]\n',
    )
    pruned_tag = f"jettison-test-{secrets.token_hex(4)}:pruned"
    try:
        build(pruned, tag=pruned_tag)
        result = verify(pruned_tag, sdk=sdk)
        imports = next(c for c in result.checks if c.name == "imports")
        assert not imports.ok and "brokenpkg" in imports.detail and "missingdep" in imports.detail
        assert next(c for c in result.checks if c.name == "start").ok
    finally:
        remove_image(pruned_tag)
    assert probe_containers() - earlier == set()


def test_cache_stats_agree_with_the_engine(each_engine: Engine) -> None:
    stats = cache_stats()
    df = docker.from_env().df()
    assert stats.build_cache_entries == len(df.get("BuildCache") or [])
    assert stats.images_bytes == df["LayersSize"]
