"""``jettison ci github``: a GitHub Actions workflow for the build graph.

With a generated ``docker-bake.hcl`` the workflow runs docker/bake-action on it, with the
same ``CACHE_REF`` registry cache the bake file reads (``type=registry,mode=max`` per
target) and each target's tag qualified with the registry it logs in to. Without one it
runs docker/build-push-action once per service in graph order, each with its own registry
cache. Pull requests neither push nor export the cache (they cannot log in). QEMU is set up
only when more than one platform is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from jettison.services.graph import Graph


def _rel_dir(graph: Graph, cwd: Path) -> str:
    root = graph.root.resolve()
    try:
        rel = root.relative_to(cwd.resolve()).as_posix()
    except ValueError:
        rel = root.name
    return rel or "."


def github_workflow(
    graph: Graph,
    *,
    platforms: list[str],
    registry: str = "ghcr.io",
    branch: str = "main",
    cwd: Path | None = None,
    builder: str | None = None,
    builder_endpoint: str | None = None,
) -> dict[str, Any]:
    """The workflow as a mapping (``render_workflow`` writes it as YAML).

    Pull requests build without pushing and without logging in (a fork's pull request gets
    no secrets): they read the registry cache but do not export it. Pushes to ``branch``
    log in to ``registry`` and push every image under ``REGISTRY/OWNER/REPO/`` (lower case,
    as registries require), the only names that login can write.

    ``builder`` names the buildx builder the workflow sets up and builds on;
    ``builder_endpoint`` makes it a remote BuildKit daemon (``driver: remote``), where a
    team's shared builder keeps its cache between runs.
    """
    workdir = _rel_dir(graph, cwd or Path.cwd())
    not_pr = "github.event_name != 'pull_request'"
    push = f"${{{{ {not_pr} }}}}"
    steps: list[dict[str, Any]] = [{"name": "Check out", "uses": "actions/checkout@v4"}]
    steps.append(
        {
            "name": "Image and cache names",
            # registries take lower-case repository names only; github.repository keeps case
            "shell": "bash",
            "run": f'prefix="{registry}/${{GITHUB_REPOSITORY,,}}"\n'
            'echo "IMAGE_PREFIX=$prefix" >> "$GITHUB_ENV"\n'
            f'echo "CACHE_REF=$prefix/{graph.project}-cache" >> "$GITHUB_ENV"\n',
        }
    )
    if len(platforms) > 1:
        steps.append({"name": "Set up QEMU", "uses": "docker/setup-qemu-action@v3"})
    setup: dict[str, Any] = {"name": "Set up Buildx", "uses": "docker/setup-buildx-action@v3"}
    use_builder: dict[str, str] = {}
    if builder or builder_endpoint:
        setup["id"] = "buildx"
        options = {"name": builder} if builder else {}
        if builder_endpoint:
            options.update(driver="remote", endpoint=builder_endpoint)
        setup["with"] = options
        use_builder = {"builder": "${{ steps.buildx.outputs.name }}"}
    steps.append(setup)
    ghcr = registry == "ghcr.io"
    steps.append(
        {
            "name": "Log in to the registry",
            "if": not_pr,
            "uses": "docker/login-action@v3",
            "with": {
                "registry": registry,
                # GITHUB_TOKEN writes to ghcr.io only; other registries need their own secrets
                "username": "${{ github.actor }}" if ghcr else "${{ secrets.REGISTRY_USERNAME }}",
                "password": "${{ secrets.GITHUB_TOKEN }}"
                if ghcr
                else "${{ secrets.REGISTRY_PASSWORD }}",
            },
        }
    )
    bake = graph.root / "docker-bake.hcl"
    if bake.is_file():
        overrides = []
        for name in graph.order:
            tag = graph.targets[name].tag
            overrides.append(f"{name}.tags=${{{{ env.IMAGE_PREFIX }}}}/{tag}:latest")
            # the bake file's export, made harmless where there is no login (pull requests)
            overrides.append(
                f"{name}.cache-to=type=registry,ref=${{{{ env.CACHE_REF }}}}:{name},"
                "mode=max,ignore-error=true"
            )
        steps.append(
            {
                "name": "Build the graph (bases, then services)",
                "uses": "docker/bake-action@v5",
                "env": {"PLATFORMS": ",".join(platforms)},
                "with": {
                    "workdir": workdir,
                    "files": "docker-bake.hcl",
                    "push": push,
                    "set": "\n".join(overrides) + "\n",
                    **use_builder,
                },
            }
        )
    else:
        for name in graph.order:
            target = graph.targets[name]
            context = f"{workdir}/{graph.relative(target.context)}".replace("/./", "/")
            cache_to = f"type=registry,ref={{0}}:{name},mode=max"
            steps.append(
                {
                    "name": f"Build {name}",
                    "uses": "docker/build-push-action@v6",
                    "with": {
                        "context": context.removesuffix("/."),
                        "file": f"{workdir}/{graph.relative(target.dockerfile)}",
                        "platforms": ",".join(platforms),
                        "tags": f"${{{{ env.IMAGE_PREFIX }}}}/{target.tag}:latest",
                        "push": push,
                        "cache-from": f"type=registry,ref=${{{{ env.CACHE_REF }}}}:{name}",
                        # exported only where the login ran: empty on pull requests
                        "cache-to": f"${{{{ {not_pr} && format('{cache_to}', env.CACHE_REF)"
                        " || '' }}",
                        **use_builder,
                    },
                }
            )
    return {
        "name": f"build {graph.project}",
        "on": {"push": {"branches": [branch]}, "pull_request": {}},
        "permissions": {"contents": "read", "packages": "write"},
        "jobs": {"build": {"runs-on": "ubuntu-latest", "steps": steps}},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, bake overrides) as literal ``|`` blocks, as people write
    them in workflows; long lines stay whole (an expression cut over two lines is legal
    YAML but hard to read)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render_workflow(workflow: dict[str, Any]) -> str:
    header = "# Generated by `jettison ci github`: paste into .github/workflows/build.yml\n"
    return header + yaml.dump(workflow, Dumper=_Dumper, sort_keys=False, width=1000)
