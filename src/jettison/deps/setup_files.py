"""``setup.cfg``, ``setup.py`` (read as a syntax tree, never run) and ``Pipfile``."""

import ast
import configparser
import re
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from jettison.deps.requirements import (
    DEV,
    RUNTIME,
    Declared,
    Manifests,
    decode_text,
    group_of,
    key_line,
    parse_requirement_text,
    read_toml,
    toml_line,
    toml_type,
)
from jettison.errors import JettisonError


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
            line = toml_line(text, section, item)
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
    read = read_toml(path, out, "cannot read Pipfile")
    if read is None:
        return out
    text, data = read
    out.files.append(shown)
    for section, group in (("packages", RUNTIME), ("dev-packages", DEV)):
        table = data.get(section) or {}
        if not isinstance(table, dict):
            out.errors.append(
                JettisonError(
                    f"[{section}] must be a table, not {toml_type(table)}",
                    shown,
                    key_line(text, section, section),
                )
            )
            continue
        for name, spec in table.items():
            given = (spec.get("extras") or []) if isinstance(spec, dict) else []
            if not isinstance(given, list) or not all(isinstance(e, str) for e in given):
                out.errors.append(
                    JettisonError(
                        f"{section}.{name}.extras must be an array of strings, "
                        f"not {toml_type(given)}",
                        shown,
                        key_line(text, f"[{section}]", name),
                    )
                )
                given = []
            out.declared.append(
                Declared(
                    canonicalize_name(name),
                    name,
                    shown,
                    toml_line(text, f"[{section}]", name),
                    group,
                    extras=frozenset(canonicalize_name(e) for e in given),
                )
            )
    return out
