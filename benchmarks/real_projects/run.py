"""Real-project outcome benchmark: the original Dockerfile, what jettison writes, the expert one.

    .venv/bin/python benchmarks/real_projects/run.py --src DIR [--only slug,slug]
        [--variants original,jettison,expert] [--runs N] [--json FILE] [--format text|json]
        [--no-prune] [--min-free-gb N] [--fix-timeout S]
    .venv/bin/python benchmarks/real_projects/run.py --report-only [--only ...] [--format ...]
    .venv/bin/python benchmarks/real_projects/run.py --print-clone-commands [--src DIR]

Every ``projects/<slug>/project.toml`` names a public project pinned to a commit and how it is
built. ``DIR/<slug>`` must be a checkout of it (never modified: each variant works on its own
copy). Per project, interleaved: a cold build (no cache) of every variant, a rebuild after a
comment is appended to a source file, a rebuild after a comment is appended to the dependency
manifest; then image size, layers and the project's smoke commands on each variant's image.
The jettison variant is what ``jettison fix --unsafe-fixes --verify`` writes when run as a user
runs it. Results go to ``results/<slug>.json``; ``--report-only`` prints the table from those.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECTS_DIR = HERE / "projects"
RESULTS_DIR = HERE / "results"
JETTISON_REPO = HERE.parent.parent
VARIANTS = ("original", "jettison", "expert")
SCENARIOS = ("cold", "code_change", "deps_change")
CATEGORIES = ("web", "worker", "cli", "data", "optimized")
INSTALLERS = ("pip", "poetry", "uv", "pdm", "pyproject", "pipenv")
SCHEMA = 1
TAIL = 25  # lines of output kept per failing build, smoke check or jettison run


# ---------------------------------------------------------------- project.toml


class InputError(Exception):
    """Bad input: the message is one line naming the file (and line when known)."""


@dataclass(frozen=True)
class Smoke:
    name: str
    cmd: str
    timeout: float


@dataclass(frozen=True)
class Project:
    path: Path  # the project.toml
    slug: str
    repo: str
    commit: str
    category: str
    installer: str
    dockerfile: str
    context: str
    code_change: str
    deps_manifest: str
    smoke: tuple[Smoke, ...]
    target: str = ""
    build_args: dict[str, str] = field(default_factory=dict)
    compose: str = ""
    hand_optimized: bool = False
    notes: str = ""

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def expert_dockerfile(self) -> Path:
        return self.folder / "expert.Dockerfile"


_REQUIRED = {
    "slug": str,
    "repo": str,
    "commit": str,
    "category": str,
    "installer": str,
    "dockerfile": str,
    "context": str,
    "code_change": str,
    "deps_manifest": str,
    "smoke": list,
}
_OPTIONAL: dict[str, tuple[type, Any]] = {
    "target": (str, ""),
    "build_args": (dict, None),
    "compose": (str, ""),
    "hand_optimized": (bool, False),
    "notes": (str, ""),
}
_SMOKE_KEYS = {"name": str, "cmd": str, "timeout": (int, float)}
_TYPE_NAMES = {str: "a string", list: "an array of tables", dict: "a table", bool: "true or false"}


def _line_of(text: str, key: str, after: int = 0) -> int | None:
    """The line a ``key =`` (or ``[key]``/``[[key]]``) is written on, at or after line ``after``."""
    pattern = re.compile(rf"^\s*(?:\[\[?\s*{re.escape(key)}\s*\]\]?|\"?{re.escape(key)}\"?\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= after and pattern.match(line):
            return number
    return None


def _where(path: Path, text: str, key: str, after: int = 0) -> str:
    line = _line_of(text, key, after)
    return f"{path}:{line}" if line else str(path)


def _relative_path(value: str) -> bool:
    p = Path(value)
    return bool(value) and not p.is_absolute() and ".." not in p.parts


def load_project(path: Path) -> Project:
    """Read and check one project.toml; :class:`InputError` with file and line otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise InputError(f"{where}: invalid TOML: {message}") from None
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            known = ", ".join(sorted([*_REQUIRED, *_OPTIONAL]))
            raise InputError(f"{_where(path, text, key)}: unknown key {key!r} (known: {known})")
    for key, kind in _REQUIRED.items():
        if key not in data:
            raise InputError(f"{path}: missing required key {key!r}")
        if not isinstance(data[key], kind):
            raise InputError(f"{_where(path, text, key)}: {key} must be {_TYPE_NAMES[kind]}")
    values: dict[str, Any] = {}
    for key, (kind, default) in _OPTIONAL.items():
        value = data.get(key, default)
        if value is not None and not isinstance(value, kind):
            raise InputError(f"{_where(path, text, key)}: {key} must be {_TYPE_NAMES[kind]}")
        values[key] = value

    def bad(key: str, message: str) -> InputError:
        return InputError(f"{_where(path, text, key)}: {message}")

    slug = data["slug"]
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
        raise bad("slug", f"slug {slug!r} must be lowercase letters, digits and '-'")
    if slug != path.parent.name:
        raise bad("slug", f"slug {slug!r} differs from its folder name {path.parent.name!r}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*", data["repo"]):
        raise bad("repo", f"repo {data['repo']!r} must be a GitHub owner/name")
    if not re.fullmatch(r"[0-9a-f]{40}", data["commit"]):
        raise bad("commit", "commit must be a full 40-hex-digit commit id")
    if data["category"] not in CATEGORIES:
        raise bad("category", f"category must be one of {', '.join(CATEGORIES)}")
    if data["installer"] not in INSTALLERS:
        raise bad("installer", f"installer must be one of {', '.join(INSTALLERS)}")
    for key in ("dockerfile", "code_change", "deps_manifest"):
        if not _relative_path(data[key]):
            raise bad(key, f"{key} must be a path inside the checkout (relative, no '..')")
    if data["context"] != "." and not _relative_path(data["context"]):
        raise bad("context", "context must be a path inside the checkout (relative, no '..')")
    if values["compose"] and not _relative_path(values["compose"]):
        raise bad("compose", "compose must be a path inside the checkout (relative, no '..')")
    build_args = values["build_args"] or {}
    for key, value in build_args.items():
        if not isinstance(value, str):
            raise bad("build_args", f"build_args.{key} must be a string")
    smokes: list[Smoke] = []
    if not data["smoke"]:
        raise bad("smoke", "at least one [[smoke]] check is needed")
    after = 0
    for number, entry in enumerate(data["smoke"], start=1):
        after = _line_of(text, "smoke", after + 1) or after
        here = f"{path}:{after}" if after else str(path)
        if not isinstance(entry, dict):
            raise InputError(f"{here}: smoke must be an array of tables ([[smoke]])")

        def at(key: str, header: str = here, after: int = after) -> str:
            line = _line_of(text, key, after) if after else None
            return f"{path}:{line}" if line else header

        for key in entry:
            if key not in _SMOKE_KEYS:
                raise InputError(
                    f"{at(key)}: unknown key {key!r} in smoke check {number} "
                    "(known: cmd, name, timeout)"
                )
        for key, kind in _SMOKE_KEYS.items():
            if key not in entry:
                raise InputError(f"{here}: smoke check {number} misses {key!r}")
            value = entry[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                what = "a number of seconds" if key == "timeout" else "a string"
                raise InputError(f"{at(key)}: smoke check {number}: {key} must be {what}")
        if entry["timeout"] <= 0:
            raise InputError(f"{at('timeout')}: smoke check {number}: timeout must be positive")
        if "{image}" not in entry["cmd"]:
            raise InputError(
                f"{at('cmd')}: smoke check {number}: cmd lacks the {{image}} placeholder"
            )
        if not entry["name"].strip():
            raise InputError(f"{at('name')}: smoke check {number}: name is empty")
        smokes.append(Smoke(entry["name"], entry["cmd"], float(entry["timeout"])))
    names = [s.name for s in smokes]
    if len(set(names)) != len(names):
        raise bad("smoke", "smoke check names must be unique")
    return Project(
        path=path,
        slug=slug,
        repo=data["repo"],
        commit=data["commit"],
        category=data["category"],
        installer=data["installer"],
        dockerfile=data["dockerfile"],
        context=data["context"],
        code_change=data["code_change"],
        deps_manifest=data["deps_manifest"],
        smoke=tuple(smokes),
        target=values["target"],
        build_args=dict(build_args),
        compose=values["compose"],
        hand_optimized=values["hand_optimized"],
        notes=values["notes"],
    )


def load_projects(root: Path = PROJECTS_DIR, only: Sequence[str] = ()) -> list[Project]:
    tomls = sorted(root.glob("*/project.toml"))
    projects = [load_project(p) for p in tomls]
    if only:
        known = {p.slug for p in projects}
        unknown = [s for s in only if s not in known]
        if unknown:
            raise InputError(f"--only: no project named {', '.join(unknown)} under {root}")
        projects = [p for p in projects if p.slug in only]
    return projects


# ---------------------------------------------------------------- small helpers

_started = time.monotonic()


def progress(message: str) -> None:
    elapsed = int(time.monotonic() - _started)
    print(f"[{elapsed // 60:3d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def tail(text: str, lines: int = TAIL) -> list[str]:
    return [line.rstrip() for line in text.splitlines()[-lines:]]


def comment_for(path: Path, token: str) -> str:
    """A comment line in the syntax of ``path`` (what a developer's edit looks like)."""
    suffix = path.suffix.lower()
    if suffix in {".js", ".ts", ".jsx", ".tsx", ".css", ".scss", ".go", ".rs", ".c", ".h"}:
        return f"/* jettison benchmark edit {token} */"
    if suffix in {".html", ".htm", ".xml", ".svg", ".vue"}:
        return f"<!-- jettison benchmark edit {token} -->"
    return f"# jettison benchmark edit {token}"


def append_comment(path: Path) -> None:
    token = f"{time.time_ns():x}"  # unique: a later run's edit never hits an earlier cache
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    sep = "" if not text or text.endswith("\n") else "\n"
    path.write_text(
        text + sep + comment_for(path, token) + "\n", encoding="utf-8", errors="surrogateescape"
    )


def copy_checkout(src: Path, dst: Path) -> None:
    """A faithful copy of the user's checkout; git objects are hard-linked (they never change)."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    git = src / ".git"
    if git.is_dir():
        objects = git / "objects"
        shutil.copytree(git, dst / ".git", symlinks=True, ignore=_ignore_objects(objects))
        if objects.is_dir():
            done = subprocess.run(
                ["cp", "-al", str(objects), str(dst / ".git" / "objects")],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:  # another filesystem: copy instead
                shutil.copytree(objects, dst / ".git" / "objects", symlinks=True)
    elif git.is_file():  # a worktree's or submodule's .git pointer
        shutil.copy2(git, dst / ".git")


def _ignore_objects(objects: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {"objects"} if Path(directory) == objects.parent else set()

    return ignore


def git_head(path: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else None


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# ---------------------------------------------------------------- engine side


class Engine:
    """The docker client jettison builds with, the SDK, and everything this run made."""

    def __init__(self) -> None:
        from jettison.engine import docker_client, find_build_client

        self.client = find_build_client()
        self.sdk = docker_client()
        self.images: set[str] = set()
        version = self.sdk.version()
        self.version = str(version.get("Version", "?"))
        self.root = str(self.sdk.info().get("DockerRootDir") or "/")

    def build(
        self,
        context: Path,
        dockerfile: Path,
        tag: str,
        *,
        no_cache: bool,
        target: str,
        build_args: dict[str, str],
        label: str,
    ) -> dict[str, Any]:
        from jettison.engine import build
        from jettison.engine.buildkit import BuildStepError
        from jettison.errors import JettisonError

        last = [time.monotonic()]

        def on_step(step: Any) -> None:
            if time.monotonic() - last[0] >= 30:  # a heartbeat for long steps, not every step
                last[0] = time.monotonic()
                progress(f"  {label}: {str(getattr(step, 'name', step))[:90]}")

        started = time.monotonic()
        try:
            result = build(
                context,
                dockerfile,
                tag,
                no_cache=no_cache,
                target=target or None,
                build_args=build_args,
                on_step=on_step,
                client=self.client,
                sdk=self.sdk,
            )
        except BuildStepError as exc:
            return {
                "ok": False,
                "seconds": round(time.monotonic() - started, 2),
                "error": str(exc),
                "log_tail": [str(x) for x in exc.log_tail][-TAIL:],
            }
        except JettisonError as exc:
            return {
                "ok": False,
                "seconds": round(time.monotonic() - started, 2),
                "error": str(exc),
                "log_tail": [],
            }
        self.images.add(result.image_id)
        return {
            "ok": True,
            "seconds": round(result.seconds, 2),
            "image_id": result.image_id,
            "size_bytes": result.image.size_bytes,
            "layers": result.image.layers,
            "steps": result.steps_total,
            "steps_cached": result.steps_cached,
        }

    def remove_containers_of(self, image_ids: Iterable[str]) -> int:
        removed = 0
        for image_id in image_ids:
            try:
                containers = self.sdk.api.containers(all=True, filters={"ancestor": image_id})
            except Exception:  # the image may be gone already
                continue
            for c in containers:
                with contextlib.suppress(Exception):
                    self.sdk.api.remove_container(c["Id"], force=True)
                    removed += 1
        return removed

    def cleanup(self) -> None:
        """Remove every container and image this run made (tags included)."""
        self.remove_containers_of(self.images)
        for image_id in sorted(self.images):
            with contextlib.suppress(Exception):
                self.sdk.api.remove_image(image_id, force=True, noprune=False)
        self.images.clear()

    def prune_build_cache(self) -> str:
        done = subprocess.run(
            [self.client.executable, "builder", "prune", "-f"],
            capture_output=True,
            text=True,
            env=self.client.environ(),
        )
        out = (done.stdout + done.stderr).strip().splitlines()
        return out[-1] if out else f"exit {done.returncode}"

    def free_gb(self) -> float:
        path = self.root if os.path.isdir(self.root) else "/"
        return shutil.disk_usage(path).free / 1e9


_children: dict[subprocess.Popen[str], bool] = {}  # process -> runs in its own group


def run_command(
    argv: Sequence[str] | str,
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    shell: bool = False,
    own_group: bool = True,
    echo: str | None = None,
) -> tuple[int | None, str, float]:
    """Run; (exit code or None when killed after ``timeout``, output, seconds).

    With ``echo``, each output line is also shown as progress (prefixed with it).
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        shell=shell,
        executable="/bin/sh" if shell else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=own_group,
    )
    _children[proc] = own_group
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if echo is not None and line.strip():
                progress(f"  {echo}: {line.rstrip()[:160]}")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc, own_group, interrupted=False)
        proc.wait()
        code = None
    except KeyboardInterrupt:
        _stop(proc, own_group, interrupted=True)
        raise
    finally:
        _children.pop(proc, None)
    reader.join(timeout=10)  # a grandchild may still hold the pipe: never wait for it forever
    return code, "".join(lines), time.monotonic() - started


