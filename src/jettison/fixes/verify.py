"""``jettison fix --verify``: build before and after on the engine, smoke-check, compare.

For one Dockerfile, with the build inputs the project itself uses (:class:`BuildInputs`:
Dockerfile, context, target, build args, and a compose file's services): build the original
as it is, then the fixed text exactly as it will be on disk (:func:`build_text`: in a
hard-linked copy of the context holding the fixed Dockerfile and the ``.dockerignore`` the
fix writes, so a ``COPY . .`` sees them too), and check both images (:class:`CheckPlan`):

* the engine's smoke check (:func:`jettison.engine.verify`: the container starts and stays
  up or exits 0, exposed ports answer 2xx/3xx, installed packages import); given compose
  services, each service's own command, entrypoint, user and environment is started;
* the image's HEALTHCHECK, when it has one: a container must become ``healthy``;
* ``--smoke COMMAND``: ``/bin/sh -c COMMAND`` in a container of the image must exit 0;
* ``--smoke-cmd COMMAND``: a host-side shell command with ``{image}`` replaced by the image
  id must exit 0 (it may start containers of its own: they are removed afterwards).

A check the original already fails is compared, not required: the fixed image passes it if
it fails the same way (the same exit code, HTTP status, or no package failing to import that
imported before); the report says the original fails it. A fixed image larger than the
original fails verification. Then the image configs are compared: the argv a container runs
(ENTRYPOINT + CMD as Docker combines them; ``/bin/sh -c X`` is the same as the words of X
only when it is the whole argv and the shell would run exactly those words), env (the
virtualenv's PATH and VIRTUAL_ENV, and PYTHONDONTWRITEBYTECODE/PYTHONUNBUFFERED may be
added), labels (the only one that may be added is ``org.opencontainers.image.authors``,
holding what MAINTAINER set as the image's author: JT507's fix), exposed ports, workdir, and
user (root may become a non-root user; any other change fails).

When the fixed file fails, :func:`bisect` finds the fix that broke it: the smallest prefix of
the applied fixes (in the order they were applied) whose result fails names the culprit; the
others are then verified without it, and written if they pass. The number of builds is
bounded (``max_builds``); when the budget runs out, nothing more is tried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.dockerfile.commands import exec_split, posix_command_shell
from jettison.engine import build
from jettison.engine import verify as smoke_verify
from jettison.engine.containers import remove_containers_of, run_to_exit, wait_healthy
from jettison.engine.images import image_author
from jettison.engine.smoke import RunSpec
from jettison.errors import JettisonError

LABEL = "org.jettison.fix-verify"  # on every image --verify builds (and removes)
ALLOWED_NEW_ENV = {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
# JT507 turns MAINTAINER (the image's Author) into this label, with the same value
AUTHORS_LABEL = "org.opencontainers.image.authors"
# the image's Author is not part of its Config: build_and_check adds it under this key
AUTHOR = "Author"
DEFAULT_SHELL = ["/bin/sh", "-c"]


Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """A :data:`Progress` that shows nothing."""


@dataclass(frozen=True)
class BuildInputs:
    """How the project builds a Dockerfile: what ``docker build -f FILE --target T CONTEXT``
    gets, and the compose services that run the image (checked with their own commands)."""

    dockerfile: Path
    context: Path
    target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    runs: tuple[RunSpec, ...] = ()

    @classmethod
    def of(
        cls,
        dockerfile: str | Path,
        context: str | Path | None = None,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        runs: tuple[RunSpec, ...] = (),
    ) -> BuildInputs:
        df = Path(dockerfile)
        return cls(
            df,
            Path(context) if context is not None else df.parent,
            target or None,
            tuple(sorted((build_args or {}).items())),
            runs,
        )

    @property
    def specific_ignore(self) -> Path:
        """``<Dockerfile>.dockerignore``: BuildKit reads it before the context's."""
        return self.dockerfile.parent / (self.dockerfile.name + ".dockerignore")

    def ignore_file(self) -> Path:
        """The ``.dockerignore`` this build reads (or would read, once written)."""
        if self.specific_ignore.is_file():
            return self.specific_ignore
        return self.context / ".dockerignore"


