"""Containers jettison starts to check or scan an image: run one to its exit, watch one
become healthy, clean up after host-side checks. Every container is removed on the way out.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import docker.errors

from jettison.errors import JettisonError


@dataclass
class ContainerRun:
    code: int | None  # None: still running after the timeout (then killed)
    logs: str


def run_to_exit(
    sdk: Any,
    image: str,
    entrypoint: Sequence[str],
    *,
    name_prefix: str,
    timeout: float,
    user: str | None = None,
    labels: dict[str, str] | None = None,
    purpose: str = "",
) -> ContainerRun:
    """Run ``entrypoint`` in a container of ``image`` without network; its exit code and
    output. An engine that refuses the container is a :class:`JettisonError` saying
    "cannot PURPOSE" (default: start a container of IMAGE)."""
    options: dict[str, Any] = {"network_mode": "none"}
    if user is not None:
        options["user"] = user
    if labels:
        options["labels"] = labels
    try:
        container = sdk.containers.create(
            image,
            entrypoint=list(entrypoint),
            command=[],
            name=f"{name_prefix}-{secrets.token_hex(4)}",
            **options,
        )
    except docker.errors.APIError as exc:
        raise JettisonError(
            f"cannot start a container of {image}: {exc.explanation or exc}"
        ) from None
    try:
        container.start()
        try:
            code = int(container.wait(timeout=timeout).get("StatusCode", 1))
        except Exception:  # the SDK raises requests' timeout types
            return ContainerRun(None, "")
        return ContainerRun(code, container.logs().decode("utf-8", "replace"))
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


def wait_healthy(sdk: Any, image: str, limit: float) -> tuple[str, str]:
    """Start ``image`` with its own command and follow its HEALTHCHECK for ``limit`` seconds:
    the last health status (healthy, unhealthy, starting, none) and the last check's output."""
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
            if status == "healthy" or status == "unhealthy" or state.get("Status") == "exited":
                break
            time.sleep(1.0)
        log = ((container.attrs.get("State") or {}).get("Health") or {}).get("Log") or []
        last = (log[-1].get("Output") or "").strip()[-200:] if log else ""
        return status, last
    finally:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


def remove_containers_of(sdk: Any, image: str) -> None:
    """Containers a host-side check started from ``image`` and left behind."""
    with contextlib.suppress(docker.errors.APIError):
        for container in sdk.containers.list(all=True, filters={"ancestor": image}):
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
