"""JT141 translation-sources: installed packages ship their gettext catalogs' sources."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import installed_tree_filter
from jettison.rules.size._pip_names import installing_runs, listed

# what a RUN appends: delete the `.po` files (a translation catalog's source) under a
# site-packages folder or a `pip install --target` directory; gettext (and Django's
# translation machinery) reads only the compiled `.mo` beside each one
_DROP = "find / -xdev -type f -name '*.po' {where} -exec rm -f {{}} +"
DROP = _DROP.format(where="-path '*/site-packages/*'")
# distributions whose wheels ship both the `.po` and the `.mo` of every language (PEP 503
# names), measured on their wheels (2026-12): django 8.8 MB of `.po` (6.8 MB of `.mo`),
# django-cms 3.0, django-filer 1.3, djangocms-frontend 0.4; the Django ecosystem's apps
# (`djangocms-*`, `wagtail*`) install Django itself, which carries most of it
WITH_CATALOGS = frozenset({"django", "django-cms", "django-filer", "wagtail"})
_PREFIXES = ("djangocms-", "wagtail-")


def _with_catalogs(names: set[str]) -> list[str]:
    return sorted(n for n in names if n in WITH_CATALOGS or n.startswith(_PREFIXES))


def _drops_catalogs(ins: Instruction) -> bool:
    return any(
        cmd.name == "find" and "*.po" in cmd.arg_values and "rm" in sh.find_exec_actions(cmd)
        for cmd in sh.commands(ins)
    )


@rule(
    "JT141",
    "translation-sources",
    Category.SIZE,
    Severity.INFO,
    "installed packages ship the sources of their translation catalogs (`.po`)",
    what="""
        Flags a RUN whose pip install brings in Django or the apps built on it (django-cms
        and `djangocms-*`, django-filer, wagtail), in a stage whose files reach the final
        image, without removing the `.po` files they put into site-packages.
    """,
    why="""
        Django ships every language's translation twice: the `.po` catalog it was written
        in and the `.mo` file compiled from it. At run time gettext, and Django with it,
        reads only the `.mo` files. The `.po` files are 8.8 MB of Django's wheel (more
        than the `.mo` files), and django-cms adds 3 MB, django-filer 1.3 MB. Removing
        them in the RUN that installed them is the only way they leave the layer.
    """,
    example="RUN pip install --no-cache-dir django==5.2",
    use_instead=f"""
        RUN pip install --no-cache-dir django==5.2 \\
            && {DROP}
    """,
    fix=f"""
        Unsafe: appends `{DROP}` to the RUN. A build step that compiles the installed
        packages' catalogs again (`compilemessages` run inside site-packages) would find
        nothing to compile; `jettison fix --unsafe-fixes --verify` builds the image, runs
        its checks and rolls this fix back on its own when one fails, and `--each-fix`
        shows the bytes it saved.
    """,
    notes="""
        Only `.po` files under a `site-packages` folder or a `pip install --target`
        directory are removed: the project's own `locale/` folders (whose `.po` files
        `compilemessages` reads) are never touched. `find -xdev` stays on the image's
        filesystem, off cache and bind mounts.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def translation_sources(ctx: RuleContext) -> Iterator[Finding]:
    for ins, names in installing_runs(ctx, _drops_catalogs):
        found = _with_catalogs(names)
        if not found:
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, _DROP.format(where=installed_tree_filter(ins)))
        yield ctx.report(
            f"the packages this RUN installs ({listed(found)}) ship the `.po` sources of their "
            "translations beside the compiled `.mo` files, which are all gettext reads "
            "(8.8 MB in Django's wheel); remove them in the same RUN",
            ins,
            edits=[edit] if edit else None,
        )
