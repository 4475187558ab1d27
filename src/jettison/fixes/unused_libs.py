"""Library packages the final image installs and nothing in it loads, decided on the engine.

A service's final stage often installs the shared libraries its wheels were once built
against (`apt-get install libcurl4 libpq5 libxml2`), and some of them are loaded by nothing:
healthchecks installs libxml2 (36 MB with the libicu it pulls in) for lxml, whose wheel
bundles its own. No reading of the Dockerfile can tell; the built image can:

1. Build the fixed Dockerfile (its final stage) on the engine.
2. In a container of it, ``ldd`` every ELF file under /usr/local (Python, its
   site-packages, the scripts pip installed), every virtualenv or tree the final stage
   copies from another stage and its WORKDIR, and map what they load to Debian packages;
   libraries the Python code names with ``ctypes.util.find_library`` count too (the scan of
   the multi-stage conversion, :mod:`jettison.fixes.runtime_libs`).
3. A library package the final stage installs by name (``lib*``, not ``-dev``, ``-bin``
   ...) is unused when neither that scan nor the dependencies of what is used, or of the
   other packages the stage installs (programs such as curl), need it.

The fix removes those names from the install; `--verify` then runs the checks, and a library
loaded some other way (a plugin loaded by path at run time) fails them and is rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jettison.dockerfile import Dockerfile, Instruction, Word, parse_dockerfile
from jettison.dockerfile import commands as sh
from jettison.errors import JettisonError
from jettison.findings import Edit
from jettison.fixes.built_text import built_image, remembered
from jettison.fixes.runtime_libs import _BASE, _SCAN, _closure, _run_python
from jettison.rules.size.word_removal import remove_words

LIBRARY = re.compile(r"^lib[a-z0-9][a-z0-9.+-]*$")
NOT_A_LIBRARY = ("-dev", "-dbg", "-doc", "-bin", "-utils", "-tools", "-common", "-data")


@dataclass
class UnusedLibraries:
    packages: list[str]  # library packages installed by name that nothing loads
    saved_bytes: int  # their installed size, with the packages only they pulled in
    # the candidates kept, each with a file that loads it (what the user may want to know:
    # healthchecks' uWSGI links libxml2)
    kept: dict[str, str] = field(default_factory=dict)


Checker = Callable[[str], UnusedLibraries]


def _final_lineage(df: Dockerfile) -> list[Any]:
    final = next((s for s in df.stages if s.is_final), None)
    return list(final.lineage()) if final is not None else []


def library_words(df: Dockerfile) -> list[tuple[Instruction, Word, str]]:
    """(RUN, word, package) of every library package the final image installs by name."""
    found: list[tuple[Instruction, Word, str]] = []
    for stage in _final_lineage(df):
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            for cmd in sh.apt_installs(ins):
                for word in cmd.words_after(cmd.subcommand() or ""):
                    name = word.value.split("=", 1)[0].split(":", 1)[0]
                    if (
                        not word.dynamic
                        and LIBRARY.match(name)
                        and not name.endswith(NOT_A_LIBRARY)
                    ):
                        found.append((ins, word, name))
    return found


def _installed_by_name(df: Dockerfile) -> set[str]:
    names: set[str] = set()
    for stage in _final_lineage(df):
        for ins in stage.instructions:
            if ins.keyword == "RUN":
                names.update(pkg for cmd, pkg in sh.installed_packages(ins) if cmd.name in sh.APT)
    return names


def scan_roots(df: Dockerfile) -> list[str]:
    """Where the final image keeps what the project installed and runs."""
    roots = ["/usr/local"]
    final = _final_lineage(df)
    for stage in final:
        cwd = "/"
        for ins in stage.instructions:
            if ins.keyword == "WORKDIR" and ins.args and "$" not in ins.args[0]:
                cwd = ins.args[0] if ins.args[0].startswith("/") else f"{cwd}/{ins.args[0]}"
            elif ins.keyword == "COPY" and ins.flag("from") and ins.args:
                dest = ins.args[-1]
                if dest.startswith("/") and "$" not in dest and dest.rstrip("/"):
                    roots.append(dest.rstrip("/"))
        if cwd != "/":
            roots.append(cwd.rstrip("/"))
    return list(dict.fromkeys(r for r in roots if r not in ("/", "/usr", "/usr/lib")))


def find_unused(
    text: str,
    path: str,
    context: Path,
    sdk: Any,
    build_args: Mapping[str, str] | None = None,
) -> UnusedLibraries:
    """Build ``text`` and name the library packages nothing in the image loads."""
    df = parse_dockerfile(text, path, str(context))
    candidates = sorted({name for _, _, name in library_words(df)})
    if not candidates:
        return UnusedLibraries([], 0)
    scan = "the unused-library scan"
    with built_image(text, path, context, sdk, build_args, scan) as (image_id, _):
        needed: set[str] = set()
        installed: dict[str, Any] = {}
        kept: dict[str, str] = {}
        for root in scan_roots(df):
            found = _run_python(sdk, image_id, _SCAN, [root], "JETTISON-LIBS")
            installed = found["packages"]
            for info in found["libs"].values():
                package = info.get("package")
                if package:
                    needed.add(package)
                    if package in candidates and info.get("users"):
                        kept.setdefault(package, f"{root}/{info['users'][0]}")
        programs = _installed_by_name(df) - set(candidates)
        keep = _closure(needed | programs, installed)
        unused = [c for c in candidates if c in installed and c not in keep]
        base = _final_lineage(df)[-1].base_resolved if _final_lineage(df) else ""
        have: set[str] = set()
        if unused and base:
            try:
                have = set(_run_python(sdk, base, _BASE, [], "JETTISON-BASE")["packages"])
            except JettisonError:
                have = set()
        freed = _closure(set(unused), installed) - keep - have
        saved = sum(int(installed[p][0]) * 1024 for p in freed if p in installed)
        return UnusedLibraries(unused, saved, kept)


def without_packages(df: Dockerfile, unused: set[str]) -> list[Edit]:
    """Edits removing ``unused`` from the final image's apt installs."""
    by_run: dict[int, tuple[Instruction, list[Word]]] = {}
    for ins, word, name in library_words(df):
        if name in unused:
            by_run.setdefault(ins.start, (ins, []))[1].append(word)
    edits: list[Edit] = []
    for ins, words in by_run.values():
        edits += remove_words(df.source, ins, words, df.directives.escape)
    return edits


def engine_checker(
    path: str,
    context: Path,
    sdk: Any,
    build_args: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Checker:
    """A :data:`Checker` on the engine for one Dockerfile, remembering each text's answer
    (bisecting asks again for the same text)."""

    def answer(text: str) -> UnusedLibraries:
        if progress is not None:
            progress(f"{path}: building the image to find library packages nothing loads")
        return find_unused(text, path, context, sdk, build_args)

    return remembered(answer)
