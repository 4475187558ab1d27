"""Generated files: base Dockerfiles, rewritten services, ``docker-bake.hcl``.

Nothing here writes: :func:`render_plan` returns the new text of every file it would create
or change, :meth:`Rewrite.diff` shows them and :meth:`Rewrite.write` writes them atomically
(only called for ``--write``).

Wiring: a rewritten service builds ``FROM <project>-base-python``, a plain image name. The
``docker-bake.hcl`` maps that name to the base target (``contexts = {NAME =
"target:base-python"}``) so bake builds the graph in one BuildKit solve; without buildx the
same Dockerfile builds against the locally tagged base (``jettison build`` builds bases
first). The compose file is left as it is: its services keep their build sections, and the
bake targets tag the images with the names compose uses (``<project>-<service>``).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from jettison.atomic import write_text_atomic
from jettison.config import Config
from jettison.errors import JettisonError
from jettison.fixes.apply import fix_source
from jettison.services.graph import BASES_DIR, MARKER, Graph, load_graph
from jettison.services.plan import BasePlan, ServiceSource, ServicesPlan

PIP_CACHE = "--mount=type=cache,target=/root/.cache/pip"


@dataclass
class Rewrite:
    plan: ServicesPlan
    files: dict[Path, str]  # path -> new text (created or changed)
    originals: dict[Path, str | None]  # path -> text before (None: created)
    graph: Graph
    applied: list[str] = field(default_factory=list)  # one line per change, for the report

    @property
    def changed(self) -> bool:
        return any(self.originals.get(p) != t for p, t in self.files.items())

    def diff(self) -> str:
        out = []
        root = self.plan.root
        for path in sorted(self.files):
            old = self.originals.get(path)
            new = self.files[path]
            if old == new:
                continue
            rel = _rel(path, root)
            out.append(
                "".join(
                    difflib.unified_diff(
                        (old or "").splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        fromfile=f"a/{rel}" if old is not None else "/dev/null",
                        tofile=f"b/{rel}",
                    )
                )
            )
        return "".join(out)

    def write(self) -> list[Path]:
        written = []
        for path in sorted(self.files):
            if self.originals.get(path) == self.files[path]:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, self.files[path])
            written.append(path)
        return written


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def base_dockerfile(plan: ServicesPlan, base: BasePlan) -> str:
    lines = [
        f"{MARKER} from {plan.origin.label}: shared by {', '.join(base.services)}.",
        "# Edit the services' Dockerfiles or requirements, then run `jettison services` again.",
    ]
    if base.slim_from:
        lines.append(f"# {base.slim_from} -> its slim variant (the services' smoke checks decide).")
    lines.append(f"FROM {base.from_image}")
    lines += base.instructions
    if base.requirements:
        lines.append("COPY requirements.txt /tmp/jettison-base/requirements.txt")
        lines.append(f"RUN {PIP_CACHE} \\\n    pip install -r /tmp/jettison-base/requirements.txt")
    return "\n".join(lines) + "\n"


def base_requirements(base: BasePlan) -> str:
    return "".join(f"{line}\n" for line in base.requirements)


def rewrite_service(service: ServiceSource, base: BasePlan, moved: int) -> tuple[str, list[str]]:
    """The service's Dockerfile FROM ``base``, without the ``moved`` leading instructions that
    the base now holds, and with JT201's fix (manifest first) so code changes skip installs."""
    df = service.df
    source = df.source
    stage = df.stages[0]
    edits: list[tuple[int, int, str]] = []
    from_ins = stage.from_instruction
    new_from = f"FROM {base.tag}" + (f" AS {stage.name}" if stage.name else "")
    edits.append((from_ins.start, from_ins.end, new_from))
    for ins in service.head[:moved]:
        end = source.find("\n", ins.end)
        end = len(source) if end < 0 else end + 1
        edits.append((ins.start, end, ""))
    text = source
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    applied = [f"{service.name}: FROM {service.base} -> FROM {base.tag}"]
    if moved:
        applied.append(f"{service.name}: {moved} leading instruction(s) moved to {base.name}")
    outcome = fix_source(text, str(service.dockerfile), Config(select=["JT201"]), unsafe=True)
    if outcome.text != text:
        applied.append(f"{service.name}: requirements installed before the code is copied (JT201)")
    return outcome.text, applied


