"""JT103 pip-cache-kept: `pip install` keeps its download cache in the image."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, ImageChanges, RuleContext, rule

_TRUTHY = {"1", "true", "yes", "on"}


def _pip_cache_disabled(ins: Instruction) -> bool:
    value = ins.variables.get("PIP_NO_CACHE_DIR", "").lower()
    # pip reads PIP_NO_CACHE_DIR=off/false/0 as "disable the cache" too (a known pip quirk)
    return value in _TRUTHY | {"off", "false", "0", "no"} and "PIP_NO_CACHE_DIR" in ins.variables


def _runs_as_root(ins: Instruction) -> bool:
    """True when no USER before ``ins`` (in its stage and the stages it is built FROM) names
    another user than root."""
    user = "root"
    if ins.stage is not None:
        for other in ins.stage.all_instructions():
            if other is ins:
                break
            if other.keyword == "USER" and other.args:
                user = other.args[0].split(":", 1)[0]
    return user in ("root", "0")


def _pip_cache_dirs(ins: Instruction) -> list[str]:
    """Where pip keeps its cache for this RUN (removing a directory above it counts too)."""
    dirs = ["~/.cache/pip", "$HOME/.cache/pip", "${HOME}/.cache/pip"]
    if ins.variables.get("PIP_CACHE_DIR"):
        dirs.append(ins.variables["PIP_CACHE_DIR"])
    elif ins.variables.get("XDG_CACHE_HOME"):
        dirs.append(ins.variables["XDG_CACHE_HOME"].rstrip("/") + "/pip")
    elif _runs_as_root(ins):
        dirs.append("/root/.cache/pip")
    return dirs


@rule(
    "JT103",
    "pip-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`pip install` keeps its download cache in the image",
    what="""
        Flags `pip install` (also `python -m pip install`) in a stage of the final image
        without `--no-cache-dir`, without `PIP_NO_CACHE_DIR` in the environment and without a
        BuildKit cache mount on pip's cache directory.
    """,
    why="""
        pip keeps every downloaded wheel in `~/.cache/pip`. For a typical web service that is
        tens of MB; for ML stacks (torch, numpy, scipy) hundreds of MB, in the layer forever.
    """,
    example="RUN pip install -r requirements.txt",
    use_instead="""
        RUN pip install --no-cache-dir -r requirements.txt
        # or, with BuildKit, keep the cache outside the image and across builds:
        RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
    """,
    fix="Safe: inserts `--no-cache-dir` after `install`; in a file that already uses BuildKit "
    "features, adds a cache mount on `/root/.cache/pip` to the RUN instead (same image, "
    "faster rebuilds).",
    notes="""
        Like hadolint DL3042, `PIP_NO_CACHE_DIR` and cache mounts count as compliant;
        unlike it, builder stages are not flagged (a cache there never reaches the final
        image), nor is an install whose RUN removes pip's cache (or a directory above it, as
        in `rm -rf /root/.cache` for root) afterwards, and `uv pip` is left to its own cache
        rules.
    """,
    fix_safety=FixSafety.SAFE,
    image_changes=ImageChanges(
        removed=("*/.cache/pip", "*/.cache/pip/*"), why="pip's download cache is not kept"
    ),
    equivalents={"hadolint": "DL3042"},
)
def pip_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        if _pip_cache_disabled(ins) or any(
            ".cache/pip" in t or t.rstrip("/") in ("/root/.cache", "/tmp/pip-cache")
            for t in ins.cache_mount_targets()
        ):
            continue
        if "PIP_CACHE_DIR" in ins.variables and any(
            t.rstrip("/") == ins.variables["PIP_CACHE_DIR"].rstrip("/")
            for t in ins.cache_mount_targets()
        ):
            continue
        for cmd in sh.pip_installs(ins):
            if cmd.has_flag("--no-cache-dir", "--no-cache"):
                continue
            if sh.removes(ins, *_pip_cache_dirs(ins), after=cmd.start):
                continue  # `rm -rf /root/.cache` after the install: the layer keeps no cache
            if ctx.dockerfile.uses_buildkit_features:
                # the file already needs BuildKit: keep the cache, outside the image
                mount = "--mount=type=cache,target=/root/.cache/pip "
                edit: Edit | None = Edit(ins.keyword_end + 1, ins.keyword_end + 1, mount)
            else:
                edit = sh.insert_after_word(cmd, "install", "--no-cache-dir")
            yield ctx.report(
                "`pip install` without `--no-cache-dir` leaves pip's download cache in the layer",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )
