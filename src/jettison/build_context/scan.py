"""Scan a build context the way the builder sees it: which files ``.dockerignore`` sends.

Matching uses the Docker SDK's ``PatternMatcher`` (Docker's own semantics: ``**``, ``!``
exceptions, leading ``/`` trimmed) rather than a home-made variant, loaded without the rest
of the SDK (``jettison.build_context.matcher``).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from jettison.build_context.matcher import PatternMatcher
from jettison.errors import JettisonError

# directories and files that never belong in a Python/Node build context
DEFAULT_IGNORES: tuple[tuple[str, str], ...] = (
    (".git", "version control history"),
    (".hg", "version control history"),
    (".svn", "version control history"),
    ("**/__pycache__", "Python bytecode caches"),
    ("**/*.pyc", "Python bytecode"),
    (".venv", "local virtualenv"),
    ("venv", "local virtualenv"),
    ("env", "local virtualenv"),
    ("**/node_modules", "local Node.js packages (install them in the image)"),
    (".env", "local environment and secrets"),
    ("**/.pytest_cache", "test cache"),
    (".mypy_cache", "type-checker cache"),
    (".ruff_cache", "linter cache"),
    (".tox", "test environments"),
    (".coverage", "coverage data"),
    ("htmlcov", "coverage report"),
    (".idea", "editor settings"),
    (".vscode", "editor settings"),
    ("**/.DS_Store", "macOS metadata"),
    ("**/*.log", "log files"),
    ("dist", "built packages"),
    ("build", "build output"),
    ("*.egg-info", "packaging metadata"),
)

# what audit rule JT602 insists on when present in the context
REQUIRED_IGNORES = (
    ".git",
    "**/__pycache__",
    "**/*.pyc",
    ".venv",
    "venv",
    "**/node_modules",
    ".env",
)

SECRET_NAMES = {
    "id_rsa": "SSH private key",
    "id_dsa": "SSH private key",
    "id_ecdsa": "SSH private key",
    "id_ed25519": "SSH private key",
    ".env": "environment file",
    ".netrc": "netrc credentials",
    ".pypirc": "PyPI credentials",
    ".npmrc": "npm credentials",
    "credentials": "credentials file",
    "credentials.json": "credentials file",
    ".git-credentials": "git credentials",
    "secrets.json": "secrets file",
    "secrets.yaml": "secrets file",
    "secrets.yml": "secrets file",
    "service-account.json": "cloud service account key",
    ".htpasswd": "password file",
    "config.json": "",
    "terraform.tfstate": "Terraform state with secrets",
}
SECRET_SUFFIXES = {
    ".pem": "PEM key or certificate",
    ".key": "private key",
    ".p12": "PKCS#12 key",
    ".pfx": "PKCS#12 key",
    ".jks": "Java keystore",
    ".keystore": "keystore",
    ".ppk": "PuTTY private key",
    ".kdbx": "password database",
}


@dataclass
class Entry:
    path: str  # relative, '/'-separated
    size: int
    is_dir: bool = False


@dataclass
class ContextScan:
    root: Path
    dockerignore: Path | None
    patterns: list[str]
    included_bytes: int = 0
    included_files: int = 0
    excluded_bytes: int = 0
    excluded_files: int = 0
    # size per top-level entry that is sent, biggest first
    top_entries: list[Entry] = field(default_factory=list)
    secrets: list[tuple[str, str]] = field(default_factory=list)  # (path, kind), sent only
    present_defaults: dict[str, int] = field(default_factory=dict)  # pattern -> bytes sent
    truncated: bool = False

    def is_excluded(self, relpath: str) -> bool:
        return _matcher(self.patterns).matches(relpath) if self.patterns else False


_MATCHERS: dict[tuple[str, ...], PatternMatcher] = {}


def _matcher(patterns: list[str]) -> PatternMatcher:
    key = tuple(patterns)
    if key not in _MATCHERS:
        _MATCHERS[key] = PatternMatcher(patterns)
    return _MATCHERS[key]


def find_dockerignore(context: Path, dockerfile: Path | None) -> Path | None:
    """BuildKit reads ``<Dockerfile>.dockerignore`` next to the Dockerfile first."""
    if dockerfile is not None:
        specific = dockerfile.parent / (dockerfile.name + ".dockerignore")
        if specific.is_file():
            return specific
    candidate = context / ".dockerignore"
    return candidate if candidate.is_file() else None


def read_dockerignore(path: Path | None) -> list[str]:
    """The patterns of a ``.dockerignore``; one BuildKit would refuse (``[`` unclosed, a
    trailing ``\\``: "syntax error in pattern", the build fails) is an error with its line."""
    if path is None:
        return []
    patterns = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise JettisonError(f"cannot read: {exc.strerror}", str(path)) from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if bad_pattern(line.removeprefix("!").strip()):
            raise JettisonError(
                f"syntax error in pattern {line!r}: BuildKit refuses this .dockerignore",
                str(path),
                number,
            )
        patterns.append(line)
    return patterns


def bad_pattern(pattern: str) -> bool:
    """Whether Go's ``filepath.Match`` syntax (what BuildKit checks every pattern with)
    rejects ``pattern``: an unclosed or empty ``[...]`` class, a range bound that is ``-`` or
    ``]``, a trailing ``\\``."""
    n = len(pattern)

    def bound(i: int) -> int:  # one class character (maybe escaped); -1 when malformed
        if i >= n or pattern[i] in "-]":
            return -1
        if pattern[i] == "\\":
            i += 1
            if i >= n:
                return -1
        i += 1
        return i if i < n else -1  # the class must still be closed after it

    i = 0
    while i < n:
        char = pattern[i]
        if char == "\\":
            if i + 1 >= n:
                return True
            i += 2
        elif char == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (i < n and pattern[i] == "]" and ranges > 0):
                i = bound(i)
                if i < 0:
                    return True
                if pattern[i] == "-":
                    i = bound(i + 1)
                    if i < 0:
                        return True
                ranges += 1
            i += 1
        else:
            i += 1
    return False


def _default_pattern_hits(rel: str) -> list[str]:
    hits = []
    m = _matcher
    for pattern, _why in DEFAULT_IGNORES:
        if m([pattern]).matches(rel):
            hits.append(pattern)
    return hits


def scan_context(
    context: Path, dockerfile: Path | None = None, max_files: int = 200_000
) -> ContextScan:
    """Walk the context once; sizes of what is sent, what is not, secrets among what is."""
    ignore_file = find_dockerignore(context, dockerfile)
    patterns = read_dockerignore(ignore_file)
    scan = ContextScan(root=context, dockerignore=ignore_file, patterns=patterns)
    matcher = _matcher(patterns) if patterns else None
    has_exceptions = any(p.startswith("!") for p in patterns)
    top: dict[str, int] = {}
    files_seen = 0
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(context / rel_dir if rel_dir else context))
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            excluded = bool(matcher and matcher.matches(rel))
            if stat.S_ISDIR(st.st_mode):
                if excluded and not has_exceptions:
                    # a wholly ignored directory costs nothing: count it without sending
                    size, count = _dir_size(Path(entry.path))
                    scan.excluded_bytes += size
                    scan.excluded_files += count
                    continue
                stack.append(rel)
                continue
            files_seen += 1
            if files_seen > max_files:
                scan.truncated = True
                stack.clear()
                break
            size = st.st_size
            if excluded:
                scan.excluded_bytes += size
                scan.excluded_files += 1
                continue
            scan.included_bytes += size
            scan.included_files += 1
            head = rel.split("/", 1)[0]
            top[head] = top.get(head, 0) + size
            for pattern in _default_pattern_hits(rel):
                scan.present_defaults[pattern] = scan.present_defaults.get(pattern, 0) + size
            kind = secret_kind(Path(entry.path), entry.name)
            if kind:
                scan.secrets.append((rel, kind))
    scan.top_entries = sorted(
        (Entry(k, v) for k, v in top.items()), key=lambda e: e.size, reverse=True
    )
    return scan


def _dir_size(path: Path) -> tuple[int, int]:
    total = count = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
                count += 1
            except OSError:
                pass
    return total, count


def secret_kind(path: Path, name: str) -> str:
    """A description if the file looks like it holds secrets; never reads more than 4 KiB."""
    lower = name.lower()
    if _is_env_file(lower):
        return "environment file"
    kind = SECRET_NAMES.get(lower)
    if kind == "":
        # config.json is a secret only as Docker's auth file
        return "Docker registry credentials" if path.parent.name == ".docker" else ""
    if kind:
        if lower == ".npmrc" and "_authtoken" not in _head(path).lower():
            return ""
        if lower == "credentials" and path.parent.name not in (".aws", ".gcloud"):
            return ""
        return kind
    suffix = Path(lower).suffix
    if suffix in SECRET_SUFFIXES:
        if suffix in (".pem", ".key"):
            return "private key" if "PRIVATE KEY" in _head(path) else ""
        return SECRET_SUFFIXES[suffix]
    return ""


# words that make an environment file a template to copy, committed without values
# (`.env.example`, `.env.sample.local`, `example.env`, `.env-dist`, `.env.tpl`)
_TEMPLATE_WORDS = frozenset(
    {"example", "examples", "sample", "samples", "template", "templates", "tpl", "tmpl",
     "dist", "default", "defaults", "skel", "in", "schema"}
)  # fmt: skip


def _is_env_file(lower: str) -> bool:
    """``.env``, ``.env.production``, ``prod.env``, ``.envrc``: an environment file that may
    hold real values; not a template, and not a name that merely starts with ``.env``
    (``.envoy.yaml``)."""
    words = [w for w in re.split(r"[._-]+", lower) if w]
    if "env" not in words and "envrc" not in words:
        return False
    if not (lower.startswith((".env", "env.")) or lower.endswith(".env") or lower == ".envrc"):
        return False
    if lower.rpartition(".")[2] in _CODE_SUFFIXES:
        return False  # Alembic's migrations/env.py, a bundler's env.js: code, not values
    return not any(w in _TEMPLATE_WORDS for w in words)


# suffixes of source code and documents: `env.py` or `env.d.ts` is a program or its types;
# shell scripts are not among them (`env.sh` often exports the values themselves)
_CODE_SUFFIXES = frozenset(
    {"py", "pyi", "pyc", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rb", "rs", "java",
     "kt", "php", "pl", "lua", "c", "h", "cc", "cpp", "md", "rst", "html", "css", "scss",
     "j2", "jinja", "jinja2", "tf"}
)  # fmt: skip


def _head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(4096).decode("utf-8", "replace")
    except OSError:
        return ""
