"""Building with BuildKit through the docker CLI, measured step by step."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jettison.engine.client import BuildClient, docker_client, find_build_client
from jettison.engine.images import ImageInfo, image_info
from jettison.engine.progress import (
    BuildProgress,
    PlainProgressParser,
    RawJsonProgressParser,
    Step,
    error_summary,
)
from jettison.errors import BuildFailedError, DockerfileParseError, JettisonError

# keyword that make a BuildKit vertex of their own (v0.8 frontend and later)
_VERTEX_KEYWORDS = {"RUN", "COPY", "ADD", "WORKDIR"}


class BuildStepError(BuildFailedError):
    """A failed build, with the failing step (None: failed before any step) and its log tail."""

    def __init__(
        self,
        message: str,
        path: str | None,
        line: int | None,
        *,
        step: Step | None,
        log_tail: list[str],
        progress: BuildProgress,
    ) -> None:
        super().__init__(message, path, line)
        self.step = step
        self.log_tail = log_tail
        self.progress = progress


@dataclass
class BuildResult:
    image_id: str
    tag: str | None
    seconds: float  # wall clock of the whole build command, as a user waits for it
    progress: BuildProgress
    image: ImageInfo
    command: list[str]

    @property
    def steps(self) -> list[Step]:
        return self.progress.instructions

    @property
    def steps_total(self) -> int:
        return self.progress.steps_total

    @property
    def steps_cached(self) -> int:
        return self.progress.steps_cached


def dockerfile_line(dockerfile: Path, step: Step) -> int | None:
    """The Dockerfile line BuildKit's ``[stage i/n]`` step came from, when it can be told."""
    if step.index is None:
        return None
    try:
        from jettison.dockerfile.parse import read_dockerfile

        model = read_dockerfile(dockerfile)
    except (JettisonError, OSError, DockerfileParseError):
        return None
    stages = model.stages
    if step.stage is None:
        candidates = stages[-1:] if len(stages) == 1 else []
    else:
        candidates = [s for s in stages if s.name == step.stage or f"stage-{s.index}" == step.stage]
    if len(candidates) != 1:
        return None
    stage = candidates[0]
    if step.index == 1:
        return stage.from_instruction.line
    vertices = [i for i in stage.instructions if i.keyword in _VERTEX_KEYWORDS]
    if 0 < step.index - 1 <= len(vertices):
        return vertices[step.index - 2].line
    return None


def build(
    context: Path,
    dockerfile: Path | None = None,
    tag: str | None = None,
    *,
    no_cache: bool = False,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
    on_step: Callable[[Step], None] | None = None,
    client: BuildClient | None = None,
    sdk: Any | None = None,
    extra_args: Sequence[str] = (),  # e.g. --cache-from REF (jettison build, services)
) -> BuildResult:
    """Build ``context`` with BuildKit; per-step records, image id, size and layers.

    Raises :class:`BuildStepError` (a :class:`BuildFailedError`) naming the failing step and
    its Dockerfile line, with the tail of its log in ``.log_tail``;
    :class:`EngineUnavailableError` without an engine.
    """
    context = Path(context)
    if not context.is_dir():
        raise JettisonError("build context does not exist or is not a directory", str(context))
    dockerfile = Path(dockerfile) if dockerfile is not None else context / "Dockerfile"
    if not dockerfile.is_file():
        raise JettisonError("Dockerfile not found", str(dockerfile))
    sdk = sdk or docker_client()
    client = client or find_build_client()
    fd, iidfile = tempfile.mkstemp(prefix="jettison-iid-")
    os.close(fd)
    argv = [
        *client.build_prefix(),
        f"--progress={client.progress}",
        "--iidfile",
        iidfile,
        "-f",
        str(dockerfile),
    ]
    if tag:
        argv += ["-t", tag]
    if no_cache:
        argv.append("--no-cache")
    if target:
        argv += ["--target", target]
    for key, value in (build_args or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in (labels or {}).items():
        argv += ["--label", f"{key}={value}"]
    argv += list(extra_args)
    argv.append(str(context))
    parser: PlainProgressParser | RawJsonProgressParser = (
        RawJsonProgressParser() if client.rawjson else PlainProgressParser()
    )
    started = time.monotonic()

    def on_line(line: str) -> None:
        step = parser.feed(line)
        if step is not None and on_step is not None:
            on_step(step)

    try:
        code = run_streamed(argv, None, client.environ(), on_line)
        seconds = time.monotonic() - started
        image_id = parser.result.image_id
        with contextlib.suppress(OSError):  # the CLI deletes the file first, writes on success
            image_id = Path(iidfile).read_text().strip() or image_id
    finally:
        with contextlib.suppress(OSError):
            os.unlink(iidfile)
    progress = parser.result
    if code != 0:
        raise _failure(progress, dockerfile)
    if not progress.buildkit:
        raise JettisonError(
            f"{client.describe()} did not build with BuildKit (legacy builder "
            "output); install the buildx plugin or set JETTISON_DOCKER"
        )
    if not image_id:
        raise JettisonError("the build succeeded but reported no image id", str(dockerfile))
    info = image_info(image_id, sdk)
    return BuildResult(
        image_id=info.id, tag=tag, seconds=seconds, progress=progress, image=info, command=argv
    )


def _failure(progress: BuildProgress, dockerfile: Path) -> BuildFailedError:
    what, tail = error_summary(progress)
    failed = progress.failed_step
    line = dockerfile_line(dockerfile, failed) if failed is not None else None
    last = next((t.strip() for t in reversed(tail) if t.strip()), "")
    message = f"build failed at {what}" if failed is not None else f"build failed: {what}"
    if last and last not in message:
        message += f" (last output: {last})"
    return BuildStepError(
        message, str(dockerfile), line, step=failed, log_tail=tail, progress=progress
    )


def run_streamed(
    argv: list[str], cwd: Any, env: dict[str, str], on_line: Callable[[str], None]
) -> int:
    """Run a build command (``build``, ``buildx build``, ``buildx bake``), each line of its
    output to ``on_line``; its exit code. Interrupted, the build is never left running."""
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as exc:
        raise JettisonError(f"cannot run {argv[0]}: {exc.strerror}") from None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            on_line(line)
        return proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: stop the build, never leave it running
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
