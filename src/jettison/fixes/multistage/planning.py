"""Deciding the conversion: :func:`plan_conversion` reads the final image's stages and
sends each instruction to the builder, the runtime stage or both, or refuses with a
reason."""

from __future__ import annotations

import itertools
import os
from pathlib import PurePosixPath

from jettison.dockerfile import Dockerfile, Instruction, Stage
from jettison.dockerfile.commands import APT, commands
from jettison.dockerfile.commands import is_python as sh_is_python
from jettison.findings import Edit
from jettison.fixes.multistage.classify import (
    RunCommands,
    activates,
    apt_packages,
    classify,
    cut_commands,
    fills_project_environment,
    in_venv,
    installs_application_packages,
    installs_only_frontends,
    is_apt_setup,
    is_build_package,
    is_install,
    is_pip,
    manifest_only,
    uv_subcommand,
    venv_target,
)
from jettison.fixes.multistage.model import BUILDER, VENV, Plan, Refusal
from jettison.rules._project import resolve_path
from jettison.rules.size._common import workdirs
from jettison.rules.size.base_images import _SUITES, slim_variant
from jettison.rules.size.build_tools import _temporary_installs

_RUNTIME_ONLY = {"EXPOSE", "HEALTHCHECK", "LABEL", "VOLUME", "ENTRYPOINT", "CMD", "STOPSIGNAL"}


# programs that need the toolchain: a RUN calling them outside the installs is not moved
_COMPILERS = {"gcc", "cc", "g++", "c++", "clang", "make", "cmake", "cargo", "rustc", "go",
              "ninja", "meson", "gfortran", "ld", "configure"}  # fmt: skip


# packages the app may run at run time although they are build tools for pip (git+ URLs)
_VCS_PACKAGES = {"git", "openssh-client", "git-core", "mercurial", "subversion"}


def _stage_refs(ins: Instruction) -> list[str]:
    """Stage names an instruction reads from (COPY --from, RUN --mount=from=)."""
    out: list[str] = []
    f = ins.flag("from")
    if f is not None and f.value:
        out.append(f.value.lower())
    for m in ins.flags_named("mount"):
        src = m.options().get("from")
        if src:
            out.append(src.lower())
    return out


def _runtime_base(stage: Stage) -> tuple[str, str] | Refusal:
    """(as written, resolved) for the runtime stage's FROM."""
    ref = stage.base_resolved
    repo = ref.split("@", 1)[0].rsplit(":", 1)[0] if ":" in ref.split("/")[-1] else ref
    if repo not in ("python", "library/python", "docker.io/library/python"):
        return Refusal(
            f"the base image {ref} is not an official python image", stage.from_instruction.line
        )
    tag = ref.split("@", 1)[0].rsplit(":", 1)[-1] if ":" in ref.split("/")[-1] else ""
    if "slim" in tag:
        return stage.base, ref
    slim = slim_variant(ref)
    if slim is None:
        return Refusal(f"{ref} has no -slim variant", stage.from_instruction.line)
    if "$" in stage.base:  # a tag made of ARGs: the slim tag is made of the same ARGs
        name, _, written_tag = stage.base.rpartition(":")
        if not name or "$" in name:
            return Refusal("the base image is a variable", stage.from_instruction.line)
        for suite in _SUITES:
            if written_tag.endswith("-" + suite):
                return f"{name}:{written_tag[: -len(suite) - 1]}-slim-{suite}", slim
        return f"{name}:{written_tag}-slim", slim
    return slim, slim


