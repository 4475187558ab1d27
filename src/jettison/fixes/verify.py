"""``jettison fix --verify``: build before and after on the engine, smoke-check, compare.

For one Dockerfile: build the original (from its own path and context) and the fixed text
(written to a temporary directory as ``Dockerfile``, with a generated ``.dockerignore`` as
``Dockerfile.dockerignore`` beside it, which BuildKit prefers to the context's), then check
both images:

* the engine's smoke check (:func:`jettison.engine.verify`: the container starts and stays
  up or exits 0, exposed ports answer, installed packages import);
* the image's HEALTHCHECK, when it has one: a container must become ``healthy``;
* ``--smoke COMMAND``: ``/bin/sh -c COMMAND`` in a container of the image must exit 0.

A check that fails on the original does not count against the fixed image (it is reported).
Then the image configs are compared: the argv a container runs (ENTRYPOINT + CMD as Docker
combines them; ``/bin/sh -c X`` is the same as the words of X only when it is the whole argv
and the shell would run exactly those words), env (the virtualenv's PATH and VIRTUAL_ENV, and
PYTHONDONTWRITEBYTECODE/PYTHONUNBUFFERED may be added), labels (the only one that may be added
is ``org.opencontainers.image.authors``, holding what MAINTAINER set as the image's author:
JT507's fix), exposed ports, workdir, and user (root may become a non-root user; any other
change fails).

When the fixed file fails, :func:`bisect` finds the fix that broke it: the smallest prefix of
the applied fixes (in the order they were applied) whose result fails names the culprit; the
others are then verified without it, and written if they pass.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from jettison.engine import build
from jettison.engine import verify as smoke_verify
from jettison.errors import JettisonError
from jettison.rules.python import exec_split, posix_command_shell

LABEL = "org.jettison.fix-verify"  # on every image --verify builds (and removes)
ALLOWED_NEW_ENV = {"VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
# JT507 turns MAINTAINER (the image's Author) into this label, with the same value
AUTHORS_LABEL = "org.opencontainers.image.authors"
# the image's Author is not part of its Config: build_and_check adds it under this key
AUTHOR = "Author"
DEFAULT_SHELL = ["/bin/sh", "-c"]


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False


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
    container = sdk.containers.run(
        image, detach=True, name=f"jettison-health-{secrets.token_hex(4)}"
    )
    try:
        deadline = time.monotonic() + limit
        status = "starting"
        while time.monotonic() < deadline:
            container.reload()
            state = container.attrs.get("State") or {}
            status = (state.get("Health") or {}).get("Status", "none")
            if status == "healthy":
                return CheckResult("healthcheck", True, "container became healthy")
            if status == "unhealthy" or state.get("Status") == "exited":
                break
            time.sleep(1.0)
        log = ((container.attrs.get("State") or {}).get("Health") or {}).get("Log") or []
        last = (log[-1].get("Output") or "").strip()[-200:] if log else ""
        return CheckResult("healthcheck", False, f"{status} after {limit:.0f}s {last}".strip())
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


def _smoke(sdk: Any, image: str, command: str, timeout: float = 300.0) -> CheckResult:
    container = sdk.containers.create(
        image,
        entrypoint=["/bin/sh", "-c", command],
        command=[],
        name=f"jettison-smoke-{secrets.token_hex(4)}",
        network_mode="none",
    )
    try:
        container.start()
        try:
            code = int(container.wait(timeout=timeout).get("StatusCode", 1))
        except Exception:  # the SDK raises requests' timeout types
            return CheckResult("smoke", False, f"{command!r} took over {timeout:g}s")
        out = container.logs().decode("utf-8", "replace").strip()
        tail = " | ".join(out.splitlines()[-3:])[-300:]
        return CheckResult("smoke", code == 0, f"{command!r} exited {code}: {tail}")
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


def check_image(
    sdk: Any, image: str, config: dict[str, Any], smoke: str | None
) -> list[CheckResult]:
    checks = [
        CheckResult(c.name, c.ok, c.detail, c.skipped) for c in smoke_verify(image, sdk=sdk).checks
    ]
    hc = _healthcheck(sdk, image, config)
    if hc is not None:
        checks.append(hc)
    if smoke:
        checks.append(_smoke(sdk, image, smoke))
    return checks


def build_and_check(
    sdk: Any,
    context: Path,
    dockerfile: Path,
    smoke: str | None,
    images: list[str],
) -> ImageReport:
    """Build and smoke-check; every image built is appended to ``images`` (to remove)."""
    try:
        result = build(context, dockerfile, sdk=sdk, labels={LABEL: "1"})
    except JettisonError as exc:
        if type(exc).__name__ == "EngineUnavailableError":
            raise
        return ImageReport(False, error=exc.message)
    images.append(result.image_id)
    info = result.image
    config = dict(info.config)
    with contextlib.suppress(docker.errors.APIError):
        config[AUTHOR] = sdk.api.inspect_image(result.image_id).get(AUTHOR) or ""
    report = ImageReport(
        True, result.image_id, info.size_bytes, info.layers, result.seconds, config
    )
    report.checks = check_image(sdk, result.image_id, info.config, smoke)
    return report


def build_text(
    sdk: Any,
    context: Path,
    text: str,
    dockerignore: str | None,
    smoke: str | None,
    images: list[str],
) -> ImageReport:
    with tempfile.TemporaryDirectory(prefix="jettison-verify-") as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(text, encoding="utf-8")
        if dockerignore is not None:
            (Path(tmp) / "Dockerfile.dockerignore").write_text(dockerignore, encoding="utf-8")
        return build_and_check(sdk, context, dockerfile, smoke, images)


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
        return self.report.ok and not self.problems


def judge(original: ImageReport, fixed: ImageReport) -> list[str]:
    """Why ``fixed`` is worse than ``original`` (empty: it passes)."""
    if not fixed.built:
        return [f"build failed: {fixed.error}"]
    passed_before = {c.name for c in original.checks if c.ok}
    out = [f"{c.name}: {c.detail}" for c in fixed.checks if not c.ok and c.name in passed_before]
    problems, _ = compare_configs(original.config, fixed.config)
    return out + problems


@dataclass
class Bisection:
    culprits: list[str]
    final: Attempt | None  # the best passing attempt without the culprits
    attempts: int


def bisect(
    units: list[str],
    attempt: Callable[[frozenset[str]], Attempt],
    max_culprits: int = 3,
) -> Bisection:
    """Name the fixes that break the build or the checks (see the module docs)."""
    culprits: list[str] = []
    remaining = list(units)
    tries = 0
    while remaining and len(culprits) < max_culprits:
        lo, hi = 0, len(remaining)  # prefix lo passes (empty = the original), prefix hi fails
        while hi - lo > 1:
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
        tries += 1
        rest = attempt(frozenset(remaining))
        if rest.ok:
            return Bisection(culprits, rest, tries)
    return Bisection(culprits, None, tries)
