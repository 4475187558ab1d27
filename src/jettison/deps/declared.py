"""Declared dependencies: requirements files, pyproject (PEP 621, Poetry, PDM, uv dependency
groups), setup.cfg, Pipfile, and the ``pip install`` commands of the Dockerfile itself.

Requirement strings are parsed by ``packaging`` (PEP 508: extras, markers, URLs); pip's own
options (``-r``/``-c`` includes, ``--hash``, ``-e``, index options) are handled here.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from jettison.errors import JettisonError

RUNTIME = "runtime"
DEV = "dev"
OPTIONAL = "optional"

_DEV_GROUP = re.compile(
    r"(^|[-_.])(dev|devel|develop|test|tests|testing|lint|linting|docs?|"
    r"typing|types|ci|check|qa|style|format|bench|benchmarks?)($|[-_.])",
    re.IGNORECASE,
)

# pip options that take a value (so the value is not a package)
_PIP_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--trusted-host",
        "--cache-dir",
        "--src",
        "--progress-bar",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--only-binary",
        "--no-binary",
        "--upgrade-strategy",
        "--global-option",
        "--install-option",
        "-C",
        "--config-settings",
        "--log",
        "--proxy",
        "--timeout",
        "--retries",
        "--exists-action",
        "--cert",
        "--client-cert",
        "--report",
        "--python",
        "--root-user-action",
        "--use-feature",
        "--use-deprecated",
        "--keyring-provider",
        "-p",
        "--index",
        "--default-index",
        "--group",
        "--extra",
        "--override",
        "--build-constraint",
    }
)


@dataclass
class Declared:
    """One declared requirement and where it is written."""

    name: str  # canonical
    raw: str  # as written
    path: str
    line: int
    group: str = RUNTIME  # runtime, dev or optional
    extras: frozenset[str] = frozenset()
    editable: bool = False
    # for Dockerfile pip commands: source span of the word, so --write can remove it
    start: int | None = None
    end: int | None = None
    first_party: bool = False  # ``pip install .``: the project itself

    @property
    def runtime(self) -> bool:
        return self.group != DEV


@dataclass
class Manifests:
    declared: list[Declared] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    project_names: set[str] = field(default_factory=set)  # the project's own distributions


def group_of(name: str) -> str:
    return DEV if _DEV_GROUP.search(name) else OPTIONAL


def requirement_file_group(path: Path) -> str:
    """requirements-dev.txt, requirements/test.txt ... are dev; anything else is runtime."""
    stem = path.name.lower().removesuffix(".txt").removesuffix(".in")
    return DEV if _DEV_GROUP.search(stem) else RUNTIME


def _name_from_url(text: str) -> str | None:
    match = re.search(r"[#&]egg=([A-Za-z0-9_.\-]+)", text)
    if match:
        return match.group(1)
    leaf = text.rstrip("/").rsplit("/", 1)[-1]
    # a wheel or sdist file name: name-version...
    match = re.match(r"([A-Za-z0-9_.]+?)-\d", leaf)
    if match and leaf.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2")):
        return match.group(1)
    return None


def _local_project_name(path: Path) -> str | None:
    pyproject = path / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return None
        name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get(
            "name"
        )
        return str(name) if name else None
    setup_cfg = path / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except configparser.Error:
            return None
        return parser.get("metadata", "name", fallback=None)
    return None


def parse_requirement_text(
    text: str, path: str, line: int, group: str, base: Path | None = None
) -> Declared | None:
    """One requirement (PEP 508, URL, path or ``-e``), or None for a local project path."""
    text = text.strip()
    editable = False
    if text.startswith(("-e ", "--editable ", "--editable=")):
        editable = True
        text = re.sub(r"^(-e|--editable)[ =]\s*", "", text)
    if re.match(r"^(git\+|hg\+|svn\+|bzr\+|https?://|file:)", text):
        name = _name_from_url(text)
        if name is None:
            raise JettisonError(
                f"cannot tell the package name of URL requirement {text!r} (add #egg=NAME)",
                path,
                line,
            )
        return Declared(canonicalize_name(name), text, path, line, group, editable=editable)
    if text.startswith((".", "/")) or (base is not None and (base / text).is_dir()):
        local = (base / text) if base is not None else Path(text)
        if local.is_file():
            name = _name_from_url(text)
            return Declared(canonicalize_name(name), text, path, line, group) if name else None
        name = _local_project_name(local) if local.exists() else None
        if name is None:
            return None
        return Declared(
            canonicalize_name(name), text, path, line, group, editable=editable, first_party=True
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise JettisonError(f"malformed requirement {text!r}: {exc}", path, line) from None
    return Declared(
        canonicalize_name(req.name),
        text,
        path,
        line,
        group,
        extras=frozenset(canonicalize_name(e) for e in req.extras),
        editable=editable,
    )


_PER_REQ_OPTION = re.compile(r"\s--(hash|config-settings|global-option|install-option)(=|\s+)\S+")


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Requirements lines with ``\\`` continuations joined and comments removed."""
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw) if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield start, buffer.strip()
        buffer = ""
    if buffer.strip():
        yield start, buffer.strip()


