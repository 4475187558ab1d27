"""The import graph of src/jettison: cycles and imports from a lower layer to a higher one.

    python scripts/import_graph.py            # cycles and layer violations; exit 1 if any
    python scripts/import_graph.py --edges    # also every import between two parts

Reads the source with ``ast`` (nothing is imported). Every import counts, also the ones
inside functions (they hide a cycle from Python, not from a reader), except those under
``if TYPE_CHECKING:`` (annotations only). A cycle is a set of modules that reach each
other; a layer violation is an import of a part listed in a higher layer than the
importer's. A module belongs to the longest prefix in LAYERS that names it.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "jettison"

# bottom first; a part may import its own layer and the layers below it
LAYERS: list[list[str]] = [
    # the package root holds only __version__
    [
        "jettison",
        "jettison.errors",
        "jettison.findings",
        "jettison.units",
        "jettison.atomic",
        "jettison.collector",
        "jettison.config",
    ],
    # the inputs' models: Dockerfile text, build context scan, compose files
    ["jettison.dockerfile", "jettison.build_context", "jettison.compose"],
    ["jettison.rules"],
    # findings renderers (SARIF and GitLab read the rules' docs); deps and inspect use them
    ["jettison.report"],
    ["jettison.engine"],
    ["jettison.image"],  # images from every source, and their analysis (inspect)
    ["jettison.deps"],  # reads installed distributions from images through image.sources
    ["jettison.audit"],  # audit hands the deps analysis to JT605
    ["jettison.fixes"],  # fixes re-run the audit to a fixpoint; --verify builds on the engine
    ["jettison.bench", "jettison.services"],
    ["jettison.cli", "jettison.__main__", "jettison._entry", "jettison.server"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The project modules ``name`` imports at run time (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def resolve(target: str) -> str | None:
        # the longest prefix that is a module: `from a.b import c` is a.b.c or a.b
        while target:
            if target in modules:
                return target
            target = target.rpartition(".")[0]
        return None

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE and (m := resolve(alias.name)):
                    found.add(m)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] == PACKAGE:
                for alias in node.names:
                    m = resolve(f"{source}.{alias.name}")
                    if m:
                        found.add(m)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(name)
    return found


def layer_of(module: str) -> tuple[int, str]:
    best = (-1, "")
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            # the package root names itself only, not every module below it
            inside = module.startswith(prefix + ".") and prefix != PACKAGE
            if (module == prefix or inside) and len(prefix) > len(best[1]):
                best = (level, prefix)
    return best


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def main(argv: list[str]) -> int:
    files = {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}
    modules = set(files)
    graph = {name: imports_of(path, name, modules) for name, path in files.items()}
    found_cycles = cycles(graph)
    violations = []
    parts: dict[tuple[str, str], int] = defaultdict(int)
    unplaced = sorted(m for m in modules if layer_of(m)[0] < 0)
    for name, targets in sorted(graph.items()):
        level, part = layer_of(name)
        for target in sorted(targets):
            target_level, target_part = layer_of(target)
            if part != target_part:
                parts[part, target_part] += 1
            if target_level > level:
                violations.append(f"{name} ({part}, layer {level}) imports {target} "
                                  f"({target_part}, layer {target_level})")  # fmt: skip
    if "--edges" in argv:
        print("imports between parts (count):")
        for (a, b), n in sorted(parts.items()):
            print(f"  {a} -> {b}: {n}")
    print(f"{len(modules)} modules, {sum(len(t) for t in graph.values())} imports")
    print(f"cycles: {len(found_cycles)}")
    for component in found_cycles:
        print("  " + " <-> ".join(component))
    print(f"layer violations: {len(violations)}")
    for v in violations:
        print("  " + v)
    if unplaced:
        print(f"modules in no layer (add them to LAYERS): {', '.join(unplaced)}")
    return 1 if found_cycles or violations or unplaced else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
