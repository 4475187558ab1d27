"""Every import of a project's Python files and notebooks, found with ``ast`` in all scopes.

Each import records where it is and how sure it is to run: a plain import, one inside
``try/except ImportError`` (optional), one under ``if TYPE_CHECKING`` (never at run time), or a
dynamic ``importlib.import_module("literal")``/``__import__("literal")``. Relative imports and
modules of the project itself (first-party: src layout, flat layout, PEP 420 namespace
packages, scripts' sibling modules) are resolved and never reported as dependencies.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from jettison.collector import collector_paused
from jettison.errors import JettisonError

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        ".eggs",
        ".idea",
        ".vscode",
        ".ipynb_checkpoints",
    }
)

# files and directories whose imports only developers need
_DEV_DIRS = frozenset(
    {"tests", "test", "testing", "docs", "doc", "benchmarks", "examples", "scripts_dev"}
)
# not tasks.py: Celery projects name their task modules that too
# build hooks (hatch_build.py, pdm_build.py) run only while the wheel is built
_DEV_FILES = frozenset(
    {
        "conftest.py",
        "noxfile.py",
        "setup.py",
        "fabfile.py",
        "conf.py",
        "hatch_build.py",
        "pdm_build.py",
    }
)

# copies of other projects kept inside this one: their imports of optional dependencies
# (pint's numpy, dask, matplotlib in datasette/vendored/pint) are guarded upstream
_VENDOR_DIRS = frozenset({"vendor", "vendored", "_vendor", "_vendored", "third_party"})

KIND_IMPORT = "import"
KIND_OPTIONAL = "optional"  # inside try/except ImportError
KIND_TYPE_CHECKING = "type-checking"
KIND_DYNAMIC = "dynamic"


@dataclass(frozen=True)
class ImportUse:
    module: str  # absolute dotted name
    path: str
    line: int
    kind: str = KIND_IMPORT
    dev: bool = False  # the file is a test, docs or tooling file

    @property
    def top(self) -> str:
        return self.module.split(".", 1)[0]


@dataclass
class ScanResult:
    imports: list[ImportUse] = field(default_factory=list)
    # import lines of files ``ast`` could not parse (Python 2 ...): optional, they only keep a
    # package from being called unused
    salvaged: list[ImportUse] = field(default_factory=list)
    first_party: set[str] = field(default_factory=set)
    # PEP 420 namespace directories of the project (dotted) -> the names the project has under
    # them: ``jaraco`` -> {"text"} keeps ``jaraco.context`` (another distribution) external
    namespaces: dict[str, set[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)
    strings: list[tuple[str, str, int]] = field(default_factory=list)  # (text, path, line)
    # module-level assignments of settings-like names (INSTALLED_APPS ...) -> string values
    settings: list[tuple[str, str, str, int]] = field(default_factory=list)
    dev_files: set[str] = field(default_factory=set)  # tests, docs, notebooks, ignored files
    # attribute names used in code -> a few (path, line): ``node.cssselect(...)`` needs the
    # cssselect package through lxml without importing it
    attributes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def is_first_party(self, module: str) -> bool:
        """Whether ``module`` is the project's own code (not a dependency)."""
        return is_first_party(module, self.first_party, self.namespaces)

    def mark_dev(self, paths: set[str]) -> None:
        """Treat imports of these files as development-only (e.g. not sent to the build)."""
        self.dev_files |= paths
        self.imports = [
            replace(i, dev=True) if i.path in paths and not i.dev else i for i in self.imports
        ]
        self.salvaged = [
            replace(i, dev=True) if i.path in paths and not i.dev else i for i in self.salvaged
        ]


def is_dev_path(rel: Path) -> bool:
    parts = rel.parts
    name = parts[-1] if parts else ""
    if name in _DEV_FILES or name.startswith("test_") or name.endswith("_test.py"):
        return True
    # portalocker_tests/, integration_tests/, tests_e2e/, docs_src/ (documentation examples)
    return any(
        p in _DEV_DIRS or p.endswith("_tests") or p.startswith(("tests_", "docs_"))
        for p in parts[:-1]
    )


def _exists(path: Path) -> bool:
    """``path.exists()``, False where it cannot be looked at (a directory without permission)."""
    try:
        return path.exists()
    except OSError:
        return False


def _kind(path: Path) -> str:
    """ "file", "dir" or "" (neither, or it cannot be looked at)."""
    try:
        return "file" if path.is_file() else "dir" if path.is_dir() else ""
    except OSError:
        return ""


def _list_dir(directory: Path) -> list[Path]:
    """The entries of ``directory``, none where it cannot be listed (the walk reports it)."""
    try:
        return sorted(directory.iterdir())
    except OSError:
        return []