def parse_requirements_file(
    path: Path,
    group: str | None = None,
    out: Manifests | None = None,
    _seen: set[Path] | None = None,
) -> Manifests:
    """A pip requirements file, following ``-r`` includes (``-c`` constraints declare nothing)."""
    out = out if out is not None else Manifests()
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return out
    seen.add(resolved)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        out.errors.append(JettisonError(f"cannot read: {exc.strerror}", shown))
        return out
    out.files.append(shown)
    grp = group or requirement_file_group(path)
    for number, line in _logical_lines(text):
        words = line.split()
        head = words[0]
        if head in ("-r", "--requirement") or head.startswith(("-r", "--requirement=")):
            if head in ("-r", "--requirement"):
                target = words[1] if len(words) > 1 else ""
            else:
                target = head.split("=", 1)[1] if "=" in head else head[2:]
            include = path.parent / target.strip("'\"")
            if not include.is_file():
                out.errors.append(
                    JettisonError(f"included file not found: {target}", shown, number)
                )
                continue
            parse_requirements_file(include, grp, out, seen)
            continue
        if (
            head.startswith("-")
            and head not in ("-e", "--editable")
            and not head.startswith("--editable=")
        ):
            continue  # -c constraints, --index-url, --hash lines ...
        # per-requirement options (--hash=sha256:..., --config-settings ...) are not PEP 508;
        # quotes stay, markers need them
        requirement = _PER_REQ_OPTION.sub("", line).strip()
        try:
            declared = parse_requirement_text(requirement, shown, number, grp, path.parent)
        except JettisonError as exc:
            out.errors.append(exc)
            continue
        if declared is not None:
            out.declared.append(declared)
    return out


def _line_of(text: str, needle: str, after: int = 0) -> int:
    index = text.find(needle, after)
    if index < 0:
        return 1
    return text.count("\n", 0, index) + 1


def _toml_line(text: str, section: str, item: str) -> int:
    start = text.find(section)
    return _line_of(text, item, max(start, 0))


def parse_pyproject(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        out.errors.append(JettisonError(f"cannot read: {exc.strerror}", shown))
        return out
    except tomllib.TOMLDecodeError as exc:
        out.errors.append(JettisonError(f"invalid TOML: {exc}", shown))
        return out
    out.files.append(shown)
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    tool: dict[str, Any] = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    if project.get("name"):
        out.project_names.add(canonicalize_name(str(project["name"])))

    def add_pep508(items: Any, group: str, section: str) -> None:
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, str):
                continue  # {include-group = "..."}
            line = (
                _toml_line(text, section, f'"{item}"')
                if f'"{item}"' in text
                else _toml_line(text, section, item)
            )
            try:
                declared = parse_requirement_text(item, shown, line, group, path.parent)
            except JettisonError as exc:
                out.errors.append(exc)
                continue
            if declared is not None and declared.name not in out.project_names:
                out.declared.append(declared)

    add_pep508(project.get("dependencies"), RUNTIME, "dependencies")
    for extra, items in (project.get("optional-dependencies") or {}).items():
        add_pep508(items, group_of(extra), "optional-dependencies")
    for grp, items in (data.get("dependency-groups") or {}).items():
        add_pep508(items, DEV if grp == "dev" else group_of(grp), "dependency-groups")
    uv = tool.get("uv", {}) if isinstance(tool.get("uv"), dict) else {}
    add_pep508(uv.get("dev-dependencies"), DEV, "[tool.uv")
    pdm = tool.get("pdm", {}) if isinstance(tool.get("pdm"), dict) else {}
    for grp, items in (pdm.get("dev-dependencies") or {}).items():
        add_pep508(items, DEV if grp != "runtime" else RUNTIME, "[tool.pdm")
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    if poetry.get("name"):
        out.project_names.add(canonicalize_name(str(poetry["name"])))

    def add_poetry(table: Any, group: str, section: str) -> None:
        if not isinstance(table, dict):
            return
        for name, spec in table.items():
            if name.lower() == "python":
                continue
            extras: frozenset[str] = frozenset()
            optional = False
            if isinstance(spec, dict):
                extras = frozenset(canonicalize_name(e) for e in spec.get("extras", []) or [])
                optional = bool(spec.get("optional"))
                if "path" in spec and spec.get("develop"):
                    continue  # the project's own packages in a monorepo
            out.declared.append(
                Declared(
                    canonicalize_name(name),
                    name,
                    shown,
                    _toml_line(text, section, name),
                    OPTIONAL if optional and group == RUNTIME else group,
                    extras=extras,
                )
            )

    add_poetry(poetry.get("dependencies"), RUNTIME, "[tool.poetry.dependencies")
    add_poetry(poetry.get("dev-dependencies"), DEV, "[tool.poetry.dev-dependencies")
    for grp, table in (poetry.get("group") or {}).items():
        if isinstance(table, dict):
            group = RUNTIME if grp == "main" else DEV if grp == "dev" else group_of(grp)
            add_poetry(table.get("dependencies"), group, f"[tool.poetry.group.{grp}")
    return out


