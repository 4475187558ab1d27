"""``pyproject.toml``: PEP 621, Poetry, PDM and uv dependency groups, dynamic requirement
files."""

from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from jettison.deps.requirements import (
    DEV,
    OPTIONAL,
    RUNTIME,
    Declared,
    Manifests,
    group_of,
    key_line,
    parse_requirement_text,
    parse_requirements_file,
    path_is,
    read_toml,
    toml_line,
    toml_type,
)
from jettison.errors import JettisonError


def parse_pyproject(path: Path, out: Manifests | None = None) -> Manifests:
    out = out if out is not None else Manifests()
    shown = str(path)
    read = read_toml(path, out, "invalid TOML")
    if read is None:
        return out
    text, data = read
    out.files.append(shown)

    def wrong(what: str, value: Any, expected: str, section: str, key: str) -> None:
        """An error at ``key =`` after ``section``: ``what`` is not of the type it must be."""
        out.errors.append(
            JettisonError(
                f"{what} must be {expected}, not {toml_type(value)}",
                shown,
                key_line(text, section, key),
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
            line = toml_line(text, section, quoted, key)
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
                    toml_line(text, section, name),
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
        if not path_is(target, "file"):
            out.errors.append(JettisonError(f"dependency file not found: {name}", str(pyproject)))
            continue
        read.add(target.resolve())
        parse_requirements_file(target, group, out)