def plan_conversion(df: Dockerfile) -> Plan | Refusal | None:
    """A plan, a refusal with its reason, or None when the conversion does not apply.

    It applies when the final image (the final stage and the stages it is built FROM)
    installs Python packages with pip and carries something a builder can take away: build
    packages (compilers, headers, ``*-dev``) or a full base image with a slim variant.
    """
    final = df.final_stage
    if final is None:
        return None
    lineage = list(reversed(list(final.lineage())))
    root = lineage[0]
    # an ancestor that is only a FROM line (`FROM python:3.11-slim AS python`) is an alias
    # other stages may build from: it is written as it is
    while len(lineage) > 1 and not [
        i for i in lineage[0].instructions if i is not lineage[0].from_instruction
    ]:
        lineage = lineage[1:]
    in_image = {id(s) for s in lineage}
    body = [
        i
        for s in lineage
        for i in s.instructions
        if i is not s.from_instruction and i.keyword != "FROM"
    ]
    if not any(
        is_install(c) and installs_application_packages(c)
        for i in body
        if i.keyword == "RUN"
        for c in commands(i)
    ):
        return None  # no Python packages installed: nothing to move into a builder
    # the toolchain the final image carries (a purge in the same RUN takes it away)
    build_packages: list[str] = []
    vcs_packages: list[str] = []
    apt_runs: list[Instruction] = []
    for ins in body:
        if ins.keyword != "RUN":
            continue
        temporary = {(c.start, p) for c, p in _temporary_installs(ins)}
        found = False
        for cmd in commands(ins):
            if cmd.name not in APT or cmd.subcommand() != "install":
                continue
            for word in cmd.words_after("install"):
                name = word.value.split("=", 1)[0]
                if is_build_package(name) and (cmd.start, word.value) not in temporary:
                    found = True
                    target = vcs_packages if name in _VCS_PACKAGES else build_packages
                    if name not in target:
                        target.append(name)
        if found:
            apt_runs.append(ins)
    runtime_bases = _runtime_base(root)
    if isinstance(runtime_bases, Refusal):
        if not build_packages and len(df.stages) > 1:
            return None
        return runtime_bases
    runtime_base, runtime_ref = runtime_bases
    full_base = runtime_ref != root.base_resolved
    if not build_packages and not vcs_packages and not full_base:
        # a slim base without compilers or headers: a builder has nothing to take away
        # (its virtualenv would only add bytes)
        return None
    if root.base_unresolved or "$" in root.base.split(":", 1)[0]:
        return Refusal("the base image is a variable", root.from_instruction.line)
    for ins in body:
        if ins.keyword in ("SHELL", "ONBUILD"):
            return Refusal(f"{ins.keyword} is not handled by the multi-stage conversion", ins.line)
    # stages outside the final image stay as they are; they must not read from its stages,
    # whose names go (numbers would move)
    names = {s.name for s in lineage if s.name} | {str(s.index) for s in lineage}
    kept = [s for s in df.stages if id(s) not in in_image]
    for s in df.stages:
        for ins in s.instructions:
            refs = _stage_refs(ins)
            if any(r.isdigit() for r in refs) and len(df.stages) > 1:
                return Refusal("stages named by number are not handled", ins.line)
            if any(r in names for r in refs):
                return Refusal(
                    "a stage reads from a stage of the final image, whose name would go",
                    ins.line,
                )
        if id(s) not in in_image and s.parent is not None and id(s.parent) in in_image:
            return Refusal(
                f"stage {s.label} is built FROM a stage of the final image",
                s.from_instruction.line,
            )
    taken = {s.name for s in df.stages if s.name}
    builder_name = next(n for n in (BUILDER, "venv-builder", "jettison-builder") if n not in taken)
    runs: dict[int, RunCommands] = {}
    for ins in body:
        if ins.keyword == "RUN" and not ins.json_form:
            classified = classify(ins)
            if isinstance(classified, Refusal):
                return classified
            runs[ins.index] = classified
    # the virtualenv: the file's own (at its own path) or /opt/venv
    venv = VENV
    own_venv = False
    venv_at: int | None = None
    for ins in body:
        found_run = runs.get(ins.index)
        for cmd in found_run.venv if found_run else []:
            venv_dir = venv_target(cmd, ins)
            if not isinstance(venv_dir, str):
                return Refusal("a virtualenv whose directory cannot be read", ins.line)
            if own_venv and venv_dir != venv:
                return Refusal("more than one virtualenv", ins.line)
            venv, own_venv = venv_dir, True
            venv_at = ins.index if venv_at is None else venv_at
    pip_runs = [i for i in body if runs.get(i.index) is not None and runs[i.index].pip]
    app_pip = [
        i
        for i in pip_runs
        if any(installs_application_packages(c) for c in runs[i.index].pip if is_install(c))
    ]
    if not app_pip:
        return None
    if own_venv:
        if venv_at is not None and app_pip[0].index < venv_at:
            return Refusal(
                f"packages installed before the virtualenv {venv} is made are not handled",
                app_pip[0].line,
            )
        for ins in pip_runs:
            run = runs[ins.index]
            activated = False
            for cmd in commands(ins):
                activated = activated or activates(cmd, venv)
                if (
                    cmd in run.pip
                    and not in_venv(cmd, ins, venv, activated)
                    and ins in app_pip
                    and installs_application_packages(cmd)
                ):
                    return Refusal(
                        f"a pip install outside the virtualenv {venv} is not handled",
                        ins.line,
                    )
    builder_text = _builder_text(df, body, runs, own_venv)
    if isinstance(builder_text, Refusal):
        return builder_text
    if own_venv and any(fills_project_environment(c) for r in runs.values() for c in r.pip):
        hidden = _context_hides_environment(df, body, venv)
        if hidden is not None:
            return hidden
    last_pip = app_pip[-1].index
    plan = Plan(
        df=df,
        builder_base=root.base,
        runtime_base=runtime_base,
        builder_ref=root.base_resolved,
        runtime_ref=runtime_ref,
        pip_runs={i.index for i in pip_runs},
        cache_mount=df.uses_buildkit_features,
        venv=venv,
        own_venv=own_venv,
        kept_stages=kept,
        runtime_name=final.name,
        builder_name=builder_name,
        later_froms=[s.from_instruction for s in lineage if s is not root],
        build_packages=build_packages,
        vcs_packages=vcs_packages,
        apt_runs=apt_runs,
        platform="".join(
            f"--{f.name}={f.value} " for f in root.from_instruction.flags if f.value is not None
        ),
        builder_text=builder_text,
    )
    pip_paths = [
        w.value.rstrip("*").rstrip("/")
        for i in pip_runs
        for c in runs[i.index].pip
        for w in c.args
        if w.value.startswith("/")
    ]
    apt_keep: list[str] = []
    compiles_elsewhere = False
    apt_setup_seen = False
    for ins in body:
        kw = ins.keyword
        before_install = ins.index < last_pip
        if kw == "USER":
            if before_install:
                return Refusal("USER before the pip installs is not handled", ins.line)
            plan.has_user = True
            plan.runtime.append(ins)
        elif kw in ("ARG", "ENV", "WORKDIR"):
            plan.builder.append(ins)
            plan.runtime.append(ins)
        elif kw == "RUN":
            this = runs.get(ins.index)
            if this is None:  # exec form: a program run as it is
                if before_install:
                    plan.builder.append(ins)
                plan.runtime.append(ins)
                continue
            run = this
            compilers = [c.name for c in run.lasting if c.name in _COMPILERS]
            if compilers:
                if before_install or run.moves:
                    return Refusal(
                        f"a RUN compiles with `{compilers[0]}` outside the pip installs",
                        ins.line,
                    )
                compiles_elsewhere = True
            if any(is_apt_setup(c) for c in run.lasting):
                apt_setup_seen = True
            if run.moves:
                if run.apt and apt_setup_seen:
                    return Refusal(
                        "apt repositories or keys set up for the installs are not handled",
                        ins.line,
                    )
                plan.builder.append(ins)
                for pkg in apt_packages(ins):
                    name = pkg.split("=", 1)[0]
                    if not is_build_package(name) and pkg not in apt_keep:
                        apt_keep.append(pkg)
                if run.lasting:  # split: the runtime stage runs the other commands
                    text = cut_commands(df, ins, [*run.lasting, *run.quiet])
                    if text is None:
                        return Refusal(
                            f"a RUN mixes installs with `{run.lasting[0].name}` in a loop, "
                            "condition or pipe; split it first",
                            ins.line,
                        )
                    plan.runtime_text[ins.index] = text
                    plan.runtime.append(ins)
            else:
                if before_install:
                    plan.builder.append(ins)
                plan.runtime.append(ins)
        elif kw in ("COPY", "ADD"):
            if before_install:
                plan.builder.append(ins)
            source = ins.flag("from")
            dest = ins.args[-1].rstrip("/") if ins.args else ""
            wheels = (
                before_install
                and source is not None
                and dest.startswith("/")
                and any(p == dest or p.startswith(dest + "/") for p in pip_paths)
            )
            if not manifest_only(ins) and not wheels:
                plan.runtime.append(ins)
        elif kw in _RUNTIME_ONLY or kw == "MAINTAINER":
            plan.runtime.append(ins)
        else:
            return Refusal(f"{kw} is not handled by the multi-stage conversion", ins.line)
    if compiles_elsewhere and build_packages:
        return Refusal("a RUN after the installs compiles with the toolchain", None)
    plan.apt_runtime_packages = apt_keep
    plan.runtime_uses_pip = _runtime_runs_pip(plan)
    for frontend in ("poetry", "pipenv", "pdm"):
        if _runtime_mentions(plan, {frontend}):
            return Refusal(f"the runtime runs {frontend}, which stays in the builder: not handled")
    # uv's own binary (`COPY --from=ghcr.io/astral-sh/uv ... /uv /bin/`) is a build tool
    # unless the runtime runs uv (`uv run`)
    runs_uv = _runtime_mentions(plan, {"uv", "uvx"})
    if not runs_uv:
        plan.runtime = [i for i in plan.runtime if not _copies_uv(i)]
    elif own_venv and not any(_copies_uv(i) for i in plan.runtime):
        return Refusal("the runtime runs uv, which the build installs with pip: not handled")
    # git & co. stay when the runtime stage runs them
    for pkg in list(vcs_packages):
        if _runtime_mentions(plan, {pkg, "git"} if pkg.startswith("git") else {pkg, "ssh"}):
            plan.apt_runtime_packages.append(pkg)
            vcs_packages.remove(pkg)
    if not build_packages and not vcs_packages and not full_base:
        return None  # what the builder could take away, the runtime still needs
    plan.removable = bool(build_packages or vcs_packages)
    return plan


