"""Running a bench: temp copies of the context, interleaved builds, verification, cleanup.

Each variant (the Dockerfile as it is, and its jettison-fixed or ``--against`` version)
builds in a private copy of the build context, so the user's files are never modified.
Repetition by repetition, each scenario runs for every variant in turn (the first variant
alternates), so that machine noise hits both alike:

* ``cold``: ``--no-cache`` (base images are already present locally and not pulled);
* ``warm``: the same build again, nothing changed;
* ``code_change``: a comment line appended to one application source file;
* ``deps_change``: a comment line (or, for JSON, whitespace) appended to the dependency
  manifest, which invalidates every step from the one that copies it.

A scenario that needs the build cache gets one unmeasured priming build first when no
build with the cache has run yet (``--scenario warm`` alone, or ``warm`` right after
``cold``: BuildKit 0.8 does not reuse what a ``--no-cache`` build made). Every image is
tagged ``jettison-bench-<slug>:<variant>-<id>`` and removed at the end (``keep_images``
keeps the last one per variant); images that existed before the bench are never removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docker.utils.build import PatternMatcher

from jettison.bench.model import (
    SCENARIOS,
    BenchReport,
    Run,
    ScenarioResult,
    StepTime,
    VariantResult,
)
from jettison.context.scan import find_dockerignore, read_dockerignore
from jettison.dockerfile.parse import parse_dockerfile
from jettison.engine import (
    BuildClient,
    BuildResult,
    Step,
    build,
    docker_client,
    find_build_client,
    remove_image,
    verify,
)
from jettison.errors import BuildFailedError, JettisonError

SOURCE_COMMENT = {
    ".py": "#",
    ".rb": "#",
    ".sh": "#",
    ".pl": "#",
    ".r": "#",
    ".ex": "#",
    ".exs": "#",
    ".js": "//",
    ".mjs": "//",
    ".cjs": "//",
    ".ts": "//",
    ".tsx": "//",
    ".jsx": "//",
    ".go": "//",
    ".java": "//",
    ".kt": "//",
    ".scala": "//",
    ".rs": "//",
    ".c": "//",
    ".cc": "//",
    ".cpp": "//",
    ".h": "//",
    ".cs": "//",
    ".php": "//",
    ".swift": "//",
}
DEPENDENCY_MANIFESTS = (
    "requirements.txt",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.cfg",
    "setup.py",
    "environment.yml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "Gemfile",
    "Gemfile.lock",
    "Cargo.toml",
    "composer.json",
)
# on every image a bench builds, so leftovers can be found: docker images -f label=...
BENCH_LABEL = "org.jettison.bench"
_TEST_PARTS = {"test", "tests", "testing", "spec", "docs", "examples", "scripts", "benchmarks"}
_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}


@dataclass
class VariantSpec:
    name: str  # original | optimized
    label: str
    dockerfile_text: str
    extra_files: dict[str, str] = field(default_factory=dict)  # relative to the Dockerfile
    fixes: list[str] = field(default_factory=list)


@dataclass
class BenchOptions:
    repeat: int = 3
    scenarios: tuple[str, ...] = SCENARIOS
    keep_images: bool = False
    verify: bool = True
    touch: str | None = None  # context-relative file for code_change
    deps_file: str | None = None  # context-relative manifest for deps_change
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None


class BenchEvents:
    """Callbacks for live progress; the default does nothing."""

    def build_started(self, variant: str, scenario: str, repetition: int) -> None:
        pass

    def step(self, variant: str, scenario: str, step: Step) -> None:
        pass

    def build_finished(self, variant: str, scenario: str, run: Run | None) -> None:
        pass

    def verifying(self, variant: str) -> None:
        pass


@dataclass
class _Workspace:
    spec: VariantSpec
    root: Path  # temp dir
    context: Path
    dockerfile: Path
    patterns: list[str]
    built: bool = False
    # a build without --no-cache has run: BuildKit 0.8 does not reuse what a --no-cache
    # build made, so `warm` right after `cold` would otherwise rebuild everything
    cached: bool = False
    failed: str | None = None
    image_ids: list[str] = field(default_factory=list)


def slug(text: str) -> str:
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:40] or "project"


def _append(path: Path, text: str) -> None:
    # the workspace keeps the context's symlinks as links: writing through one would edit
    # the user's own file (or one outside the project)
    if path.is_symlink():
        raise JettisonError(f"refusing to edit a symbolic link in the bench copy: {path}")
    data = path.read_bytes()
    sep = b"" if not data or data.endswith(b"\n") else b"\n"
    path.write_bytes(data + sep + text.encode("utf-8"))


def change_file(path: Path, marker: str) -> None:
    """A change that alters the file's bytes but not what it means."""
    suffix = path.suffix.lower()
    if suffix == ".json" or path.name.endswith(".json"):
        # JSON has no comments: trailing whitespace spelling the marker's hash in spaces/tabs
        bits = int(hashlib.sha256(marker.encode()).hexdigest()[:8], 16)
        _append(path, "".join(" \t"[(bits >> i) & 1] for i in range(32)) + "\n")
    elif suffix in SOURCE_COMMENT:
        _append(path, f"{SOURCE_COMMENT[suffix]} {marker}\n")
    else:
        # requirements, TOML, YAML, Pipfile, Gemfile, lock files with '#' comments
        _append(path, f"# {marker}\n")


