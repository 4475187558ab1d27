"""Declared dependencies: requirements files, pyproject (PEP 621, Poetry, PDM, uv dependency
groups), setup.cfg, Pipfile, and the ``pip install`` commands of the Dockerfile itself.

Requirement strings are parsed by ``packaging`` (PEP 508: extras, markers, URLs); pip's own
options (``-r``/``-c`` includes, ``--hash``, ``-e``, index options) are handled here.
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from jettison.errors import JettisonError

RUNTIME = "runtime"
DEV = "dev"
OPTIONAL = "optional"

_DEV_GROUP = re.compile(
    r"(^|[-_.])(dev|devel|develop|test|tests|testing|lint|linting|docs?|"
    r"typing|types|ci|check|qa|style|format|bench|benchmarks?|build|static[-_.]analysis|release)($|[-_.])",
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
    marker: str | None = None  # PEP 508 environment marker, as written

    @property
    def runtime(self) -> bool:
        return self.group != DEV

    def applies_on_linux(self) -> bool:
        """False when the marker excludes a Linux image (``sys_platform == "win32"``) or the
        running Python (``python_version < "3.8"`` backports): pip does not install the
        package there, so there is nothing to remove."""
        if not self.marker:
            return True
        try:
            return Marker(self.marker).evaluate(
                {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
            )
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return True


@dataclass
class Manifests:
    declared: list[Declared] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    project_names: set[str] = field(default_factory=set)  # the project's own distributions


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def is_binary(data: bytes) -> bool:
    """Whether ``data`` is no text file pip would read: NUL bytes (text without a UTF-16/32
    byte-order mark has none), or mostly bytes that are not UTF-8 or are control codes."""
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return False
    head = data[:8192]
    if b"\0" in head:
        return True
    text = head.decode("utf-8", errors="replace")
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\n\r\f\v"))
    return odd > max(8, len(text) // 10)


def decode_text(data: bytes) -> str:
    """File text as pip reads it: a byte-order mark chooses the encoding (``pip freeze >
    requirements.txt`` in PowerShell writes UTF-16), else UTF-8 (undecodable bytes replaced)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def group_of(name: str) -> str:
    return DEV if _DEV_GROUP.search(name) else OPTIONAL


def requirement_file_group(path: Path) -> str:
    """requirements-dev.txt, requirements/test.txt ... are dev; anything else is runtime."""
    stem = path.name.lower().removesuffix(".txt").removesuffix(".in")
    # requirements-github-actions.txt: what a CI workflow installs
    ci = re.search(r"(^|[-_.])(github|actions|workflows?|tox|nox)($|[-_.])", stem)
    return DEV if _DEV_GROUP.search(stem) or ci else RUNTIME


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
        read = _read_toml(pyproject, Manifests(), "")  # its own errors are not this project's
        if read is None:
            return None
        data = read[1]
        project = data.get("project")
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        name = (project.get("name") if isinstance(project, dict) else None) or (
            poetry.get("name") if isinstance(poetry, dict) else None
        )
        return str(name) if name else None
    setup_cfg = path / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return None
        return parser.get("metadata", "name", fallback=None)
    return None


def _is(path: Path, kind: str) -> bool:
    """``path.is_file()``/``is_dir()``/``exists()`` that is False for a name the system
    refuses (over 255 bytes, a NUL ...) instead of raising: a requirement line is text first,
    and may not be a file name at all."""
    try:
        if kind == "file":
            return path.is_file()
        if kind == "dir":
            return path.is_dir()
        return path.exists()
    except (OSError, ValueError):
        return False