def render_plan(plan: ServicesPlan, platforms: list[str] | None = None) -> Rewrite:
    if not plan.bases:
        raise JettisonError(
            "nothing to share: no two built services start FROM the same image"
            + (f" ({'; '.join(f'{n}: {r}' for n, r in plan.skipped)})" if plan.skipped else ""),
            str(plan.source),
        )
    root = plan.root
    files: dict[Path, str] = {}
    applied: list[str] = []
    for base in plan.bases:
        folder = root / BASES_DIR / base.name
        if any(s.context.resolve() == folder.resolve() for s in plan.services):
            raise JettisonError(f"{folder} is a service's build context", str(plan.source))
        existing = folder / "Dockerfile"
        if existing.is_file() and not existing.read_text(errors="replace").startswith(MARKER):
            raise JettisonError(
                "exists and was not generated by jettison: move it away first", str(existing)
            )
        files[(folder / "Dockerfile").resolve()] = base_dockerfile(plan, base)
        if base.requirements:
            files[(folder / "requirements.txt").resolve()] = base_requirements(base)
        applied.append(
            f"{base.name}: FROM {base.from_image}, {len(base.instructions)} shared instruction(s),"
            f" {len(base.requirements)} shared requirement(s), for {', '.join(base.services)}"
        )
    for service in plan.services:
        found = plan.base_of(service.name)
        if found is None:
            continue
        base = found
        top = base
        while top.parent is not None:
            top = next(b for b in plan.bases if b.name == top.parent)
        # (the ML base adds requirements only; the leading instructions are the top base's)
        moved = len(top.instructions)
        text, lines = rewrite_service(service, base, moved)
        files[service.dockerfile.resolve()] = text
        applied += lines
    graph = load_graph(plan.origin, overlay=files, project=plan.project, skip_unreadable=True)
    bake = root / "docker-bake.hcl"
    if bake.is_file() and not bake.read_text(errors="replace").startswith(MARKER):
        raise JettisonError("exists and was not generated by jettison", str(bake))
    files[bake.resolve()] = bake_file(graph, platforms or ["linux/amd64"])
    originals: dict[Path, str | None] = {}
    for path in files:
        try:
            originals[path] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            originals[path] = None
        except (OSError, UnicodeDecodeError) as exc:
            raise JettisonError(f"cannot read: {exc}", str(path)) from None
    return Rewrite(plan, files, originals, graph, applied)


def _hcl(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def bake_file(graph: Graph, platforms: list[str]) -> str:
    """``docker-bake.hcl``: one target per node, bases wired with ``contexts``, registry cache."""
    out = [
        f"{MARKER} from {graph.label}: the build graph (bases first, then services).",
        "# docker buildx bake                      builds everything (run from this directory)",
        "# CACHE_REF=ghcr.io/org/app-cache docker buildx bake --push   with a registry cache",
        "",
        'variable "CACHE_REF" {',
        '  default = ""',
        "}",
        "",
        'variable "PLATFORMS" {',
        f"  default = {_hcl(','.join(platforms))}",
        "}",
        "",
        'function "cache_from" {',
        "  params = [name]",
        '  result = CACHE_REF == "" ? [] : ["type=registry,ref=${CACHE_REF}:${name}"]',
        "}",
        "",
        'function "cache_to" {',
        "  params = [name]",
        '  result = CACHE_REF == "" ? [] : ["type=registry,ref=${CACHE_REF}:${name},mode=max"]',
        "}",
        "",
        'group "default" {',
        "  targets = [" + ", ".join(_hcl(n) for n in graph.order) + "]",
        "}",
    ]
    for name in graph.order:
        target = graph.targets[name]
        out += ["", f"target {_hcl(name)} {{"]
        out.append(f"  context    = {_hcl(graph.relative(target.context))}")
        # relative to the context, as bake reads it (``../x.Dockerfile`` when outside it)
        rel_df = Path(
            os.path.relpath(target.dockerfile.resolve(), target.context.resolve())
        ).as_posix()
        out.append(f"  dockerfile = {_hcl(rel_df)}")
        if target.deps:
            pairs = ", ".join(
                f"{_hcl(graph.targets[d].tag)} = {_hcl('target:' + d)}" for d in target.deps
            )
            out.append(f"  contexts   = {{ {pairs} }}")
        out.append(f"  tags       = [{_hcl(target.tag)}]")
        out.append('  platforms  = split(",", PLATFORMS)')
        out.append(f"  cache-from = cache_from({_hcl(name)})")
        out.append(f"  cache-to   = cache_to({_hcl(name)})")
        out.append("}")
    return "\n".join(out) + "\n"
