"""JT140 foreign-binaries: installed packages ship programs and libraries for other systems."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import installed_tree_filter
from jettison.rules.size._pip_names import installing_runs

# what a RUN appends: delete the Windows (PE: "MZ") and macOS (Mach-O, thin or fat) files
# under a site-packages folder or a `pip install --target` directory, told by their first
# bytes, not their names (selenium's macOS selenium-manager has no extension). A Linux
# container never loads or runs them. Java class files share the fat Mach-O magic and stay.
_DROP = (
    "find / -xdev -type f {where} -size +4k ! -name '*.py' ! -name '*.class' -exec sh -c "
    '\'for f; do case $(od -An -N4 -tx1 "$f" | tr -d " \\n") in '
    '4d5a*|cffaedfe|cefaedfe|feedfacf|feedface|cafebabe|bebafeca) rm -f "$f";; esac; done\' '
    "sh {{}} +"
)
DROP = _DROP.format(where="-path '*/site-packages/*'")
# measured: MB of Windows and macOS binaries in the Linux wheel (PEP 503 names):
# pydevd-pycharm 17.4 (debugger attach libraries and Cython builds per Python version),
# selenium 11.3 (selenium-manager for macOS and Windows). pip and distlib carry 0.7 MB of
# Windows launchers each, setuptools 0.1: too little to report, removed when the RUN trims.
WITH_FOREIGN = frozenset({"selenium", "pydevd-pycharm"})


def _drops_foreign(ins: Instruction) -> bool:
    return any(
        cmd.name == "find" and any("od -An -N4" in v for v in cmd.arg_values)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT140",
    "foreign-binaries",
    Category.SIZE,
    Severity.INFO,
    "installed packages ship programs and libraries built for Windows or macOS",
    what="""
        Flags a RUN whose pip install brings in distributions whose Linux wheels still
        carry programs or libraries for Windows and macOS (selenium's selenium-manager for
        both, pydevd-pycharm's debugger libraries), in a stage whose files reach the final
        image, without removing them in the same RUN.
    """,
    why="""
        A Linux container never runs a Windows `.exe` or a macOS program. selenium ships
        its driver manager for all three systems in every wheel (11.3 MB of it for the two
        that are not Linux), pydevd-pycharm 17.4 MB of Windows and macOS builds. Removing
        them in the RUN that installed them is the only way they leave the layer.
    """,
    example="RUN pip install --no-cache-dir selenium",
    use_instead=f"""
        RUN pip install --no-cache-dir selenium \\
            && {DROP}
    """,
    fix=f"""
        Unsafe: appends `{DROP}` to the RUN. The files are told by their first bytes
        (Windows' `MZ`, the Mach-O magic numbers), not by their names. A program that
        copies a bundled Windows or macOS file to another machine loses it;
        `jettison fix --unsafe-fixes --verify` builds the image, runs its checks and rolls
        this fix back on its own when one fails, and `--each-fix` shows the bytes it saved.
    """,
    notes="""
        Only files of 4 kB or more under a `site-packages` folder or a `pip install
        --target` directory are read; Python sources and Java class files (whose magic
        number a fat Mach-O file shares) are never removed. `find -xdev` stays on the
        image's filesystem, off cache and bind mounts.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def foreign_binaries(ctx: RuleContext) -> Iterator[Finding]:
    for ins, names in installing_runs(ctx, _drops_foreign):
        found = sorted(names & WITH_FOREIGN)
        if not found:
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, _DROP.format(where=installed_tree_filter(ins)))
        yield ctx.report(
            f"the packages this RUN installs ({', '.join(found)}) ship programs and "
            "libraries for Windows and macOS (11 MB in selenium's wheel) that a Linux "
            "container never runs; remove them in the same RUN",
            ins,
            edits=[edit] if edit else None,
        )