# what a local path requirement can look like without a leading `.` or `/` (pip reads a bare
# word as a project name unless such a directory exists): no spaces, version specifiers,
# extras or markers, which a file name on a requirements line never has
_BARE_PATH = re.compile(r"^[\w.+~/-]+$")


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
    # a path may carry an environment marker (`./pkg ; python_version >= "3.9"`)
    location = text.split(";", 1)[0].strip() if text.startswith((".", "/")) else text
    if text.startswith((".", "/")) or (
        base is not None and _BARE_PATH.match(text) and _is(base / text, "dir")
    ):
        local = (base / location) if base is not None else Path(location)
        if _is(local, "file"):
            name = _name_from_url(location)
            return Declared(canonicalize_name(name), text, path, line, group) if name else None
        name = _local_project_name(local) if _is(local, "any") else None
        if name is None:
            return None
        return Declared(
            canonicalize_name(name), text, path, line, group, editable=editable, first_party=True
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        # packaging's message repeats the requirement on a second line, under a caret
        reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
        shown = text if len(text) <= 80 else text[:77] + "..."  # a marker can be long
        raise JettisonError(f"malformed requirement {shown!r}: {reason}", path, line) from None
    return Declared(
        canonicalize_name(req.name),
        text,
        path,
        line,
        group,
        extras=frozenset(canonicalize_name(e) for e in req.extras),
        editable=editable,
        marker=str(req.marker) if req.marker is not None else None,
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
    _parent_group: str | None = None,
) -> Manifests:
    """A pip requirements file, following ``-r`` includes (``-c`` constraints declare nothing).

    ``group`` forces the group of every line, includes too (a file the Dockerfile installs is
    all runtime). Otherwise each file's name decides, and what a dev file includes is dev."""
    out = out if out is not None else Manifests()
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return out
    seen.add(resolved)
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.errors.append(JettisonError(f"cannot read: {exc.strerror}", shown))
        return out
    if is_binary(data):
        out.errors.append(JettisonError("binary data, not a requirements file", shown))
        return out
    text = decode_text(data)
    out.files.append(shown)
    grp = group or (DEV if _parent_group == DEV else requirement_file_group(path))
    for number, line in _logical_lines(text):
        words = line.split()
        head = words[0]
        if head in ("-r", "--requirement") or head.startswith(("-r", "--requirement=")):
            if head in ("-r", "--requirement"):
                target = words[1] if len(words) > 1 else ""
            else:
                target = head.split("=", 1)[1] if "=" in head else head[2:]
            include = path.parent / target.strip("'\"")
            if not _is(include, "file"):
                out.errors.append(
                    JettisonError(f"included file not found: {target}", shown, number)
                )
                continue
            parse_requirements_file(include, group, out, seen, grp)
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


def _toml_line(text: str, section: str, item: str, key: str | None = None) -> int:
    start = max(text.find(section), 0)
    if key is not None:
        # the table's own key (an extra, a group): the same item can appear under several
        match = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", re.MULTILINE).search(
            text, start
        )
        if match:
            start = match.start()
    return _line_of(text, item, start)


