"""``jettison ci github``: a GitHub Actions workflow for the compose project's graph."""

from __future__ import annotations

import click

from jettison.cli._common import check_platforms, graph_inputs, open_paths
from jettison.errors import JettisonError
from jettison.services.ci import github_workflow, render_workflow
from jettison.services.graph import load_graph


@click.group("ci")
def command() -> None:
    """CI configuration for the build graph (bake file, registry cache)."""


@command.command("github")
@graph_inputs
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="OS/ARCH",
    help="Platforms to build (repeatable; default: linux/amd64). More than one adds QEMU.",
)
@click.option("--registry", default="ghcr.io", show_default=True, help="Image and cache registry.")
@click.option("--branch", default="main", show_default=True, help="Branch whose pushes build.")
@click.option(
    "--builder",
    metavar="NAME",
    help="Name of the buildx builder the workflow sets up and every build step uses.",
)
@click.option(
    "--builder-endpoint",
    metavar="URL",
    help="Build on a remote BuildKit daemon (driver: remote), e.g. tcp://buildkitd:1234.",
)
def github(
    paths: tuple[str, ...],
    contexts: tuple[str, ...],
    platforms: tuple[str, ...],
    registry: str,
    branch: str,
    builder: str | None,
    builder_endpoint: str | None,
) -> None:
    """Print a GitHub Actions workflow (setup-buildx, bake-action with the generated
    docker-bake.hcl, or build-push-action per service; registry cache mode=max) to paste
    into .github/workflows/."""
    check_platforms(platforms)
    named = (("--builder", builder), ("--builder-endpoint", builder_endpoint))
    for option, value in (("--registry", registry), ("--branch", branch), *named):
        if value is None:
            continue
        if not value.strip() or any(c.isspace() for c in value):
            raise JettisonError(f"{option} {value!r}: expected a name without spaces")
    graph = load_graph(open_paths(paths, contexts))
    workflow = github_workflow(
        graph,
        platforms=list(platforms) or ["linux/amd64"],
        registry=registry,
        branch=branch,
        builder=builder,
        builder_endpoint=builder_endpoint,
    )
    click.echo(render_workflow(workflow), nl=False)
