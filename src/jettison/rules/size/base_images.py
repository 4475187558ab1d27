"""Official image names: which have a ``-slim`` variant, and what a full image carries."""

from __future__ import annotations

import re

# official images with a `-slim` variant, and where `slim` goes in their tags: python, ruby,
# perl and rust put it before the Debian suite (`3.11-slim-bookworm`), node after it
# (`20-bookworm-slim`, `lts-bookworm-slim`), debian after the release (`bookworm-slim`,
# `12-slim`). php, golang and others have no slim variant at all.
_SUITES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")


_VERSION = re.compile(r"^\d+(\.\d+)*$")


_SLIM_BEFORE_SUITE = {"python", "ruby", "perl", "rust"}


# a release name or number (`wheezy-slim` ... `trixie-slim`, `12-slim`); point releases got
# slim tags from Debian 9 on (`12.5-slim`), not before (`7.8-slim` never existed)
_DEBIAN_RELEASES = re.compile(r"^([a-z]+|\d+|(9|[1-9]\d)\.\d+)$")


SLIM_VARIANTS = _SLIM_BEFORE_SUITE | {"node", "debian", "openjdk"}


def slim_variant(image: str) -> str | None:
    """``python:3.11`` -> ``python:3.11-slim``; None when there is no slim variant (or its tag
    is not one the image's maintainers publish)."""
    ref = image.split("@", 1)[0]
    name, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "")
    repo = name.split("/")[-1]
    namespace = name.split("/")[0] if "/" in name else "library"
    if repo not in SLIM_VARIANTS or namespace not in ("library", "docker.io") or not tag:
        return None
    if repo == "debian":
        ok = _DEBIAN_RELEASES.match(tag) and tag != "latest"
        return f"{name}:{tag}-slim" if ok else None
    version, suite = tag, ""
    for candidate in _SUITES:
        if tag.endswith("-" + candidate):
            version, suite = tag[: -len(candidate) - 1], candidate
    if repo == "node":
        # a version, `lts`, `current` or an LTS codename (`carbon-slim`, `iron-bookworm-slim`)
        if not (_VERSION.match(version) or re.match(r"^[a-z]+$", version)) or version in (
            "latest",
            "alpine",
        ):
            return None
        return f"{name}:{version}-{suite}-slim" if suite else f"{name}:{version}-slim"
    if repo == "openjdk":
        m = re.match(r"^(\d+(\.\d+)*(u\d+)?)(-(jdk|jre))?$", version)
        if m is None:
            return None
    elif not _VERSION.match(version):
        return None  # -onbuild, -rc, -alpine, -windowsservercore ...: no slim twin
    return f"{name}:{version}-slim-{suite}" if suite else f"{name}:{version}-slim"
