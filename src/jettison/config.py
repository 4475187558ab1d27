"""Configuration: ``[tool.jettison]`` in pyproject.toml or ``.jettison.toml``, plus hadolint's
``.hadolint.yaml`` (``ignored``, ``override``, ``failure-threshold``, ``trustedRegistries``),
honoured for the rules that correspond.

A key jettison does not know, or a value of the wrong type, is an error naming the file and
the line (a typo such as ``ignroe`` must not silently check everything)."""

from __future__ import annotations

import contextlib
import fnmatch
import re
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
    # .hadolint.yaml ``override``: hadolint code -> level, for the rules that correspond
    hadolint_severity: dict[str, Severity] = field(default_factory=dict)
    # registries base images may come from (JT412; empty: any): ``trusted-registries``, or
    # .hadolint.yaml's ``trustedRegistries``
    trusted_registries: list[str] = field(default_factory=list)
    fail_level: Severity = Severity.WARNING
    # hadolint's ``failure-threshold: none`` (or ``ignore``): findings never fail the run
    never_fail: bool = False
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

    def names(self, code: str) -> bool:
        """``select`` names this code itself (not only a prefix of it): how a rule that is
        off by default is turned on."""
        return code.upper() in (c.upper() for c in self.select)

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

    def severity_of(
        self, code: str, default: Severity, equivalents: dict[str, str] | None = None
    ) -> Severity:
        """``[tool.jettison.severity]`` first, then .hadolint.yaml's ``override`` of the
        hadolint rule this one corresponds to."""
        level = self.severity.get(code.upper())
        if level is not None:
            return level
        hadolint = (equivalents or {}).get("hadolint")
        if hadolint is not None and hadolint in self.hadolint_severity:
            return self.hadolint_severity[hadolint]
        return default

    def fails(self, severity: Severity) -> bool:
        """Whether a finding at ``severity`` makes the run exit 1."""
        return not self.never_fail and severity.rank >= self.fail_level.rank


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
            dot = _shown(directory / ".jettison.toml")
            if dot.is_file():
                table, source = _read_table(dot), str(dot)
                break
            pyproject = _shown(directory / "pyproject.toml")
            if pyproject.is_file():
                found = _read_table(pyproject, section=True)
                if found:
                    table, source = found, str(pyproject)
                    break
    config = _from_table(table, source or "<defaults>", _TomlLines(source))
    config.source = source
    hadolint = _find_hadolint_yaml(start or Path.cwd())
    if hadolint is not None:
        _read_hadolint(
            hadolint,
            config,
            fail_level_set="fail-level" in table,
            trusted_set=bool({"trusted-registries", "trusted_registries"} & set(table)),
        )
    return config


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is inside it: how errors name it."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


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


# every key of [tool.jettison] (the deps and inspect verbs read theirs from here too)
_KEYS = {
    "select": "a list of rule codes",
    "ignore": "a list of rule codes",
    "severity": "a table of CODE = level",
    "per-file-ignores": "a table of glob = [codes]",
    "fail-level": "a level (error, warning, info, style)",
    "import-map": 'a table of import = "distribution"',
    "trusted-registries": "a list of registry names",
    "inspect": "a table (fail-on)",
}
_ALIASES = {
    "per_file_ignores": "per-file-ignores",
    "import_map": "import-map",
    "trusted_registries": "trusted-registries",
}
_INSPECT_KEYS = {"fail-on", "fail_on"}


