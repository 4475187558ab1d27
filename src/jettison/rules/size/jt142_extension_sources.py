"""JT142 extension-sources: installed packages ship the C/C++/Cython sources of their
compiled extension modules."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import installed_tree_filter
from jettison.rules.size._pip_names import installing_runs, listed

# what a RUN appends: delete the C, C++ and Cython sources (`.c`, `.cc`, `.cpp`, `.cxx`,
# `.pyx`) under a site-packages folder or a `pip install --target` directory; the compiled
# `.so` beside each is what Python loads. Headers and Cython declarations (`.h`, `.pxd`)
# stay: other extensions are compiled against them. Packages that compile C at run time
# from their own sources keep theirs: Cython (its utility code), numba (ahead-of-time
# compilation), triton (its launcher) and pythran.
_DROP = (
    "find / -xdev -type f \\( -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.cxx' "
    "-o -name '*.pyx' \\) {where} ! -path '*/Cython/*' ! -path '*/numba/*' ! -path '*/triton/*' "
    "! -path '*/pythran/*' -exec rm -f {{}} +"
)
DROP = _DROP.format(where="-path '*/site-packages/*'")
# distributions whose Linux wheels carry the generated sources of their extensions (PEP 503
# names), measured on their wheels (2026-12): gensim 8.6 MB, fonttools 6.0 (which
# matplotlib installs, and with it seaborn, plotnine, dtreeviz and the dashboards built on
# them), srsly 1.9, scipy 1.4, pyarrow 1.3, spacy 1.2, scikit-learn 0.9
WITH_SOURCES = frozenset(
    {
        "gensim", "fonttools", "matplotlib", "seaborn", "plotnine", "dtreeviz",
        "explainerdashboard", "ydata-profiling", "pandas-profiling", "srsly", "spacy",
        "thinc", "scipy", "pyarrow", "scikit-learn", "sklearn", "statsmodels", "tsfresh",
    }
)  # fmt: skip


def _drops_sources(ins: Instruction) -> bool:
    return any(
        cmd.name == "find"
        and any(v in ("*.c", "*.pyx") for v in cmd.arg_values)
        and "rm" in sh.find_exec_actions(cmd)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT142",
    "extension-sources",
    Category.SIZE,
    Severity.INFO,
    "installed packages ship the C/C++/Cython sources of their compiled extensions",
    what="""
        Flags a RUN whose pip install brings in distributions whose Linux wheels still
        carry the C, C++ or Cython sources their extension modules were compiled from
        (fonttools, which matplotlib installs; gensim, spacy, srsly, scipy, scikit-learn,
        pyarrow), in a stage whose files reach the final image, without removing them in
        the same RUN.
    """,
    why="""
        Python loads the compiled `.so` of an extension module, never the `.c` or `.pyx`
        it was generated from. fonttools ships 6 MB of such sources in every wheel, and
        every image with matplotlib has fonttools; gensim ships 8.6 MB, srsly 1.9 MB,
        scipy 1.4 MB. Removing them in the RUN that installed them is the only way they
        leave the layer.
    """,
    example="RUN pip install --no-cache-dir matplotlib",
    use_instead=f"""
        RUN pip install --no-cache-dir matplotlib \\
            && {DROP}
    """,
    fix=f"""
        Unsafe: appends `{DROP}` to the RUN. A package that compiles its own C sources at
        run time loses them; Cython, numba, triton and pythran, which do, keep theirs, and
        `jettison fix --unsafe-fixes --verify` builds the image, runs its checks and rolls
        this fix back on its own when one fails; `--each-fix` shows the bytes it saved.
    """,
    notes="""
        Only `.c`, `.cc`, `.cpp`, `.cxx` and `.pyx` files under a `site-packages` folder
        or a `pip install --target` directory are removed. Headers and Cython declaration
        files (`.h`, `.hpp`, `.pxd`, `.pxi`) stay, since other extensions compile against
        them. `find -xdev` stays on the image's filesystem, off cache and bind mounts.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def extension_sources(ctx: RuleContext) -> Iterator[Finding]:
    for ins, names in installing_runs(ctx, _drops_sources):
        found = sorted(names & WITH_SOURCES)
        if not found:
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, _DROP.format(where=installed_tree_filter(ins)))
        yield ctx.report(
            f"the packages this RUN installs ({listed(found)}) ship the C and Cython sources of "
            "their compiled extensions (6 MB in fonttools, which matplotlib installs); "
            "Python loads only the compiled modules: remove the sources in the same RUN",
            ins,
            edits=[edit] if edit else None,
        )
