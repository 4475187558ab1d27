"""Put imports, uses, declarations and metadata together: what is unused, missing,
only transitively present, only needed by another package, or a dev tool in the runtime image,
and how many bytes each costs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from jettison import units
from jettison.deps.declared import DEV, Declared, Manifests, find_manifests
from jettison.deps.imports import (
    KIND_OPTIONAL,
    KIND_TYPE_CHECKING,
    ImportUse,
    ScanResult,
    is_first_party,
    scan_imports,
)
from jettison.deps.mapping import (
    DEV_ONLY,
    PLUGIN_GROUP_OWNERS,
    SCRIPT_TO_DIST,
    STDLIB,
    TOOLING,
    dist_for_import,
    imports_for_dist,
)
from jettison.deps.metadata import Environment
from jettison.deps.usage import (
    DockerfileFacts,
    Use,
    config_file_uses,
    dockerfile_facts,
    string_uses,
)
from jettison.dockerfile import read_dockerfile
from jettison.errors import JettisonError
from jettison.findings import Finding, Severity

# code -> (rule name, severity, JSON key, one-line summary)
CODES: dict[str, tuple[str, Severity, str, str]] = {
    "JT901": (
        "unused-distribution",
        Severity.WARNING,
        "unused",
        "declared or installed for run time, but never imported or used",
    ),
    "JT902": (
        "undeclared-import",
        Severity.ERROR,
        "missing",
        "imported or used at run time, but no declared distribution provides it",
    ),
    "JT903": (
        "undeclared-transitive",
        Severity.WARNING,
        "undeclared_transitive",
        "imported, but installed only as a dependency of another package",
    ),
    "JT904": (
        "only-needed-by-another",
        Severity.INFO,
        "only_needed_by",
        "declared, not used directly, but required by a used package",
    ),
    "JT905": (
        "dev-dependency-in-runtime",
        Severity.WARNING,
        "dev_in_runtime",
        "a development-only package among the runtime dependencies",
    ),
    "JT906": (
        "dev-dependency-imported-at-runtime",
        Severity.ERROR,
        "dev_imported_at_runtime",
        "runtime code imports a package declared only for development",
    ),
}


@dataclass
class DepItem:
    code: str
    name: str  # distribution name as written (or the module, when no distribution is known)
    reason: str
    path: str
    line: int
    size_bytes: int | None = None  # its own installed files
    freed_bytes: int | None = None  # its files plus the dependencies only it needs
    exclusive: list[str] = field(default_factory=list)
    guessed: bool = False
    declarations: list[Declared] = field(default_factory=list)

    @property
    def removable(self) -> bool:
        return self.code in ("JT901", "JT905")

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "size_bytes": self.size_bytes,
            "freed_bytes": self.freed_bytes,
            "exclusive_dependencies": self.exclusive,
            "reason": self.reason,
            "path": self.path,
            "line": self.line,
            "guessed_mapping": self.guessed,
            "declared_in": [f"{d.path}:{d.line}" for d in self.declarations],
        }


@dataclass
class DepsReport:
    root: str
    environment: str
    items: list[DepItem] = field(default_factory=list)
    errors: list[JettisonError] = field(default_factory=list)  # files that could not be read
    notes: list[str] = field(default_factory=list)  # resolution failures and the like
    guesses: list[str] = field(default_factory=list)
    used: dict[str, list[str]] = field(default_factory=dict)
    removable_bytes: int | None = None
    files_scanned: int = 0
    declared: int = 0

    def of(self, code: str) -> list[DepItem]:
        return [i for i in self.items if i.code == code]

    def findings(self) -> list[Finding]:
        out = []
        for item in self.items:
            name, severity, _, _ = CODES[item.code]
            out.append(
                Finding(
                    code=item.code,
                    message=_message(item),
                    path=item.path,
                    line=item.line,
                    end_line=item.line,
                    severity=severity,
                    rule_name=name,
                )
            )
        return sorted(out, key=Finding.sort_key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"root": self.root, "environment": self.environment}
        for code, (_, _, key, _) in CODES.items():
            data[key] = [i.to_json() for i in self.items if i.code == code]
        data["removable_bytes"] = self.removable_bytes
        data["used"] = {k: v[:3] for k, v in sorted(self.used.items())}
        data["guesses"] = self.guesses
        data["errors"] = [str(e) for e in self.errors]
        data["notes"] = self.notes
        data["files_scanned"] = self.files_scanned
        return data


def human_bytes(n: int | None) -> str:
    """Sizes in deps' messages: up to GB, ``?`` when unknown (sizes are never negative)."""
    return units.human_bytes(n, largest="GB", missing="?")