@dataclass(frozen=True)
class CheckPlan:
    """The checks run on each image, beyond the engine's own smoke check."""

    smoke: tuple[str, ...] = ()  # /bin/sh -c COMMAND inside a container of the image
    smoke_cmds: tuple[str, ...] = ()  # host-side commands, {image} replaced by the image id
    smoke_timeout: float = 300.0
    http_statuses: frozenset[int] = frozenset()
    probe_seconds: float = 60.0  # how long an exposed port may take to answer


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False
    failure: str = ""  # what failed, comparable between two images (see engine.verify)


@dataclass
class ImageReport:
    built: bool
    image_id: str = ""
    size_bytes: int = 0
    layers: int = 0
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""
    error_line: int | None = None  # the Dockerfile line of the failing step
    layer_digests: tuple[str, ...] = ()  # the filesystem layers: equal, same bytes
    check_seconds: float = 0.0  # how long the checks took (start-up included)

    @property
    def ok(self) -> bool:
        return self.built and all(c.ok for c in self.checks)

    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def summary(self) -> str:
        if not self.built:
            return f"build failed: {self.error}"
        return "; ".join(
            f"{c.name}: {'skipped' if c.skipped else 'ok' if c.ok else 'FAILED'} ({c.detail})"
            for c in self.checks
        )


def _healthcheck(sdk: Any, image: str, config: dict[str, Any]) -> CheckResult | None:
    hc = config.get("Healthcheck") or {}
    test = hc.get("Test") or []
    if not test or test[0] == "NONE":
        return None
    ns = 1_000_000_000
    interval = (hc.get("Interval") or 30 * ns) / ns
    start = (hc.get("StartPeriod") or 0) / ns
    retries = hc.get("Retries") or 3
    limit = min(120.0, start + interval * (retries + 1) + 5)
    status, last = wait_healthy(sdk, image, limit)
    if status == "healthy":
        return CheckResult("healthcheck", True, "container became healthy")
    return CheckResult(
        "healthcheck", False, f"{status} after {limit:.0f}s {last}".strip(), failure=status
    )


def _smoke(sdk: Any, image: str, name: str, command: str, timeout: float) -> CheckResult:
    run = run_to_exit(
        sdk, image, ["/bin/sh", "-c", command], name_prefix="jettison-smoke", timeout=timeout
    )
    if run.code is None:
        return CheckResult(name, False, f"{command!r} took over {timeout:g}s", failure="timeout")
    tail = " | ".join(run.logs.strip().splitlines()[-3:])[-300:]
    return CheckResult(
        name, run.code == 0, f"{command!r} exited {run.code}: {tail}", failure=f"exit {run.code}"
    )


def _host_smoke(sdk: Any, image: str, name: str, command: str, timeout: float) -> CheckResult:
    """``/bin/sh -c COMMAND`` on the host with ``{image}`` replaced; killed after ``timeout``."""
    argv = ["/bin/sh", "-c", command.replace("{image}", image)]
    proc = subprocess.Popen(  # its own session: the whole command tree is killed on timeout
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        try:
            raw, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return CheckResult(
                name, False, f"{command!r} took over {timeout:g}s (killed)", failure="timeout"
            )
        except BaseException:  # Ctrl-C: leave nothing running
            _kill(proc)
            raise
        out = raw.decode("utf-8", "replace").strip()
        tail = " | ".join(out.splitlines()[-3:])[-300:]
        code = proc.returncode
        return CheckResult(
            name, code == 0, f"{command!r} exited {code}: {tail}", failure=f"exit {code}"
        )
    finally:
        remove_containers_of(sdk, image)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=10)