def _included(rel: str, pattern_sets: list[list[str]]) -> bool:
    for patterns in pattern_sets:
        if patterns and PatternMatcher(patterns).matches(rel):
            return False
    return True


def choose_code_file(
    context: Path, dockerfile_text: str, pattern_sets: list[list[str]]
) -> str | None:
    """The application source file a developer would edit: sent to the builder by every
    variant, not a test, preferably named in CMD/ENTRYPOINT (``app:app`` -> app.py)."""
    candidates: list[str] = []
    for dirpath, dirnames, filenames in os.walk(context):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        rel_dir = os.path.relpath(dirpath, context)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        if any(p.lower() in _TEST_PARTS for p in parts):
            continue
        for name in sorted(filenames):
            suffix = os.path.splitext(name)[1].lower()
            if suffix not in SOURCE_COMMENT or name in ("setup.py", "conftest.py"):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                continue  # a link: its target may be outside the context (never edited)
            if name.startswith("test_") or name.endswith(("_test.py", ".test.js", ".spec.js")):
                continue
            rel = "/".join([*parts, name])
            if _included(rel, pattern_sets):
                candidates.append(rel)
        if len(candidates) > 5000:
            break
    if not candidates:
        return None
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _run_lines(dockerfile_text)))

    def rank(rel: str) -> tuple[int, int, str]:
        stem = Path(rel).stem
        return (0 if stem in words else 1, rel.count("/"), rel)

    return sorted(candidates, key=rank)[0]


def _run_lines(text: str) -> str:
    return "\n".join(
        ln for ln in text.splitlines() if ln.lstrip().upper().startswith(("CMD", "ENTRYPOINT"))
    )


def choose_deps_file(
    context: Path, dockerfile_text: str, pattern_sets: list[list[str]]
) -> str | None:
    """The dependency manifest the Dockerfile copies, else one at the context's top."""
    mentioned = set(
        re.findall(
            r"[\w./-]+",
            " ".join(
                ln
                for ln in dockerfile_text.splitlines()
                if ln.lstrip().upper().startswith(("COPY", "ADD", "RUN"))
            ),
        )
    )
    found: list[str] = []
    for rel in sorted(mentioned):
        rel = rel.lstrip("./")
        name = Path(rel).name
        if (
            (name in DEPENDENCY_MANIFESTS or re.fullmatch(r"requirements[\w.-]*\.txt", name))
            and _plain_file_inside(context, rel)
            and _included(rel, pattern_sets)
        ):
            found.append(rel)
    if found:
        return found[0]
    for name in DEPENDENCY_MANIFESTS:
        if _plain_file_inside(context, name) and _included(name, pattern_sets):
            return name
    return None