def _message(item: DepItem) -> str:
    cost = ""
    if item.size_bytes is not None and item.removable:
        cost = f" ({human_bytes(item.size_bytes)}"
        if item.freed_bytes and item.freed_bytes > item.size_bytes:
            cost += (
                f", {human_bytes(item.freed_bytes)} with {len(item.exclusive)} "
                "dependencies only it needs"
            )
        cost += ")"
    guess = " [mapping guessed]" if item.guessed else ""
    return f"{item.name}{cost}: {item.reason}{guess}"


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
    from jettison.context.matcher import PatternMatcher  # the SDK's, without its client
    from jettison.context.scan import find_dockerignore, read_dockerignore

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
    for d in _all_declared(facts):
        if d.first_party or (d.group == DEV and not dev):
            continue
        out.append(d.raw if not d.editable else d.name)
    return unique(out)


def _all_declared(facts: ProjectFacts) -> list[Declared]:
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


class _Resolver:
    def __init__(
        self,
        env: Environment,
        declared: list[Declared],
        import_map: dict[str, str],
        first_party: set[str],
        namespaces: dict[str, set[str]] | None = None,
    ) -> None:
        self.env = env
        self.import_map = import_map
        self.first_party = first_party
        self.namespaces = namespaces or {}
        self.guessed_dists: set[str] = set()
        self.guess_index: dict[str, set[str]] = {}
        self.guesses: dict[str, str] = {}
        self.display = {d.name: d.name for d in declared}
        for dist in env:
            self.display[dist.name] = dist.display_name
        for d in declared:
            installed = env.dists.get(d.name)
            if installed is not None and (installed.modules or installed.scripts):
                continue
            self.guessed_dists.add(d.name)
            raw_name = d.raw.split("[")[0].split(";")[0].strip()
            for module in imports_for_dist(
                raw_name
                if raw_name.replace("-", "").replace("_", "").replace(".", "").isalnum()
                else d.name,
                import_map,
            ):
                self.guess_index.setdefault(module, set()).add(d.name)

    def external(self, module: str) -> bool:
        top = module.split(".", 1)[0]
        return (
            bool(top)
            and top not in STDLIB
            and top != "__main__"
            and not is_first_party(module, self.first_party, self.namespaces)
        )

    def resolve(self, module: str, note: bool = True) -> tuple[set[str], bool]:
        """Distributions providing ``module``, and whether that is a guess."""
        user = dist_for_import(module, self.import_map, builtin=False)
        if user:
            return {canonicalize_name(user)}, False
        found = self.env.providers(module)
        if found:
            return found, False
        parts = module.split(".")
        for i in range(len(parts), 0, -1):
            hit = self.guess_index.get(".".join(parts[:i]))
            if hit:
                return set(hit), True  # listed once per package in the report's guesses
        table = dist_for_import(module)
        dist = canonicalize_name(table) if table else canonicalize_name(parts[0])
        if note:
            self._note(module, {dist}, "built-in table" if table else "import name = package name")
        return {dist}, True

    def _note(self, module: str, dists: set[str], how: str) -> None:
        top = module.split(".")[0]
        if top not in self.guesses:
            self.guesses[top] = f"{top} -> {', '.join(sorted(dists))} ({how})"