def _copies_uv(ins: Instruction) -> bool:
    """`COPY --from=ghcr.io/astral-sh/uv:TAG /uv /uvx /bin/`: uv's binaries from its image."""
    origin = ins.flag("from") if ins.keyword == "COPY" else None
    sources = [PurePosixPath(a).name for a in ins.args[:-1]]
    return (
        origin is not None
        and "astral-sh/uv" in (origin.value or "")
        and bool(sources)
        and all(name in ("uv", "uvx") for name in sources)
    )


def _builder_text(
    df: Dockerfile, body: list[Instruction], runs: dict[int, RunCommands], own_venv: bool
) -> dict[int, str] | Refusal:
    """The builder's text of the RUNs it writes otherwise: `uv pip install --system` goes
    into the builder's virtualenv (without --system, uv installs into the active
    VIRTUAL_ENV), and `pip install poetry` (or pipenv) installs with the base image's own
    Python."""
    from jettison.fixes.apply import apply_edits
    from jettison.rules.size.word_removal import remove_words

    out: dict[int, str] = {}
    written: dict[int, list[Edit]] = {}
    for ins in body:
        run = runs.get(ins.index)
        uv_pips = [
            c for c in (run.pip if run else []) if (uv_subcommand(c) or "").startswith("pip ")
        ]
        if not uv_pips:
            continue
        if ins.variables.get("UV_SYSTEM_PYTHON", "").lower() in ("1", "true", "yes", "on"):
            return Refusal(
                "UV_SYSTEM_PYTHON installs into the system Python: not handled", ins.line
            )
        system = [w for c in uv_pips for w in c.args if w.value == "--system"]
        if not system:
            continue
        if own_venv:
            return Refusal("`uv pip install --system` beside a virtualenv is not handled", ins.line)
        edits = remove_words(df.source, ins, system, df.directives.escape)
        written[ins.index] = edits
    for ins in body:
        run = runs.get(ins.index)
        frontends = [c for c in (run.pip if run else []) if installs_only_frontends(c)]
        if not frontends or own_venv:
            continue
        # `pip install poetry`: with the base image's own interpreter, outside the builder's
        # virtualenv (first on PATH there), so the runtime's copy of it carries no poetry
        for cmd in frontends:
            word = cmd.name_word
            program = "/usr/local/bin/python" + ("" if sh_is_python(cmd) else " -m pip")
            written.setdefault(ins.index, []).append(Edit(word.start, word.end, program))
    for ins in body:
        if ins.index in written:
            relative = [
                Edit(e.start - ins.start, e.end - ins.start, e.text) for e in written[ins.index]
            ]
            text = apply_edits(df.source[ins.start : ins.end], relative)
            out[ins.index] = text.replace("\r\n", "\n")
    return out


