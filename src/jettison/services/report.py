"""``jettison services``' report on a plan: what is shared, left alone, architecture-specific,
and what would change, as JSON or as text lines; the check of a rewrite in a copy; and
``jettison build``'s report on a built graph."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jettison.services.multiarch import ArchStep, unbuildable
from jettison.units import megabytes

if TYPE_CHECKING:
    from rich.console import Console

    from jettison.services.graph import Graph
    from jettison.services.graph_builder import GraphBuild
    from jettison.services.plan import ServicesPlan
    from jettison.services.project import Project
    from jettison.services.render import Rewrite


def plan_json(
    opened: Project,
    plan: ServicesPlan,
    arch: list[ArchStep],
    wanted: list[str],
    rewrite: Rewrite | None,
) -> str:
    data: dict[str, Any] = {
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
    return json.dumps(data, indent=2)


def print_plan(
    out: Console,
    opened: Project,
    plan: ServicesPlan,
    arch: list[ArchStep],
    wanted: list[str],
    rewrite: Rewrite | None,
) -> None:
    compose = opened.source
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
            "build graph: " + " -> ".join("[" + ", ".join(lv) + "]" for lv in rewrite.graph.levels),
            markup=False,
        )


def verify_rewrite(
    rewrite: Rewrite, jobs: int, slim: bool, say: Callable[[str], None]
) -> dict[str, str]:
    """Build the rewritten graph in a temporary copy and smoke-check every service; service
    -> "" (passed) or the failure. ``say`` reports progress."""
    from jettison.engine import docker_client, find_build_client, verify
    from jettison.engine.images import remove_images
    from jettison.services.graph import load_graph
    from jettison.services.graph_builder import build_graph
    from jettison.services.plan import make_plan
    from jettison.services.render import render_plan

    sdk = docker_client()
    client = find_build_client()
    root = rewrite.plan.root
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
            say(f"jettison services: verifying: building {len(graph.targets)} targets")
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
                say(f"  {name}: {'ok' if checked.ok else 'FAILED'} ({checked.summary()})")
        finally:
            remove_images(images, sdk)
    return outcome


def build_json(graph: Graph, done: GraphBuild) -> str:
    return json.dumps(
        {
            "seconds": round(done.seconds, 3),
            "cache": done.cache_mode,
            "levels": graph.levels,
            "targets": [done.results[n].to_json() for n in graph.order],
            "notes": done.notes,
        },
        indent=2,
    )


def print_build(out: Console, graph: Graph, done: GraphBuild) -> None:
    from rich.table import Table

    table = Table(title=f"{graph.source}: {done.seconds:.1f}s", title_justify="left")
    for column in ("target", "kind", "image", "status", "time", "cached", "size"):
        table.add_column(column, justify="right" if column in ("time", "size") else "left")
    for name in graph.order:
        r = done.results[name]
        table.add_row(
            name,
            r.kind,
            r.tag,
            r.status if r.status == "built" else f"{r.status}: {r.error}",
            f"{r.seconds:.1f}s" if r.status == "built" else "",
            f"{r.steps_cached}/{r.steps_total}" if r.status == "built" else "",
            megabytes(r.size_bytes, 0) if r.size_bytes else "",
        )
    out.print(table)
