"""Shared base detection: what the services' Dockerfiles share, and the extraction plan.

For the services of a compose file (or a set of Dockerfiles), grouped by the image their
first stage is built FROM, a group of two or more services gets a base image holding:

* the leading instructions every service of the group starts with (up to the first copy of
  the build context),
* the Python requirements every service of the group installs with ``pip install -r``
  (same line, same pin), installed once with a pip cache mount.

Requirements of an ML family (numpy, torch, ...) shared by two or more services but not all
go to a second base (``base-ml``, FROM the first), as in seed 004. System packages shared by
several services but installed in differing instructions are reported, not moved.

Services whose pip install writes elsewhere (``--prefix``, ``--target``, ``--user``, a
virtualenv on PATH) keep their installs: a base's site-packages would not be theirs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from jettison.compose import ComposeService
from jettison.dockerfile import Dockerfile, Instruction
from jettison.dockerfile.commands import apt_installs, commands, pip_install_args
from jettison.dockerfile.parse import decode_dockerfile, parse_dockerfile
from jettison.errors import DockerfileParseError, JettisonError
from jettison.rules.size.base_images import slim_variant
from jettison.services.project import Project, open_project, project_name

__all__ = ["BasePlan", "ServiceSource", "ServicesPlan", "make_plan", "project_name"]

ML_PACKAGES = frozenset(
    {
        "numpy", "scipy", "pandas", "scikit-learn", "torch", "torchvision", "torchaudio",
        "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib", "transformers",
        "sentence-transformers", "tokenizers", "onnxruntime", "xgboost", "lightgbm",
        "accelerate", "datasets", "safetensors", "huggingface-hub", "spacy", "nltk",
        "opencv-python", "opencv-python-headless", "pillow", "matplotlib", "faiss-cpu",
        "chromadb", "langchain", "openai", "tiktoken", "vllm",
    }
)  # fmt: skip

_REQ_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")
_NOT_SYSTEM_SITE = ("--prefix", "--target", "-t", "--user", "--root")


@dataclass
class ServiceSource:
    """One built service, its parsed Dockerfile and what it installs."""

    name: str
    context: Path
    dockerfile: Path
    df: Dockerfile
    base: str  # first stage's FROM, resolved
    head: list[Instruction]  # leading instructions after FROM, before the context copy
    requirements: list[str]  # normalised requirement lines installed with pip install -r
    requirement_files: list[str]
    apt_packages: list[str]
    own_install: str = ""  # why the requirements cannot move to a base ("" when they can)
    image: str | None = None
    line: int = 1


@dataclass
class BasePlan:
    name: str  # base-python, base-ml
    tag: str  # image name the services build FROM, e.g. compose-trio-base-python
    from_image: str  # FROM of the base (an upstream image or another base's tag)
    parent: str | None  # another base's name when built FROM it
    services: list[str]
    instructions: list[str]  # leading instruction texts moved here, as written
    requirements: list[str]
    slim_from: str | None = None  # the full image it replaced with its slim variant


@dataclass
class ServicesPlan:
    origin: Project  # the compose project or Dockerfile set read
    project: str
    services: list[ServiceSource]
    bases: list[BasePlan]
    skipped: list[tuple[str, str]]  # (service, reason) left alone
    shared_packages: dict[str, list[str]] = field(default_factory=dict)  # package -> services
    notes: list[str] = field(default_factory=list)

    def base_of(self, service: str) -> BasePlan | None:
        """The most specific base ``service`` builds FROM after the rewrite."""
        found = None
        for base in self.bases:
            if service in base.services:
                found = base
        return found

    @property
    def root(self) -> Path:
        """Where the bases and the bake file go (the compose file's directory)."""
        return self.origin.root

    @property
    def source(self) -> Path:
        """The compose file, or the directory of a Dockerfile set, for messages."""
        return self.origin.source


def _normal(ins: Instruction) -> str:
    return ins.keyword + " " + " ".join(ins.text.split())


def requirement_key(line: str) -> str:
    """Project name of a requirement line, normalised (PEP 503)."""
    match = _REQ_NAME.match(line)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else line.lower()


def read_requirements(path: Path) -> list[str] | None:
    """Plain requirement lines, or None when the file uses options (-r, -e, --index-url)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    out = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-") or "://" in line or line.startswith((".", "/")):
            return None
        out.append(" ".join(line.split()))
    return out


def _pip_installs(ins: Instruction) -> list[tuple[list[str], bool]]:
    """(requirement files, writes to the system site) of each ``pip install -r`` in a RUN."""
    found = []
    for cmd in commands(ins):
        rest = pip_install_args(cmd)
        if rest is None:
            continue
        files = []
        for i, arg in enumerate(rest):
            if arg in ("-r", "--requirement") and i + 1 < len(rest):
                files.append(rest[i + 1])
            elif arg.startswith("--requirement="):
                files.append(arg.split("=", 1)[1])
        system = not any(a == f or a.startswith(f + "=") for a in rest for f in _NOT_SYSTEM_SITE)
        found.append((files, system))
    return found


def _apt(ins: Instruction) -> list[str]:
    return [
        w.value
        for cmd in apt_installs(ins)
        for w in cmd.words_after("install")
        if not w.value.startswith("-")
    ]


def _copied_whole_context(ins: Instruction) -> bool:
    return ins.keyword in ("COPY", "ADD") and ins.flag("from") is None


def analyse_service(service: ComposeService) -> ServiceSource | str:
    """The service's Dockerfile facts, or why it is left alone (it does not parse); a
    Dockerfile that cannot be read is a :class:`JettisonError`."""
    assert service.context is not None and service.dockerfile is not None
    shown = str(service.dockerfile)
    try:
        data = service.dockerfile.read_bytes()
    except IsADirectoryError:
        raise JettisonError("is a directory, not a Dockerfile", shown) from None
    except OSError as exc:
        raise JettisonError(f"cannot read Dockerfile: {exc.strerror}", shown) from None
    try:
        df = parse_dockerfile(decode_dockerfile(data, shown), shown)
    except DockerfileParseError as exc:
        return f"its Dockerfile does not parse ({exc})"
    if not df.stages:
        return "its Dockerfile has no FROM"
    stage = df.stages[0]
    if stage.base_unresolved:
        return f"FROM {stage.base} depends on a build argument without a default"
    if stage.base == "scratch" or stage.base_resolved == "scratch":
        return "it is built FROM scratch"
    head: list[Instruction] = []
    body = stage.instructions[1:]
    for ins in body:
        if _copied_whole_context(ins) or ins.keyword in ("ARG", "ONBUILD"):
            break
        head.append(ins)
    requirements: list[str] = []
    files: list[str] = []
    own = ""
    if len(df.stages) > 1:
        own = "multi-stage Dockerfile (installs stay in its stages)"
    for ins in stage.instructions:
        if ins.keyword == "ENV" and ("VIRTUAL_ENV" in ins.text or "PATH=" in ins.text):
            own = own or "a virtualenv or PATH change"
        for names, system in _pip_installs(ins):
            if not system:
                own = own or "pip installs outside the system site (--prefix/--target/--user)"
            for name in names:
                files.append(name)
                path = service.context / name.lstrip("/") if not name.startswith("/") else None
                reqs = read_requirements(path) if path is not None else None
                if reqs is None:
                    own = own or f"{name} is not a plain requirements file in the context"
                    continue
                requirements += reqs
    apt = [p for ins in stage.instructions for p in _apt(ins)]
    return ServiceSource(
        name=service.name,
        context=service.context,
        dockerfile=service.dockerfile,
        df=df,
        base=stage.base_resolved,
        head=head,
        requirements=requirements if not own else [],
        requirement_files=files,
        apt_packages=apt,
        own_install=own,
        image=service.image,
        line=service.line,
    )


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise JettisonError(f"cannot read Dockerfile: {exc.strerror}", str(path)) from None


def _base_name(image: str, taken: set[str]) -> str:
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    stem = re.sub(r"[^a-z0-9]+", "-", repo.lower()).strip("-") or "shared"
    name = f"base-{stem}"
    n = 2
    while name in taken:
        name = f"base-{stem}-{n}"
        n += 1
    return name


def _common_head(group: list[ServiceSource]) -> list[Instruction]:
    first = group[0].head
    count = 0
    while count < len(first) and all(
        len(s.head) > count and _normal(s.head[count]) == _normal(first[count]) for s in group
    ):
        count += 1
    return first[:count]


def make_plan(
    given: str | Path | list[str] | Project,
    *,
    slim: bool = True,
    only: list[str] | None = None,
) -> ServicesPlan:
    """The extraction plan for a compose file (or directory), a list of Dockerfiles or an
    opened project; raises :class:`JettisonError` on bad input, a cycle in the build graph
    included."""
    from jettison.services.graph import BASES_DIR, MARKER, load_graph

    opened = given if isinstance(given, Project) else open_project(given)
    load_graph(opened, skip_unreadable=True)  # a cycle is bad input
    services = opened.services
    project = opened.name
    generated = {
        f"{project}-{p.parent.name}"
        for p in (opened.root / BASES_DIR).glob("*/Dockerfile")
        if _text(p).startswith(MARKER)
    }
    sources: list[ServiceSource] = []
    skipped: list[tuple[str, str]] = []
    for service in services:
        if only is not None and service.name not in only:
            continue
        if service.dockerfile is None or service.context is None:
            skipped.append((service.name, service.skipped_reason or "not built here"))
            continue
        if service.target:
            skipped.append((service.name, f"builds target {service.target} of a multi-stage file"))
            continue
        found = analyse_service(service)
        if isinstance(found, str):
            skipped.append((service.name, found))
        elif found.base.removesuffix(":latest") in generated:
            skipped.append((service.name, f"already builds FROM the shared base {found.base}"))
        else:
            sources.append(found)
    groups: dict[str, list[ServiceSource]] = {}
    for source in sources:
        groups.setdefault(source.base, []).append(source)
    bases: list[BasePlan] = []
    taken = {s.name for s in services}
    notes: list[str] = []
    for image, group in sorted(groups.items()):
        if len(group) < 2:
            for s in group:
                skipped.append((s.name, f"no other service builds FROM {image}"))
            continue
        name = _base_name(image, taken)
        taken.add(name)
        movable = [s for s in group if not s.own_install]
        for s in group:
            if s.own_install:
                notes.append(f"{s.name}: requirements stay in the service ({s.own_install})")
        shared_reqs: list[str] = []
        if len(movable) >= 2:
            sets = [set(s.requirements) for s in movable]
            common = set.intersection(*sets) if sets else set()
            shared_reqs = [r for r in movable[0].requirements if r in common]
            shared_reqs = list(dict.fromkeys(shared_reqs))
        elif movable:
            notes.append(f"{name}: only one service can share its requirements; none moved")
        from_image = image
        slimmed = None
        if slim:
            variant = slim_variant(image)
            if variant is not None:
                from_image, slimmed = variant, image
        head = _common_head(group)
        bases.append(
            BasePlan(
                name=name,
                tag=f"{project}-{name}",
                from_image=from_image,
                parent=None,
                services=[s.name for s in group],
                instructions=[group[0].df.source[ins.start : ins.end] for ins in head],
                requirements=shared_reqs if len(movable) == len(group) else [],
                slim_from=slimmed,
            )
        )
        if shared_reqs and len(movable) != len(group):
            notes.append(
                f"{name}: requirements not moved, since not every service of the group "
                "installs into the system site"
            )
        ml = _ml_base(bases[-1], movable, taken, project)
        if ml is not None:
            taken.add(ml.name)
            bases.append(ml)
    shared_packages: dict[str, list[str]] = {}
    counts = Counter(p for s in sources for p in dict.fromkeys(s.apt_packages))
    for pkg, n in sorted(counts.items()):
        if n >= 2:
            shared_packages[pkg] = sorted(s.name for s in sources if pkg in s.apt_packages)
    return ServicesPlan(opened, project, sources, bases, skipped, shared_packages, notes)


def _ml_base(
    base: BasePlan, group: list[ServiceSource], taken: set[str], project: str
) -> BasePlan | None:
    """ML requirements shared by two or more (not all) services: a base-ml FROM ``base``."""
    in_base = set(base.requirements)
    ml_lines: Counter[str] = Counter()
    for s in group:
        for line in dict.fromkeys(s.requirements):
            if line not in in_base and requirement_key(line) in ML_PACKAGES:
                ml_lines[line] += 1
    shared = {line for line, n in ml_lines.items() if n >= 2}
    if not shared:
        return None
    users = [s for s in group if shared & set(s.requirements)]
    common = set.intersection(*(set(s.requirements) for s in users)) & shared
    if len(users) < 2 or not common:
        return None
    name = "base-ml" if "base-ml" not in taken else f"{base.name}-ml"
    return BasePlan(
        name=name,
        tag=f"{project}-{name}",
        from_image=base.tag,
        parent=base.name,
        services=[s.name for s in users],
        instructions=[],
        requirements=[line for line in users[0].requirements if line in common],
    )
