"""``jettison services``: shared base images for a compose project or a set of Dockerfiles
(an unsafe fix).

Without options it reports what the services share and what would change; ``--diff`` shows
the changes, ``--write`` writes them, ``--verify`` first builds the rewritten graph in a
temporary copy and smoke-checks every service (with ``--write``: nothing is written unless
every service passes).
"""

from __future__ import annotations

import click

from jettison.atomic import write_files_atomic
from jettison.cli._common import (
    builder_option,
    check_platforms,
    console,
    graph_inputs,
    open_paths,
    progress_shown,
    quiet_option,
)
from jettison.errors import JettisonError
from jettison.services.multiarch import arch_steps
from jettison.services.plan import make_plan
from jettison.services.render import render_plan
from jettison.services.report import plan_json, print_plan, verify_rewrite


@click.command("services")
@graph_inputs
@click.option("--diff", "show_diff", is_flag=True, help="Show the changes as a unified diff.")
@click.option("--write", is_flag=True, help="Write the base Dockerfile(s), services, bake file.")
@click.option(
    "--verify",
    is_flag=True,
    help="Build the rewritten graph (in a temporary copy) and smoke-check every service; "
    "with --write, write only when all pass.",
)
@click.option(
    "--keep-base-image",
    is_flag=True,
    help="Keep the services' upstream image in the base (default: its -slim variant).",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="OS/ARCH",
    help="Platforms for the bake file (repeatable; default: linux/amd64).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@quiet_option
@builder_option
def command(
    paths: tuple[str, ...],
    contexts: tuple[str, ...],
    show_diff: bool,
    write: bool,
    verify: bool,
    keep_base_image: bool,
    platforms: tuple[str, ...],
    jobs: int,
    fmt: str,
    quiet: bool,
) -> None:
    """Extract what the services of a compose file (or a set of Dockerfiles, each a service
    built in its directory) share into base image(s): the same base image, the same leading
    instructions, the same Python requirements. Services built from images only, from remote
    contexts or without Dockerfiles are listed and left alone.

    Exit code: 0 done (or nothing to change), 1 with --diff when there are changes or when
    --verify fails, 2 on bad input (a cycle, a missing context) or without an engine.
    """
    check_platforms(platforms)
    opened = open_paths(paths, contexts)
    compose = opened.source
    plan = make_plan(opened, slim=not keep_base_image)
    wanted = list(platforms) or ["linux/amd64"]
    arch = [step for s in plan.services for step in arch_steps(s.df)]
    rewrite = render_plan(plan, wanted) if plan.bases else None
    if fmt == "json":
        click.echo(plan_json(opened, plan, arch, wanted, rewrite))
    else:
        print_plan(console(), opened, plan, arch, wanted, rewrite)
    if rewrite is None:
        raise SystemExit(0)
    if show_diff:
        click.echo(rewrite.diff(), nl=False)
    failed = False
    if verify:
        err = console(stderr=True)
        shown = progress_shown(quiet)

        def progress(text: str) -> None:
            if shown:
                err.print(text)

        outcome = verify_rewrite(rewrite, jobs, not keep_base_image, progress)
        failed = any(outcome.values())
        for name, failure in sorted(outcome.items()):
            if failure:
                click.echo(f"jettison services: {name}: verification failed: {failure}", err=True)
    if write:
        if failed:
            raise JettisonError("verification failed: nothing written", str(compose))
        # every file of the rewrite or none: a half-rewritten project would not build
        changes = {
            p: rewrite.files[p]
            for p in sorted(rewrite.files)
            if rewrite.originals.get(p) != rewrite.files[p]
        }
        written = write_files_atomic(changes, make_dirs=True)
        for written_path in written:
            click.echo(f"wrote {written_path}", err=True)
    elif fmt == "text" and not show_diff:
        click.echo("(nothing written: --diff to see the changes, --write to apply)", err=True)
    raise SystemExit(1 if failed or (show_diff and rewrite.changed) else 0)