def analyze(
    facts: ProjectFacts,
    env: Environment,
    import_map: dict[str, str] | None = None,
) -> DepsReport:
    declared = [d for d in _all_declared(facts) if not d.first_party]
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
        for d in _all_declared(facts)
        if d.first_party
        for module in imports_for_dist(d.name, import_map)
        if "." not in module
    }
    r = _Resolver(
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
        dists = _use_dists(use, r, env, known)
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

    _add_plugins(env, used_rt, used_dev, known)
    report.used = used_rt

    needed = env.closure((d, extras.get(d, frozenset())) for d in used_rt)
    optional_of = _optional_of(env, needed)
    found = _features_in_use(facts.scan, env, optional_of, runtime_decl, used_rt, import_map or {})
    wrapped = [
        imp
        for imp in facts.scan.imports
        if not imp.dev and imp.kind != KIND_TYPE_CHECKING and r.external(imp.module)
    ]
    if _wrapped_by_import(wrapped, env, runtime_decl, used_rt, import_map or {}) or found:
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
        shown = dist.display_name if dist else _written_name(first)
        guessed = name in r.guessed_dists
        item = DepItem(
            "JT901",
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
            item.code = "JT904"
            item.reason = (
                f"not used directly; only needed by {via}, which requires it "
                "(the explicit entry can go; the package stays)"
            )
        elif _dev_only(name, env):
            item.code = "JT905"
            item.reason = "a development tool or test plugin; not needed in the runtime image"
        elif name in used_dev:
            item.code = "JT905"
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
            _add_once(
                report,
                DepItem(
                    "JT906",
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
            _add_once(
                report,
                DepItem(
                    "JT903",
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
        _add_once(
            report, DepItem("JT902", r.display.get(name, name), reason, path, line, guessed=guessed)
        )

    _sizes(report, env, used_rt, runtime_decl, extras)
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


_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def _optional_of(env: Environment, needed: dict[str, str]) -> dict[str, str]:
    """Packages that a used package lists under one of its extras -> "parent (extra 'x')".

    Such a package may be loaded by its parent without any import in the project (uvloop by
    uvicorn, psycopg-binary by psycopg, openpyxl by pandas.read_excel): still reported, with a
    warning, since whether the parent loads it depends on which of its features run."""
    found: dict[str, str] = {}
    for parent in sorted(needed):
        dist = env.dists.get(parent)
        if dist is None:
            continue
        for req in dist.requires:
            name = canonicalize_name(req.name)
            match = _EXTRA_MARKER.search(str(req.marker)) if req.marker else None
            if match and name not in found and name != parent:
                found[name] = f"{dist.display_name} (extra {match.group(1)!r})"
    return found


def _features_in_use(
    scan: ScanResult,
    env: Environment,
    optional_of: dict[str, str],
    runtime_decl: dict[str, list[Declared]],
    used_rt: dict[str, list[str]],
    import_map: dict[str, str],
) -> bool:
    """Declared optional dependencies of used packages that the runtime code asks for by name
    without importing them: ``node.cssselect(...)`` (lxml loads cssselect),
    ``engine="openpyxl"`` (pandas loads openpyxl). Marks them used; returns whether any was."""
    strings: dict[str, tuple[str, int]] = {}
    for text, path, line in scan.strings:
        if path not in scan.dev_files and text.isidentifier():
            strings.setdefault(text, (path, line))
    added = False
    for name in sorted(runtime_decl):
        if name in used_rt or name not in optional_of:
            continue
        modules = _top_modules(name, env, import_map)
        for module in sorted(modules):
            where = next(
                (w for w in scan.attributes.get(module, []) if w[0] not in scan.dev_files), None
            )
            what = f"`.{module}`"
            if where is None and module in strings:
                where, what = strings[module], f"the string {module!r}"
            if where is not None:
                used_rt[name] = [
                    f"loaded by {optional_of[name]} for {what} at {where[0]}:{where[1]}"
                ]
                added = True
                break
    return added


def _wrapped_by_import(
    imports: list[ImportUse],
    env: Environment,
    runtime_decl: dict[str, list[Declared]],
    used_rt: dict[str, list[str]],
    import_map: dict[str, str],
) -> bool:
    """Declared packages that another package's module wraps, named after them:
    ``torch.utils.tensorboard`` needs tensorboard, ``lxml.cssselect`` cssselect,
    ``celery.backends.redis`` redis. Marks them used; returns whether any was."""
    inner: dict[str, ImportUse] = {}
    for imp in imports:
        for part in imp.module.split(".")[1:]:
            inner.setdefault(part, imp)
    added = False
    for name in sorted(runtime_decl):
        if name in used_rt:
            continue
        modules = _top_modules(name, env, import_map)
        hit = next((inner[m] for m in sorted(modules) if m in inner), None)
        if hit is not None:
            used_rt[name] = [
                f"import {hit.module} at {hit.path}:{hit.line} (a wrapper that needs it)"
            ]
            added = True
    return added


def _top_modules(name: str, env: Environment, import_map: dict[str, str]) -> set[str]:
    """The top-level modules distribution ``name`` provides: from its metadata when
    installed, else the mapping's guess."""
    dist = env.dists.get(name)
    if dist is not None and dist.modules:
        return {m.split(".")[0] for m in dist.modules}
    return set(imports_for_dist(name, import_map))


def _written_name(declared: Declared) -> str:
    """The distribution name as the manifest spells it (``PyYAML``), else the canonical one
    (URL requirements: ``pkg @ git+https://...``, ``git+https://...#egg=pkg``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", declared.raw)
    if match and canonicalize_name(match.group(1)) == declared.name:
        return match.group(1)
    return declared.name


def _add_once(report: DepsReport, item: DepItem) -> None:
    if any(i.code == item.code and i.name == item.name for i in report.items):
        return
    report.items.append(item)


def _dev_only(name: str, env: Environment) -> bool:
    if name in DEV_ONLY or name.startswith("types-") or name.endswith("-stubs"):
        return True
    dist = env.dists.get(name)
    return dist is not None and "pytest11" in dist.entry_points


def _use_dists(use: Use, r: _Resolver, env: Environment, known: set[str]) -> set[str]:
    """Distributions that satisfy a use (only ones declared or actually installed)."""
    if use.kind == "module":
        found: set[str] = set()
        for module in dict.fromkeys((use.target, *use.alternatives)):
            if not r.external(module):
                return set()  # the standard library or the project itself provides it
            dists, _ = r.resolve(module, note=False)
            found |= {d for d in dists if d in known}
        return found
    if use.kind == "script":
        dists = env.script_providers(use.target)
        if use.target in SCRIPT_TO_DIST:
            dists.add(canonicalize_name(SCRIPT_TO_DIST[use.target]))
        if canonicalize_name(use.target) in known:
            dists.add(canonicalize_name(use.target))
        return {d for d in dists if d in known}
    group, _, name = use.target.partition(":")
    return {
        d.name for d in env if name in d.entry_points.get(group, frozenset()) and d.name in known
    }


def _add_plugins(
    env: Environment, used_rt: dict[str, list[str]], used_dev: dict[str, list[str]], known: set[str]
) -> None:
    """Plugins registered for a used package are used too (pytest plugins only by tests)."""
    changed = True
    while changed:
        changed = False
        for dist in env:
            if dist.name not in known or dist.name in used_rt:
                continue
            for group in dist.entry_points:
                if group in ("console_scripts", "gui_scripts"):
                    continue
                owner = canonicalize_name(PLUGIN_GROUP_OWNERS.get(group, group.split(".")[0]))
                if owner == dist.name:
                    continue
                if owner in used_rt and group != "pytest11":
                    used_rt[dist.name] = [f"plugin of {owner} (entry points [{group}])"]
                    changed = True
                    break
                if owner in used_dev or owner in used_rt:
                    used_dev.setdefault(dist.name, [f"plugin of {owner} ([{group}])"])


def _sizes(
    report: DepsReport,
    env: Environment,
    used_rt: dict[str, list[str]],
    runtime_decl: dict[str, list[Declared]],
    extras: dict[str, frozenset[str]],
) -> None:
    if not env.exact:
        return  # another environment's versions and files would give wrong sizes
    removable = {i.declarations[0].name for i in report.items if i.removable and i.declarations}
    keep_roots = set(used_rt) | (set(runtime_decl) - removable) | TOOLING
    keep = env.closure((d, extras.get(d, frozenset())) for d in keep_roots if d in env.dists)
    owns: dict[str, set[str]] = {}
    for name in removable:
        if name in env.dists:
            owns[name] = set(env.closure([(name, extras.get(name, frozenset()))])) - set(keep)
    freed = set().union(*owns.values()) if owns else set()
    for item in report.items:
        if not item.removable or not item.declarations:
            continue
        name = item.declarations[0].name
        if name not in owns:
            continue
        others = set().union(*(v for k, v in owns.items() if k != name))
        exclusive = sorted(owns[name] - others - {name})
        item.exclusive = [env.dists[e].display_name for e in exclusive if e in env.dists]
        item.freed_bytes = (item.size_bytes or 0) + sum(
            env.dists[e].size_bytes for e in exclusive if e in env.dists
        )
    if freed:
        report.removable_bytes = sum(env.dists[n].size_bytes for n in freed if n in env.dists)


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