def _plain_file_inside(context: Path, rel: str) -> bool:
    """A regular file (not a link) whose real path is inside ``context``: safe to edit in
    the bench's copy of the context."""
    path = context / rel
    try:
        return (
            path.is_file()
            and not path.is_symlink()
            and path.resolve().is_relative_to(context.resolve())
        )
    except OSError:
        return False


def _ignore_patterns(context: Path, dockerfile: Path) -> list[str]:
    return read_dockerignore(find_dockerignore(context, dockerfile))


def _make_workspace(spec: VariantSpec, context: Path, dockerfile: Path) -> _Workspace:
    root = Path(tempfile.mkdtemp(prefix=f"jettison-bench-{spec.name}-"))
    try:
        copy = root / "context"
        shutil.copytree(context, copy, symlinks=True)
        try:
            rel_df = dockerfile.resolve().relative_to(context.resolve())
            target_df = copy / rel_df
        except ValueError:  # a Dockerfile outside its context stays outside in the copy
            target_df = root / dockerfile.name
        target_df.parent.mkdir(parents=True, exist_ok=True)
        target_df.write_text(spec.dockerfile_text, encoding="utf-8")
        for rel, content in spec.extra_files.items():
            extra = (target_df.parent / rel).resolve()
            if not extra.is_relative_to(root.resolve()):
                raise JettisonError(f"fixer wrote outside the build context: {rel}")
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_text(content, encoding="utf-8")
        return _Workspace(
            spec=spec,
            root=root,
            context=copy,
            dockerfile=target_df,
            patterns=_ignore_patterns(copy, target_df),
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _existing_image_ids(sdk: Any) -> set[str]:
    try:
        return {str(i["Id"]) for i in sdk.api.images(all=True)}
    except Exception:  # listing is a safety net only; an empty set removes nothing extra
        return set()


def _run(result: BuildResult, scenario: str, repetition: int) -> Run:
    return Run(
        scenario=scenario,
        repetition=repetition,
        seconds=result.seconds,
        steps_total=result.steps_total,
        steps_cached=result.steps_cached,
        image_id=result.image_id,
        steps=[StepTime(s.stage, s.instruction, s.seconds, s.cached) for s in result.steps],
    )


def run_bench(
    dockerfile: Path,
    context: Path,
    variants: list[VariantSpec],
    options: BenchOptions,
    events: BenchEvents | None = None,
    client: BuildClient | None = None,
) -> BenchReport:
    """Benchmark every variant in every scenario; see the module documentation."""
    events = events or BenchEvents()
    if not context.is_dir():
        raise JettisonError("build context does not exist or is not a directory", str(context))
    if not dockerfile.is_file():
        raise JettisonError("Dockerfile not found", str(dockerfile))
    if options.repeat < 1:
        raise JettisonError("--repeat must be at least 1")
    unknown = [s for s in options.scenarios if s not in SCENARIOS]
    if unknown:
        raise JettisonError(f"unknown scenario {unknown[0]!r} (one of {', '.join(SCENARIOS)})")
    for spec in variants:
        parse_dockerfile(spec.dockerfile_text, f"{dockerfile} ({spec.name})")
    sdk = docker_client()
    client = client or find_build_client()
    started = time.monotonic()
    server = str(sdk.version().get("Version", "?"))
    report = BenchReport(
        project=context.resolve().name,
        dockerfile=str(dockerfile),
        context=str(context),
        repeat=options.repeat,
        engine=client.describe(),
        server_version=server,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    preexisting = _existing_image_ids(sdk)
    run_id = secrets.token_hex(3)
    repo = f"jettison-bench-{slug(report.project)}"
    workspaces: list[_Workspace] = []
    try:
        for spec in variants:
            workspaces.append(_make_workspace(spec, context, dockerfile))
            report.variants[spec.name] = VariantResult(
                name=spec.name,
                label=spec.label,
                dockerfile_text=spec.dockerfile_text,
                fixes=list(spec.fixes),
            )
        pattern_sets = [w.patterns for w in workspaces]
        base = workspaces[0]
        code_file = options.touch or choose_code_file(
            base.context, base.spec.dockerfile_text, pattern_sets
        )
        deps_file = options.deps_file or choose_deps_file(
            base.context, base.spec.dockerfile_text, pattern_sets
        )
        for rel in (options.touch, options.deps_file):
            if rel is not None and not (base.context / rel).is_file():
                raise JettisonError("no such file in the build context", str(context / rel))
        report.changed_files = {"code_change": code_file, "deps_change": deps_file}
        skipped = {
            "code_change": None
            if code_file
            else "no application source file found (name one with --touch)",
            "deps_change": None
            if deps_file
            else "no dependency manifest found (name one with --deps-file)",
        }
        for ws in workspaces:
            for name in options.scenarios:
                report.variants[ws.spec.name].scenarios[name] = ScenarioResult(
                    name, skipped=skipped.get(name)
                )

        def one_build(ws: _Workspace, scenario: str, rep: int, measured: bool) -> None:
            tag = f"{repo}:{ws.spec.name}-{run_id}"
            variant = ws.spec.name
            if measured:
                events.build_started(variant, scenario, rep)
            try:
                result = build(
                    ws.context,
                    ws.dockerfile,
                    tag,
                    no_cache=scenario == "cold",
                    build_args=options.build_args,
                    labels={BENCH_LABEL: run_id},
                    target=options.target,
                    # priming builds are not shown: their scenario may not be in the report
                    on_step=(lambda s: events.step(variant, scenario, s)) if measured else None,
                    client=client,
                    sdk=sdk,
                )
            except BuildFailedError as exc:
                ws.failed = f"{scenario} build: {exc.message}"
                result_ = report.variants[variant]
                result_.build_error = ws.failed
                result_.build_error_line = exc.line
                result_.build_log_tail = list(getattr(exc, "log_tail", []))
                if measured:
                    events.build_finished(variant, scenario, None)
                return
            ws.built = True
            ws.cached = ws.cached or scenario != "cold"
            if result.image_id not in ws.image_ids:
                ws.image_ids.append(result.image_id)
            if measured:
                run = _run(result, scenario, rep)
                report.variants[variant].scenarios[scenario].runs.append(run)
                events.build_finished(variant, scenario, run)

        for rep in range(options.repeat):
            order = workspaces if rep % 2 == 0 else list(reversed(workspaces))
            for scenario in options.scenarios:
                if skipped.get(scenario):
                    continue
                for ws in order:
                    if ws.failed:
                        continue
                    if scenario != "cold" and not ws.cached:
                        one_build(ws, "warm", rep, measured=False)  # prime the cache
                        if ws.failed:
                            continue
                    if scenario == "code_change" and code_file:
                        # unique per run: content an earlier bench built would hit the cache
                        change_file(
                            ws.context / code_file,
                            f"jettison bench {run_id}: code change {rep + 1}",
                        )
                    elif scenario == "deps_change" and deps_file:
                        change_file(
                            ws.context / deps_file,
                            f"jettison bench {run_id}: dependency change {rep + 1}",
                        )
                    one_build(ws, scenario, rep, measured=True)
        for ws in workspaces:
            result = report.variants[ws.spec.name]
            if not ws.image_ids:
                continue
            final = ws.image_ids[-1]
            info = sdk.api.inspect_image(final)
            result.image_id = final
            result.image_size_bytes = int(info.get("Size") or 0)
            result.layers = len((info.get("RootFS") or {}).get("Layers") or [])
            if options.verify and not ws.failed:
                events.verifying(ws.spec.name)
                result.verification = verify(final, sdk=sdk).to_json()
    finally:
        for ws in workspaces:
            keep = ws.image_ids[-1:] if options.keep_images else []
            for image_id in ws.image_ids:
                if image_id not in keep and image_id not in preexisting:
                    remove_image(image_id, sdk)
            if not options.keep_images:
                with contextlib.suppress(Exception):
                    sdk.api.remove_image(f"{repo}:{ws.spec.name}-{run_id}")
            shutil.rmtree(ws.root, ignore_errors=True)
    if options.keep_images:
        report.notes.append(f"images kept as {repo}:<variant>-{run_id}")
    report.wall_seconds = time.monotonic() - started
    return report
