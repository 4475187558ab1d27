"""JT111 full-base-image: the final image is built on a full base image that has a -slim variant."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size.base_images import slim_variant

# what the full variant adds over the slim one
_FULL_EXTRAS = {
    "debian": "documentation, man pages and locales",
    "openjdk": "version-control tools and documentation",
}


def full_image_extras(image: str) -> str:
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return _FULL_EXTRAS.get(repo, "compilers, headers and docs")


@rule(
    "JT111",
    "full-base-image",
    Category.SIZE,
    Severity.WARNING,
    "the final image is built on a full base image that has a -slim variant",
    what="Flags `FROM python:3.11` (and node, debian, ruby, perl, rust, openjdk) for the "
    "final image when a `-slim` variant of that tag is published, named as the image names "
    "it (`python:3.11-slim-bookworm`, `node:20-bookworm-slim`, `debian:bookworm-slim`).",
    why="""
        `python:3.11` is about 1 GB with compilers and headers; `python:3.11-slim` about
        130 MB. Most runtimes need none of the extras.
        `debian:bookworm` carries no compilers, but `bookworm-slim` still leaves out
        documentation, man pages and locales (about 40 MB).
    """,
    example="FROM python:3.11",
    use_instead="FROM python:3.11-slim",
    fix="Unsafe: switches the tag to the `-slim` variant; the app may use a tool only the "
    "full image has, so verify with `jettison bench`.",
    fix_safety=FixSafety.UNSAFE,
)
def full_base(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image or stage.parent is not None:
            continue
        slim = slim_variant(stage.base_resolved)
        if slim is None:
            continue
        ins = stage.from_instruction
        edits = []
        if stage.base_resolved == stage.base:
            src = ctx.dockerfile.source
            pos = src.find(stage.base, ins.keyword_end, ins.end)
            if pos != -1:
                edits.append(Edit(pos, pos + len(stage.base), slim))
        yield ctx.report(
            f"`{stage.base_resolved}` is a full image; `{slim}` leaves out "
            f"{full_image_extras(stage.base_resolved)}",
            ins,
            edits=edits,
        )
