"""Generate a ``.dockerignore`` from a context scan that never hides what a COPY/ADD needs."""

from __future__ import annotations

import re
from pathlib import Path

from jettison.build_context.matcher import PatternMatcher
from jettison.build_context.scan import DEFAULT_IGNORES, ContextScan
from jettison.dockerfile import Command, Dockerfile


def copied_sources(dockerfiles: list[Dockerfile]) -> list[str]:
    """Context paths that COPY/ADD instructions read (as written, without leading ./)."""
    sources = []
    for df in dockerfiles:
        for ins in df.instructions:
            if ins.keyword in ("COPY", "ADD") and not ins.flag("from") and len(ins.args) >= 2:
                for src in ins.args[:-1]:
                    if "://" in src:
                        continue
                    sources.append(src.removeprefix("./").rstrip("/") or ".")
        for ins in df.instructions:
            for flag in ins.flags_named("mount"):
                opts = flag.options()
                if opts.get("type") == "bind" and "from" not in opts and opts.get("source"):
                    sources.append(opts["source"].removeprefix("./").rstrip("/"))
    return sources


def safe_patterns(candidates: list[str], sources: list[str]) -> list[str]:
    """The candidate patterns that exclude nothing a COPY/ADD names explicitly."""
    keep = []
    for pattern in candidates:
        matcher = PatternMatcher([pattern])
        if any(
            src not in (".", "*") and (matcher.matches(src) or _inside(pattern, src))
            for src in sources
        ):
            continue
        keep.append(pattern)
    return keep


def _inside(pattern: str, src: str) -> bool:
    # COPY of a parent directory of an ignored entry is fine; COPY of the entry itself is not
    bare = pattern.removeprefix("**/")
    return src == bare or src.startswith(bare + "/")


# build backends and plugins that compute the version from the repository's history
_VCS_VERSIONING = (
    "setuptools_scm",
    "setuptools-scm",
    "use_scm_version",
    "hatch-vcs",
    "hatch_vcs",
    "versioningit",
    "dunamai",
    "poetry-dynamic-versioning",
    "uv-dynamic-versioning",
    "versioneer",
    "pbr",
)
_PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
# git subcommands that never read the context's repository
_GIT_WITHOUT_REPO = {"clone", "init", "ls-remote", "config", "--version", "version", "help"}


def git_history_needed(root: Path, dockerfiles: list[Dockerfile]) -> str | None:
    """Why the build reads ``.git`` (so a generated ``.dockerignore`` must keep it), or None.

    A RUN that runs git on the copied sources (``git rev-parse HEAD``, ``git describe``), or
    an install of the project itself when its version comes from the repository
    (setuptools-scm, hatch-vcs, versioneer ...): without ``.git`` that build fails.
    """
    for df in dockerfiles:
        for ins in df.instructions:
            script = ins.script if ins.keyword == "RUN" else None
            for cmd in script.commands if script is not None else []:
                sub = cmd.subcommand()
                if cmd.name == "git" and sub not in _GIT_WITHOUT_REPO:
                    return f"`git {sub}` runs at {df.path}:{ins.line}"
    tool = _vcs_versioning(root)
    if tool is None:
        return None
    for df in dockerfiles:
        for ins in df.instructions:
            script = ins.script if ins.keyword == "RUN" else None
            for cmd in script.commands if script is not None else []:
                if _installs_local_project(cmd):
                    return f"the project's version comes from {tool} ({df.path}:{ins.line})"
    return None


def _vcs_versioning(root: Path) -> str | None:
    for name in _PROJECT_FILES:
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for tool in _VCS_VERSIONING:
            if re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", text):
                return tool
    return None


def _installs_local_project(cmd: Command) -> bool:
    """``pip install .``, ``pip install -e /app``, ``python -m build``, ``setup.py``,
    ``poetry/pdm install``, ``uv sync``: builds the project from its sources."""
    values = cmd.arg_values
    if cmd.name in ("poetry", "pdm") and cmd.subcommand() in ("install", "build"):
        return True
    if cmd.name == "uv" and cmd.subcommand() in ("sync", "build"):
        return True
    if cmd.name.startswith("python") and ("build" in values[:2] or "setup.py" in values[:1]):
        return True
    if cmd.name in ("pip", "pip3", "uv") or cmd.name.startswith("python"):
        if "install" not in values:
            return False
        after = values[values.index("install") + 1 :]
        return any(v in (".", "./") or v.startswith(("./", "/", "..")) for v in after)
    return False


def generate_dockerignore(
    scan: ContextScan, dockerfiles: list[Dockerfile], keep_git: bool = False
) -> str:
    """Content for a new ``.dockerignore``: the defaults that exist in this context, plus
    always `.git` (unless the build reads it: ``keep_git``) and `.env`, minus anything a
    COPY/ADD needs; the Dockerfiles themselves stay in the context only if copied."""
    present = set(scan.present_defaults)
    wanted = [
        p
        for p, _ in DEFAULT_IGNORES
        if (p in present or p in (".git", ".env", "**/__pycache__", "**/*.pyc"))
        and not (keep_git and p == ".git")
    ]
    sources = copied_sources(dockerfiles)
    patterns = safe_patterns(wanted, sources)
    lines = [
        "# Generated by jettison: files the image never needs (see `jettison audit`).",
        "# Keep the build context small: it is sent to the builder on every build.",
    ]
    lines += patterns
    return "\n".join(lines) + "\n"
