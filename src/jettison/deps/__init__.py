"""``jettison deps``: the Python packages an image installs that its code never uses, the ones
it uses without declaring, and the bytes each costs.

Pipeline: :func:`collect` reads the project (imports, uses without imports, manifests, the
Dockerfile), :func:`choose_environment` finds real metadata (an image, a resolved throwaway
venv, the project's venv or an interpreter), :func:`analyze` combines them into a
:class:`DepsReport` whose items render as findings (JT901-JT906).
"""

from __future__ import annotations

from pathlib import Path

from jettison.deps.analyze import (
    ProjectFacts,
    all_declared,
    analyze,
    collect,
    declared_requirements,
)
from jettison.deps.metadata import Dist, Environment, current_sites, environment_of_declared
from jettison.deps.report import CODES, DepItem, DepsReport, human_bytes
from jettison.deps.resolve import (
    environment_from_python,
    environment_from_venv,
    find_project_venv,
    resolve_environment,
)
from jettison.errors import JettisonError

__all__ = [
    "CODES",
    "DepItem",
    "DepsReport",
    "Dist",
    "Environment",
    "ProjectFacts",
    "analyze",
    "choose_environment",
    "collect",
    "human_bytes",
    "run",
]


def choose_environment(
    facts: ProjectFacts,
    *,
    image: str | None = None,
    resolve: bool = False,
    python: str | None = None,
    venv: Path | None = None,
) -> tuple[Environment, list[str]]:
    """The best metadata available, in order: image, --venv, --python, --resolve, the
    project's own ``.venv``, and last the interpreter running jettison (not exact)."""
    notes: list[str] = []
    if image:
        from jettison.deps.image import environment_from_image

        return environment_from_image(image), notes
    if venv is not None:
        return environment_from_venv(venv), notes
    if python:
        return environment_from_python(python), notes
    if resolve:
        env, failures = resolve_environment(declared_requirements(facts))
        for failure in failures:
            notes.append(f"could not be resolved, mapping guessed: {failure}")
        return env, notes
    found = find_project_venv(facts.root)
    if found is not None:
        return environment_from_venv(found), notes
    # not the project's environment: only what the project declares is read from it, and
    # its sizes are never reported (exact=False)
    declared = {d.name for d in all_declared(facts)}
    env = environment_of_declared(current_sites(), declared, "the interpreter running jettison")
    env.exact = False
    return env, notes


def run(
    root: Path,
    *,
    dockerfile: Path | None = None,
    image: str | None = None,
    resolve: bool = False,
    python: str | None = None,
    venv: Path | None = None,
    import_map: dict[str, str] | None = None,
    require_code: bool = False,
) -> DepsReport:
    """Analyse a project in one call (what ``jettison deps`` and the audit rule use).

    ``require_code``: a project without a Python file is an error (``jettison deps``: with
    no import to read, every declared package would look unused), raised before any
    environment is resolved."""
    facts = collect(root, dockerfile)
    if require_code and not facts.scan.files and not facts.scan.errors:
        raise JettisonError("no Python file to read (is this the project's directory?)", str(root))
    env, notes = choose_environment(facts, image=image, resolve=resolve, python=python, venv=venv)
    report = analyze(facts, env, import_map)
    report.notes.extend(notes)
    return report