class _TomlLines:
    """The line of a key in a TOML file (tomllib gives values, not positions): the first
    ``key =`` line inside the table that holds it, else the table's header."""

    def __init__(self, source: str | None) -> None:
        self.lines: list[str] = []
        if source:
            with contextlib.suppress(OSError, ValueError):
                self.lines = Path(source).read_text(encoding="utf-8-sig").splitlines()

    def find(self, key: str, table: tuple[str, ...] = ()) -> int | None:
        """Line of ``key`` in ``[tool.jettison(.table)]`` (or the plain file's table)."""
        wanted = {".".join(("tool", "jettison", *table)), ".".join(table)}
        current = ""
        header_line = None
        key_re = re.compile(
            rf"""^\s*(?:"{re.escape(key)}"|'{re.escape(key)}'|{re.escape(key)})\s*="""
        )
        for number, text in enumerate(self.lines, 1):
            header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", text)
            if header:
                current = re.sub(r"[\s\"']", "", header.group(1))
                if current in wanted and not key:
                    return number
                if current in wanted:
                    header_line = header_line or number
                continue
            if current in wanted and key and key_re.match(text):
                return number
        if header_line is None and table:  # a dotted key (severity.JT110 = ...): its table's
            return self.find(table[-1], table[:-1])
        return header_line


def _check_keys(table: dict[str, Any], where: str, lines: _TomlLines) -> None:
    known = [*_KEYS, *_ALIASES]
    for key in table:
        if key in known:
            continue
        import difflib  # only for the error: it is slow to import

        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{_ALIASES.get(close[0], close[0])}'?" if close else ""
        raise JettisonError(
            f"unknown key '{key}' in [tool.jettison]{hint} (known: {', '.join(_KEYS)})",
            where,
            lines.find(key),
        )
    inspect = table.get("inspect")
    if isinstance(inspect, dict):
        for key in inspect:
            if key not in _INSPECT_KEYS:
                raise JettisonError(
                    f"unknown key '{key}' in [tool.jettison.inspect] (known: fail-on)",
                    where,
                    lines.find(key, ("inspect",)),
                )
    elif inspect is not None:
        raise JettisonError(
            f"'inspect' must be {_KEYS['inspect']}, not {_type_name(inspect)}",
            where,
            lines.find("inspect"),
        )


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _from_table(table: dict[str, Any], where: str, lines: _TomlLines | None = None) -> Config:
    lines = lines or _TomlLines(None)
    _check_keys(table, where, lines)

    def fail(key: str, what: str, value: Any, sub: tuple[str, ...] = ()) -> JettisonError:
        line = lines.find(key, sub) if key else lines.find("", sub)
        return JettisonError(
            f"'{key or '.'.join(sub)}' must be {what}, not {_type_name(value)}", where, line
        )

    def codes(key: str) -> list[str]:
        value = table.get(key)
        try:
            return _codes(value, key, where)
        except JettisonError:
            raise fail(key, _KEYS[key], value) from None

    config = Config(raw=table)
    config.select = codes("select")
    config.ignore = codes("ignore")
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise fail("severity", _KEYS["severity"], severity)
    for code, level in severity.items():
        try:
            if not isinstance(level, str):
                raise ValueError(
                    f"severity of {code} must be a level (error, warning, info, style)"
                )
            config.severity[str(code).upper()] = Severity.parse(level)
        except ValueError as exc:
            raise JettisonError(str(exc), where, lines.find(str(code), ("severity",))) from None
    key = "per-file-ignores" if "per-file-ignores" in table else "per_file_ignores"
    pfi = table.get(key, {})
    if not isinstance(pfi, dict):
        raise fail(key, _KEYS["per-file-ignores"], pfi)
    for glob_, value in pfi.items():
        try:
            config.per_file_ignores[str(glob_)] = _codes(value, key, where)
        except JettisonError:
            raise JettisonError(
                f"'{key}' values must be lists of rule codes, not {_type_name(value)}",
                where,
                lines.find(str(glob_), (key,)),
            ) from None
    if "fail-level" in table:
        value = table["fail-level"]
        try:
            if not isinstance(value, str):
                raise ValueError
            config.fail_level = Severity.parse(value)
        except ValueError:
            raise JettisonError(
                f"'fail-level' must be one of error, warning, info, style, not {value!r}",
                where,
                lines.find("fail-level"),
            ) from None
    key = "import-map" if "import-map" in table else "import_map"
    imports = table.get(key, {})
    if not isinstance(imports, dict) or not all(isinstance(v, str) for v in imports.values()):
        raise fail(key, _KEYS["import-map"], imports)
    config.import_map = {str(k): v for k, v in imports.items()}
    key = "trusted-registries" if "trusted-registries" in table else "trusted_registries"
    trusted = table.get(key, [])
    if not isinstance(trusted, list) or not all(isinstance(r, str) for r in trusted):
        raise fail(key, _KEYS["trusted-registries"], trusted)
    config.trusted_registries = [r.strip() for r in trusted if r.strip()]
    return config


