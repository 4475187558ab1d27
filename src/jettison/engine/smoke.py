"""Smoke check: does an image still work?

``verify(image)`` runs up to three checks, each bounded in time, and removes every
container it starts:

1. **start**: the image's ENTRYPOINT/CMD runs in a container. A container that exits
   non-zero within ``startup_seconds`` fails (with the tail of its output); one that exits
   0 is a one-shot command that passed; one still running then is a service.
2. **ports**: for a service that EXPOSEs TCP ports, each port is published on 127.0.0.1 and
   probed until ``probe_seconds`` have passed: an HTTP request to ``/`` that gets a 2xx or
   3xx status (or one of ``http_statuses``) passes, so does a TCP port that accepts
   connections but does not speak HTTP. A 4xx is a failure: the app answered, but not
   with its page (a missing setting, a refused host).
   A port that never accepts, or a container that dies meanwhile, fails.
3. **imports** (Python images): in a second container (no network), the image's own
   ``python3`` (from its PATH, so a virtualenv on PATH is the one checked) imports the
   top-level module of every installed distribution (packaging tools excepted: pip,
   setuptools, wheel are not the application's dependencies). A package whose dependency or
   shared library was pruned fails to import, and the check names it. Images without
   Python skip this check.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from jettison.engine.client import docker_client
from jettison.errors import JettisonError

# runs inside the image: top-level modules of installed distributions, each imported
_IMPORT_SCRIPT = r"""
import importlib, importlib.metadata as md, json, sys
# packaging tools are not the application's dependencies (and setuptools' distutils shim
# cannot be imported after anything that imported the stdlib distutils)
SKIP = {"pip", "setuptools", "pkg_resources", "wheel", "distutils", "test", "tests"}
mods = {}
for dist in md.distributions():
    name = (dist.metadata["Name"] or "?")
    top = dist.read_text("top_level.txt")
    found = [l.strip() for l in top.splitlines()] if top else []
    if not top:
        for f in dist.files or []:
            p = f.parts
            if len(p) == 1 and p[0].endswith(".py"):
                found.append(p[0][:-3])
            elif len(p) == 2 and p[1] == "__init__.py":
                found.append(p[0])
            elif len(p) == 1 and p[0].endswith(".so"):
                found.append(p[0].split(".")[0])
    for m in found:
        if m.isidentifier() and not m.startswith("_") and m not in SKIP:
            mods.setdefault(m, name)
ok, failed = [], {}
for m in sorted(mods):
    try:
        importlib.import_module(m)
        ok.append(m)
    except BaseException as exc:
        why = str(exc).splitlines()[0][:200] if str(exc) else ""
        failed[m] = "%s (%s): %s" % (mods[m], type(exc).__name__, why)
print("JETTISON-IMPORTS " + json.dumps({"ok": ok, "failed": failed}))
"""


@dataclass
class Check:
    name: str  # start | ports | imports (a service's checks: "start web", "ports web")
    ok: bool
    detail: str
    skipped: bool = False
    # what failed, in a form two images can be compared by (the failing modules, the exit
    # code, the HTTP status): an image that fails the same way as another is not worse
    failure: str = ""


@dataclass(frozen=True)
class RunSpec:
    """How a container of the image is started: a compose service's command and user."""

    name: str = ""  # the service ("" for the image's own ENTRYPOINT/CMD)
    command: list[str] | None = None  # None: the image's CMD
    entrypoint: list[str] | None = None  # None: the image's ENTRYPOINT
    user: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    working_dir: str | None = None

    def suffix(self) -> str:
        return f" {self.name}" if self.name else ""


@dataclass
class VerifyResult:
    image: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def summary(self) -> str:
        parts = [
            f"{c.name}: {'skipped' if c.skipped else 'ok' if c.ok else 'FAILED'} ({c.detail})"
            for c in self.checks
        ]
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [
                {"name": c.name, "ok": c.ok, "skipped": c.skipped, "detail": c.detail}
                for c in self.checks
            ],
        }


def _tail(container: Any, lines: int = 8) -> str:
    try:
        raw = container.logs(tail=lines)
    except docker.errors.APIError:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " | ".join(t.strip() for t in text.splitlines() if t.strip())[-600:]


