"""The edits the change scenarios make in the bench's copies of a build context: which file a
developer would change (an application source file, the dependency manifest) and a change
that alters its bytes but not what it means."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from jettison.audit.discovery import SKIP_DIRS
from jettison.build_context.matcher import PatternMatcher
from jettison.errors import JettisonError

SOURCE_COMMENT = {
    ".py": "#",
    ".rb": "#",
    ".sh": "#",
    ".pl": "#",
    ".r": "#",
    ".ex": "#",
    ".exs": "#",
    ".js": "//",
    ".mjs": "//",
    ".cjs": "//",
    ".ts": "//",
    ".tsx": "//",
    ".jsx": "//",
    ".go": "//",
    ".java": "//",
    ".kt": "//",
    ".scala": "//",
    ".rs": "//",
    ".c": "//",
    ".cc": "//",
    ".cpp": "//",
    ".h": "//",
    ".cs": "//",
    ".php": "//",
    ".swift": "//",
}
DEPENDENCY_MANIFESTS = (
    "requirements.txt",
    "pyproject.toml",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "Pipfile.lock",
    "setup.cfg",
    "setup.py",
    "environment.yml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "Gemfile",
    "Gemfile.lock",
    "Cargo.toml",
    "composer.json",
)

_TEST_PARTS = {"test", "tests", "testing", "spec", "docs", "examples", "scripts", "benchmarks"}


def _append(path: Path, text: str) -> None:
    # the workspace keeps the context's symlinks as links: writing through one would edit
    # the user's own file (or one outside the project)
    if path.is_symlink():
        raise JettisonError(f"refusing to edit a symbolic link in the bench copy: {path}")
    data = path.read_bytes()
    sep = b"" if not data or data.endswith(b"\n") else b"\n"
    path.write_bytes(data + sep + text.encode("utf-8"))


def change_file(path: Path, marker: str) -> None:
    """A change that alters the file's bytes but not what it means."""
    suffix = path.suffix.lower()
    if suffix == ".json" or path.name.endswith(".json"):
        # JSON has no comments: trailing whitespace spelling the marker's hash in spaces/tabs
        bits = int(hashlib.sha256(marker.encode()).hexdigest()[:8], 16)
        _append(path, "".join(" \t"[(bits >> i) & 1] for i in range(32)) + "\n")
    elif suffix in SOURCE_COMMENT:
        _append(path, f"{SOURCE_COMMENT[suffix]} {marker}\n")
    else:
        # requirements, TOML, YAML, Pipfile, Gemfile, lock files with '#' comments
        _append(path, f"# {marker}\n")


def _included(rel: str, pattern_sets: list[list[str]]) -> bool:
    for patterns in pattern_sets:
        if patterns and PatternMatcher(patterns).matches(rel):
            return False
    return True


def choose_code_file(
    context: Path, dockerfile_text: str, pattern_sets: list[list[str]]
) -> str | None:
    """The application source file a developer would edit: sent to the builder by every
    variant, not a test, preferably named in CMD/ENTRYPOINT (``app:app`` -> app.py)."""
    candidates: list[str] = []
    for dirpath, dirnames, filenames in os.walk(context):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel_dir = os.path.relpath(dirpath, context)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        if any(p.lower() in _TEST_PARTS for p in parts):
            continue
        for name in sorted(filenames):
            suffix = os.path.splitext(name)[1].lower()
            if suffix not in SOURCE_COMMENT or name in ("setup.py", "conftest.py"):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                continue  # a link: its target may be outside the context (never edited)
            if name.startswith("test_") or name.endswith(("_test.py", ".test.js", ".spec.js")):
                continue
            rel = "/".join([*parts, name])
            if _included(rel, pattern_sets):
                candidates.append(rel)
        if len(candidates) > 5000:
            break
    if not candidates:
        return None
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _run_lines(dockerfile_text)))

    def rank(rel: str) -> tuple[int, int, str]:
        stem = Path(rel).stem
        return (0 if stem in words else 1, rel.count("/"), rel)

    return sorted(candidates, key=rank)[0]


def _run_lines(text: str) -> str:
    return "\n".join(
        ln for ln in text.splitlines() if ln.lstrip().upper().startswith(("CMD", "ENTRYPOINT"))
    )


def choose_deps_file(
    context: Path, dockerfile_text: str, pattern_sets: list[list[str]]
) -> str | None:
    """The dependency manifest the Dockerfile copies, else one at the context's top."""
    mentioned = set(
        re.findall(
            r"[\w./-]+",
            " ".join(
                ln
                for ln in dockerfile_text.splitlines()
                if ln.lstrip().upper().startswith(("COPY", "ADD", "RUN"))
            ),
        )
    )
    found: list[str] = []
    for rel in sorted(mentioned):
        rel = rel.lstrip("./")
        name = Path(rel).name
        if (
            (name in DEPENDENCY_MANIFESTS or re.fullmatch(r"requirements[\w.-]*\.txt", name))
            and _plain_file_inside(context, rel)
            and _included(rel, pattern_sets)
        ):
            found.append(rel)
    if found:
        return found[0]
    for name in DEPENDENCY_MANIFESTS:
        if _plain_file_inside(context, name) and _included(name, pattern_sets):
            return name
    return None


def _plain_file_inside(context: Path, rel: str) -> bool:
    """A regular file (not a link) whose real path is inside ``context``: safe to edit in
    the bench's copy of the context."""
    path = context / rel
    try:
        return (
            path.is_file()
            and not path.is_symlink()
            and path.resolve().is_relative_to(context.resolve())
        )
    except OSError:
        return False