def check_image(
    sdk: Any,
    image: str,
    config: dict[str, Any],
    plan: CheckPlan,
    runs: tuple[RunSpec, ...] = (),
) -> list[CheckResult]:
    checks = [
        CheckResult(c.name, c.ok, c.detail, c.skipped, c.failure)
        for c in smoke_verify(
            image,
            sdk=sdk,
            http_statuses=plan.http_statuses,
            runs=list(runs) or None,
            # a service may migrate or warm up before it listens: a minute, not 30 s
            probe_seconds=plan.probe_seconds,
        ).checks
    ]
    hc = _healthcheck(sdk, image, config)
    if hc is not None:
        checks.append(hc)
    for n, command in enumerate(plan.smoke, 1):
        name = "smoke" if len(plan.smoke) == 1 else f"smoke {n}"
        checks.append(_smoke(sdk, image, name, command, plan.smoke_timeout))
    for n, command in enumerate(plan.smoke_cmds, 1):
        name = "smoke-cmd" if len(plan.smoke_cmds) == 1 else f"smoke-cmd {n}"
        checks.append(_host_smoke(sdk, image, name, command, plan.smoke_timeout))
    return checks


def build_and_check(
    sdk: Any,
    inputs: BuildInputs,
    plan: CheckPlan,
    images: list[str],
    dockerfile: Path | None = None,
) -> ImageReport:
    """Build ``dockerfile`` (default: the inputs' own) with the inputs' context, target and
    build args, then check it; every image built is appended to ``images`` (to remove)."""
    try:
        result = build(
            inputs.context,
            dockerfile or inputs.dockerfile,
            sdk=sdk,
            labels={LABEL: "1"},
            build_args=dict(inputs.build_args),
            target=inputs.target,
        )
    except JettisonError as exc:
        if type(exc).__name__ == "EngineUnavailableError":
            raise
        return ImageReport(False, error=exc.message, error_line=exc.line)
    images.append(result.image_id)
    info = result.image
    config = dict(info.config)
    config[AUTHOR] = image_author(result.image_id, sdk)
    report = ImageReport(
        True,
        result.image_id,
        info.size_bytes,
        info.layers,
        layer_digests=info.layer_digests,
        seconds=result.seconds,
        config=config,
    )
    started = time.monotonic()
    report.checks = check_image(sdk, result.image_id, info.config, plan, inputs.runs)
    report.check_seconds = time.monotonic() - started
    return report


def build_text(
    sdk: Any,
    inputs: BuildInputs,
    text: str,
    extra_files: Mapping[str, str],
    plan: CheckPlan,
    images: list[str],
) -> ImageReport:
    """Build ``text`` in place of the inputs' Dockerfile, exactly as it will be on disk.

    The build runs in a copy of the context made of hard links (cheap; a file the fix
    writes is unlinked first, so the user's files are never opened for writing) holding
    the fixed Dockerfile and ``extra_files`` (relative to the Dockerfile's directory, as
    :attr:`FixOutcome.extra_files`) in their places: a ``COPY . .`` then sees the new
    Dockerfile and ``.dockerignore`` too, so the size compared is the size written. A
    Dockerfile outside the context is written beside the copy with its ignore file."""
    context = inputs.context.resolve()
    dockerfile_dir = inputs.dockerfile.resolve().parent
    with tempfile.TemporaryDirectory(prefix="jettison-verify-") as tmp:
        copy = Path(tmp) / "context"
        outside = Path(tmp) / "outside"
        outside.mkdir()
        _link_tree(context, copy)

        def place(path: Path) -> Path:
            try:
                return copy / path.relative_to(context)
            except ValueError:  # not in the context: BuildKit reads it from beside the file
                return outside / path.name

        dockerfile = place(inputs.dockerfile.resolve())
        files = {dockerfile: text}
        if dockerfile.parent == outside and inputs.specific_ignore.is_file():
            files[outside / inputs.specific_ignore.name] = inputs.specific_ignore.read_text(
                encoding="utf-8", errors="replace"
            )
        for rel, content in extra_files.items():
            files[place(Path(os.path.normpath(dockerfile_dir / rel)))] = content
        for target, content in files.items():
            if target.is_symlink() or target.exists():
                target.unlink()  # a hard link to the user's file: never write through it
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        return build_and_check(
            sdk, dataclasses.replace(inputs, context=copy), plan, images, dockerfile
        )


