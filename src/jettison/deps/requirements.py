"""Requirement strings and requirements files: the :class:`Declared` and :class:`Manifests`
model every manifest reader fills, the TOML helpers the readers share, and the
``pip install`` commands of a Dockerfile.

Requirement strings are parsed by ``packaging`` (PEP 508: extras, markers, URLs); pip's own
options (``-r``/``-c`` includes, ``--hash``, ``-e``, index options) are handled here.
"""

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
        read = read_toml(pyproject, Manifests(), "")  # its own errors are not this project's
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


def path_is(path: Path, kind: str) -> bool:
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
        base is not None and _BARE_PATH.match(text) and path_is(base / text, "dir")
    ):
        local = (base / location) if base is not None else Path(location)
        if path_is(local, "file"):
            name = _name_from_url(location)
            return Declared(canonicalize_name(name), text, path, line, group) if name else None
        name = _local_project_name(local) if path_is(local, "any") else None
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
            if not path_is(include, "file"):
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


def toml_line(text: str, section: str, item: str, key: str | None = None) -> int:
    start = max(text.find(section), 0)
    if key is not None:
        # the table's own key (an extra, a group): the same item can appear under several
        match = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", re.MULTILINE).search(
            text, start
        )
        if match:
            start = match.start()
    return _line_of(text, item, start)


def toml_type(value: Any) -> str:
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


def key_line(text: str, section: str, key: str) -> int | None:
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


def read_toml(path: Path, out: Manifests, failed: str) -> tuple[str, dict[str, Any]] | None:
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
