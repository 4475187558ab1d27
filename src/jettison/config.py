"""Configuration: ``[tool.jettison]`` in pyproject.toml or ``.jettison.toml``, plus hadolint's
``.hadolint.yaml`` ``ignored`` list, which we honour for the rules that correspond."""

from __future__ import annotations

import contextlib
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.errors import JettisonError
from jettison.findings import Severity


@dataclass
class Config:
    select: list[str] = field(default_factory=list)  # code prefixes; empty = all
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    hadolint_ignored: list[str] = field(default_factory=list)
    fail_level: Severity = Severity.WARNING
    source: str | None = None
    # extra import-name -> distribution mappings for ``jettison deps``
    import_map: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def enabled(self, code: str, equivalents: dict[str, str] | None = None) -> bool:
        code = code.upper()
        hadolint = (equivalents or {}).get("hadolint")

        def hit(prefixes: list[str]) -> bool:
            # a jettison code or prefix, or the hadolint code a rule corresponds to
            return any(code.startswith(p) or p == hadolint for p in prefixes)

        if self.select and not hit(self.select):
            return False
        if hit(self.ignore):
            return False
        return not (hadolint and hadolint in self.hadolint_ignored)

    def ignored_for_path(self, code: str, path: str) -> bool:
        candidates = [path]
        if self.source and self.source != "<defaults>":
            # patterns are relative to the directory of the config file that names them
            base = Path(self.source).resolve().parent
            with contextlib.suppress(ValueError):
                candidates.append(Path(path).resolve().relative_to(base).as_posix())
        for pattern, codes in self.per_file_ignores.items():
            if any(_path_matches(c, pattern) for c in candidates) and any(
                code.startswith(c) for c in codes
            ):
                return True
        return False

    def severity_of(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code.upper(), default)


def _path_matches(path: str, pattern: str) -> bool:
    return (
        fnmatch.fnmatch(path, pattern)
        or fnmatch.fnmatch(Path(path).name, pattern)
        or fnmatch.fnmatch(path, "*/" + pattern)
    )


def _codes(value: Any, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JettisonError(f"'{key}' must be a list of rule codes", where)
    return [v.strip().upper() for v in value]


def load_config(start: Path | None = None, explicit: Path | None = None) -> Config:
    """Find and read the configuration, looking upward from ``start`` (default: cwd)."""
    table: dict[str, Any] = {}
    source: str | None = None
    if explicit is not None:
        table, source = _read_table(explicit), str(explicit)
    else:
        here = (start or Path.cwd()).resolve()
        for directory in [here, *here.parents]:
            dot = directory / ".jettison.toml"
            if dot.is_file():
                table, source = _read_table(dot), str(dot)
                break
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file():
                found = _read_table(pyproject, section=True)
                if found:
                    table, source = found, str(pyproject)
                    break
    config = _from_table(table, source or "<defaults>")
    config.source = source
    hadolint = _find_hadolint_yaml(start or Path.cwd())
    if hadolint is not None:
        config.hadolint_ignored = _read_hadolint_ignored(hadolint)
    return config


def _read_table(path: Path, section: bool = False) -> dict[str, Any]:
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise JettisonError(f"invalid TOML: {exc}", str(path)) from None
    except UnicodeDecodeError as exc:
        line = _line_of(path, exc.start)
        raise JettisonError("not valid UTF-8 text", str(path), line) from None
    except OSError as exc:
        raise JettisonError(f"cannot read: {exc.strerror}", str(path)) from None
    tool = data.get("tool")
    nested = tool.get("jettison") if isinstance(tool, dict) else None
    if nested is not None and not isinstance(nested, dict):
        raise JettisonError("'tool.jettison' must be a table", str(path))
    if section:
        return nested or {}
    return nested if nested is not None else data


def _line_of(path: Path, offset: int) -> int | None:
    """The line of byte ``offset`` (tomllib decodes the whole file before parsing)."""
    try:
        return path.read_bytes()[:offset].count(b"\n") + 1
    except OSError:
        return None


def _from_table(table: dict[str, Any], where: str) -> Config:
    config = Config(raw=table)
    config.select = _codes(table.get("select"), "select", where)
    config.ignore = _codes(table.get("ignore"), "ignore", where)
    severity = table.get("severity") or {}
    if not isinstance(severity, dict):
        raise JettisonError("'severity' must be a table of CODE = level", where)
    for code, level in severity.items():
        try:
            config.severity[str(code).upper()] = Severity.parse(str(level))
        except ValueError as exc:
            raise JettisonError(str(exc), where) from None
    pfi = table.get("per-file-ignores") or table.get("per_file_ignores") or {}
    if not isinstance(pfi, dict):
        raise JettisonError("'per-file-ignores' must be a table of glob = [codes]", where)
    config.per_file_ignores = {str(k): _codes(v, "per-file-ignores", where) for k, v in pfi.items()}
    if "fail-level" in table:
        try:
            config.fail_level = Severity.parse(str(table["fail-level"]))
        except ValueError as exc:
            raise JettisonError(str(exc), where) from None
    imports = table.get("import-map") or table.get("import_map") or {}
    if not isinstance(imports, dict) or not all(isinstance(v, str) for v in imports.values()):
        raise JettisonError("'import-map' must be a table of import = \"distribution\"", where)
    config.import_map = {str(k): v for k, v in imports.items()}
    return config


def _find_hadolint_yaml(start: Path) -> Path | None:
    here = start.resolve()
    for directory in [here, *here.parents]:
        for name in (".hadolint.yaml", ".hadolint.yml"):
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _read_hadolint_ignored(path: Path) -> list[str]:
    import yaml  # only when a .hadolint.yaml exists

    where = str(path)
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise JettisonError(f"cannot read hadolint config: {exc.strerror}", where) from None
    except UnicodeDecodeError:
        raise JettisonError("hadolint config is not valid UTF-8 text", where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise JettisonError(f"invalid YAML in hadolint config: {problem}", where, line) from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise JettisonError("hadolint config must be a mapping (e.g. ignored: [DL3008])", where)
    ignored = data.get("ignored") or []
    if not isinstance(ignored, list) or not all(isinstance(c, str) for c in ignored):
        raise JettisonError("'ignored' in hadolint config must be a list of rule codes", where)
    return [c.strip().upper() for c in ignored]
