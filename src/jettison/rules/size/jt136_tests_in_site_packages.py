"""JT136 tests-in-site-packages: the installed packages' own test suites ship in the image."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule

# what a RUN appends: every `tests` package directory under a site-packages folder this
# layer wrote (a venv, --prefix, --user or the system one); -xdev keeps it off cache mounts
TRIM = "find / -xdev -type d -name tests -path '*/site-packages/*' -prune -exec rm -rf {} +"
# installs of packaging tools only: nothing with a test suite worth the bytes
_TOOLS = {"pip", "setuptools", "wheel", "pip-tools", "uv", "poetry", "pdm", "pipenv", "build"}


def _installs_packages(ins: Instruction) -> bool:
    for cmd in sh.pip_installs(ins):
        args = sh.pip_install_args(cmd) or []
        words = [a for a in args[1:] if not a.startswith("-")]
        if any(a in ("-r", "--requirement", "-e", "--editable") for a in args):
            return True
        names = {w.split("=")[0].split("<")[0].split(">")[0].split("[")[0].lower() for w in words}
        if names - _TOOLS:
            return True
    return False


def _trims_tests(ins: Instruction) -> bool:
    return any(
        cmd.name == "find"
        and "tests" in cmd.arg_values
        and "site-packages" in " ".join(cmd.arg_values)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT136",
    "tests-in-site-packages",
    Category.SIZE,
    Severity.INFO,
    "the installed packages' own test suites ship in the image",
    what="""
        Flags a RUN that installs Python packages with pip without removing the `tests`
        directories those packages bring into site-packages.
    """,
    why="""
        Many distributions ship their test suites inside the package: pandas about 60 MB,
        scipy and numpy tens of MB each, scikit-learn, matplotlib and many more. The
        application never imports them; in data and ML images they are often 10-15 % of
        the image. Removing them in the RUN that installed them is the only way they leave
        the layer.
    """,
    example="RUN pip install --no-cache-dir -r requirements.txt",
    use_instead=f"""
        RUN pip install --no-cache-dir -r requirements.txt \\
            && {TRIM}
    """,
    fix=f"""
        Unsafe: appends `{TRIM}` to the RUN. A package that imports its own `tests`
        package at run time breaks; `jettison fix --unsafe-fixes --verify` builds the
        image, runs its checks and rolls this fix back on its own when one fails.
    """,
    notes="""
        Only directories named `tests` under a `site-packages` folder are removed, never
        `test` (Django's `django.test` is imported by applications at run time).
        `find -xdev` stays on the image's filesystem, off cache and bind mounts.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def tests_in_site_packages(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        if not _installs_packages(ins) or _trims_tests(ins):
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, TRIM)
        yield ctx.report(
            "the installed packages' `tests` directories stay in this layer (pandas alone "
            "ships about 60 MB of them); remove them in the same RUN",
            ins,
            edits=[edit] if edit else None,
        )
