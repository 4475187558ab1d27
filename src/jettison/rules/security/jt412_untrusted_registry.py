"""JT412 untrusted-registry: a base image from a registry the configuration does not trust."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.registry import Category, RuleContext, rule

# the names Docker Hub goes by: an image without a registry comes from there
_DOCKER_HUB = ("docker.io", "hub.docker.com", "index.docker.io", "registry-1.docker.io")


def registry_of(image: str) -> str | None:
    """The registry an image reference names (as Docker reads it: a first component with a
    dot, a port or ``localhost``), lower-case; None for Docker Hub's short names."""
    first, slash, _ = image.split("@", 1)[0].partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return None


def _registry_from_argument(written: str) -> bool:
    """Whether a build argument decides the registry of ``FROM written``: one in the part
    before the first ``/``, or, without a ``/``, in the name before the tag (``${IMAGE}``
    may expand to ``quay.io/app``); ``python:${TAG}`` and ``quay.io/app:${TAG}`` are
    known."""
    ref = written.split("@", 1)[0]
    if "/" in ref:
        return "$" in ref.split("/", 1)[0]
    return "$" in (ref.rsplit(":", 1)[0] if ":" in ref else ref)


def is_trusted(registry: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether ``registry`` (None: Docker Hub) matches a pattern: a name, ``*.example.com``
    (its subdomains), ``prefix*``, or ``*`` (any)."""
    names = _DOCKER_HUB if registry is None or registry in _DOCKER_HUB else (registry,)
    for pattern in patterns:
        p = pattern.strip().lower()
        for name in names:
            if (
                p in ("*", name)
                or (p.startswith("*.") and name.endswith(p[1:]))
                or (p.endswith("*") and name.startswith(p[:-1]))
            ):
                return True
    return False


@rule(
    "JT412",
    "untrusted-registry",
    Category.SECURITY,
    Severity.ERROR,
    "base image from a registry that is not trusted",
    what="Flags a `FROM` whose image comes from a registry the configuration does not list: "
    "`trusted-registries` in jettison's configuration, or `trustedRegistries` in "
    "`.hadolint.yaml`. Without such a list the rule flags nothing.",
    why="A base image is code that runs in every build and every container: teams that mirror "
    "or vet their images (a company registry, a pull-through cache) want every Dockerfile "
    "to use them, and a copy from an unknown registry is a supply-chain risk.",
    example='# trusted-registries = ["registry.example.com"]\nFROM random.io/debian:12',
    use_instead="FROM registry.example.com/mirror/debian:12",
    notes="Names match whole, ignoring case (`ghcr.io`; a port is part of the name: "
    "`localhost:5000`), by their subdomains (`*.example.com`) or by a prefix "
    "(`registry.example.*`); `*` trusts every registry. An image without a registry comes "
    "from Docker Hub, which is trusted under any of its names (`docker.io`, "
    "`index.docker.io`, `hub.docker.com`). `scratch` and earlier stages are never flagged, "
    "nor an image whose registry is a build argument without a default (known only at "
    "build time); `quay.io/app:${TAG}` is checked. hadolint's DL3026 reads the same "
    "`trustedRegistries`, but flags `FROM ${IMAGE}` whatever the build argument will be.",
    equivalents={"hadolint": "DL3026"},
)
def untrusted_registry(ctx: RuleContext) -> Iterator[Finding]:
    trusted = ctx.trusted_registries
    if not trusted:
        return
    for stage in ctx.stages:
        image = stage.base_resolved
        if stage.parent is not None:
            continue
        if stage.base_unresolved and _registry_from_argument(stage.base):
            continue
        if image.lower() == "scratch":
            continue
        registry = registry_of(image)
        if is_trusted(registry, trusted):
            continue
        where = registry or "Docker Hub (docker.io)"
        shown = stage.base if stage.base_unresolved else image
        yield ctx.report(
            f"`FROM {shown}` comes from {where}, which is not a trusted registry "
            f"({', '.join(trusted)})",
            stage.from_instruction,
        )