def _remove(container: Any, attempts: int = 6) -> None:
    """Remove a probe container, retrying: a forced removal right after the process exits
    can fail with a transient engine error ("removal already in progress", a busy mount),
    and a container left behind is litter in the user's engine."""
    for attempt in range(attempts):
        try:
            container.remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            time.sleep(0.25 * (attempt + 1))
            try:
                container.reload()
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                continue


def _http_probe(
    port: int, timeout: float, statuses: frozenset[int] = frozenset()
) -> tuple[bool, str] | None:
    """None: nothing accepts yet. Otherwise (passed, what answered)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return None
    with sock:
        sock.settimeout(timeout)
        try:
            sock.sendall(
                b"GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: jettison-verify\r\n\r\n"
            )
            head = sock.recv(256)
        except OSError:
            head = b""
    if not head:
        # docker-proxy accepts on the host side even when nothing listens inside; an empty
        # answer is therefore "not yet", a non-HTTP answer is a live TCP service
        return None
    if head.startswith(b"HTTP/"):
        try:
            status = int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return True, "HTTP answer"
        return 200 <= status < 400 or status in statuses, f"HTTP {status}"
    return True, "TCP service answers"


def _check_ports(
    container: Any, ports: list[str], deadline: float, statuses: frozenset[int], suffix: str
) -> Check:
    name = "ports" + suffix
    container.reload()
    bindings = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    pending = {}
    for port in ports:
        host = bindings.get(port) or []
        if host:
            pending[port] = int(host[0]["HostPort"])
    if not pending:
        return Check(name, False, "exposed ports were not published", failure="unpublished")
    answered: list[str] = []
    while pending and time.monotonic() < deadline:
        for port, host_port in list(pending.items()):
            result = _http_probe(host_port, timeout=2.0, statuses=statuses)
            if result is None:
                continue
            passed, what = result
            if not passed:
                return Check(name, False, f"{port} answers {what}", failure=f"{port} {what}")
            answered.append(f"{port} {what}")
            del pending[port]
        if pending:
            container.reload()
            if container.status not in ("running", "created"):
                code = container.attrs.get("State", {}).get("ExitCode")
                return Check(
                    name,
                    False,
                    f"container exited with code {code} before "
                    f"{', '.join(pending)} answered: {_tail(container)}",
                    failure=f"exit {code}",
                )
            time.sleep(0.5)
    if pending:
        return Check(
            name,
            False,
            f"no answer on {', '.join(pending)} within the time limit",
            failure="no answer",
        )
    return Check(name, True, ", ".join(answered))


def _check_start(
    sdk: Any,
    image: str,
    config: dict[str, Any],
    startup_seconds: float,
    probe_seconds: float,
    statuses: frozenset[int] = frozenset(),
    run: RunSpec | None = None,
) -> list[Check]:
    run = run or RunSpec()
    suffix = run.suffix()
    exposed = [p for p in (config.get("ExposedPorts") or {}) if p.endswith("/tcp")]
    name = f"jettison-verify-{secrets.token_hex(4)}"
    options: dict[str, Any] = {}
    if run.command is not None:
        options["command"] = run.command
    if run.entrypoint is not None:
        options["entrypoint"] = run.entrypoint
    if run.user is not None:
        options["user"] = run.user
    if run.environment:
        options["environment"] = dict(run.environment)
    if run.working_dir is not None:
        options["working_dir"] = run.working_dir
    container = sdk.containers.create(
        image,
        name=name,
        detach=True,
        labels={"org.jettison.verify": "1"},
        ports={p: ("127.0.0.1", None) for p in exposed},
        **options,
    )
    try:
        container.start()
        started = time.monotonic()
        deadline = started + startup_seconds
        while time.monotonic() < deadline:
            container.reload()
            if container.status == "exited":
                code = container.attrs.get("State", {}).get("ExitCode")
                if code == 0:
                    return [Check("start" + suffix, True, "one-shot command exited 0")]
                return [
                    Check(
                        "start" + suffix,
                        False,
                        f"exited with code {code} after "
                        f"{time.monotonic() - started:.1f}s: {_tail(container)}",
                        failure=f"exit {code}",
                    )
                ]
            time.sleep(0.25)
        checks = [Check("start" + suffix, True, f"still running after {startup_seconds:g}s")]
        if exposed:
            checks.append(
                _check_ports(container, exposed, time.monotonic() + probe_seconds, statuses, suffix)
            )
        else:
            checks.append(Check("ports" + suffix, True, "no TCP port exposed", skipped=True))
        return checks
    finally:
        _remove(container)


def _check_imports(sdk: Any, image: str, timeout: float) -> Check:
    last_error = ""
    for python in ("python3", "python"):
        name = f"jettison-verify-{secrets.token_hex(4)}"
        try:
            container = sdk.containers.create(
                image,
                name=name,
                entrypoint=[python, "-c", _IMPORT_SCRIPT],
                command=[],
                network_mode="none",
                labels={"org.jettison.verify": "1"},
            )
        except docker.errors.APIError as exc:
            last_error = str(exc.explanation or exc)
            continue
        try:
            try:
                container.start()
            except docker.errors.APIError as exc:
                # "executable file not found": no such interpreter in this image
                last_error = str(exc.explanation or exc)
                continue
            try:
                status = container.wait(timeout=timeout)
            except Exception:  # the SDK raises requests' timeout types
                return Check(
                    "imports",
                    False,
                    f"importing packages took over {timeout:g}s",
                    failure="timeout",
                )
            output = container.logs().decode("utf-8", "replace")
            marker = next(
                (ln for ln in output.splitlines() if ln.startswith("JETTISON-IMPORTS ")), None
            )
            if marker is None:
                if status.get("StatusCode") in (126, 127):
                    last_error = output.strip()[-200:]
                    continue
                return Check(
                    "imports",
                    False,
                    f"{python} failed: {output.strip()[-300:]}",
                    failure=f"{python} failed",
                )
            data = json.loads(marker[len("JETTISON-IMPORTS ") :])
            failed: dict[str, str] = data.get("failed") or {}
            ok: list[str] = data.get("ok") or []
            if failed:
                worst = "; ".join(f"{m}: {why}" for m, why in sorted(failed.items())[:5])
                return Check(
                    "imports",
                    False,
                    f"{len(failed)} of {len(failed) + len(ok)} "
                    f"installed packages fail to import: {worst}",
                    # compared module by module: one more broken package is a new failure
                    failure=",".join(sorted(failed)),
                )
            return Check("imports", True, f"{len(ok)} installed packages import")
        finally:
            _remove(container)
    return Check(
        "imports",
        True,
        "no Python in the image" + (f" ({last_error[:120]})" if last_error else ""),
        skipped=True,
    )


def verify(
    image: str,
    *,
    sdk: Any | None = None,
    startup_seconds: float = 5.0,
    probe_seconds: float = 30.0,
    imports: bool = True,
    import_timeout: float = 120.0,
    http_statuses: frozenset[int] = frozenset(),
    runs: list[RunSpec] | None = None,
) -> VerifyResult:
    """Smoke-check ``image`` (see the module documentation); containers are always removed.

    ``runs``: start the image once per entry (a compose service's command, user and
    environment) instead of once with its own ENTRYPOINT/CMD; each gets its own checks.
    """
    sdk = sdk or docker_client()
    try:
        attrs = sdk.api.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise JettisonError(f"no such image: {image}") from None
    config = attrs.get("Config") or {}
    result = VerifyResult(image=image)
    for run in runs or [RunSpec()]:
        has_command = run.command or run.entrypoint or config.get("Entrypoint") or config.get("Cmd")
        if not has_command:
            result.checks.append(
                Check("start" + run.suffix(), True, "no ENTRYPOINT or CMD", skipped=True)
            )
            continue
        try:
            result.checks.extend(
                _check_start(sdk, image, config, startup_seconds, probe_seconds, http_statuses, run)
            )
        except docker.errors.APIError as exc:
            why = str(exc.explanation or exc)[:300]
            result.checks.append(Check("start" + run.suffix(), False, why, failure=why))
    if imports:
        result.checks.append(_check_imports(sdk, image, import_timeout))
    return result
