"""Smoke check: does an image still work?

``verify(image)`` runs up to three checks, each bounded in time, and removes every
container it starts:

1. **start**: the image's ENTRYPOINT/CMD runs in a container. A container that exits
   non-zero within ``startup_seconds`` fails (with the tail of its output); one that exits
   0 is a one-shot command that passed; one still running then is a service.
2. **ports**: for a service that EXPOSEs TCP ports, each port is published on 127.0.0.1 and
   probed until ``probe_seconds`` have passed: an HTTP request to ``/`` that gets a status
   below 500 passes, so does a TCP port that accepts connections but does not speak HTTP.
   A port that never accepts, or a container that dies meanwhile, fails.
3. **imports** (Python images): in a second container (no network), the image's own
   ``python3`` (from its PATH, so a virtualenv on PATH is the one checked) imports the
   top-level module of every installed distribution (packaging tools excepted: pip,
   setuptools, wheel are not the application's dependencies). A package whose dependency or
   shared library was pruned fails to import, and the check names it. Images without
   Python skip this check.
"""

from __future__ import annotations

import contextlib
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
    name: str  # start | ports | imports
    ok: bool
    detail: str
    skipped: bool = False


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


def _remove(container: Any) -> None:
    with contextlib.suppress(docker.errors.APIError, docker.errors.NotFound):
        container.remove(force=True)


def _http_probe(port: int, timeout: float) -> tuple[bool, str] | None:
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
        return status < 500, f"HTTP {status}"
    return True, "TCP service answers"


def _check_ports(container: Any, ports: list[str], deadline: float) -> Check:
    container.reload()
    bindings = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    pending = {}
    for port in ports:
        host = bindings.get(port) or []
        if host:
            pending[port] = int(host[0]["HostPort"])
    if not pending:
        return Check("ports", False, "exposed ports were not published")
    answered: list[str] = []
    while pending and time.monotonic() < deadline:
        for port, host_port in list(pending.items()):
            result = _http_probe(host_port, timeout=2.0)
            if result is None:
                continue
            passed, what = result
            if not passed:
                return Check("ports", False, f"{port} answers {what}")
            answered.append(f"{port} {what}")
            del pending[port]
        if pending:
            container.reload()
            if container.status not in ("running", "created"):
                code = container.attrs.get("State", {}).get("ExitCode")
                return Check(
                    "ports",
                    False,
                    f"container exited with code {code} before "
                    f"{', '.join(pending)} answered: {_tail(container)}",
                )
            time.sleep(0.5)
    if pending:
        return Check("ports", False, f"no answer on {', '.join(pending)} within the time limit")
    return Check("ports", True, ", ".join(answered))


def _check_start(
    sdk: Any, image: str, config: dict[str, Any], startup_seconds: float, probe_seconds: float
) -> list[Check]:
    exposed = [p for p in (config.get("ExposedPorts") or {}) if p.endswith("/tcp")]
    name = f"jettison-verify-{secrets.token_hex(4)}"
    container = sdk.containers.create(
        image,
        name=name,
        detach=True,
        labels={"org.jettison.verify": "1"},
        ports={p: ("127.0.0.1", None) for p in exposed},
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
                    return [Check("start", True, "one-shot command exited 0")]
                return [
                    Check(
                        "start",
                        False,
                        f"exited with code {code} after "
                        f"{time.monotonic() - started:.1f}s: {_tail(container)}",
                    )
                ]
            time.sleep(0.25)
        checks = [Check("start", True, f"still running after {startup_seconds:g}s")]
        if exposed:
            checks.append(_check_ports(container, exposed, time.monotonic() + probe_seconds))
        else:
            checks.append(Check("ports", True, "no TCP port exposed", skipped=True))
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
                return Check("imports", False, f"importing packages took over {timeout:g}s")
            output = container.logs().decode("utf-8", "replace")
            marker = next(
                (ln for ln in output.splitlines() if ln.startswith("JETTISON-IMPORTS ")), None
            )
            if marker is None:
                if status.get("StatusCode") in (126, 127):
                    last_error = output.strip()[-200:]
                    continue
                return Check("imports", False, f"{python} failed: {output.strip()[-300:]}")
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
) -> VerifyResult:
    """Smoke-check ``image`` (see the module documentation); containers are always removed."""
    sdk = sdk or docker_client()
    try:
        attrs = sdk.api.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise JettisonError(f"no such image: {image}") from None
    config = attrs.get("Config") or {}
    result = VerifyResult(image=image)
    if config.get("Entrypoint") or config.get("Cmd"):
        try:
            result.checks.extend(_check_start(sdk, image, config, startup_seconds, probe_seconds))
        except docker.errors.APIError as exc:
            result.checks.append(Check("start", False, str(exc.explanation or exc)[:300]))
    else:
        result.checks.append(Check("start", True, "no ENTRYPOINT or CMD", skipped=True))
    if imports:
        result.checks.append(_check_imports(sdk, image, import_timeout))
    return result
