"""JT510 apt-instead-of-apt-get: `apt` (the interactive front end) in a RUN."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.python._common import official_image
from jettison.rules.registry import Category, RuleContext, rule

# subcommands that do the same under apt-get, whatever the image
_SAME = frozenset({"update", "remove", "purge", "autoremove", "clean", "autoclean"})
# queries apt-cache answers for scripts
_QUERIES = frozenset({"search", "show", "showsrc", "policy", "depends", "rdepends"})
# `apt install` deletes the .deb files it downloaded, `apt-get install` keeps them in
# /var/cache/apt/archives, unless the image's docker-clean hook deletes them: which the
# official Debian and Ubuntu images, and those built on them, ship
_CLEAN_HOOK_IMAGES = frozenset(
    {"debian", "ubuntu", "python", "pypy", "buildpack-deps", "node", "ruby", "golang", "rust"}
)


@rule(
    "JT510",
    "apt-instead-of-apt-get",
    Category.CORRECTNESS,
    Severity.WARNING,
    "`apt` (the interactive front end) in a RUN",
    what="""
        Flags `apt install`, `apt update` and the other `apt` subcommands in a RUN, where
        `apt-get` (or `apt-cache` for `search`, `show` and `policy`) is the tool meant for
        scripts.
    """,
    why="""
        `apt` is made for people at a terminal: its command line may change between releases
        (it prints "WARNING: apt does not have a stable CLI interface. Use with caution in
        scripts." on every run), and its defaults (progress bars, `upgrade` installing new
        packages) are chosen for interactive use. A build that works today can break, or
        change what it installs, on the next base image.
    """,
    example="RUN apt update && apt install -y --no-install-recommends curl",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    fix="""
        Safe: replaces `apt` with `apt-get` for `update`, `remove`, `purge`, `autoremove`,
        `clean` and `autoclean`, which do the same under both. `apt install` deletes the
        packages it downloaded and `apt-get install` keeps them, so `install` is only
        rewritten on the official Debian and Ubuntu images and those built on them (python,
        node, ...), whose docker-clean hook deletes them, and not after a RUN that removes
        that hook. No fix for `upgrade` (apt also installs new packages there) nor for
        `search`, `show`, `list` and the other queries.
    """,
    notes="""
        Like hadolint DL3027, which has no fix; `apt` run through `sudo` or `env` is
        flagged too, and `apt-get`, `apt-cache` and `aptitude` are not.
    """,
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3027"},
)
def apt_instead_of_apt_get(ctx: RuleContext) -> Iterator[Finding]:
    source = ctx.dockerfile.source
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if cmd.name != "apt" or cmd.subcommand() is None:
                continue
            sub = cmd.subcommand()
            word = cmd.name_word
            edits = None
            if source[word.start : word.end] == "apt" and (
                sub in _SAME or (sub == "install" and _clean_hook_in_place(ins))
            ):
                edits = [Edit(word.start, word.end, "apt-get")]
            tool = "apt-cache" if sub in _QUERIES else "apt-get"
            yield ctx.report(
                f"`apt {sub}` in a script: use `{tool}`, whose command line is stable",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=edits,
            )


def _clean_hook_in_place(ins: Instruction) -> bool:
    """True when the image deletes downloaded .deb files after each install: an official
    Debian-family base, and no RUN before ``ins`` touches its docker-clean hook."""
    stage = ins.stage
    if stage is None or ins not in stage.instructions:
        return False  # an ONBUILD trigger runs on an image we cannot see
    if official_image(stage.root_image()) not in _CLEAN_HOOK_IMAGES:
        return False
    tag = stage.root_image().split("@", 1)[0].rsplit(":", 1)[-1]
    if "alpine" in tag:
        return False
    for other in stage.all_instructions():
        if other is ins:
            return True
        if other.keyword == "RUN" and "docker-clean" in other.text:
            return False
    return True