def _toml_type(value: Any) -> str:
    """A TOML value's type, with its article, for messages: "an integer", "a table"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a table" if isinstance(value, dict) else "a date or time"


def _key_line(text: str, section: str, key: str) -> int | None:
    """Line of ``key = `` after the first ``section`` (a header or a key), else of ``section``
    itself, else None."""
    start = text.find(section)
    if start < 0:
        start = 0
    match = re.compile(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", re.MULTILINE).search(
        text, start
    )
    if match is not None:
        return text.count("\n", 0, match.start()) + 1
    return text.count("\n", 0, start) + 1 if section in text else None


def _read_toml(path: Path, out: Manifests, failed: str) -> tuple[str, dict[str, Any]] | None:
    """The text and data of a TOML file, or None with the error in ``out``: ``failed``
    starts the message ("cannot read", "invalid TOML")."""
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.errors.append(JettisonError(f"cannot read: {exc.strerror}", shown))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        out.errors.append(JettisonError(f"{failed}: not valid UTF-8 text", shown, line))
        return None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.errors.append(JettisonError(f"{failed}: {exc}", shown))
    except RecursionError:
        out.errors.append(JettisonError(f"{failed}: too deeply nested", shown))
    return None


def parse_pyproject(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    read = _read_toml(path, out, "invalid TOML")
    if read is None:
        return out
    text, data = read
    out.files.append(shown)

    def wrong(what: str, value: Any, expected: str, section: str, key: str) -> None:
        """An error at ``key =`` after ``section``: ``what`` is not of the type it must be."""
        out.errors.append(
            JettisonError(
                f"{what} must be {expected}, not {_toml_type(value)}",
                shown,
                _key_line(text, section, key),
            )
        )

    def table(parent: dict[str, Any], key: str, what: str, section: str) -> dict[str, Any]:
        """``parent[key]`` when it is a table; {} (and an error when it is something else).
        ``section`` is where ``key =`` is looked for, for the error's line."""
        value = parent.get(key)
        if value is None or isinstance(value, dict):
            return value or {}
        wrong(what, value, "a table", section, key)
        return {}

    project = table(data, "project", "project", "project")
    tool = table(data, "tool", "tool", "tool")
    if project.get("name"):
        out.project_names.add(canonicalize_name(str(project["name"])))

    def add_pep508(
        items: Any,
        group: str,
        section: str,
        key: str | None,
        what: str,
        where: tuple[str, str],
        groups: bool = False,
    ) -> None:
        """A list of PEP 508 strings (``groups``: or ``{include-group = "..."}`` tables);
        ``where`` is the (section, key) errors about the list point at."""
        if items is None:
            return
        if not isinstance(items, list):
            wrong(what, items, "an array of requirement strings", *where)
            return
        for item in items:
            if groups and isinstance(item, dict) and isinstance(item.get("include-group"), str):
                continue
            if not isinstance(item, str):
                wrong(f"an item of {what}", item, "a requirement string", *where)
                continue
            quoted = next((f"{q}{item}{q}" for q in ('"', "'") if f"{q}{item}{q}" in text), item)
            line = _toml_line(text, section, quoted, key)
            try:
                declared = parse_requirement_text(item, shown, line, group, path.parent)
            except JettisonError as exc:
                out.errors.append(exc)
                continue
            if declared is not None and declared.name not in out.project_names:
                out.declared.append(declared)

    key = "dependencies"
    add_pep508(project.get(key), RUNTIME, key, None, f"project.{key}", ("[project", key))
    key = "optional-dependencies"
    for extra, items in table(project, key, f"project.{key}", "[project").items():
        add_pep508(items, group_of(extra), key, extra, f"project.{key}.{extra}", (key, extra))
    key = "dependency-groups"
    for grp, items in table(data, key, key, key).items():
        group = DEV if grp == "dev" else group_of(grp)
        add_pep508(items, group, key, grp, f"{key}.{grp}", (key, grp), groups=True)
    uv = tool.get("uv", {}) if isinstance(tool.get("uv"), dict) else {}
    key = "dev-dependencies"
    add_pep508(uv.get(key), DEV, "[tool.uv", None, f"tool.uv.{key}", ("[tool.uv", key))
    pdm = tool.get("pdm", {}) if isinstance(tool.get("pdm"), dict) else {}
    for grp, items in table(pdm, key, f"tool.pdm.{key}", "[tool.pdm").items():
        group = DEV if grp != "runtime" else RUNTIME
        add_pep508(items, group, "[tool.pdm", grp, f"tool.pdm.{key}.{grp}", ("[tool.pdm", grp))
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    if poetry.get("name"):
        out.project_names.add(canonicalize_name(str(poetry["name"])))

    def add_poetry(
        parent: dict[str, Any], key: str, group: str, parent_section: str, section: str
    ) -> None:
        """The table ``key`` of ``parent``; lines are looked for after ``section``."""
        what = f"{parent_section.lstrip('[')}.{key}"
        for name, spec in table(parent, key, what, parent_section).items():
            if name.lower() == "python":
                continue
            extras: frozenset[str] = frozenset()
            optional = False
            local = False
            markers: list[str] = []
            if isinstance(spec, dict):
                given = spec.get("extras") or []
                if isinstance(given, list) and all(isinstance(e, str) for e in given):
                    extras = frozenset(canonicalize_name(e) for e in given)
                else:
                    wrong(f"{what}.{name}.extras", given, "an array of strings", section, name)
                optional = bool(spec.get("optional"))
                # {path = "../lib"}: the project's own packages (a monorepo), never removable,
                # but what they provide is not missing either
                local = "path" in spec
                if isinstance(spec.get("markers"), str):
                    markers.append(f"({spec['markers']})")
                if isinstance(spec.get("platform"), str):
                    markers.append(f'sys_platform == "{spec["platform"]}"')
            elif not isinstance(spec, str | list):  # a list: several constraints
                wrong(f"{what}.{name}", spec, "a version string or a table", section, name)
            out.declared.append(
                Declared(
                    canonicalize_name(name),
                    name,
                    shown,
                    _toml_line(text, section, name),
                    OPTIONAL if optional and group == RUNTIME else group,
                    extras=extras,
                    first_party=local,
                    marker=" and ".join(markers) or None,
                )
            )

    _dynamic_requirement_files(path, tool, out)
    add_poetry(poetry, "dependencies", RUNTIME, "[tool.poetry", "[tool.poetry.dependencies")
    add_poetry(poetry, "dev-dependencies", DEV, "[tool.poetry", "[tool.poetry.dev-dependencies")
    for grp, group_table in table(poetry, "group", "tool.poetry.group", "[tool.poetry").items():
        if not isinstance(group_table, dict):
            wrong(f"tool.poetry.group.{grp}", group_table, "a table", "[tool.poetry", grp)
            continue
        group = RUNTIME if grp == "main" else DEV if grp == "dev" else group_of(grp)
        section = f"[tool.poetry.group.{grp}"
        add_poetry(group_table, "dependencies", group, section, section)
    return out


