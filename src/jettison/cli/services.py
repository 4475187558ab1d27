"""``jettison services``: shared base images for a compose project or a set of Dockerfiles
(an unsafe fix).

Without options it reports what the services share and what would change; ``--diff`` shows
the changes, ``--write`` writes them, ``--verify`` first builds the rewritten graph in a
temporary copy and smoke-checks every service (with ``--write``: nothing is written unless
every service passes).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import click

from jettison.atomic import write_files_atomic
from jettison.cli._common import check_platforms, console, graph_inputs, open_paths
from jettison.errors import JettisonError
from jettison.services.graph import load_graph
from jettison.services.multiarch import arch_steps, unbuildable
from jettison.services.plan import make_plan
from jettison.services.render import Rewrite, render_plan


def _verify(rewrite: Rewrite, jobs: int, slim: bool) -> dict[str, str]:
    """Build the rewritten graph in a temporary copy; service -> "" (passed) or the failure."""
    from jettison.engine import docker_client, find_build_client, verify
    from jettison.engine.images import remove_images
    from jettison.services.graph_builder import build_graph

    sdk = docker_client()
    client = find_build_client()
    root = rewrite.plan.root
    err = console(stderr=True)
    with tempfile.TemporaryDirectory(prefix="jettison-services-verify-") as tmp:
        # a copy with its own project name: the images built never replace the user's tags
        copy = Path(tmp) / f"{rewrite.plan.project}-verify-{os.getpid()}"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv"))
        copied = rewrite.plan.origin.relocated(copy)
        render_plan(make_plan(copied, slim=slim)).write()
        graph = load_graph(copied)
        outcome: dict[str, str] = {}
        images: list[str] = [t.tag for t in graph.targets.values()]
        try:
            err.print(f"jettison services: verifying: building {len(graph.targets)} targets")
            done = build_graph(graph, jobs=jobs, labels={"jettison.verify": "services"},
                               client=client, sdk=sdk)  # fmt: skip
            for name, result in done.results.items():
                if result.image_id:
                    images.append(result.image_id)
                if result.kind != "service":
                    if result.status != "built":
                        outcome[name] = f"base did not build: {result.error}"
                    continue
                if result.status != "built":
                    outcome[name] = f"build {result.status}: {result.error}"
                    continue
                checked = verify(result.image_id, sdk=sdk)
                outcome[name] = "" if checked.ok else checked.summary()
                err.print(f"  {name}: {'ok' if checked.ok else 'FAILED'} ({checked.summary()})")
        finally:
            remove_images(images, sdk)
    return outcome


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
    out = console()
    if fmt == "json":
        data = {
            "compose": str(opened.compose) if opened.compose else None,
            "dockerfiles": [str(df) for df, _ in opened.inputs],
            "bases": [b.__dict__ for b in plan.bases],
            "skipped": [{"service": n, "reason": r} for n, r in plan.skipped],
            "shared_packages": plan.shared_packages,
            "notes": plan.notes,
            "arch_steps": [s.__dict__ for s in arch],
            "unbuildable_platforms": dict(unbuildable(wanted)),
            "changes": rewrite.applied if rewrite else [],
            "levels": rewrite.graph.levels if rewrite else [],
        }
        click.echo(json.dumps(data, indent=2))
    else:
        where = {s.name: s.compose_file for s in opened.services}  # compose file or Dockerfile
        for name, reason in plan.skipped:
            out.print(f"{where.get(name, compose)}: {name}: left alone: {reason}", markup=False)
        for note in plan.notes:
            out.print(f"note: {note}", markup=False)
        for pkg, names in plan.shared_packages.items():
            out.print(f"system package {pkg} installed by {', '.join(names)}", markup=False)
        for step in arch:
            out.print(f"{step.path}:{step.line}: {step.reason}: {step.instruction}", markup=False)
        for plat, why in unbuildable(wanted):
            out.print(f"platform {plat}: the local engine cannot build it: {why}", markup=False)
        if rewrite is None:
            out.print("nothing to share: no two built services start FROM the same image")
        else:
            for line in rewrite.applied:
                out.print(line, markup=False)
            out.print(
                "build graph: "
                + " -> ".join("[" + ", ".join(lv) + "]" for lv in rewrite.graph.levels),
                markup=False,
            )
    if rewrite is None:
        raise SystemExit(0)
    if show_diff:
        click.echo(rewrite.diff(), nl=False)
    failed = False
    if verify:
        outcome = _verify(rewrite, jobs, not keep_base_image)
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