def _context_hides_environment(
    df: Dockerfile, body: list[Instruction], venv: str
) -> Refusal | None:
    """A COPY of the context into the project's folder would put the context's own `.venv`
    over the environment the runtime stage copies from the builder (`uv sync` or `pdm
    install` repaired it in the original; the runtime stage runs neither)."""
    from pathlib import Path

    from jettison.build_context.matcher import PatternMatcher
    from jettison.build_context.scan import find_dockerignore, read_dockerignore

    context = Path(df.context_dir).resolve()
    ignore = find_dockerignore(context, Path(df.path) if df.path else None)
    patterns = read_dockerignore(ignore) if ignore else []
    ignored = PatternMatcher(patterns).matches if patterns else (lambda _path: False)
    for ins in body:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or len(ins.args) < 2:
            continue
        cwd = workdirs(ins.stage).get(ins.index) if ins.stage is not None else None
        dest = resolve_path(cwd, ins.args[-1])
        if dest is None or not venv.startswith(dest.rstrip("/") + "/"):
            continue
        inside = PurePosixPath(venv).relative_to(dest)
        for src in ins.args[:-1]:
            candidate = (context / src.lstrip("/") / str(inside)).resolve()
            relative = os.path.relpath(candidate, context)
            if candidate.exists() and not ignored(relative):
                return Refusal(
                    f"the build context's {relative} would be copied over the environment "
                    "(add it to .dockerignore)",
                    ins.line,
                )
    return None


def _runtime_words(plan: Plan) -> list[str]:
    """Program names and arguments (base names) the runtime stage runs."""
    words: list[str] = []
    for ins in plan.runtime:
        if ins.keyword == "RUN":
            run_cmds = commands(ins)
            if ins.index in plan.runtime_text:
                run = classify(ins)
                if isinstance(run, RunCommands):
                    run_cmds = [*run.lasting, *run.quiet]
            for c in run_cmds:
                words.extend(PurePosixPath(w).name for w in c.argv if w)
        elif ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            words.extend(PurePosixPath(w).name for a in ins.args for w in a.split() if w)
    return words


def _runtime_mentions(plan: Plan, names: set[str]) -> bool:
    return any(w in names for w in _runtime_words(plan))


def _runtime_runs_pip(plan: Plan) -> bool:
    words = _runtime_words(plan)
    return any(is_pip(w) or w in ("setup.py", "easy_install", "uv", "uvx") for w in words) or any(
        a == "-m" and b in ("pip", "pip3", "ensurepip") for a, b in itertools.pairwise(words)
    )
