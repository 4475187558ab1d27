"""Python distributions the image installs and nothing uses, decided from the built image's
own metadata (``UNUSEDDISTS``, an unsafe fix made only under ``--verify``).

Requirements files often carry what the service never runs: a CLI used by hand (httpie), a
development server (aiosmtpd), a tool a README mentions. ``jettison deps`` finds them, but
from jettison's own interpreter the mapping of names to modules is a guess. Here it is not:

1. Build the fixed Dockerfile on the engine and read the distributions installed in the
   image (:func:`jettison.deps.image.environment_from_image`: their METADATA, RECORD and
   top-level modules, nothing run).
2. Analyse the build context with that environment (:func:`jettison.deps.analyze.analyze`:
   imports, the commands the Dockerfile and the configuration run, plugins, database URLs).
3. A declaration is removed when the analysis calls it unused (or a development tool in the
   runtime image) from real metadata, it is written in a requirements file a plain
   ``pip install -r`` of the Dockerfile installs, and no used distribution lists it as an
   optional dependency (WTForms loads email-validator, PyMySQL cryptography, without an
   import in the project: only the feature in use decides, which no reading can tell).
   Packages the Dockerfile installs by name are the user's explicit choice and stay.

The fix appends ``pip uninstall -y`` of those distributions, with the dependencies only they
need, to the install command in the same RUN, so no layer keeps them and the requirements
files stay as they are. ``--verify`` then runs the checks; a distribution loaded some other
way fails them and the removal is rolled back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from jettison.dockerfile import Command, Dockerfile, Instruction, parse_dockerfile
from jettison.dockerfile import commands as sh
from jettison.findings import Edit
from jettison.fixes.built_text import built_image, remembered
from jettison.rules._manifests import canonical

# pip options that put the packages where `pip uninstall` does not look
_ELSEWHERE = ("--prefix", "--target", "-t", "--root", "--user")


@dataclass
class UnusedDistributions:
    # the requirements file (as the pip command names it) -> distributions to uninstall
    # after installing it: the unused ones and the dependencies only they need
    by_file: dict[str, list[str]] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)  # the unused declarations, as written
    saved_bytes: int = 0
    kept: dict[str, str] = field(default_factory=dict)  # candidate -> why it stays


DistChecker = Callable[[str], UnusedDistributions]


def requirement_installs(df: Dockerfile) -> list[tuple[Instruction, Command, str]]:
    """(RUN, pip command, requirements file as written) of every plain ``pip install -r``
    whose packages `pip uninstall` in the same RUN would find."""
    out: list[tuple[Instruction, Command, str]] = []
    for ins in df.instructions:
        if ins.keyword != "RUN" or ins.heredocs or ins.script is None or ins.script.has_error:
            continue
        for cmd in sh.commands(ins):
            if not sh.is_pip_install(cmd) or cmd.in_condition:
                continue
            if cmd.next_operator not in (None, "&&", ";") or cmd.has_flag(*_ELSEWHERE):
                continue
            values = cmd.arg_values
            for i, v in enumerate(values):
                if v in ("-r", "--requirement") and i + 1 < len(values):
                    out.append((ins, cmd, values[i + 1]))
                elif v.startswith("--requirement="):
                    out.append((ins, cmd, v.split("=", 1)[1]))
    return [(i, c, f) for i, c, f in out if "$" not in f]


def _same_file(declared: str, written: str) -> bool:
    """A declaration's file (relative to the context) is the one the pip command names
    (relative to its working directory, or absolute under the copy's destination)."""
    d, w = PurePosixPath(declared), PurePosixPath(written.removeprefix("./"))
    return d.name == w.name and (len(d.parts) == 1 or str(w).endswith(str(d)))


def choose(
    report: Any,
    files: list[str],
    dockerfile: str,
    context: str | Path = ".",
    env: Any = None,
    imports: Mapping[tuple[str, str | None], frozenset[str]] | None = None,
) -> UnusedDistributions:
    """What to uninstall, from a :class:`jettison.deps.report.DepsReport` made with an
    image's metadata for ``context`` (``env``, a :class:`jettison.deps.metadata.Environment`
    of the image); ``files``: the requirements files the Dockerfile installs; ``imports``:
    what each installed distribution's own files import
    (:func:`jettison.deps.image.imports_in_image`)."""
    out = _choose(report, files, dockerfile, context)
    if env is None or not out.unused:
        return out
    # nothing another installed distribution requires goes: a kept optional dependency
    # (email-validator) still needs its own (dnspython); nor anything one imports without
    # declaring it (kombu's redis transport imports packaging, which pytest brought)
    while True:
        removed = {canonical(n) for names in out.by_file.values() for n in names}
        staying = [n for n in env.dists if n not in removed]
        needed = env.closure((n, frozenset()) for n in staying)
        why = {n: f"{needed[n]} requires it" for n in removed & set(needed)}
        for name, reason in _imported_by(env, staying, removed, imports or {}).items():
            why.setdefault(name, reason)
        if not why:
            return out
        blocked = set(why)
        for item_name in list(out.unused):
            if canonical(item_name) in blocked:
                out.unused.remove(item_name)
                out.kept[item_name] = why[canonical(item_name)]
        for f, names in list(out.by_file.items()):
            out.by_file[f] = [n for n in names if canonical(n) not in blocked]
            if not out.by_file[f]:
                del out.by_file[f]
        out.saved_bytes = sum(
            env.dists[k].size_bytes or 0
            for k in {canonical(n) for ns in out.by_file.values() for n in ns}
            if k in env.dists
        )


def _imported_by(
    env: Any,
    staying: list[str],
    removed: set[str],
    imports: Mapping[tuple[str, str | None], frozenset[str]],
) -> dict[str, str]:
    """The removed distributions a staying one imports (name -> why it stays); imports of a
    plugin module count only while the tool that loads it stays."""
    provider = {
        module: name for name in removed if name in env.dists for module in env.dists[name].modules
    }
    kept = set(staying)
    by_dist: dict[str, set[str]] = {}
    for (name, host), names in imports.items():
        if name in kept and (host is None or canonical(host) not in removed):
            by_dist.setdefault(name, set()).update(names)
    out: dict[str, str] = {}
    for name in staying:
        for imported in sorted(by_dist.get(name, ())):
            parts = imported.split(".")
            for i in range(len(parts), 0, -1):
                hit = provider.get(".".join(parts[:i]))
                if hit is not None and hit not in out:
                    who = env.dists[name].display_name
                    out[hit] = f"{who} imports it (`{imported}`) without requiring it"
                    break
    return out


def _choose(
    report: Any, files: list[str], dockerfile: str, context: str | Path
) -> UnusedDistributions:
    out = UnusedDistributions()
    base = os.path.abspath(context)
    for item in report.items:
        if not item.removable:
            continue
        if item.guessed:
            out.kept[item.name] = "its modules are a guess"
            continue
        if item.optional_of:
            out.kept[item.name] = f"an optional dependency of {item.optional_of}"
            continue
        paths = {
            Path(os.path.relpath(os.path.abspath(d.path), base)).as_posix()
            for d in item.declarations
        }
        if any(Path(p).name == Path(dockerfile).name for p in paths):
            out.kept[item.name] = "the Dockerfile installs it by name"
            continue
        written = [f for f in files if any(_same_file(p, f) for p in paths)]
        if not written or any(not p.endswith((".txt", ".in")) for p in paths):
            out.kept[item.name] = "not installed from a requirements file by a plain pip install"
            continue
        names = [item.name, *item.exclusive]
        for f in written:
            target = out.by_file.setdefault(f, [])
            target.extend(n for n in names if n not in target)
        out.unused.append(item.name)
        out.saved_bytes += item.freed_bytes or item.size_bytes or 0
    return out


def with_uninstalls(df: Dockerfile, found: UnusedDistributions) -> list[Edit]:
    """Edits appending ``pip uninstall -y ...`` after each install of a requirements file."""
    edits: list[Edit] = []
    source, escape = df.source, df.directives.escape
    for _ins, cmd, written in requirement_installs(df):
        names = found.by_file.get(written)
        if not names:
            continue
        sub = next((w for w in cmd.args if w.value == "install"), None)
        if sub is None:
            continue
        pip = source[cmd.start : sub.start]
        text = f" {escape}\n    && {pip}uninstall -y {' '.join(names)}"
        edits.append(Edit(cmd.end, cmd.end, text))
    return edits


def find_unused(
    text: str,
    path: str,
    context: Path,
    sdk: Any,
    build_args: Mapping[str, str] | None = None,
) -> UnusedDistributions:
    """Build ``text`` and name the distributions it installs from requirements files that
    nothing uses, from the image's own metadata."""
    from jettison.deps.analyze import analyze, collect
    from jettison.deps.image import environment_from_image, imports_in_image

    df = parse_dockerfile(text, path, str(context))
    files = sorted({f for _, _, f in requirement_installs(df)})
    if not files:
        return UnusedDistributions()
    scan = "the unused-distribution scan"
    with built_image(text, path, context, sdk, build_args, scan) as (image, dockerfile):
        env = environment_from_image(image)
        report = analyze(collect(context, dockerfile), env)
        found = choose(report, files, path, context, env)
        if found.unused:
            # metadata alone misses what a package imports without declaring it
            found = choose(report, files, path, context, env, imports_in_image(image, env))
    return found


def engine_checker(
    path: str,
    context: Path,
    sdk: Any,
    build_args: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DistChecker:
    """A :data:`DistChecker` on the engine for one Dockerfile, remembering each text's
    answer (bisecting asks again for the same text)."""

    def answer(text: str) -> UnusedDistributions:
        if not requirement_installs(parse_dockerfile(text, path, str(context))):
            return UnusedDistributions()
        if progress is not None:
            progress(f"{path}: building the image to find Python packages nothing uses")
        return find_unused(text, path, context, sdk, build_args)

    return remembered(answer)
