"""``jettison fix``: apply fixes (safe by default), ``--diff`` to preview."""

from __future__ import annotations

from pathlib import Path

import click

from jettison.atomic import write_files_atomic
from jettison.audit import discover
from jettison.cli._common import build_config, check_rule_codes, console, rule_options
from jettison.dockerfile.parse import decode_dockerfile
from jettison.errors import EngineUnavailableError, JettisonError
from jettison.fix import FixOutcome
from jettison.fixes.pipeline import Resolver, restrict
from jettison.fixes.run import engine_resolver, fix_file, verify_file
from jettison.fixes.runtime_libs import LibraryScan
from jettison.report import write_plain


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
@click.option(
    "--verify",
    is_flag=True,
    help="Build the original and the fixed file on the engine, smoke-check and compare "
    "both; write only what passes (bisects to name a fix that breaks the image).",
)
@click.option(
    "--smoke",
    metavar="COMMAND",
    default=None,
    help="With --verify: also run COMMAND (/bin/sh -c) in a container of each image; "
    "it must exit 0.",
)
def command(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_path: str | None,
    unsafe_fixes: bool,
    show_diff: bool,
    verify: bool,
    smoke: str | None,
) -> None:
    """Rewrite Dockerfiles (and .dockerignore) into their optimized form.

    Exit code: 0 when done (or nothing to do), 1 with --diff when something would change
    or with --verify when a fix failed verification, 2 on input errors (a file that does
    not parse is left untouched).
    """
    config = build_config(config_path, select, ignore, None)
    check_rule_codes(config)
    inputs = discover(list(paths) or ["."])
    out = console()
    errors = list(inputs.errors)
    outcomes: list[FixOutcome] = []
    # --- multi-stage conversion and --verify (jettison.fixes) ---
    if smoke and not verify:
        raise JettisonError("--smoke needs --verify")
    sdk = None
    resolvers: dict[str, Resolver] = {}
    if unsafe_fixes or verify:
        try:
            for path in inputs.dockerfiles:
                resolvers[path], sdk = engine_resolver(path)
        except EngineUnavailableError:
            if verify:
                raise  # exit 2 before anything is written
    scans: dict[str, LibraryScan] = {}
    failed_verify = False
    for path in inputs.dockerfiles:
        resolver = resolvers.get(path)
        try:
            # as audit reads it: NUL bytes are binary data, bad UTF-8 is named by its line
            source = decode_dockerfile(Path(path).read_bytes(), path)
            result = fix_file(source, path, config, unsafe_fixes, resolver, scans)
            outcome = result.outcome
            if result.note:
                out.print(f"{path}: {result.note}", markup=False)
            if verify and outcome.changed:

                def variant(
                    units: frozenset[str], source: str = source, path: str = path
                ) -> FixOutcome:
                    return fix_file(
                        source,
                        path,
                        restrict(config, units),
                        unsafe_fixes,
                        resolvers.get(path),
                        scans,
                    ).outcome

                checked = verify_file(source, path, outcome, variant, smoke, sdk)
                for line in checked.lines():
                    out.print(line, markup=False)
                failed_verify = failed_verify or not checked.ok
                outcome = checked.written or FixOutcome(path, source, source)
        except JettisonError as exc:
            errors.append(exc)
            continue
        except IsADirectoryError:
            errors.append(JettisonError("is a directory, not a Dockerfile", path))
            continue
        except OSError as exc:
            errors.append(JettisonError(f"cannot read: {exc.strerror}", path))
            continue
        outcomes.append(outcome)
    # --- end of multi-stage conversion and --verify ---
    changed = [o for o in outcomes if o.changed]
    note_out = console(stderr=show_diff)
    for o in outcomes:
        for skipped_code, skipped_line, reason in o.skipped:
            note_out.print(
                f"{o.path}:{skipped_line}: {skipped_code} fix skipped: {reason}", markup=False
            )
    if show_diff:
        for o in changed:
            write_plain(out, o.diff(), end="")
    else:
        unwritten: set[str] = set()
        for o in changed:
            base = Path(o.path).parent
            files: dict[Path, str] = {base / rel: c for rel, c in o.extra_files.items()}
            if o.text != o.original:
                files[Path(o.path)] = o.text
            try:  # a Dockerfile and its .dockerignore change together or not at all
                write_files_atomic(files)
            except JettisonError as exc:
                errors.append(exc)
                unwritten.add(o.path)
        for o in outcomes:
            if o.path in unwritten:
                continue
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
    raise SystemExit(1 if (show_diff and changed) or failed_verify else 0)
