"""``jettison rules``: list the rules, show one rule's page, or write docs/rules/."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from jettison.atomic import write_files_atomic
from jettison.cli._common import console
from jettison.errors import JettisonError
from jettison.rules.docs import render_index, render_rule
from jettison.rules.registry import all_rules, get_rule


@click.command("rules")
@click.argument("code", required=False)
@click.option(
    "--write-docs",
    type=click.Path(file_okay=False),
    default=None,
    help="Write one Markdown page per rule and an index into this directory.",
)
def command(code: str | None, write_docs: str | None) -> None:
    """List every rule, or show the documentation of CODE."""
    out = console()
    if write_docs:
        target = Path(write_docs)
        pages = {target / f"{r.code}.md": render_rule(r) for r in all_rules()}
        pages[target / "README.md"] = render_index(all_rules())
        write_files_atomic(pages, make_dirs=True)  # all pages or none
        out.print(f"wrote {len(all_rules()) + 1} pages to {target}", markup=False)
        return
    if code is not None:
        found = get_rule(code)
        if found is None:
            raise JettisonError(f"unknown rule {code!r} (see `jettison rules`)")
        out.out(render_rule(found), highlight=False)
        return
    table = Table(show_edge=False)
    for col in ("code", "name", "category", "severity", "fix", "equivalents"):
        table.add_column(col)
    for r in all_rules():
        table.add_row(
            r.code,
            r.name,
            r.category.value,
            r.severity.value + (" (off: select by code)" if r.opt_in else ""),
            r.fix_safety.value if r.fix_safety else "",
            ", ".join(f"{k} {v}" for k, v in r.equivalents.items()),
        )
    out.print(table)