def parse_setup_cfg(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8")
        parser.read_string(text)
    except (OSError, configparser.Error) as exc:
        out.errors.append(JettisonError(f"cannot read setup.cfg: {exc}", shown))
        return out
    out.files.append(shown)
    name = parser.get("metadata", "name", fallback=None)
    if name:
        out.project_names.add(canonicalize_name(name))

    def add(value: str, group: str, section: str) -> None:
        for item in value.splitlines():
            item = item.split("#", 1)[0].strip()
            if not item:
                continue
            line = _toml_line(text, section, item)
            try:
                declared = parse_requirement_text(item, shown, line, group, path.parent)
            except JettisonError as exc:
                out.errors.append(exc)
                continue
            if declared is not None:
                out.declared.append(declared)

    add(parser.get("options", "install_requires", fallback=""), RUNTIME, "[options]")
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            add(value, group_of(extra), "[options.extras_require]")
    add(parser.get("options", "tests_require", fallback=""), DEV, "[options]")
    return out


def parse_pipfile(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        out.errors.append(JettisonError(f"cannot read Pipfile: {exc}", shown))
        return out
    out.files.append(shown)
    for section, group in (("packages", RUNTIME), ("dev-packages", DEV)):
        table = data.get(section) or {}
        for name, spec in table.items():
            extras = (
                frozenset(canonicalize_name(e) for e in spec.get("extras", []))
                if isinstance(spec, dict)
                else frozenset()
            )
            out.declared.append(
                Declared(
                    canonicalize_name(name),
                    name,
                    shown,
                    _toml_line(text, f"[{section}]", name),
                    group,
                    extras=extras,
                )
            )
    return out


def find_manifests(root: Path) -> Manifests:
    """Every manifest in the project root (and a ``requirements/`` directory)."""
    out = Manifests()
    if root.is_file():
        root = root.parent
    candidates = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements*.in"))
    candidates += (
        sorted((root / "requirements").glob("*.txt")) if (root / "requirements").is_dir() else []
    )
    seen: set[Path] = set()
    for candidate in candidates:
        if candidate.with_suffix(".txt") != candidate and candidate.with_suffix(".txt").exists():
            continue  # requirements.in compiled into requirements.txt: read the .txt
        if candidate.name.endswith(".pruned.txt"):
            continue  # written by ``jettison deps --write``
        parse_requirements_file(candidate, out=out, _seen=seen)
    if (root / "pyproject.toml").is_file():
        parse_pyproject(root / "pyproject.toml", out)
    if (root / "setup.cfg").is_file():
        parse_setup_cfg(root / "setup.cfg", out)
    if (root / "Pipfile").is_file():
        parse_pipfile(root / "Pipfile", out)
    return out


def pip_install_packages(argv: list[str]) -> tuple[list[int], list[tuple[str, str]]] | None:
    """For a ``pip install`` argv: indexes of package words, and (-r|-c|-e, value) options.

    Returns None when the command is not a pip install. Handles ``pip``, ``pip3``,
    ``python -m pip``, ``uv pip``.
    """
    i = 0
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if re.fullmatch(r"python[0-9.]*", name):
        if len(argv) > 2 and argv[1] == "-m" and argv[2] == "pip":
            i = 3
        else:
            return None
    elif re.fullmatch(r"pip[0-9.]*", name):
        i = 1
    elif name == "uv" and len(argv) > 1 and argv[1] == "pip":
        i = 2
    else:
        return None
    # global options before the subcommand
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _PIP_VALUE_OPTIONS else 1
    if i >= len(argv) or argv[i] != "install":
        return None
    i += 1
    packages: list[int] = []
    options: list[tuple[str, str]] = []
    while i < len(argv):
        word = argv[i]
        if word.startswith("-"):
            key, eq, value = word.partition("=")
            if key in _PIP_VALUE_OPTIONS and not eq:
                if i + 1 < len(argv) and key in (
                    "-r",
                    "--requirement",
                    "-c",
                    "--constraint",
                    "-e",
                    "--editable",
                ):
                    options.append((key, argv[i + 1]))
                i += 2
                continue
            if eq and key in ("--requirement", "--constraint", "--editable"):
                options.append((key, value))
            elif len(key) > 2 and key[:2] in ("-r", "-c", "-e") and not key.startswith("--"):
                options.append((key[:2], key[2:]))
            i += 1
            continue
        packages.append(i)
        i += 1
    return packages, options