def _link_tree(source: Path, target: Path) -> None:
    """``source`` copied as hard links (regular files), symlinks kept as links; where hard
    links cannot be made (another file system) files are copied; other special files are
    left out (a build context cannot send them anyway)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            if os.path.isfile(src):
                shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link)


def _argv(config: dict[str, Any]) -> list[str]:
    """The argv a container of the image runs: ENTRYPOINT then CMD, as Docker combines them.

    A shell-form command (``[*shell, X]``) counts as the words of X only when it is the whole
    argv and the shell would run exactly those words; with an ENTRYPOINT before it, or a CMD
    after it, the shell's own words are arguments too.
    """
    argv = [str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
    shell = [str(a) for a in (config.get("Shell") or DEFAULT_SHELL)]
    if len(argv) == len(shell) + 1 and argv[:-1] == shell and posix_command_shell(shell):
        words = exec_split(argv[-1])
        if words is not None:
            return words
    return argv


def _env(config: dict[str, Any]) -> dict[str, str]:
    return dict(e.split("=", 1) for e in (config.get("Env") or []) if "=" in e)


def compare_configs(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, expected changes) between two image configs."""
    problems: list[str] = []
    notes: list[str] = []
    if _argv(before) != _argv(after):
        problems.append(f"command changed: {_argv(before)} -> {_argv(after)}")
    elif (before.get("Cmd"), before.get("Entrypoint")) != (
        after.get("Cmd"),
        after.get("Entrypoint"),
    ):
        notes.append("command written in exec form")
    old, new = _env(before), _env(after)
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if key not in old and key in ALLOWED_NEW_ENV:
            notes.append(f"env {key} added")
        elif key == "PATH" and key in old and new.get(key, "").endswith(":" + old[key]):
            notes.append(f"PATH starts with {new[key][: -len(old[key]) - 1]}")
        elif key not in new:
            problems.append(f"env {key} removed")
        elif key not in old:
            problems.append(f"env {key} added")
        else:
            problems.append(f"env {key} changed: {old[key]!r} -> {new[key]!r}")
    _compare_labels(before, after, problems, notes)
    if sorted(before.get("ExposedPorts") or {}) != sorted(after.get("ExposedPorts") or {}):
        problems.append(
            f"exposed ports changed: {sorted(before.get('ExposedPorts') or {})} -> "
            f"{sorted(after.get('ExposedPorts') or {})}"
        )
    if (before.get("WorkingDir") or "") != (after.get("WorkingDir") or ""):
        problems.append(
            f"workdir changed: {before.get('WorkingDir')!r} -> {after.get('WorkingDir')!r}"
        )
    u0, u1 = before.get("User") or "", after.get("User") or ""
    if u0 != u1:
        if u0 in ("", "root", "0", "0:0") and u1 not in ("", "root", "0", "0:0"):
            notes.append(f"runs as {u1} instead of root")
        else:
            problems.append(f"user changed: {u0 or 'root'!r} -> {u1 or 'root'!r}")
    return problems, notes


def _compare_labels(
    before: dict[str, Any], after: dict[str, Any], problems: list[str], notes: list[str]
) -> None:
    old: dict[str, str] = dict(before.get("Labels") or {})
    new: dict[str, str] = dict(after.get("Labels") or {})
    author0, author1 = before.get(AUTHOR) or "", after.get(AUTHOR) or ""
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if key == AUTHORS_LABEL and key not in old and author0 and new[key] == author0:
            notes.append(f"author moved to label {key}")
        elif key not in new:
            problems.append(f"label {key} removed")
        elif key not in old:
            problems.append(f"label {key} added: {new[key]!r}")
        else:
            problems.append(f"label {key} changed: {old[key]!r} -> {new[key]!r}")
    if author0 != author1 and not (
        not author1 and new.get(AUTHORS_LABEL) == author0 and AUTHORS_LABEL not in old
    ):
        problems.append(f"author changed: {author0!r} -> {author1!r}")


@dataclass
class Attempt:
    units: frozenset[str]
    text: str
    report: ImageReport
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.report.built and not self.problems


def _no_worse(fixed: CheckResult, original: CheckResult | None) -> bool:
    """A failing check of the fixed image that the original fails the same way (or wider:
    the modules failing to import are a subset of the original's)."""
    if original is None or original.ok or original.skipped:
        return False
    now = {f for f in fixed.failure.split(",") if f}
    before = {f for f in original.failure.split(",") if f}
    return bool(now) and now <= before


