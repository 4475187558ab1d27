"""Image and container filesystems streamed out of the engine through the Docker SDK.

``jettison inspect`` and ``deps --image`` read ``docker save`` through :mod:`.api` (no SDK
import); this module serves the transports only the SDK speaks (``ssh://``) and the semantic
check of fixes, which reads the merged filesystem of a container that is created and never
started. Failures are raised as the three exceptions below, each carrying the SDK's own
exception, so every caller words its message for its users.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from jettison.errors import EngineUnavailableError


class NoEngine(Exception):
    """No engine answers (``original``: the SDK's exception)."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class NoSuchImage(LookupError):
    """The engine has no image of that name."""


class EngineCallFailed(Exception):
    """The engine refused a call (``explanation``: its reason)."""

    def __init__(self, original: Any) -> None:
        super().__init__(str(original))
        self.original = original
        self.explanation = getattr(original, "explanation", None)


def sdk_client(timeout: int | None = None, missing: str = "") -> Any:
    """A pinged SDK client; ``EngineUnavailableError(missing + reason)`` without the SDK."""
    try:
        import docker
        import docker.errors
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EngineUnavailableError(missing or f"the Docker SDK is not installed: {exc}") from None
    try:
        client = docker.from_env() if timeout is None else docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise NoEngine(exc) from None
    return client


def save_stream(
    name: str, chunk_size: int, closers: list[Callable[[], None]]
) -> tuple[str, Iterator[bytes]]:
    """``docker save`` of image ``name`` as chunks: (image id, chunks); the client is closed
    by ``closers``."""
    client = sdk_client(timeout=600, missing="the docker package is not installed")
    import docker.errors

    closers.append(client.close)
    try:
        image = client.images.get(name)
    except docker.errors.ImageNotFound:
        raise NoSuchImage(name) from None
    except docker.errors.APIError as exc:
        raise EngineCallFailed(exc) from None
    image_id = str(image.id)
    return image_id, iter(client.api.get_image(image_id, chunk_size=chunk_size))


@contextlib.contextmanager
def container_filesystem(image: str, labels: dict[str, str]) -> Iterator[Iterator[bytes]]:
    """The merged filesystem of ``image`` as tar chunks, from a container created for it
    and never started (removed on the way out)."""
    client = sdk_client()
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise NoSuchImage(image) from None
    except docker.errors.APIError as exc:
        raise EngineCallFailed(exc) from None
    container = None
    try:
        # never started: the entrypoint only has to be syntactically present
        container = client.containers.create(
            image, entrypoint=["/jettison-never-runs"], command=[], labels=labels
        )
        yield iter(container.export(chunk_size=1 << 20))
    except docker.errors.APIError as exc:
        raise EngineCallFailed(exc) from None
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