def _dynamic_requirement_files(pyproject: Path, tool: dict[str, Any], out: Manifests) -> None:
    """``dynamic = ["dependencies"]`` read from requirements files: setuptools
    ``[tool.setuptools.dynamic]`` and hatch's ``requirements_txt`` metadata hook."""

    def files_of(value: Any) -> list[str]:
        if isinstance(value, dict):
            value = value.get("file") or value.get("files")
        if isinstance(value, str):
            return [value]
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    wanted: list[tuple[str, str]] = []  # (file, group)
    setuptools = tool.get("setuptools")
    dynamic = setuptools.get("dynamic") if isinstance(setuptools, dict) else None
    if isinstance(dynamic, dict):
        wanted += [(f, RUNTIME) for f in files_of(dynamic.get("dependencies"))]
        optional = dynamic.get("optional-dependencies")
        if isinstance(optional, dict):
            for extra, value in optional.items():
                wanted += [(f, group_of(extra)) for f in files_of(value)]
    hatch = tool.get("hatch")
    metadata = hatch.get("metadata") if isinstance(hatch, dict) else None
    hooks = metadata.get("hooks") if isinstance(metadata, dict) else None
    hook = hooks.get("requirements_txt") if isinstance(hooks, dict) else None
    if isinstance(hook, dict):
        wanted += [(f, RUNTIME) for f in files_of(hook.get("files"))]
        optional = hook.get("optional-dependencies")
        if isinstance(optional, dict):
            for extra, value in optional.items():
                wanted += [(f, group_of(extra)) for f in files_of(value)]
    read = {Path(f).resolve() for f in out.files}
    for name, group in wanted:
        target = pyproject.parent / name
        if target.resolve() in read:
            continue  # requirements.txt, already read as a manifest of its own
        if not _is(target, "file"):
            out.errors.append(JettisonError(f"dependency file not found: {name}", str(pyproject)))
            continue
        read.add(target.resolve())
        parse_requirements_file(target, group, out)


def parse_setup_cfg(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = decode_text(path.read_bytes())
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
            item = re.sub(r"(^|\s)#.*$", "", item).strip()  # not a URL's #egg=
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


def _setup_literal(node: ast.expr | None, names: dict[str, ast.expr], depth: int = 0) -> Any:
    """The value of a literal expression in setup.py (lists, tuples, dicts, strings, ``+``,
    module-level names bound to those), or None when it is computed."""
    if node is None or depth > 20:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(line, node.lineno) for line in node.value.splitlines()]
    if isinstance(node, ast.List | ast.Tuple):
        items: list[tuple[str, int]] = []
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                items.append((element.value, element.lineno))
            else:
                value = _setup_literal(element, names, depth + 1)
                if not isinstance(value, list):
                    return None
                items.extend(value)
        return items
    if isinstance(node, ast.Dict):
        table: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                table[key.value] = value
            elif key is None:  # {**other}
                merged = _setup_literal(value, names, depth + 1)
                if isinstance(merged, dict):
                    table.update(merged)
        return table
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _setup_literal(node.left, names, depth + 1)
        right = _setup_literal(node.right, names, depth + 1)
        return left + right if isinstance(left, list) and isinstance(right, list) else None
    if isinstance(node, ast.Name) and node.id in names:
        return _setup_literal(names[node.id], names, depth + 1)
    return None