def _find_hadolint_yaml(start: Path) -> Path | None:
    here = start.resolve()
    for directory in [here, *here.parents]:
        for name in (".hadolint.yaml", ".hadolint.yml"):
            candidate = directory / name
            if candidate.is_file():
                return _shown(candidate)
    return None


_HADOLINT_LEVELS = ("error", "warning", "info", "style")


def _read_hadolint(
    path: Path, config: Config, fail_level_set: bool, trusted_set: bool = False
) -> None:
    """Read what jettison honours of hadolint's config into ``config``: ``ignored``,
    ``override`` (levels of the corresponding rules), ``failure-threshold`` (unless
    [tool.jettison] sets ``fail-level``), ``trustedRegistries`` (JT412's, as DL3026's;
    unless [tool.jettison] sets ``trusted-registries``)."""
    import yaml  # only when a .hadolint.yaml exists

    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)  # for the lines of keys
        data = yaml.safe_load(text)
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
        return
    if not isinstance(data, dict):
        raise JettisonError("hadolint config must be a mapping (e.g. ignored: [DL3008])", where)

    def line_of(key: str) -> int | None:
        if isinstance(node, yaml.MappingNode):
            for k, _ in node.value:
                if getattr(k, "value", None) == key:
                    return int(k.start_mark.line) + 1
        return None

    def codes(key: str, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise JettisonError(
                f"'{key}' in hadolint config must be a list of rule codes", where, line_of(key)
            )
        return [c.strip().upper() for c in value]

    config.hadolint_ignored = codes("ignored", data.get("ignored"))
    override = data.get("override")
    if override is not None:
        if not isinstance(override, dict):
            raise JettisonError(
                "'override' in hadolint config must map a level (error, warning, info, style) "
                "to a list of rule codes",
                where,
                line_of("override"),
            )
        for level, listed in override.items():
            if level not in _HADOLINT_LEVELS:
                raise JettisonError(
                    f"'override' in hadolint config: unknown level {level!r} "
                    f"(choose from {', '.join(_HADOLINT_LEVELS)})",
                    where,
                    line_of("override"),
                )
            for code in codes("override", listed):
                config.hadolint_severity[code] = Severity.parse(level)
    threshold = data.get("failure-threshold")
    if threshold is not None:
        if threshold not in (*_HADOLINT_LEVELS, "ignore", "none"):
            raise JettisonError(
                f"'failure-threshold' in hadolint config must be one of "
                f"{', '.join(_HADOLINT_LEVELS)}, ignore, none, not {threshold!r}",
                where,
                line_of("failure-threshold"),
            )
        if not fail_level_set:  # jettison's own setting wins
            if threshold in ("ignore", "none"):
                config.never_fail = True
            else:
                config.fail_level = Severity.parse(threshold)
    trusted = data.get("trustedRegistries")
    if isinstance(trusted, str):  # hadolint takes one name as a string too
        trusted = [trusted]
    if trusted is not None:
        if not isinstance(trusted, list) or not all(isinstance(r, str) for r in trusted):
            raise JettisonError(
                "'trustedRegistries' in hadolint config must be a list of registry names",
                where,
                line_of("trustedRegistries"),
            )
        if not trusted_set:  # jettison's own setting wins
            config.trusted_registries = [r.strip() for r in trusted if r.strip()]