def failed_checks(original: ImageReport, fixed: ImageReport) -> list[CheckResult]:
    """The checks ``fixed`` fails where ``original`` did better."""
    before = {c.name: c for c in original.checks}
    return [c for c in fixed.checks if not c.ok and not _no_worse(c, before.get(c.name))]


# What a fix may add without counting as larger: pip's install records. A dependency step
# split from the project's install (JT201) installs the dependencies as requested, so pip
# writes an empty REQUESTED file and one RECORD line (~100 bytes) for each: 2.5 kB on
# evidently's 1,064 MB image, for a code-change rebuild that no longer reinstalls them. A
# real growth (a package, a cache, a copied tree) is far above this.
INSTALL_RECORDS_BYTES = 64 * 1024


def judge(original: ImageReport, fixed: ImageReport) -> list[str]:
    """Why ``fixed`` is worse than ``original`` (empty: it passes)."""
    if not fixed.built:
        return [f"build failed: {fixed.error}"]
    out = [f"{c.name}: {c.detail}" for c in failed_checks(original, fixed)]
    problems, _ = compare_configs(original.config, fixed.config)
    # the same layers are the same bytes: what the engine adds to Size beyond them is the
    # config (on the containerd store a LABEL makes it a few bytes "larger")
    same_layers = bool(fixed.layer_digests) and fixed.layer_digests == original.layer_digests
    grown = fixed.size_bytes - original.size_bytes
    if original.size_bytes and grown > INSTALL_RECORDS_BYTES and not same_layers:
        out.append(f"image is larger: {size_change(original.size_bytes, fixed.size_bytes)}")
    return out + problems


def size_change(before: int, after: int) -> str:
    """``"120.0 MB -> 80.0 MB (33.3% smaller)"``; says "larger" when it is."""
    text = f"{before / 1e6:.1f} MB -> {after / 1e6:.1f} MB"
    if not before or before == after:
        return text + " (same size)"
    change = 100.0 * (after - before) / before
    word = "larger" if change > 0 else "smaller"
    return text + f" ({abs(change):.1f}% {word})"


@dataclass
class Bisection:
    culprits: list[str]
    final: Attempt | None  # the best passing attempt without the culprits
    attempts: int
    exhausted: bool = False  # the build budget ran out before an answer


def bisect_bound(units: int, max_culprits: int = 3) -> int:
    """Builds a bisection of ``units`` fixes needs at most: per culprit a binary search over
    the remaining prefix plus one build of the rest."""
    total = 0
    for k in range(min(units, max_culprits)):
        total += math.ceil(math.log2(max(units - k, 1))) + 1
    return total


def bisect(
    units: list[str],
    attempt: Callable[[frozenset[str]], Attempt],
    max_culprits: int = 3,
    budget: int | None = None,
) -> Bisection:
    """Name the fixes that break the build or the checks (see the module docs).

    ``budget``: at most this many attempts (None: unbounded); when it runs out the
    bisection stops with what it has found (``exhausted``).
    """
    culprits: list[str] = []
    remaining = list(units)
    tries = 0

    def spent() -> bool:
        return budget is not None and tries >= budget

    while remaining and len(culprits) < max_culprits:
        lo, hi = 0, len(remaining)  # prefix lo passes (empty = the original), prefix hi fails
        while hi - lo > 1:
            if spent():
                return Bisection(culprits, None, tries, exhausted=True)
            mid = (lo + hi) // 2
            tries += 1
            if attempt(frozenset(remaining[:mid])).ok:
                lo = mid
            else:
                hi = mid
        culprits.append(remaining[hi - 1])
        remaining = [u for u in remaining if u != remaining[hi - 1]]
        if not remaining:
            return Bisection(culprits, None, tries)
        if spent():
            return Bisection(culprits, None, tries, exhausted=True)
        tries += 1
        rest = attempt(frozenset(remaining))
        if rest.ok:
            return Bisection(culprits, rest, tries)
    return Bisection(culprits, None, tries)
