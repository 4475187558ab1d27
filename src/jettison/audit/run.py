"""``jettison audit`` as a library: :func:`audit_paths` discovers the inputs, audits the
Dockerfiles (on every core when there are many), the compose files and the build contexts."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jettison.audit.checks import audit_dockerfile_path
from jettison.audit.discovery import discover
from jettison.config import Config
from jettison.errors import JettisonError
from jettison.findings import Finding


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    files: int = 0
    paths: list[str] = field(default_factory=list)  # the files checked


Contexts = Mapping[str, Path]  # a Dockerfile's resolved path -> its build context


def _one(
    path: str, config: Config, contexts: Contexts
) -> tuple[list[Finding], list[JettisonError]]:
    context = contexts.get(str(Path(path).resolve())) if contexts else None
    return audit_dockerfile_path(path, config, context)


def _audit_chunk(
    args: tuple[list[str], Config, Contexts],
) -> list[tuple[list[Finding], list[JettisonError]]]:
    paths, config, contexts = args
    return [_one(p, config, contexts) for p in paths]


def audit_dockerfiles(
    paths: Sequence[str],
    config: Config,
    jobs: int | None = None,
    contexts: Contexts | None = None,
) -> AuditResult:
    """Audit many Dockerfiles, on every core when there are enough of them to pay off;
    ``contexts`` names the build context of those not built from their own folder."""
    result = AuditResult(files=len(paths), paths=list(paths))
    contexts = dict(contexts or {})
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(paths) < 24:
        outcomes = [_one(p, config, contexts) for p in paths]
    else:
        # imported here: multiprocessing and concurrent.futures cost a one-file audit ~15 ms
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = max(8, len(paths) // (jobs * 4))
        chunks = [(list(paths[i : i + size]), config, contexts) for i in range(0, len(paths), size)]
        # spawn, not fork: the Go runtime inside the BuildKit parser does not survive fork()
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
            outcomes = [o for chunk in pool.map(_audit_chunk, chunks) for o in chunk]
    for findings, errors in outcomes:
        result.findings.extend(findings)
        result.errors.extend(errors)
    return result


def audit_paths(
    paths: Sequence[str],
    config: Config,
    jobs: int | None = None,
    context: bool = True,
    context_dir: Path | None = None,
) -> AuditResult:
    """Everything ``jettison audit`` does for a list of paths, globs and directories.

    Each Dockerfile is read with its build context: ``context_dir`` for all of them when
    given (``--context``), else the one a compose file's build section names, else its own
    folder. ``context=False`` skips the scan of the contexts themselves (the Dockerfile
    rules still read the project files they need)."""
    inputs = discover(paths)
    contexts: dict[str, Path] = {}
    compose = None
    if inputs.compose_files or context:
        # imported here: the compose reader and the context scanner are not needed to audit
        # Dockerfiles alone (`audit --no-context FILE`, what a pre-commit hook runs)
        from jettison.audit.contexts import audit_compose_files

        compose = audit_compose_files(inputs.compose_files, config)
        contexts.update(compose.contexts)
    if context_dir is not None:
        contexts.update((str(Path(df).resolve()), context_dir) for df in inputs.dockerfiles)
    result = audit_dockerfiles(inputs.dockerfiles, config, jobs, contexts)
    result.errors[:0] = inputs.errors
    if compose is not None:
        result.findings.extend(compose.findings)
        result.errors.extend(compose.errors)
        result.files += len(inputs.compose_files)
        result.paths += inputs.compose_files
    if context:
        from jettison.audit.contexts import audit_contexts

        ctx = audit_contexts(inputs.dockerfiles, contexts, config)
        result.findings.extend(ctx.findings)
        result.errors.extend(ctx.errors)
    result.findings.sort(key=Finding.sort_key)
    return result