def _stop(proc: subprocess.Popen[str], own_group: bool, interrupted: bool) -> None:
    """A process group is killed; jettison (our group) gets one SIGINT to clean up first."""
    if own_group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        try:  # after a terminal's Ctrl-C it has its SIGINT already: a second one cuts cleanup
            proc.wait(timeout=5 if interrupted else 0.01)
            return
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=90)
            return
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def stop_children() -> None:
    """On Ctrl-C: let jettison remove its own images, kill the smoke commands."""
    for proc, own_group in list(_children.items()):
        _stop(proc, own_group, interrupted=True)


def run_smoke(smoke: Smoke, image_id: str) -> dict[str, Any]:
    cmd = smoke.cmd.replace("{image}", image_id)
    code, out, seconds = run_command(cmd, shell=True, timeout=smoke.timeout)
    return {
        "name": smoke.name,
        "ok": code == 0,
        "exit_code": code,
        "timed_out": code is None,
        "seconds": round(seconds, 2),
        "tail": tail(out, 12),
    }


# ---------------------------------------------------------------- jettison fix


_APPLIED = re.compile(r": applied (\d+) fix\(es\)(?: \(([^)]*)\))?(?: and wrote (.+))?$")
# --each-fix's lines: "PATH:   CODE: -1.2 MB (a MB -> b MB (...)); checks 1.9 s -> 1.8 s"
_EFFECT = re.compile(
    r":   ([A-Z]+\d*): ([+-][\d.]+) (MB|kB) \(.*\); checks ([\d.]+) s -> ([\d.]+) s"
    r"(?:; with (.+) \(not measured alone\))?$"
)
_FLAGS = ("--file", "--context", "--target", "--build-arg", "--smoke-cmd", "--smoke-timeout")


