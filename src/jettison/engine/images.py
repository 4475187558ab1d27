"""Images in the engine, through the SDK: inspect, list, tag and push, remove."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from jettison.engine.client import docker_client
from jettison.errors import JettisonError


@dataclass
class ImageInfo:
    id: str
    size_bytes: int
    layers: int  # filesystem layers (RootFS), what `docker image inspect` lists
    config: dict[str, Any] = field(default_factory=dict)
    layer_digests: tuple[str, ...] = ()  # RootFS diff ids: equal tuples, equal filesystems


def image_info(ref: str, sdk: Any | None = None) -> ImageInfo:
    """Id, size and layer count of an image in the engine (``docker image inspect``)."""
    sdk = sdk or docker_client()
    try:
        attrs = sdk.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        raise JettisonError(f"no such image: {ref}") from None
    except docker.errors.APIError as exc:
        raise JettisonError(f"cannot inspect image {ref}: {exc.explanation or exc}") from None
    layers = (attrs.get("RootFS") or {}).get("Layers") or []
    return ImageInfo(
        id=str(attrs["Id"]),
        size_bytes=int(attrs.get("Size") or 0),
        layers=len(layers),
        config=dict(attrs.get("Config") or {}),
        layer_digests=tuple(str(d) for d in layers),
    )


def remove_image(ref: str, sdk: Any | None = None) -> bool:
    """Remove an image jettison built; False when it is gone already or still in use."""
    sdk = sdk or docker_client()
    try:
        sdk.api.remove_image(ref, force=False, noprune=False)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError:
        return False
    return True


def remove_images(refs: Sequence[str], sdk: Any | None = None) -> None:
    """Remove images by tag or id, forced (gone already is fine)."""
    sdk = sdk or docker_client()
    for ref in refs:
        with contextlib.suppress(docker.errors.APIError):
            sdk.api.remove_image(ref, force=True)


def image_ids(sdk: Any) -> set[str]:
    """The ids of every image in the engine (intermediate ones too); empty if it cannot
    list them."""
    try:
        return {str(i["Id"]) for i in sdk.api.images(all=True)}
    except Exception:  # listing is a safety net only; an empty set removes nothing extra
        return set()


def server_version(sdk: Any) -> str:
    """The engine's version, ``?`` when it does not say."""
    return str(sdk.version().get("Version", "?"))


def image_attrs(ref: str, sdk: Any) -> dict[str, Any]:
    """``docker image inspect`` of ``ref`` as the engine answers it."""
    return dict(sdk.api.inspect_image(ref))


def image_author(ref: str, sdk: Any) -> str:
    """The image's Author field (MAINTAINER), ``""`` when it has none or cannot be read."""
    try:
        return str(sdk.api.inspect_image(ref).get("Author") or "")
    except docker.errors.APIError:
        return ""


def image_size(ref: str, sdk: Any) -> int | None:
    """The image's size in bytes, None when unknown (no such image, no size)."""
    try:
        return int(sdk.api.inspect_image(ref).get("Size") or 0) or None
    except (docker.errors.APIError, ValueError):
        return None


def push_image(sdk: Any, image_id: str, ref: str) -> None:
    """Tag ``image_id`` as ``ref`` (``repo:tag``) and push it."""
    repo, _, tag = ref.rpartition(":")
    try:
        sdk.api.tag(image_id, repo, tag)
        for event in sdk.api.push(repo, tag, stream=True, decode=True):
            if isinstance(event, dict) and event.get("error"):
                raise JettisonError(f"push of {ref} failed: {event['error']}")
    except docker.errors.APIError as exc:
        raise JettisonError(f"push of {ref} failed: {exc.explanation or exc}") from None
