"""``jettison fix``: apply fixes (safe by default), ``--diff`` to preview."""

from __future__ import annotations

from pathlib import Path

import click

from jettison.atomic import write_text_atomic
from jettison.audit import discover
from jettison.cli._common import build_config, console, rule_options
from jettison.context.audit import audit_contexts
from jettison.errors import JettisonError
from jettison.fix import FixOutcome, fix_source


@click.command("fix")
@click.argument("paths", nargs=-1)
@rule_options
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply fixes that may change what the image does (slim base, "
    "--no-install-recommends, reordering, merging RUNs ...).",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print a unified diff of what would change and write nothing.",
)
def command(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: str | None,
    unsafe_fixes: bool,
    show_diff: bool,
) -> None:
    """Rewrite Dockerfiles (and .dockerignore) into their optimized form.

    Exit code: 0 when done (or nothing to do), 1 with --diff when something would change,
    2 on input errors (a file that does not parse is left untouched).
    """
    config = build_config(config_path, select, ignore, None)
    inputs = discover(list(paths) or ["."])
    out = console()
    errors = list(inputs.errors)
    outcomes: list[FixOutcome] = []
    for path in inputs.dockerfiles:
        try:
            source = Path(path).read_bytes().decode("utf-8")
            outcome = fix_source(source, path, config, unsafe=unsafe_fixes)
        except JettisonError as exc:
            errors.append(exc)
            continue
        except UnicodeDecodeError:
            errors.append(JettisonError("not valid UTF-8 text", path))
            continue
        except OSError as exc:
            errors.append(JettisonError(f"cannot read: {exc.strerror}", path))
            continue
        ctx = audit_contexts([path], {}, config)
        for finding in ctx.findings:
            if (finding.fix is not None and finding.fix.safety.value == "safe") or (
                finding.fix is not None and unsafe_fixes
            ):
                for edit in finding.fix.edits:
                    if edit.path is not None:
                        outcome.extra_files[edit.path] = edit.text
        outcomes.append(outcome)
    changed = [o for o in outcomes if o.changed]
    if show_diff:
        for o in changed:
            out.out(o.diff(), highlight=False, end="")
    else:
        for o in changed:
            base = Path(o.path).parent
            for rel, content in o.extra_files.items():
                write_text_atomic(base / rel, content)
            if o.text != o.original:
                write_text_atomic(Path(o.path), o.text)
        for o in outcomes:
            codes = ", ".join(sorted({a.code for a in o.applied}))
            extra = f" and wrote {', '.join(sorted(o.extra_files))}" if o.extra_files else ""
            if o.applied or o.extra_files:
                out.print(
                    f"{o.path}: applied {len(o.applied)} fix(es) ({codes}){extra}", markup=False
                )
        left = sum(1 for o in outcomes for f in o.remaining if f.fix is not None)
        if left and not unsafe_fixes:
            out.print(f"{left} more fix(es) available with --unsafe-fixes", markup=False)
    err = console(stderr=True)
    for e in errors:
        err.print(f"jettison: error: {e}", markup=False)
    if errors:
        raise SystemExit(2)
    raise SystemExit(1 if show_diff and changed else 0)