def parse_setup_py(path: Path, out: Manifests | None = None) -> Manifests:
    """``install_requires``/``extras_require``/``tests_require`` of a ``setup()`` call, where
    they are literals (or module-level names bound to literals); computed values are skipped
    (a requirements file they read is found on its own)."""
    out = out if out is not None else Manifests()
    shown = str(path)
    try:
        tree = ast.parse(path.read_bytes(), filename=shown)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return out  # the import scan reports files it cannot parse
    names: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            names[stmt.target.id] = stmt.value
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "setup"
    ]
    found = False
    for call in calls:
        keywords: dict[str, ast.expr] = {}
        for keyword in call.keywords:
            if keyword.arg is not None:
                keywords[keyword.arg] = keyword.value
                continue
            spread = _setup_literal(keyword.value, names)  # setup(**setup_kwargs)
            if isinstance(spread, dict):
                keywords.update(spread)
        name = _setup_literal(keywords.get("name"), names)
        if isinstance(name, list) and len(name) == 1:
            out.project_names.add(canonicalize_name(name[0][0]))

        def add(node: ast.expr | None, group: str, marker: str = "") -> None:
            nonlocal found
            items = _setup_literal(node, names)
            if not isinstance(items, list):
                return
            for raw, line in items:
                text = re.sub(r"(^|\s)#.*$", "", raw).strip()
                if not text or text.startswith("-"):
                    continue
                found = True
                try:
                    declared = parse_requirement_text(text, shown, line, group, path.parent)
                except JettisonError as exc:
                    out.errors.append(exc)
                    continue
                if declared is not None and declared.name not in out.project_names:
                    if marker:  # extras_require={':sys_platform == "win32"': [...]}
                        own = f" and ({declared.marker})" if declared.marker else ""
                        declared.marker = f"({marker}){own}"
                    out.declared.append(declared)

        add(keywords.get("install_requires"), RUNTIME)
        extras = _setup_literal(keywords.get("extras_require"), names)
        if isinstance(extras, dict):
            for key, node in extras.items():
                extra, _, marker = key.partition(":")
                add(node, group_of(extra) if extra else RUNTIME, marker.strip())
        add(keywords.get("tests_require"), DEV)
    if found:
        out.files.append(shown)
    return out


def parse_pipfile(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    read = _read_toml(path, out, "cannot read Pipfile")
    if read is None:
        return out
    text, data = read
    out.files.append(shown)
    for section, group in (("packages", RUNTIME), ("dev-packages", DEV)):
        table = data.get(section) or {}
        if not isinstance(table, dict):
            out.errors.append(
                JettisonError(
                    f"[{section}] must be a table, not {_toml_type(table)}",
                    shown,
                    _key_line(text, section, section),
                )
            )
            continue
        for name, spec in table.items():
            given = (spec.get("extras") or []) if isinstance(spec, dict) else []
            if not isinstance(given, list) or not all(isinstance(e, str) for e in given):
                out.errors.append(
                    JettisonError(
                        f"{section}.{name}.extras must be an array of strings, "
                        f"not {_toml_type(given)}",
                        shown,
                        _key_line(text, f"[{section}]", name),
                    )
                )
                given = []
            out.declared.append(
                Declared(
                    canonicalize_name(name),
                    name,
                    shown,
                    _toml_line(text, f"[{section}]", name),
                    group,
                    extras=frozenset(canonicalize_name(e) for e in given),
                )
            )
    return out


def find_manifests(root: Path) -> Manifests:
    """Every manifest in the project root (and a ``requirements/`` directory)."""
    out = Manifests()
    if root.is_file():
        root = root.parent
    # requirements.txt, requirements-dev.txt, but also dev-requirements.txt, win-requirements.txt
    candidates = sorted(root.glob("*requirements*.txt")) + sorted(root.glob("*requirements*.in"))
    candidates += (
        sorted((root / "requirements").glob("*.txt")) if (root / "requirements").is_dir() else []
    )
    # runtime files first: ``requirements-dev.txt`` starting with ``-r requirements.txt`` must
    # not make the runtime requirements dev ones (each file is read once)
    candidates.sort(key=lambda c: requirement_file_group(c) != RUNTIME)
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
    if (root / "setup.py").is_file():
        parse_setup_py(root / "setup.py", out)
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