def jettison_executable() -> Path:
    here = Path(sys.executable).parent / "jettison"
    if here.is_file():
        return here
    found = shutil.which("jettison")
    if not found:
        raise InputError("no `jettison` executable beside this Python or on PATH")
    return Path(found)


def fix_help(jettison: Path) -> str:
    done = subprocess.run([str(jettison), "fix", "--help"], capture_output=True, text=True)
    return done.stdout + done.stderr


# --no-each-fix: a project whose builds take many minutes skips the per-fix builds
EACH_FIX = True


def fix_argv(jettison: Path, project: Project, help_text: str) -> tuple[list[str], list[str]]:
    """The command a user runs; and the documented flags it needs that ``--help`` lacks."""
    argv = [str(jettison), "fix", "--unsafe-fixes", "--verify", "-f", project.dockerfile]
    argv += ["--context", project.context]
    if project.target:
        argv += ["--target", project.target]
    for key, value in project.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    if project.compose and re.search(r"^\s*--compose\b", help_text, re.M):
        argv += ["--compose", project.compose]
    for smoke in project.smoke:
        argv += ["--smoke-cmd", smoke.cmd]
    if re.search(r"--smoke-timeout\b", help_text):
        argv += ["--smoke-timeout", str(int(max(s.timeout for s in project.smoke)))]
    if EACH_FIX and re.search(r"--each-fix\b", help_text):
        argv += ["--each-fix"]  # what each fix bought: one more build per fix
    used = [f for f in _FLAGS if f in argv or (f == "--file" and "-f" in argv)]
    missing = [f for f in used if not re.search(rf"(?<![\w-]){re.escape(f)}\b", help_text)]
    return argv, missing


def parse_fix_output(output: str, exit_code: int | None) -> dict[str, Any]:
    applied: list[str] = []
    count = 0
    wrote_extra: list[str] = []
    verdict_lines: list[str] = []
    effects: list[dict[str, Any]] = []
    for line in output.splitlines():
        e = _EFFECT.search(line.rstrip())
        if e:
            scale = 1e6 if e.group(3) == "MB" else 1e3
            effect: dict[str, Any] = {
                "code": e.group(1),
                "bytes": round(float(e.group(2)) * scale),
                "checks_s": [float(e.group(4)), float(e.group(5))],
            }
            if e.group(6):  # fixes that did not build alone, measured with this one
                effect["with"] = [c.strip() for c in e.group(6).split(",")]
            effects.append(effect)
        m = _APPLIED.search(line.strip())
        if m:
            count += int(m.group(1))
            applied += [c.strip() for c in (m.group(2) or "").split(",") if c.strip()]
            wrote_extra += [w.strip() for w in (m.group(3) or "").split(",") if w.strip()]
        if re.search(
            r": (verified:|the fixed file failed|broken by:|left untouched|wrote the "
            r"other fixes|note: the original)",
            line,
        ):
            verdict_lines.append(line.strip())
    text = output
    if exit_code is None:
        verdict = "timed out"
    elif exit_code == 2:
        verdict = "error"
    elif "left untouched" in text:
        verdict = "rejected"
    elif "wrote the other fixes" in text:
        verdict = "partly verified"
    elif ": verified:" in text:
        verdict = "verified"
    elif exit_code == 0 and not count:
        verdict = "nothing to fix"
    elif exit_code == 1:
        verdict = "failed verification"
    else:
        verdict = f"exit {exit_code}"
    return {
        "applied": sorted(set(applied)),
        "applied_count": count,
        "extra_files_reported": wrote_extra,
        "verdict": verdict,
        "verdict_lines": verdict_lines,
        "effects": effects,
    }


