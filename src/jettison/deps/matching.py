"""Which distributions an import or a use names (:class:`Resolver`), the extras and plugins
in use, dev-only packages, and the bytes each distribution costs: the pieces
:func:`jettison.deps.analyze.analyze` puts together."""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.utils import canonicalize_name

from jettison.deps.declared import Declared
from jettison.deps.imports import (
    ImportUse,
    ScanResult,
    is_first_party,
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
from jettison.deps.report import DepItem, DepsReport
from jettison.deps.usage import (
    Use,
)


class Resolver:
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


_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


def extras_of(env: Environment, needed: dict[str, str]) -> dict[str, str]:
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


def features_in_use(
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


def wrapped_by_import(
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


def written_name(declared: Declared) -> str:
    """The distribution name as the manifest spells it (``PyYAML``), else the canonical one
    (URL requirements: ``pkg @ git+https://...``, ``git+https://...#egg=pkg``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", declared.raw)
    if match and canonicalize_name(match.group(1)) == declared.name:
        return match.group(1)
    return declared.name


def add_once(report: DepsReport, item: DepItem) -> None:
    if any(i.code == item.code and i.name == item.name for i in report.items):
        return
    report.items.append(item)


def dev_only(name: str, env: Environment) -> bool:
    if name in DEV_ONLY or name.startswith("types-") or name.endswith("-stubs"):
        return True
    dist = env.dists.get(name)
    return dist is not None and "pytest11" in dist.entry_points


def use_dists(use: Use, r: Resolver, env: Environment, known: set[str]) -> set[str]:
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


def add_plugins(
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


def distribution_sizes(
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
