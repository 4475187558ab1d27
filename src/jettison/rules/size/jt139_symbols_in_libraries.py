"""JT139 symbols-in-libraries: shared libraries of installed wheels keep their symbol tables."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Command, Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import installed_tree_filter
from jettison.rules.size._pip_names import installing_runs, listed
from jettison.rules.size.build_tools import _temporary_installs
from jettison.rules.size.jt136_tests_in_site_packages import WITH_TESTS

# what a RUN appends: strip every shared library and program under a site-packages folder
# this layer wrote (a venv, --prefix, --user or the system one) or under a `pip install
# --target` directory, except the libraries auditwheel vendors into `<dist>.libs/` (patchelf
# rewrote them, and strip leaves them unloadable: numpy's OpenBLAS fails with "ELF load
# command address/offset not page-aligned"). Programs count (playwright's node: 11.5 MB of
# symbols). One strip per file, quiet: a file strip cannot read (a script with its execute
# bit, a `.so` that is no ELF object) stays as it is, never a failed RUN; -xdev keeps it
# off cache and bind mounts. Only a file that still has symbols or debug sections is
# rewritten: one an earlier RUN already stripped stays, since rewriting it would copy it
# whole into this RUN's layer (two installing RUNs, each with its strip: microblog).
_STRIP = (
    "find / -xdev -type f \\( -name '*.so' -o -name '*.so.*' -o -perm -100 \\) {where} "
    "! -path '*.libs/*' -exec sh -c 'for f; do readelf -S \"$f\" 2>/dev/null "
    '| grep -qE "symtab|debug" && strip --strip-unneeded "$f" 2>/dev/null || :; '
    "done' sh {{}} +"
)
STRIP = _STRIP.format(where="-path '*/site-packages/*'")
# wheels whose shared libraries keep symbol tables or debug sections (measured: MB that
# `strip --strip-unneeded` removes from the manylinux wheel), PEP 503 names: xgboost 38,
# pyarrow 34, zstandard 21, llvmlite 18, uvloop 12, scipy 10, kiwisolver 5, lz4 5,
# pillow 3.6, h5py 3.5, tokenizers 3.3, pymupdf 3.1, numpy 3, opencv 3, cryptography 2.8,
# playwright 11.5 (its node program),
# pyyaml 2.3, scikit-learn 2, regex 1.8, scikit-image 1.6, msgpack 1.4, greenlet 1.3,
# tables 1.3, shapely 1.2, matplotlib 1.1 (grpcio, lxml, onnxruntime, pandas, orjson,
# pydantic-core, rapidfuzz, lightgbm: nothing). The data-science packages of JT136's list
# all install numpy; numba installs llvmlite, sqlalchemy greenlet, uvicorn[standard] uvloop.
_MEASURED = frozenset(
    {
        "xgboost", "pyarrow", "zstandard", "llvmlite", "numba", "uvloop", "scipy",
        "kiwisolver", "lz4", "pillow", "h5py", "tokenizers", "transformers", "pymupdf",
        "numpy", "opencv-python", "opencv-python-headless", "cryptography", "pyyaml",
        "scikit-learn", "regex", "scikit-image", "msgpack", "greenlet", "sqlalchemy",
        "tables", "shapely", "matplotlib", "psycopg2-binary", "playwright",
    }
)  # fmt: skip
UNSTRIPPED = _MEASURED | WITH_TESTS
# where the stage has no strip (the slim images): binutils installed for the strip and purged
# with what they pulled in, in the same RUN, so none of their bytes stay in the layer;
# `apt-get clean` because an earlier RUN may have removed the image's docker-clean (a cache
# mount's set-up, JT203), after which apt keeps the downloaded packages and its 70 MB of
# package caches in /var/cache/apt
_WITH_BINUTILS = (
    "apt-get update && apt-get install -y --no-install-recommends binutils && "
    "{strip} && apt-get purge -y --auto-remove binutils && apt-get clean && "
    "rm -rf /var/lib/apt/lists/*"
)
STRIP_WITH_BINUTILS = _WITH_BINUTILS.format(strip=STRIP)
_ROOT_USERS = ("", "root", "0", "root:root", "0:0")
# packages that install `strip` (binutils) with them, on Debian, Alpine and Fedora
_BINUTILS = frozenset(
    {"binutils", "build-essential", "gcc", "g++", "clang", "build-base", "alpine-sdk",
     "gcc-c++", "gfortran", "cpp"}
)  # fmt: skip


def _image_has_binutils(reference: str) -> bool:
    """Official images that carry binutils: python's and buildpack-deps' full variants."""
    name, _, tag = reference.lower().rpartition(":") if ":" in reference else (reference, "", "")
    name = name.removeprefix("docker.io/").removeprefix("library/")
    if "$" in reference or "@" in reference:
        return False
    if name == "python":
        return not any(v in tag for v in ("slim", "alpine", "windows", "nanoserver"))
    if name == "buildpack-deps":
        return not tag.endswith(("curl", "scm"))
    return name == "gcc"


def _strip_available(stage: Stage, run: Instruction) -> bool:
    """`strip` exists at the end of ``run``: the stage's base image has binutils, or a
    command of its lineage up to ``run`` installed them and kept them. Conservative: any
    removal of a package that brings binutils counts as removing binutils."""
    stages = list(stage.lineage())[::-1]  # the root first
    available = _image_has_binutils(stages[0].base_resolved or stages[0].base)
    for current in stages:
        for ins in current.instructions:
            if ins.keyword != "RUN" or ins.index > run.index:
                continue
            temporary = {(c.start, p) for c, p in _temporary_installs(ins)}
            kept = {c.start for c, p in sh.installed_packages(ins) if p in _BINUTILS}
            kept -= {start for start, p in temporary if p in _BINUTILS}
            for cmd in sh.commands(ins):  # in order: an install after a removal counts
                if cmd.start in kept:
                    available = True
                elif cmd.subcommand() in ("purge", "remove", "del", "erase") and any(
                    w.value.split("=", 1)[0] in _BINUTILS for w in cmd.args
                ):
                    available = False
    return available


def _apt_ready(stage: Stage, run: Instruction) -> bool:
    """apt can install binutils for ``run`` and leave nothing behind: a Debian-based official
    image (`python:*-slim*`, `debian`), the RUN as root, and no apt lists an earlier RUN
    kept (the RUN removes the lists it fetches; lists left on purpose stay untouched)."""
    stages = list(stage.lineage())[::-1]
    reference = (stages[0].base_resolved or stages[0].base).lower()
    name, _, tag = reference.rpartition(":") if ":" in reference else (reference, "", "")
    name = name.removeprefix("docker.io/").removeprefix("library/")
    if "$" in reference or "@" in reference:
        return False
    debian = (name == "python" and "slim" in tag and "alpine" not in tag) or (
        name == "debian" and "alpine" not in tag
    )
    if not debian:
        return False
    lists_kept = False  # apt's lists left by an earlier RUN (a later one may remove them)
    for current in stages:
        for ins in current.instructions:
            if ins.index >= run.index and current is stage:
                break
            if ins.keyword == "USER" and ins.args and ins.args[0] not in _ROOT_USERS:
                return False
            if ins.keyword == "RUN":
                if sh.removes(ins, "/var/lib/apt/lists"):
                    lists_kept = False
                elif any(sh.apt_updates(ins)):
                    lists_kept = True
    return not lists_kept and not any(sh.apt_updates(run)) and not any(sh.apt_installs(run))


def _binutils_removal(ins: Instruction) -> Command | None:
    """The removal command a RUN that installs binutils (`build-essential`, `gcc`) only for
    its pip installs and removes them again runs first after its last pip install: where
    the strip goes, while `strip` is still there (evidently's shape: install the compilers,
    `pip install`, purge them)."""
    pips = list(sh.pip_installs(ins))
    if not pips:
        return None
    last = max(c.end for c in pips)
    first = min(c.start for c in pips)
    if not any(c.start < first and p in _BINUTILS for c, p in _temporary_installs(ins)):
        return None
    for cmd in sorted(sh.commands(ins), key=lambda c: c.start):
        if cmd.start > last and (
            cmd.subcommand() in ("purge", "remove", "del", "erase", "autoremove")
            or cmd.has_flag("--auto-remove")
        ):
            return cmd
    return None


def _strips(ins: Instruction) -> bool:
    return any(
        cmd.name == "strip" or "strip" in cmd.arg_values or "strip" in sh.find_exec_actions(cmd)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT139",
    "symbols-in-libraries",
    Category.SIZE,
    Severity.INFO,
    "shared libraries of the installed wheels keep their symbol tables",
    what="""
        Flags a RUN whose pip install brings in distributions whose wheels ship shared
        libraries with symbol tables or debug sections (pyarrow, xgboost, scipy, numpy,
        uvloop, zstandard, pillow, cryptography and the packages that install them), in a
        stage whose files reach the final image and that has `strip` (binutils: the full
        `python` and `buildpack-deps` images, or `build-essential`, `gcc` or `binutils`
        installed earlier, or installed by the same RUN before its pip install and removed
        after it) or can get it (a slim Debian image: the RUN installs binutils for the
        strip and removes them again), without stripping them in the same RUN.
    """,
    why="""
        Symbols are for debuggers and linkers; a program that loads a library needs only
        its dynamic symbols, which stripping keeps. Many wheels ship the rest: `strip
        --strip-unneeded` removes 34 MB from pyarrow's libraries, 38 MB from xgboost's, 21
        MB from zstandard's, 12 MB from uvloop's and 10 MB from scipy's. Stripping in the
        RUN that installed them is the only way the bytes leave the layer; in a builder
        stage whose virtual environment the final stage copies, it costs the final image
        nothing.
    """,
    example="""
        FROM python:3.11 AS build
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install pyarrow
    """,
    use_instead=f"""
        FROM python:3.11 AS build
        RUN python -m venv /opt/venv && /opt/venv/bin/pip install pyarrow \\
            && {STRIP}
    """,
    fix=f"""
        Unsafe: appends `{STRIP}` to the RUN (or, where the RUN removes the compilers
        again after its pip install, runs it right before that removal). In a slim Debian
        stage without binutils it appends `{STRIP_WITH_BINUTILS}`: the strip's own tools
        leave with the packages they pulled in, in the same layer. A library that
        checks its own bytes, or one strip cannot rewrite correctly, breaks when it is loaded;
        `jettison fix --unsafe-fixes --verify` builds the image, runs its checks and rolls
        this fix back on its own when one fails, and `--each-fix` shows the bytes it saved.
    """,
    notes="""
        Only shared libraries (`*.so`, `*.so.*`) and programs (files with the execute bit,
        such as playwright's node) under a `site-packages` folder or a `pip install --target`
        directory are stripped, one at a time and quietly: a file strip cannot read (a
        script) is left as it is. The libraries auditwheel
        vendors into `<package>.libs/` are left alone: patchelf rewrote them, and strip
        makes them unloadable (numpy's OpenBLAS then fails to load). On a slim image other
        than Debian's (Alpine, or after a non-root USER), strip in a builder stage instead:
        its virtual environment, copied into the final stage, brings the stripped
        libraries. Installing binutils for the strip costs the build a few seconds (an apt
        index update and a 10 MB download); the bytes it saves are shown by `--each-fix`.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def symbols_in_libraries(ctx: RuleContext) -> Iterator[Finding]:
    for ins, names in installing_runs(ctx, _strips):
        stage = ins.stage
        found = sorted(names & UNSTRIPPED)
        if not found or stage is None:
            continue
        strip = _STRIP.format(where=installed_tree_filter(ins))
        if _strip_available(stage, ins):
            edit = sh.append_to_run(ins, ctx.dockerfile, strip)
        elif (removal := _binutils_removal(ins)) is not None:
            edit = sh.insert_before_command(ins, ctx.dockerfile, removal, strip)
            if edit is None:
                continue  # no place for the strip while `strip` is there
        elif _apt_ready(stage, ins):
            # a slim Debian stage: binutils come for the strip and leave in the same RUN
            edit = sh.append_to_run(ins, ctx.dockerfile, _WITH_BINUTILS.format(strip=strip))
        else:
            continue
        yield ctx.report(
            f"the shared libraries of the packages this RUN installs ({listed(found, 4)}) keep "
            "symbol tables that nothing loading them reads (10 MB in scipy's); strip "
            "them in the same RUN",
            ins,
            edits=[edit] if edit else None,
        )
