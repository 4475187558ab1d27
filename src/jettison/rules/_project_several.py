"""One pip command installing several local projects of a monorepo (``pip install
/app/packages/core[all] /app/packages/plugin``): the JT201 rewrite that installs their
dependencies before the source is copied.

Each project's pyproject.toml is copied first, and one step reads the dependencies (and the
extras asked for) of all of them at build time, leaving out the projects themselves (a
plugin that requires the core finds it installed from the source later, as before), and
installs them with the same pip command; the install of the projects gets ``--no-deps``.
Only when every project lists its dependencies statically in ``[project]`` and no project
asks for the extras of another (those would be lost with the project's own name).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from jettison.dockerfile import Command, Dockerfile, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit
from jettison.rules import _manifests, _project
from jettison.rules._manifests import EXTRACT_SEVERAL

_NAME = re.compile(r"\s*([A-Za-z0-9._-]+)\s*(\[)?")


def several_projects_rewrite(
    df: Dockerfile,
    stage: Stage,
    source_copy: Instruction,
    run: Instruction,
    between: list[Instruction],
    movable: bool,
    cmd: Command,
) -> _project.Rewrite:
    cmds = sh.commands(run)
    if any(c.name in ("cd", "pushd") and c.start < cmd.start for c in cmds):
        return _project.Rewrite([], "the RUN changes directory before the install")
    if not any(s.rstrip("/") in (".", "") for s in source_copy.args[:-1]):
        return _project.Rewrite([], "the projects are not copied with the whole context")
    cwd = _project._workdir_at(stage, run)
    drop = {i for t in _project.pip_targets(cmd) for i in t.words}
    read = _project.reads_copied_file(stage, source_copy, cmd, drop, cwd)
    if read is not None:
        return _project.Rewrite([], f"the install reads {read}, which the source COPY brings")
    copy_dest = _project.resolve_path(
        _project._workdir_at(stage, source_copy), source_copy.args[-1]
    )
    if copy_dest is None:
        return _project.Rewrite([], "the source's destination depends on a variable")
    base = PurePosixPath(copy_dest)
    context = df.context_dir
    targets = _project.pip_targets(cmd)
    if any(t.variable_extras for t in targets):
        return _project.Rewrite([], "the extras come from a variable")
    projects: list[tuple[str, str, tuple[str, ...]]] = []  # (dir in image, in context, extras)
    names: dict[str, dict[str, object]] = {}
    for target in targets:
        where = _project.resolve_path(cwd, target.path)
        if target.archive or where is None:
            return _project.Rewrite([], "an install of an archive or of a variable path")
        inside = PurePosixPath(where)
        if inside != base and base not in inside.parents:
            return _project.Rewrite([], "a project is outside the copied tree")
        rel = inside.relative_to(base)
        pyproject = context / rel / "pyproject.toml"
        if not pyproject.is_file() or not _manifests.static_dependencies(pyproject):
            return _project.Rewrite(
                [], f"{rel / 'pyproject.toml'} does not list its dependencies statically"
            )
        data = _manifests.read_toml(pyproject) or {}
        table = data.get("project", {})
        if not isinstance(table.get("name"), str):
            return _project.Rewrite([], f"{rel / 'pyproject.toml'} has no project name")
        names[_manifests.canonical(table["name"])] = table
        defined = list(table.get("optional-dependencies", {}))
        projects.append(
            (str(inside), str(rel), _manifests.extras_as_written(target.extras, defined))
        )
    # a requirement on another local project with extras: those extras' dependencies would
    # be lost with the project's name
    for table in names.values():
        every = [
            *table.get("dependencies", []),  # type: ignore[misc]
            *(d for v in table.get("optional-dependencies", {}).values() for d in v),  # type: ignore[attr-defined]
        ]
        for requirement in every:
            found = _NAME.match(requirement)
            if found and found.group(2) and _manifests.canonical(found.group(1)) in names:
                return _project.Rewrite([], "a project asks for another local project's extras")
    source = df.source
    dest = source_copy.args[-1]
    keep = "".join(source[f.start : f.end] + " " for f in source_copy.flags if f.name in ("chown",))
    copy_lines = "".join(
        f"COPY {keep}{rel}/pyproject.toml {PurePosixPath(dest) / rel}/\n" for _, rel, _ in projects
    )
    args = " ".join(
        f"'{image}/pyproject.toml[{','.join(extras)}]'" if extras else f"{image}/pyproject.toml"
        for image, _, extras in projects
    )
    head = source[cmd.start : cmd.args[0].start] if cmd.args else source[cmd.start : cmd.end]
    kept = [source[w.start : w.end] for i, w in enumerate(cmd.args) if i not in drop]
    escape = df.directives.escape
    deps_file = _manifests.DEPS_FILE
    deps_cmd = (
        f'{_project._python_of(cmd)} -c "{EXTRACT_SEVERAL}" {args} > {deps_file} {escape}\n'
        f"    && {head}{' '.join(kept)} -r {deps_file} {escape}\n"
        f"    && rm {deps_file}"
    )
    insert = sh.insert_after_word(cmd, _project.pip_subcommand(cmd) or "install", "--no-deps")
    if insert is None:
        return _project.Rewrite([], "the install command has no subcommand word")
    setup = _project._setup_prefix(source, cmds, cmd)
    if setup is None:
        return _project.Rewrite([], "commands before the install in its RUN may read the source")
    flags = "".join(
        source[f.start : f.end] + " " for f in run.flags if f.name in ("mount", "network")
    )
    comment = (
        "# the projects' dependencies (their pyproject.toml), installed before the source is "
        "copied\n"
    )
    edits = [insert]
    # as for one project: the cleanups of the installed packages go with the dependencies,
    # and other rules' appends to this RUN wait for the next round, which sees the split
    for trim, start in _project.package_trims(source, cmds, cmd):
        deps_cmd += f" {escape}\n    && {source[trim.start : trim.end]}"
        edits.append(Edit(start, trim.end, ""))
    last = max(cmds, key=lambda c: c.end)
    edits.append(Edit(last.end, last.end, ""))
    block = f"{comment}{copy_lines}RUN {flags}{setup}{deps_cmd}\n"
    return _project.place_dependency_step(source, source_copy, run, between, movable, block, edits)