# ---------------------------------------------------------------- one project


def ignore_files(copy: Path, project: Project) -> list[Path]:
    dockerfile = copy / project.dockerfile
    context = copy / project.context
    return [
        context / ".dockerignore",
        dockerfile.parent / ".dockerignore",
        dockerfile.with_name(dockerfile.name + ".dockerignore"),
    ]


@dataclass
class Variant:
    name: str
    copy: Path
    dockerfile: Path
    context: Path
    record: dict[str, Any]
    failed: bool = False
    last_image: str | None = None


def measure_project(
    project: Project,
    checkout: Path,
    engine: Engine,
    variants: Sequence[str],
    runs: int,
    fix_timeout: float,
    help_text: str,
    jettison: Path,
    work: Path,
) -> dict[str, Any]:
    result = project_header(project)
    result["status"] = "running"
    result["checkout"] = {"path": str(checkout), "head": git_head(checkout)}
    result["meta"] = run_meta(engine, runs)
    warnings: list[str] = result["warnings"]
    head = result["checkout"]["head"]
    if head is None:
        warnings.append(f"{checkout} is not a git checkout: cannot tell its commit")
    elif head != project.commit:
        warnings.append(f"{checkout} is at {head[:12]}, not the pinned {project.commit[:12]}")
    for w in warnings:
        progress(f"{project.slug}: warning: {w}")
    for key in ("dockerfile", "code_change", "deps_manifest"):
        if not (checkout / getattr(project, key)).is_file():
            return skipped(result, f"{key} {getattr(project, key)} is not a file in {checkout}")
    if not (checkout / project.context).is_dir():
        return skipped(result, f"context {project.context} is not a folder in {checkout}")
    if "expert" in variants and not project.expert_dockerfile.is_file():
        return skipped(result, f"no expert.Dockerfile in {project.folder}")

    slots: list[Variant] = []
    for name in variants:
        copy = work / name / "src"
        progress(f"{project.slug}: copying the checkout for {name}")
        copy.parent.mkdir(parents=True)
        copy_checkout(checkout, copy)
        dockerfile = copy / project.dockerfile
        if name == "expert":
            dockerfile = project.expert_dockerfile
        record: dict[str, Any] = {
            "dockerfile": str(
                dockerfile.relative_to(JETTISON_REPO) if name == "expert" else project.dockerfile
            ),
            "builds": {s: [] for s in ("cold", "warm", "code_change", "deps_change")},
        }
        slots.append(Variant(name, copy, dockerfile, copy / project.context, record))
        result["variants"][name] = record

    jettison_slot = next((v for v in slots if v.name == "jettison"), None)
    if jettison_slot is not None:
        result["jettison_fix"] = run_jettison_fix(
            project, jettison_slot, jettison, help_text, fix_timeout
        )
        if not result["jettison_fix"]["wrote"]:
            jettison_slot.record["same_as_original"] = True

    for run in range(1, runs + 1):
        for scenario in SCENARIOS:
            for slot in slots:
                if slot.failed or (slot.record.get("same_as_original") and has(slots, "original")):
                    continue
                steps: list[tuple[str, bool]] = []
                if scenario == "cold":
                    steps = [("cold", True)]
                elif scenario == "code_change":
                    steps = [("warm", False), ("code_change", False)]
                else:
                    steps = [("deps_change", False)]
                for kind, no_cache in steps:
                    if kind == "code_change":
                        append_comment(slot.copy / project.code_change)
                    elif kind == "deps_change":
                        append_comment(slot.copy / project.deps_manifest)
                    label = f"{project.slug} {slot.name} {kind} (run {run}/{runs})"
                    progress(f"{label}: building")
                    record = engine.build(
                        slot.context,
                        slot.dockerfile,
                        f"jettison-rpb-{project.slug}:{slot.name}-{kind}-{run}",
                        no_cache=no_cache,
                        target=project.target,
                        build_args=project.build_args,
                        label=label,
                    )
                    slot.record["builds"][kind].append(record)
                    if not record["ok"]:
                        progress(
                            f"{label}: FAILED after {record['seconds']:.1f} s: "
                            f"{record['error'][:200]}"
                        )
                        slot.failed = True
                        slot.record["error"] = f"{kind} build: {record['error']}"
                        break
                    progress(f"{label}: {record['seconds']:.1f} s")
                    slot.last_image = record["image_id"]
                    if kind == "cold" and run == 1:
                        slot.record["size_bytes"] = record["size_bytes"]
                        slot.record["layers"] = record["layers"]
                        slot.record["image_id"] = record["image_id"]

    for slot in slots:
        if slot.record.get("same_as_original") and has(slots, "original"):
            continue
        slot.record["seconds"] = {
            k: median([b["seconds"] for b in builds if b["ok"]])
            for k, builds in slot.record["builds"].items()
        }
        if slot.last_image is None:
            slot.record["smoke"] = []
            continue
        checks = []
        for smoke in project.smoke:
            progress(f"{project.slug} {slot.name}: smoke {smoke.name}")
            check = run_smoke(smoke, slot.last_image)
            state = "pass" if check["ok"] else ("TIMEOUT" if check["timed_out"] else "FAIL")
            progress(
                f"{project.slug} {slot.name}: smoke {smoke.name}: {state} "
                f"({check['seconds']:.1f} s)"
            )
            checks.append(check)
        engine.remove_containers_of([slot.last_image])  # what a smoke command left behind
        slot.record["smoke"] = checks
    if "original" in result["variants"]:
        original = result["variants"]["original"]
        for slot in slots:
            if slot.record.get("same_as_original"):
                for key in ("seconds", "size_bytes", "layers", "smoke", "error"):
                    if key in original:
                        slot.record[key] = original[key]
    result["status"] = "done"
    return result