def iter_source_files(root: Path, errors: list[JettisonError] | None = None) -> Iterator[Path]:
    """``.py`` and ``.ipynb`` files under ``root``, skipping virtualenvs and caches.

    A directory that cannot be listed is skipped; ``errors`` (when given) receives one error
    naming it."""
    if root.is_file():
        yield root
        return

    def unreadable(exc: OSError) -> None:
        if errors is not None:
            where = os.fsdecode(exc.filename) if exc.filename is not None else str(root)
            reason = exc.strerror or type(exc).__name__
            errors.append(JettisonError(f"cannot read directory, skipped: {reason}", where))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and not _exists(here / d / "pyvenv.cfg")
        )
        for name in sorted(filenames):
            if name.endswith((".py", ".ipynb")):
                yield here / name


def is_first_party(module: str, first_party: set[str], namespaces: dict[str, set[str]]) -> bool:
    """``module`` belongs to the project: its top-level name is first-party and, below a PEP 420
    namespace directory, the next name is one the project has there."""
    parts = module.split(".")
    if parts[0] not in first_party:
        return False
    prefix, index = parts[0], 1
    while prefix in namespaces:
        if index >= len(parts):
            return True
        if parts[index] not in namespaces[prefix]:
            return False  # another distribution's portion of the namespace
        prefix = f"{prefix}.{parts[index]}"
        index += 1
    return True


def _namespace_tree(directory: Path, prefix: str, out: dict[str, set[str]]) -> None:
    """The names under a namespace directory, recursing into nested namespace directories."""
    children: set[str] = set()
    for name, entry, is_dir in _module_entries(directory):
        children.add(name)
        if is_dir and not _exists(entry / "__init__.py") and not entry.is_symlink():
            _namespace_tree(entry, f"{prefix}.{name}", out)
    out.setdefault(prefix, set()).update(children)


def _module_entries(directory: Path) -> Iterator[tuple[str, Path, bool]]:
    """(module name, path, is a directory) of what ``directory`` holds that Python could
    import: ``name.py`` files and directories with Python code below them."""
    for entry in _list_dir(directory):
        if entry.name.startswith(".") or entry.name in SKIP_DIRS:
            continue
        kind = _kind(entry)
        if kind == "file" and entry.suffix == ".py" and entry.stem.isidentifier():
            yield entry.stem, entry, False
        elif kind == "dir" and entry.name.isidentifier() and _has_python(entry):
            yield entry.name, entry, True


def first_party_names(
    root: Path, files: list[Path], namespaces: dict[str, set[str]] | None = None
) -> set[str]:
    """Top-level module names that belong to the project itself.

    ``namespaces`` (when given) receives the project's PEP 420 namespace directories and what
    the project has below each, so other distributions' portions stay external.
    """
    names: set[str] = set()
    regular: set[str] = set()
    namespace_dirs: dict[str, list[Path]] = {}
    bases = {root, root / "src"}
    for file in files:
        # a script's own directory is on sys.path when it runs; a regular package's root too
        directory = file.parent
        while _exists(directory / "__init__.py") and directory != root:
            directory = directory.parent
        bases.add(directory)
    for base in bases:
        if _kind(base) != "dir":
            continue
        for name, entry, is_dir in _module_entries(base):
            names.add(name)  # a module, a regular package or a namespace package
            if not is_dir or _exists(entry / "__init__.py"):
                regular.add(name)
            else:
                namespace_dirs.setdefault(name, []).append(entry)
    if namespaces is not None:
        for name, directories in namespace_dirs.items():
            if name in regular:
                continue  # a regular package or module of that name wins on sys.path
            for directory in directories:
                _namespace_tree(directory, name, namespaces)
    return names


def _has_python(directory: Path) -> bool:
    for _dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        if any(f.endswith(".py") for f in filenames):
            return True
    return False


def _package_of(file: Path, root: Path) -> list[str]:
    """Dotted package of a file, for resolving relative imports."""
    parts: list[str] = []
    directory = file.parent
    while _exists(directory / "__init__.py") and directory != root.parent:
        parts.insert(0, directory.name)
        directory = directory.parent
    return parts


_SETTINGS_NAMES = frozenset(
    {
        "INSTALLED_APPS",
        "MIDDLEWARE",
        "MIDDLEWARE_CLASSES",
        "DATABASES",
        "CACHES",
        "AUTHENTICATION_BACKENDS",
        "TEMPLATES",
        "REST_FRAMEWORK",
        "CHANNEL_LAYERS",
        "STORAGES",
        "DEFAULT_FILE_STORAGE",
        "STATICFILES_STORAGE",
        "EMAIL_BACKEND",
        "SESSION_ENGINE",
        "CELERY_BROKER_URL",
        "PASSWORD_HASHERS",
        "worker_class",
        "LOGGING",
    }
)


