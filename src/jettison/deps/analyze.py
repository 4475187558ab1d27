"""Put imports, uses, declarations and metadata together: what is unused, missing,
only transitively present, only needed by another package, or a dev tool in the runtime image,
and how many bytes each costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from jettison.deps.declared import DEV, Declared, Manifests, find_manifests
from jettison.deps.imports import (
    KIND_OPTIONAL,
    KIND_TYPE_CHECKING,
    ScanResult,
    scan_imports,
)
from jettison.deps.mapping import (
    SCRIPT_TO_DIST,
    TOOLING,
    imports_for_dist,
)
from jettison.deps.matching import (
    Resolver,
    add_once,
    add_plugins,
    dev_only,
    distribution_sizes,
    extras_of,
    features_in_use,
    unique,
    use_dists,
    wrapped_by_import,
    written_name,
)
from jettison.deps.metadata import Environment
from jettison.deps.report import CODES, DepItem, DepsReport
from jettison.deps.usage import (
    DockerfileFacts,
    Use,
    config_file_uses,
    dockerfile_facts,
    string_uses,
)
from jettison.dockerfile import read_dockerfile
from jettison.errors import JettisonError
from jettison.rules import codes as c


@dataclass
class ProjectFacts:
    root: Path
    scan: ScanResult
    manifests: Manifests
    docker: DockerfileFacts | None
    uses: list[Use]
    dockerfile: str | None = None


def collect(root: Path, dockerfile: Path | None = None) -> ProjectFacts:
    """Read everything the analysis needs from the project tree (no environment yet)."""
    if not root.exists():
        raise JettisonError("no such file or directory", str(root))
    base = root if root.is_dir() else root.parent
    try:  # the project's own directory: nothing to analyse without it
        next(iter(base.iterdir()), None)
    except OSError as exc:
        raise JettisonError(f"cannot read directory: {exc.strerror}", str(base)) from None
    scan = scan_imports(root)
    manifests = find_manifests(base)
    docker: DockerfileFacts | None = None
    if dockerfile is None and (base / "Dockerfile").is_file():
        dockerfile = base / "Dockerfile"
    if dockerfile is not None:
        scan.mark_dev(_not_in_context(base, dockerfile, scan.files))
    uses = string_uses(scan) + config_file_uses(base)
    if dockerfile is not None:
        df = read_dockerfile(dockerfile)
        docker = dockerfile_facts(df, base)
        uses.extend(docker.uses)
    return ProjectFacts(
        base, scan, manifests, docker, uses, str(dockerfile) if dockerfile else None
    )


def _not_in_context(base: Path, dockerfile: Path, files: list[Path]) -> set[str]:
    """Files the .dockerignore keeps out of the build: their imports never reach the image."""
    from jettison.build_context.matcher import PatternMatcher  # the SDK's, without its client
    from jettison.build_context.scan import find_dockerignore, read_dockerignore

    patterns = read_dockerignore(find_dockerignore(base, dockerfile))
    if not patterns:
        return set()
    matcher = PatternMatcher(patterns)
    out = set()
    for file in files:
        try:
            rel = file.relative_to(base).as_posix()
        except ValueError:
            continue
        if matcher.matches(rel):
            out.add(str(file))
    return out


def declared_requirements(facts: ProjectFacts, dev: bool = True) -> list[str]:
    """Requirement strings to resolve into a throwaway environment."""
    out = []
    for d in all_declared(facts):
        if d.first_party or (d.group == DEV and not dev):
            continue
        out.append(d.raw if not d.editable else d.name)
    return unique(out)


def all_declared(facts: ProjectFacts) -> list[Declared]:
    # a requirements file the Dockerfile installs is also found as a manifest: keep its
    # Dockerfile reading (runtime there). Within the manifests nothing is dropped: two
    # declarations of one name can share a line number (``test = ['redis']`` and
    # ``redis = ['redis']`` in pyproject) and differ in group.
    docker = facts.docker.declared if facts.docker else []
    seen = {(d.name, d.path, d.line) for d in docker}
    out: list[Declared] = list(docker)
    for d in facts.manifests.declared:
        if (d.name, d.path, d.line) not in seen:
            out.append(d)
    return out


def analyze(
    facts: ProjectFacts,
    env: Environment,
    import_map: dict[str, str] | None = None,
) -> DepsReport:
    declared = [d for d in all_declared(facts) if not d.first_party]
    project_names = facts.manifests.project_names
    declared = [d for d in declared if d.name not in project_names]
    report = DepsReport(
        str(facts.root), env.source, files_scanned=len(facts.scan.files), declared=len(declared)
    )
    # a requirements file the Dockerfile installs is read as a manifest too: its errors once
    errors = [*facts.scan.errors, *facts.manifests.errors]
    if facts.docker is not None:
        errors.extend(facts.docker.errors)
    report.errors.extend({str(e): e for e in errors}.values())
    # local packages the project installs (``./libs/core``, poetry ``{path = ...}``): their
    # modules are the project's own, not undeclared dependencies
    local = {
        module
        for d in all_declared(facts)
        if d.first_party
        for module in imports_for_dist(d.name, import_map)
        if "." not in module
    }
    r = Resolver(
        env, declared, import_map or {}, facts.scan.first_party | local, facts.scan.namespaces
    )
    runtime_decl: dict[str, list[Declared]] = {}
    dev_decl: dict[str, list[Declared]] = {}
    for d in declared:
        (runtime_decl if d.runtime else dev_decl).setdefault(d.name, []).append(d)
    extras: dict[str, frozenset[str]] = {}
    for d in declared:
        extras[d.name] = extras.get(d.name, frozenset()) | d.extras
    known = set(runtime_decl) | set(dev_decl) | (set(env.dists) if env.exact else set())

    used_rt: dict[str, list[str]] = {}
    used_dev: dict[str, list[str]] = {}
    missing: dict[str, tuple[str, str, int, bool]] = {}  # dist -> (reason, path, line, guess)
    runtime_imports: list[tuple[str, set[str], bool, str, int]] = []

    for imp in [*facts.scan.imports, *facts.scan.salvaged]:
        if not r.external(imp.module):
            continue
        dists, guessed = r.resolve(imp.module)
        where = f"import {imp.module} at {imp.path}:{imp.line}"
        target = used_dev if imp.dev or imp.kind == KIND_TYPE_CHECKING else used_rt
        for dist_name in dists:
            target.setdefault(dist_name, []).append(where)
        if target is used_rt and imp.kind != KIND_OPTIONAL:
            runtime_imports.append((imp.module, dists, guessed, imp.path, imp.line))

    system = facts.docker.system_packages if facts.docker else set()
    for use in facts.uses:
        target = used_dev if use.dev else used_rt
        dists = use_dists(use, r, env, known)
        for dist_name in dists:
            target.setdefault(dist_name, []).append(f"{use.reason} ({use.path}:{use.line})")
        if dists or use.dev:
            continue
        if use.kind == "module" and use.strict and r.external(use.target):
            guess, _ = r.resolve(use.target)
            name = sorted(guess)[0]
            missing.setdefault(
                name,
                (
                    f"needed by {use.reason} at {use.path}:{use.line}, "
                    "but nothing declared provides it",
                    use.path,
                    use.line,
                    True,
                ),
            )
        elif (
            use.kind == "script"
            and use.target in SCRIPT_TO_DIST
            and not any(use.target in p for p in system)
        ):
            name = canonicalize_name(SCRIPT_TO_DIST[use.target])
            missing.setdefault(
                name,
                (
                    f"{use.reason} is provided by {SCRIPT_TO_DIST[use.target]}"
                    ", which is not declared",
                    use.path,
                    use.line,
                    True,
                ),
            )

    add_plugins(env, used_rt, used_dev, known)
    report.used = used_rt

    needed = env.closure((d, extras.get(d, frozenset())) for d in used_rt)
    optional_of = extras_of(env, needed)
    found = features_in_use(facts.scan, env, optional_of, runtime_decl, used_rt, import_map or {})
    wrapped = [
        imp
        for imp in facts.scan.imports
        if not imp.dev and imp.kind != KIND_TYPE_CHECKING and r.external(imp.module)
    ]
    if wrapped_by_import(wrapped, env, runtime_decl, used_rt, import_map or {}) or found:
        needed = env.closure((d, extras.get(d, frozenset())) for d in used_rt)
    decl_closure = env.closure((d, extras.get(d, frozenset())) for d in runtime_decl)

    for name, decls in runtime_decl.items():
        if name in TOOLING or name in used_rt:
            continue
        if not any(d.applies_on_linux() for d in decls) and (
            not env.exact or name not in env.dists
        ):
            continue  # ``pywin32; sys_platform == "win32"``: never installed in the image
        first = decls[0]
        dist = env.dists.get(name)
        shown = dist.display_name if dist else written_name(first)
        guessed = name in r.guessed_dists
        item = DepItem(
            c.UNUSED_DISTRIBUTION,
            shown,
            "",
            first.path,
            first.line,
            guessed=guessed,
            declarations=decls,
            size_bytes=dist.size_bytes if dist and env.exact else None,
        )
        if name in needed and needed[name] != name:
            via = (
                env.dists[needed[name]].display_name if needed[name] in env.dists else needed[name]
            )
            item.code = c.ONLY_NEEDED_BY_ANOTHER
            item.reason = (
                f"not used directly; only needed by {via}, which requires it "
                "(the explicit entry can go; the package stays)"
            )
        elif dev_only(name, env):
            item.code = c.DEV_DEPENDENCY_IN_RUNTIME
            item.reason = "a development tool or test plugin; not needed in the runtime image"
        elif name in used_dev:
            item.code = c.DEV_DEPENDENCY_IN_RUNTIME
            item.reason = (
                "only used outside the runtime code (tests, notebooks, type "
                "checking, files the .dockerignore keeps out): " + used_dev[name][0]
            )
        else:
            item.reason = (
                "never imported, run or loaded as a plugin by the code, "
                "the Dockerfile or the configuration"
            )
            if dist is not None and not dist.modules and not dist.scripts:
                item.reason += " (it provides no modules or commands of its own)"
            if name in optional_of:
                item.optional_of = optional_of[name]
                item.reason += (
                    f"; but {optional_of[name]} lists it as an optional dependency and may "
                    "load it without an import: check that feature before removing it"
                )
        report.items.append(item)

    for module, dists, guessed, path, line in runtime_imports:
        if dists & set(runtime_decl):
            continue
        dist_name = sorted(dists)[0]
        via_dist = next((d for d in sorted(dists) if d in decl_closure), None)
        transitive = via_dist is not None and via_dist in env.dists
        # declared for development but installed anyway by a runtime dependency (anyio via
        # starlette): it is in the image, so undeclared-transitive rather than missing there
        if dists & set(dev_decl) and not transitive:
            dev = sorted(dists & set(dev_decl))[0]
            add_once(
                report,
                DepItem(
                    c.DEV_DEPENDENCY_IMPORTED_AT_RUNTIME,
                    r.display.get(dev, dev),
                    f"declared for development only, but imported by runtime "
                    f"code ({module} at {path}:{line})",
                    path,
                    line,
                    guessed=guessed,
                ),
            )
            continue
        if via_dist is not None and via_dist in env.dists:
            root = decl_closure[via_dist]
            via = r.display.get(root, root)
            provider = env.dists[via_dist]
            add_once(
                report,
                DepItem(
                    c.UNDECLARED_TRANSITIVE,
                    provider.display_name,
                    f"imported ({module} at {path}:{line}) but installed only "
                    f"because {via} requires it; declare it",
                    path,
                    line,
                    size_bytes=provider.size_bytes if env.exact else None,
                ),
            )
            continue
        state = ""
        if env.exact and dist_name not in env.dists:
            state = f"; not installed in {env.source}"
        missing.setdefault(
            dist_name,
            (f"imported ({module} at {path}:{line}) but not declared{state}", path, line, guessed),
        )
    for name, (reason, path, line, guessed) in missing.items():
        if name in runtime_decl or name in TOOLING:
            continue
        add_once(
            report,
            DepItem(
                c.UNDECLARED_IMPORT, r.display.get(name, name), reason, path, line, guessed=guessed
            ),
        )

    distribution_sizes(report, env, used_rt, runtime_decl, extras)
    report.guesses = sorted(r.guesses.values())
    absent = sorted(r.display.get(n, n) for n in r.guessed_dists)
    if absent:
        report.guesses.append(
            f"not installed in {env.source}, modules guessed from the name: " + ", ".join(absent)
        )
        if not env.exact:
            report.notes.append(
                "mappings and sizes are exact with --image IMAGE, --resolve or --venv DIR"
            )
    order = list(CODES)
    report.items.sort(key=lambda i: (order.index(i.code), -(i.freed_bytes or 0), i.name.lower()))
    return report