def has(slots: Sequence[Variant], name: str) -> bool:
    return any(s.name == name for s in slots)


def run_jettison_fix(
    project: Project, slot: Variant, jettison: Path, help_text: str, timeout: float
) -> dict[str, Any]:
    argv, missing = fix_argv(jettison, project, help_text)
    watched = [slot.copy / project.dockerfile, *ignore_files(slot.copy, project)]
    before = {p: file_digest(p) for p in watched}
    if missing:
        progress(
            f"{project.slug}: `jettison fix --help` does not document {', '.join(missing)}; "
            "running the command anyway"
        )
    progress(f"{project.slug} jettison: running jettison fix --unsafe-fixes --verify")
    # jettison stays in our process group: Ctrl-C reaches it and it removes its own images
    code, out, seconds = run_command(
        argv, cwd=slot.copy, timeout=timeout, own_group=False, echo=f"{project.slug} jettison"
    )
    written = [str(p.relative_to(slot.copy)) for p in watched if file_digest(p) != before[p]]
    record = {
        "argv": [Path(argv[0]).name, *argv[1:]],
        "exit_code": code,
        "seconds": round(seconds, 1),
        "missing_flags": missing,
        "files_written": sorted(set(written)),
        "wrote": bool(written),
        "dockerfile_changed": str(project.dockerfile) in written,
        "output_tail": tail(out, 40),
        **parse_fix_output(out, code),
    }
    if written:
        record["dockerfile_text"] = (slot.copy / project.dockerfile).read_text(errors="replace")
    shown = "killed after timeout" if code is None else f"exit {code}"
    progress(
        f"{project.slug} jettison: {shown} in {seconds:.0f} s; verdict {record['verdict']}; "
        f"applied {', '.join(record['applied']) or 'nothing'}; "
        f"wrote {', '.join(record['files_written']) or 'nothing'}"
    )
    return record


def project_header(project: Project) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "slug": project.slug,
        "repo": project.repo,
        "commit": project.commit,
        "category": project.category,
        "installer": project.installer,
        "dockerfile": project.dockerfile,
        "context": project.context,
        "target": project.target,
        "build_args": project.build_args,
        "compose": project.compose,
        "hand_optimized": project.hand_optimized,
        "smoke_names": [s.name for s in project.smoke],
        "status": "pending",
        "reason": "",
        "warnings": [],
        "variants": {},
    }


def skipped(result: dict[str, Any], reason: str) -> dict[str, Any]:
    result["status"] = "skipped"
    result["reason"] = reason
    progress(f"{result['slug']}: skipped: {reason}")
    return result


_meta_cache: dict[str, str] = {}


def run_meta(engine: Engine | None, runs: int) -> dict[str, Any]:
    if "commit" not in _meta_cache:
        done = subprocess.run(
            ["git", "-C", str(JETTISON_REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        )
        _meta_cache["commit"] = done.stdout.strip() or "?"
    try:
        from jettison import __version__ as version
    except ImportError:
        version = "?"
    return {
        "jettison_commit": _meta_cache["commit"],
        "jettison_version": version,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine_version": engine.version if engine else None,
        "build_client": engine.client.describe() if engine else None,
        "runs": runs,
        "host_cpus": os.cpu_count(),
    }


# ---------------------------------------------------------------- report maths


def median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept), 2) if kept else None