class _Visitor(ast.NodeVisitor):
    def __init__(
        self,
        path: str,
        package: list[str],
        dev: bool,
        out: ScanResult,
        line_map: list[int] | None,
        vendored: bool = False,
    ) -> None:
        self.path = path
        self.package = package
        self.dev = dev
        self.out = out
        self.line_map = line_map
        self.kinds: list[str] = [KIND_OPTIONAL] if vendored else []
        self.importlib_aliases = {"importlib.import_module"}

    def _line(self, node: ast.AST) -> int:
        line = getattr(node, "lineno", 1)
        if self.line_map is not None and 0 < line <= len(self.line_map):
            return self.line_map[line - 1]
        return int(line)

    def _kind(self) -> str:
        if KIND_TYPE_CHECKING in self.kinds:
            return KIND_TYPE_CHECKING
        if KIND_OPTIONAL in self.kinds:
            return KIND_OPTIONAL
        return KIND_IMPORT

    def _add(self, module: str, node: ast.AST, kind: str | None = None) -> None:
        if module:
            self.out.imports.append(
                ImportUse(module, self.path, self._line(node), kind or self._kind(), self.dev)
            )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)
            if alias.name == "importlib" and alias.asname:
                self.importlib_aliases.add(f"{alias.asname}.import_module")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            # relative: always the project's own code; resolve for completeness
            base = (
                self.package[: len(self.package) - (node.level - 1)]
                if node.level > 1
                else self.package
            )
            if base:
                self.out.first_party.add(base[0])
            return
        module = node.module or ""
        if module == "importlib":
            for alias in node.names:
                if alias.name == "import_module":
                    self.importlib_aliases.add(alias.asname or "import_module")
        # ``from google.cloud import storage`` imports google.cloud.storage when it is a module
        # (PEP 420 namespaces); the mapping falls back to the longest real package otherwise
        names = [a.name for a in node.names if a.name != "*"]
        if not names:
            self._add(module, node)
        for name in names:
            self._add(f"{module}.{name}", node)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self.kinds.append(KIND_TYPE_CHECKING)
            for stmt in node.body:
                self.visit(stmt)
            self.kinds.pop()
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        optional = any(_catches_import_error(h.type) for h in node.handlers)
        if optional:
            self.kinds.append(KIND_OPTIONAL)
        for stmt in node.body:
            self.visit(stmt)
        if optional:
            self.kinds.pop()
        for handler in node.handlers:
            # ``except ImportError: import thread``: a fallback, run only when the first failed
            fallback = _catches_import_error(handler.type)
            if fallback:
                self.kinds.append(KIND_OPTIONAL)
            self.visit(handler)
            if fallback:
                self.kinds.pop()
        for stmt in [*node.orelse, *node.finalbody]:
            self.visit(stmt)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        if (name in self.importlib_aliases or name == "__import__") and (
            node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            target = node.args[0].value
            if not target.startswith("."):
                self._add(target, node, KIND_DYNAMIC if not self.kinds else self._kind())
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        seen = self.out.attributes.setdefault(node.attr, [])
        if len(seen) < 3:  # a few places are enough to explain a use
            seen.append((self.path, self._line(node)))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and 2 < len(node.value) < 300:
            self.out.strings.append((node.value, self.path, self._line(node)))

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            name = target.id if isinstance(target, ast.Name) else None
            if name is not None and name.endswith("_APPS") and name.isupper():
                # `INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS` (the
                # cookiecutter-django layout): each part names installed apps
                name = "INSTALLED_APPS"
            if name in _SETTINGS_NAMES:
                for sub in ast.walk(node.value):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        self.out.settings.append((name, sub.value, self.path, self._line(sub)))
        self.generic_visit(node)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _is_type_checking(test: ast.expr) -> bool:
    return _dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING", "t.TYPE_CHECKING")


def _catches_import_error(node: ast.expr | None) -> bool:
    if node is None:
        return True  # bare except
    names = [_dotted(e) for e in node.elts] if isinstance(node, ast.Tuple) else [_dotted(node)]
    return any(
        n.split(".")[-1] in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")
        for n in names
    )


def _notebook_source(text: str, path: str) -> tuple[str, list[int]]:
    """Code cells joined; IPython magics and shell escapes blanked. Lines map to cell numbers."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JettisonError(f"invalid notebook JSON: {exc.msg}", path, exc.lineno) from None
    except RecursionError:
        raise JettisonError("invalid notebook: JSON too deeply nested", path) from None
    if not isinstance(data, dict):
        raise JettisonError(
            f"invalid notebook: the JSON is {_json_type(data)}, not an object", path
        )
    cells = data.get("cells", [])
    if not isinstance(cells, list):
        raise JettisonError(f"invalid notebook: 'cells' is {_json_type(cells)}, not a list", path)
    lines: list[str] = []
    cell_of: list[int] = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise JettisonError(
                f"invalid notebook: cell {number} is {_json_type(cell)}, not an object", path
            )
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            odd = next((part for part in source if not isinstance(part, str)), "")
            if not isinstance(odd, str):
                raise JettisonError(
                    f"invalid notebook: the source of cell {number} holds {_json_type(odd)}, "
                    "not lines of text",
                    path,
                )
            source = "".join(source)
        elif not isinstance(source, str):
            raise JettisonError(
                f"invalid notebook: the source of cell {number} is {_json_type(source)}, not text",
                path,
            )
        for raw in source.splitlines():
            stripped = raw.lstrip()
            lines.append("" if stripped.startswith(("%", "!", "?")) else raw)
            cell_of.append(number)
        lines.append("")
        cell_of.append(number)
    return "\n".join(lines), cell_of


def _json_type(value: object) -> str:
    """A JSON value's type as JSON names it, with its article: "a number", "an object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


_IMPORT_LINE = re.compile(
    r"^\s*import\s+([A-Za-z_][\w.]*(?:\s+as\s+\w+)?(?:\s*,\s*[A-Za-z_][\w.]*(?:\s+as\s+\w+)?)*)"
)
_FROM_LINE = re.compile(r"^\s*from\s+([A-Za-z_][\w.]*)\s+import\b")


def salvage_imports(text: str) -> list[tuple[str, int]]:
    """Imports of a file ``ast`` cannot parse (Python 2, a stray syntax error), read line by
    line: (module, line). What such a file imports still counts as used."""
    found: list[tuple[str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        for statement in raw.split(";"):
            match = _IMPORT_LINE.match(statement)
            if match:
                for alias in match.group(1).split(","):
                    found.append((alias.split()[0], number))
                continue
            match = _FROM_LINE.match(statement)
            if match:
                found.append((match.group(1), number))
    return found


def scan_file(file: Path, root: Path, out: ScanResult) -> None:
    try:
        rel = file.relative_to(root)
    except ValueError:
        rel = Path(file.name)
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        out.errors.append(JettisonError(f"cannot read: {exc.strerror}", shown))
        return
    # notebooks are exploration: what they import is not what the service runs
    dev = is_dev_path(rel) or file.suffix == ".ipynb"
    if dev:
        out.dev_files.add(shown)
    line_map: list[int] | None = None
    error: JettisonError | None = None
    try:
        if file.suffix == ".ipynb":
            text, line_map = _notebook_source(text, shown)
        tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        line = exc.lineno
        if line_map is not None and line and 0 < line <= len(line_map):
            line = line_map[line - 1]
        error = JettisonError(f"cannot parse Python, skipped: {exc.msg}", shown, line)
    except JettisonError as exc:
        out.errors.append(exc)
        return
    except ValueError as exc:  # source with NUL bytes
        error = JettisonError(f"cannot parse Python, skipped: {exc}", shown)
    except (RecursionError, MemoryError):  # the parser's stack: nesting thousands deep
        error = JettisonError("cannot parse Python, skipped: too deeply nested", shown)
    if error is not None:
        out.errors.append(error)
        # never "missing" on this evidence (a Python 2 file may not even run), but used
        for module, number in salvage_imports(text.replace("\0", "")):
            if line_map is not None and 0 < number <= len(line_map):
                number = line_map[number - 1]
            out.salvaged.append(ImportUse(module, shown, number, KIND_OPTIONAL, dev))
        return
    vendored = any(p in _VENDOR_DIRS for p in rel.parts[:-1])
    try:
        _Visitor(shown, _package_of(file, root), dev, out, line_map, vendored).visit(tree)
    except RecursionError:  # a tree the parser built but too deep to walk
        out.errors.append(JettisonError("cannot analyse Python, skipped: too deeply nested", shown))


def scan_imports(root: Path) -> ScanResult:
    """Imports, string literals and settings of every Python file and notebook under ``root``."""
    out = ScanResult()
    out.files = list(iter_source_files(root, out.errors))
    with collector_paused():  # the trees are freed by reference counting, file by file
        for file in out.files:
            scan_file(file, root if root.is_dir() else root.parent, out)
    base = root if root.is_dir() else root.parent
    out.first_party |= first_party_names(base, out.files, out.namespaces)
    return out