def pct_change(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round(100.0 * (new - old) / old, 1)


def pct_of(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole == 0:
        return None
    return round(100.0 * part / whole, 1)


def smoke_state(record: dict[str, Any] | None) -> str | None:
    """'pass' (all checks), 'fail', or None when never run (no image)."""
    if not record or not record.get("smoke"):
        return None
    return "pass" if all(c["ok"] for c in record["smoke"]) else "fail"


def variant_numbers(result: dict[str, Any], name: str) -> dict[str, Any]:
    record = result.get("variants", {}).get(name)
    if not record:
        return {}
    seconds = record.get("seconds") or {}
    return {
        "size_bytes": record.get("size_bytes"),
        "layers": record.get("layers"),
        "smoke": smoke_state(record),
        "cold": seconds.get("cold"),
        "code_change": seconds.get("code_change"),
        "deps_change": seconds.get("deps_change"),
        "error": record.get("error"),
        "same_as_original": bool(record.get("same_as_original")),
    }


def project_row(result: dict[str, Any]) -> dict[str, Any]:
    """Per-project derived numbers: each variant's figures and its changes vs the original."""
    row: dict[str, Any] = {
        "slug": result["slug"],
        "status": result.get("status"),
        "hand_optimized": bool(result.get("hand_optimized")),
    }
    original = variant_numbers(result, "original")
    orig_cold = original.get("cold")
    for name in VARIANTS:
        v = variant_numbers(result, name)
        if not v:
            continue
        v["size_change_pct"] = pct_change(v.get("size_bytes"), original.get("size_bytes"))
        v["cold_change_pct"] = pct_change(v.get("cold"), orig_cold)
        v["code_change_pct_of_orig_cold"] = pct_of(v.get("code_change"), orig_cold)
        v["deps_change_pct_of_orig_cold"] = pct_of(v.get("deps_change"), orig_cold)
        row[name] = v
    fix = result.get("jettison_fix")
    if fix:
        row["jettison_fix"] = {
            k: fix.get(k) for k in ("exit_code", "seconds", "applied", "verdict", "wrote")
        }
    return row


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the measured projects (each median over the projects that have the value)."""
    rows = [project_row(r) for r in results if r.get("status") == "done"]
    out: dict[str, Any] = {"projects": len(rows)}
    for name in VARIANTS:
        vs = [r[name] for r in rows if name in r]
        if not vs:
            continue
        out[name] = {
            "projects": len(vs),
            "size_mb": median(v["size_bytes"] / 1e6 if v.get("size_bytes") else None for v in vs),
            "size_change_pct": median(v.get("size_change_pct") for v in vs),
            "cold_s": median(v.get("cold") for v in vs),
            "cold_change_pct": median(v.get("cold_change_pct") for v in vs),
            "code_change_s": median(v.get("code_change") for v in vs),
            "code_change_pct_of_orig_cold": median(
                v.get("code_change_pct_of_orig_cold") for v in vs
            ),
            "deps_change_s": median(v.get("deps_change") for v in vs),
            "deps_change_pct_of_orig_cold": median(
                v.get("deps_change_pct_of_orig_cold") for v in vs
            ),
            "smoke_pass": sum(1 for v in vs if v.get("smoke") == "pass"),
            "smoke_run": sum(1 for v in vs if v.get("smoke") is not None),
            "build_failed": sum(1 for v in vs if v.get("error")),
        }
    # the target: where the original passes, jettison's image passes and is not larger
    eligible = [r for r in rows if r.get("original", {}).get("smoke") == "pass" and "jettison" in r]
    met = [
        r
        for r in eligible
        if r["jettison"].get("smoke") == "pass"
        and r["jettison"].get("size_bytes") is not None
        and r["jettison"]["size_bytes"] <= r["original"]["size_bytes"]
    ]
    out["jettison_target"] = {
        "original_passes": len(eligible),
        "jettison_passes_not_larger": len(met),
        "missed": sorted(r["slug"] for r in eligible if r not in met),
        "why": {r["slug"]: _miss_reason(r) for r in eligible if r not in met},
    }
    # the size medians of the projects as they came (not hand-optimized) and of the ones
    # their authors had already optimized, apart: the target holds for both
    for group, hand in (("not_hand_optimized", False), ("hand_optimized", True)):
        members = [r for r in rows if r["hand_optimized"] is hand]
        out[group] = {
            "projects": len(members),
            **{
                name: median(r[name].get("size_change_pct") for r in members if name in r)
                for name in VARIANTS
            },
        }
    both = [r for r in rows if "jettison" in r and "expert" in r]
    out["vs_expert"] = {
        "projects": len(both),
        "larger": sorted(
            r["slug"]
            for r in both
            if (r["jettison"].get("size_bytes") or 0) > (r["expert"].get("size_bytes") or 0)
        ),
    }
    timed = [
        r for r in rows if r.get("jettison", {}).get("code_change_pct_of_orig_cold") is not None
    ]
    out["code_change_10pct"] = {
        "projects": len(timed),
        "over": sorted(
            f"{r['slug']} ({r['jettison']['code_change_pct_of_orig_cold']:.1f} %)"
            for r in timed
            if r["jettison"]["code_change_pct_of_orig_cold"] > 10.0
        ),
    }
    fixes = [r["jettison_fix"] for r in rows if "jettison_fix" in r]
    if fixes:
        verdicts: dict[str, int] = {}
        for f in fixes:
            verdicts[f["verdict"]] = verdicts.get(f["verdict"], 0) + 1
        out["jettison_fix"] = {
            "runs": len(fixes),
            "wrote": sum(1 for f in fixes if f.get("wrote")),
            "verdicts": verdicts,
            "median_seconds": median(f.get("seconds") for f in fixes),
        }
    return out


def _miss_reason(row: dict[str, Any]) -> str:
    j, o = row["jettison"], row["original"]
    if j.get("smoke") != "pass":
        return "smoke " + (j.get("smoke") or "not run")
    if j.get("size_bytes") is None:
        return "no image"
    return f"{j['size_bytes'] - o['size_bytes']:+,} bytes"


# ---------------------------------------------------------------- rendering


def _num(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _trio(row: dict[str, Any], key: str, fmt: Callable[[Any], str]) -> str:
    cells = []
    for name in VARIANTS:
        v = row.get(name)
        cells.append(fmt(v.get(key)) if v else "·")
    return " / ".join(cells)


def _size_change(v: dict[str, Any], original: dict[str, Any]) -> str:
    pct = v.get("size_change_pct")
    if pct is None:
        return "-"
    diff = (v.get("size_bytes") or 0) - (original.get("size_bytes") or 0)
    if diff and abs(pct) < 0.05:  # a few bytes either way still count: "never larger"
        return f"{diff:+,} B"
    return f"{pct:+.1f}%"


def render_text(results: Sequence[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        "Per project (original / jettison / expert; `·` = variant not run, `-` = no value; "
        "code- and deps-change = rebuild seconds after a one-line edit):",
        "",
        "| project | size MB | size vs original | smoke | cold s | code-change s | deps-change s "
        "| jettison fix |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for result in results:
        slug = result["slug"]
        if result.get("status") != "done":
            lines.append(
                f"| {slug} | {result.get('status')}: {result.get('reason', '')} | | | | | | |"
            )
            continue
        row = project_row(result)
        size = _trio(row, "size_bytes", lambda b: _num(b / 1e6 if b else None))
        change = " / ".join(
            _size_change(row[n], row.get("original", {})) if n in row else "·" for n in VARIANTS[1:]
        )
        smoke = _trio(row, "smoke", lambda s: s or "-")
        cold = _trio(row, "cold", _num)
        code = _trio(row, "code_change", _num)
        deps = _trio(row, "deps_change", _num)
        fix = result.get("jettison_fix")
        if fix:
            what = ", ".join(fix.get("applied") or []) or "none"
            ec = "killed" if fix.get("exit_code") is None else f"exit {fix['exit_code']}"
            fixcell = f"{fix['verdict']} ({ec}, {fix['seconds']:.0f} s); applied: {what}"
            if not fix.get("wrote"):
                fixcell += "; wrote nothing, so jettison = original"
        else:
            fixcell = "·"
        lines.append(
            f"| {slug} | {size} | {change} | {smoke} | {cold} | {code} | {deps} | {fixcell} |"
        )
        for name in VARIANTS:
            err = row.get(name, {}).get("error")
            if err and not row.get(name, {}).get("same_as_original"):
                notes.append(f"- {slug} {name}: {err.splitlines()[0][:300]}")
        if fix and fix.get("missing_flags"):
            notes.append(
                f"- {slug} jettison: `jettison fix --help` lacked "
                f"{', '.join(fix['missing_flags'])} at this run"
            )
        if fix and fix.get("exit_code") not in (0, 1) and fix.get("output_tail"):
            last = next((x for x in reversed(fix["output_tail"]) if x.strip()), "")
            notes.append(f"- {slug} jettison fix said: {last[:300]}")
        # "original: not rebuilt ..." and "expert: not rebuilt ..." with the same record: one
        # line naming both
        merged: dict[str, list[str]] = {}
        for w in result.get("warnings", []):
            variant, _, rest = w.partition(": ")
            key = rest if variant in VARIANTS and rest.startswith("not rebuilt") else w
            merged.setdefault(key, []).append(variant if key == rest else "")
        for text, variants in merged.items():
            named = " and ".join(v for v in variants if v)
            if len([v for v in variants if v]) > 1:
                text = text.replace("its record is", "their records are")
            notes.append(f"- {slug}: {named}: {text}" if named else f"- {slug}: {text}")
    if notes:
        lines += ["", "Notes:", *notes]
    bought = [r for r in results if (r.get("jettison_fix") or {}).get("effects")]
    if bought:
        lines += [
            "",
            "What each fix bought (`fix --verify --each-fix`: the fixes built one after "
            "another; image size, then the checks' time, start-up included):",
            "",
        ]
        for result in bought:
            parts = [
                f"{'+'.join([*e.get('with', []), e['code']])} {e['bytes'] / 1e6:+.1f} MB "
                f"({e['checks_s'][0]:.1f} -> {e['checks_s'][1]:.1f} s)"
                for e in result["jettison_fix"]["effects"]
            ]
            lines.append(f"- {result['slug']}: " + ", ".join(parts))
    lines += ["", f"Medians over {summary['projects']} measured project(s):", ""]
    lines += ["| measure | original | jettison | expert |", "|---|---|---|---|"]
    measures = [
        ("image size MB", "size_mb", False, ""),
        ("size change vs original", "size_change_pct", True, "%"),
        ("cold build s", "cold_s", False, ""),
        ("cold build vs original", "cold_change_pct", True, "%"),
        ("code-change rebuild s", "code_change_s", False, ""),
        (
            "code-change rebuild, % of original cold build",
            "code_change_pct_of_orig_cold",
            False,
            "%",
        ),
        ("deps-change rebuild s", "deps_change_s", False, ""),
        (
            "deps-change rebuild, % of original cold build",
            "deps_change_pct_of_orig_cold",
            False,
            "%",
        ),
    ]
    for label, key, signed, unit in measures:
        cells = []
        for name in VARIANTS:
            value = summary.get(name, {}).get(key)
            cells.append(_num(value, signed=signed) + (unit if value is not None else ""))
        lines.append(f"| {label} | {' | '.join(cells)} |")
    cells = []
    for name in VARIANTS:
        s = summary.get(name)
        cells.append(f"{s['smoke_pass']}/{s['smoke_run']}" if s else "-")
    lines.append(f"| smoke checks pass (projects) | {' | '.join(cells)} |")
    for group, label in (
        ("not_hand_optimized", "not hand-optimized"),
        ("hand_optimized", "hand-optimized"),
    ):
        g = summary.get(group)
        if g and g["projects"]:
            cells = [
                _num(g.get(name), signed=True) + "%" if g.get(name) is not None else "-"
                for name in VARIANTS
            ]
            lines.append(
                f"| size change vs original, {label} ({g['projects']}) | {' | '.join(cells)} |"
            )
    target = summary["jettison_target"]
    vs = summary.get("vs_expert") or {"projects": 0, "larger": []}
    ten = summary.get("code_change_10pct") or {"projects": 0, "over": []}
    lines += [
        "",
        f"jettison's image not larger than the expert's: {vs['projects'] - len(vs['larger'])}"
        f"/{vs['projects']}" + (f" (larger: {', '.join(vs['larger'])})" if vs["larger"] else ""),
        f"jettison's code-change rebuild within 10 % of the original's cold build: "
        f"{ten['projects'] - len(ten['over'])}/{ten['projects']}"
        + (f" (over: {', '.join(ten['over'])})" if ten["over"] else ""),
        f"Target (where the original passes its smoke checks, jettison's image passes them and "
        f"is not larger): {target['jettison_passes_not_larger']}/{target['original_passes']}"
        + (
            "; missed: "
            + ", ".join(f"{slug} ({target['why'].get(slug, '?')})" for slug in target["missed"])
            if target["missed"]
            else ""
        ),
    ]
    fx = summary.get("jettison_fix")
    if fx:
        verdicts = ", ".join(f"{k} {v}" for k, v in sorted(fx["verdicts"].items()))
        lines.append(
            f"jettison fix --unsafe-fixes --verify: wrote a change on {fx['wrote']}/{fx['runs']} "
            f"project(s); verdicts: {verdicts}; median run {_num(fx['median_seconds'], 0)} s"
        )
    metas = [r.get("meta") or {} for r in results if r.get("status") == "done"]
    if metas:
        commits = sorted({m.get("jettison_commit", "?") for m in metas})
        dates = sorted(m.get("date", "?")[:10] for m in metas)
        engines = sorted({str(m.get("engine_version")) for m in metas})
        lines.append(
            f"Measured with jettison {', '.join(commits)} on Docker engine {', '.join(engines)}, "
            f"{dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
        )
    return "\n".join(lines) + "\n"


def clone_commands(projects: Sequence[Project], src: str) -> str:
    lines = [f"SRC={src}", 'mkdir -p "$SRC"']
    for p in projects:
        lines.append(
            f'git clone https://github.com/{p.repo} "$SRC/{p.slug}" && '
            f'git -C "$SRC/{p.slug}" checkout --quiet {p.commit}'
        )
    return "\n".join(lines) + "\n"


def project_table(projects: Sequence[Project]) -> str:
    lines = [
        "| project | repo | commit | category | installer | dockerfile (context) | compose "
        "| hand-optimized | smoke |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in projects:
        build = f"`{p.dockerfile}` (`{p.context}`)"
        if p.target:
            build += f", target `{p.target}`"
        if p.build_args:
            build += ", " + ", ".join(f"`{k}={v}`" for k, v in p.build_args.items())
        lines.append(
            f"| {p.slug} | [{p.repo}](https://github.com/{p.repo}) | {p.commit[:7]} "
            f"| {p.category} | {p.installer} | {build} | {f'`{p.compose}`' if p.compose else '-'} "
            f"| {'yes' if p.hand_optimized else 'no'} | {', '.join(s.name for s in p.smoke)} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def write_json(path: Path, data: Any) -> None:
    """Whole file or nothing: a temporary file beside it, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_results(
    results_dir: Path, only: Sequence[str], projects_dir: Path = PROJECTS_DIR
) -> list[dict[str, Any]]:
    out = []
    # results/<slug>.json, one per project; other files there are other scripts' (byte_code.py)
    slugs = {d.name for d in projects_dir.iterdir() if (d / "project.toml").is_file()}
    for path in sorted(results_dir.glob("*.json")):
        if path.stem not in slugs:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a results file ({exc})") from None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA or "slug" not in data:
            raise InputError(f"{path}: not a results file of this benchmark (schema {SCHEMA})")
        if only and data["slug"] not in only:
            continue
        out.append(data)
    return out


def reuse_stored(result: dict[str, Any], stored_path: Path) -> dict[str, Any]:
    """``result`` with the variants this run did not measure taken from the stored result of
    the same project commit on the same engine, each named in a warning and a
    ``<variant>_from`` record; ``result`` unchanged where there is none."""
    try:
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return result
    meta, old_meta = result.get("meta") or {}, stored.get("meta") or {}
    if (
        result.get("status") != "done"
        or stored.get("status") != "done"
        or stored.get("commit") != result.get("commit")
        or old_meta.get("engine_version") != meta.get("engine_version")
    ):
        return result
    for name, record in (stored.get("variants") or {}).items():
        if name in (result.get("variants") or {}):
            continue
        result.setdefault("variants", {})[name] = record
        when = stored.get(f"{name}_from") or old_meta
        result[f"{name}_from"] = when
        result.setdefault("warnings", []).append(
            f"{name}: not rebuilt in this run; its record is an earlier run's "
            f"({when.get('date')}, jettison {when.get('jettison_commit')}, same commit of the "
            "project, same engine)"
        )
    return result


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="run.py",
        description="Original vs jettison fix vs expert Dockerfile on real projects.",
    )
    ap.add_argument("--src", help="folder with one checkout per project: DIR/<slug>")
    ap.add_argument("--only", default="", help="comma-separated slugs")
    ap.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated subset of original,jettison,expert",
    )
    ap.add_argument("--runs", type=int, default=1, help="repeat every measurement N times")
    ap.add_argument("--json", dest="json_file", help="write every result and the medians here")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument(
        "--reuse-stored",
        action="store_true",
        help="with --variants, take the variants not run from the project's stored result "
        "(same project commit and engine only; the result says so)",
    )
    ap.add_argument(
        "--no-prune",
        action="store_true",
        help="keep the builder cache between projects (other builds share it)",
    )
    ap.add_argument(
        "--min-free-gb",
        type=float,
        default=15.0,
        help="stop before a project when less disk is free (default 15)",
    )
    ap.add_argument(
        "--fix-timeout",
        type=float,
        default=3600.0,
        help="kill `jettison fix` after this many seconds (default 3600)",
    )
    ap.add_argument(
        "--no-each-fix",
        action="store_true",
        help="run `jettison fix` without --each-fix (no per-fix builds: long builds)",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="print the table and medians of the stored results/*.json; build nothing",
    )
    ap.add_argument(
        "--print-clone-commands",
        action="store_true",
        help="print the git commands that make the checkouts, then exit",
    )
    ap.add_argument(
        "--print-project-table",
        action="store_true",
        help="print the Markdown table of the projects (for the README), then exit",
    )
    ap.add_argument("--projects-dir", default=str(PROJECTS_DIR), help=argparse.SUPPRESS)
    ap.add_argument("--results-dir", default=str(RESULTS_DIR), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.only = [s for s in (x.strip() for x in args.only.split(",")) if s]
    args.variants = [s for s in (x.strip() for x in args.variants.split(",")) if s]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad or not args.variants:
        ap.error(
            f"--variants: unknown {', '.join(bad) or '(none given)'}; "
            f"choose from {', '.join(VARIANTS)}"
        )
    args.variants = [v for v in VARIANTS if v in args.variants]  # fixed order: original first
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not (args.report_only or args.print_clone_commands or args.print_project_table or args.src):
        ap.error("--src DIR is required (or --report-only / --print-clone-commands)")
    return args


def emit(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    summary = summarize(results)
    everything = {"schema": SCHEMA, "summary": summary, "projects": results}
    if args.json_file:
        write_json(Path(args.json_file), everything)
    if args.format == "json":
        print(json.dumps(everything, indent=2))
    else:
        print(render_text(results, summary), end="")


def main(argv: Sequence[str] | None = None) -> int:
    global EACH_FIX
    args = parse_args(sys.argv[1:] if argv is None else argv)
    EACH_FIX = not args.no_each_fix
    try:
        projects = load_projects(Path(args.projects_dir), args.only)
        if args.print_clone_commands:
            print(clone_commands(projects, args.src or "./checkouts"), end="")
            return 0
        if args.print_project_table:
            print(project_table(projects), end="")
            return 0
        if args.report_only:
            emit(load_results(Path(args.results_dir), args.only, Path(args.projects_dir)), args)
            return 0
        src = Path(args.src)
        if not src.is_dir():
            raise InputError(f"--src {src}: not a folder")
        jettison = jettison_executable()
    except InputError as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return 2
    return run_all(projects, src, jettison, args)


def run_all(
    projects: Sequence[Project], src: Path, jettison: Path, args: argparse.Namespace
) -> int:
    from jettison.errors import JettisonError

    try:
        engine = Engine()
    except JettisonError as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return 2
    help_text = fix_help(jettison)
    results: list[dict[str, Any]] = []
    code = 0
    progress(
        f"{len(projects)} project(s), variants {', '.join(args.variants)}, runs {args.runs}, "
        f"builds with {engine.client.describe()}"
    )
    try:
        for number, project in enumerate(projects, start=1):
            checkout = src / project.slug
            progress(f"== {project.slug} ({number}/{len(projects)})")
            if not checkout.is_dir():
                result = skipped(project_header(project), f"no checkout at {checkout}")
                results.append(result)
                continue
            free = engine.free_gb()
            if free < args.min_free_gb:
                print(
                    f"run.py: stopping before {project.slug}: {free:.1f} GB free on "
                    f"{engine.root}, under --min-free-gb {args.min_free_gb:g}",
                    file=sys.stderr,
                )
                code = 1
                break
            work = Path(tempfile.mkdtemp(prefix=f"jettison-rpb-{project.slug}-"))
            try:
                result = measure_project(
                    project,
                    checkout,
                    engine,
                    args.variants,
                    args.runs,
                    args.fix_timeout,
                    help_text,
                    jettison,
                    work,
                )
            except KeyboardInterrupt:
                stop_children()  # first: jettison removes its own images as it stops
                raise
            finally:
                engine.cleanup()
                shutil.rmtree(work, ignore_errors=True)
            if args.reuse_stored:
                result = reuse_stored(result, Path(args.results_dir) / f"{project.slug}.json")
            results.append(result)
            write_json(Path(args.results_dir) / f"{project.slug}.json", result)
            progress(f"{project.slug}: results written; images removed")
            if not args.no_prune and number < len(projects):
                progress(f"pruning the build cache: {engine.prune_build_cache()}")
    except KeyboardInterrupt:
        print("\nrun.py: interrupted; what this run made is removed", file=sys.stderr)
        return 130
    emit(results, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
