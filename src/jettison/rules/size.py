"""Size rules: bytes that end up in the final image for no benefit."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Command, Instruction, Stage, Word
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _shell as sh
from jettison.rules.registry import Category, RuleContext, rule

_TRUTHY = {"1", "true", "yes", "on"}


@rule(
    "JT101",
    "apt-lists-not-removed",
    Category.SIZE,
    Severity.WARNING,
    "apt lists are not removed in the RUN that downloads them",
    what="""
        Flags a RUN that runs `apt-get update` (or installs with apt) in a stage that ends up
        in the final image without deleting `/var/lib/apt/lists/*` in the same RUN, and
        without a cache mount on `/var/lib/apt/lists`.
    """,
    why="""
        `apt-get update` downloads package indexes (about 20-50 MB on Debian bookworm) into
        `/var/lib/apt/lists`. Deleting them in a later RUN does not shrink the image: the
        bytes stay in the earlier layer. Only deleting them in the same RUN does.
    """,
    example="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    use_instead="""
        RUN apt-get update && apt-get install -y --no-install-recommends curl \\
            && rm -rf /var/lib/apt/lists/*
    """,
    fix="""
        Safe: appends `rm -rf /var/lib/apt/lists/*` to the same RUN (in a heredoc RUN,
        chained to its last command with `&&`, or on a line of its own under `set -e`), but
        only when no later RUN reads those lists: a later RUN of the same stage, or of a stage
        built FROM it, that installs with apt before an `apt-get update` of its own would
        fail with "Unable to locate package". The finding then names that RUN and offers no
        fix.
    """,
    notes="""
        Differences from hadolint DL3009: jettison checks every stage whose layers reach the
        final image (the final stage and the stages it is built FROM) and ignores builder
        stages whose files are only copied from; it accepts any `rm` of the lists directory
        (`rm -rf /var/lib/apt/lists`, `.../lists/*`) and `apt-get dist-clean`, not only the
        exact `-rf .../*` form, but only after the last `apt-get update` of the RUN; it does
        not, like hadolint, take any `rm -rf` (of another directory) as cleanup; and it reads
        exec-form RUNs that run a shell (`RUN ["/bin/sh", "-c", "..."]`) and `ONBUILD RUN`.
    """,
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3009"},
)
def apt_lists(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        if not any(sh.apt_updates(ins)):
            continue
        last_update = max(c.start for c in sh.apt_updates(ins))
        if any(
            c.start > last_update and sh.cleans_apt_lists(c) for c in sh.commands(ins)
        ) or _cache_mounted(ins, "/var/lib/apt"):
            continue
        message = (
            "apt lists downloaded by `apt-get update` stay in this layer; "
            "remove /var/lib/apt/lists/* in the same RUN"
        )
        reader = _lists_reader(ctx, ins)
        edit = None
        if reader is not None:
            message += (
                f" (not removed here: the RUN at line {reader.line} installs from these "
                "lists without an `apt-get update` of its own; update there first)"
            )
        elif any(sh.apt_installs(ins)):
            # only when this RUN also installs: JT202 merges a lone update into its install
            edit = sh.append_to_run(ins, ctx.dockerfile, "rm -rf /var/lib/apt/lists/*")
        yield ctx.report(message, ins, edits=[edit] if edit else None)


def _lists_reader(ctx: RuleContext, ins: Instruction) -> Instruction | None:
    """The first later RUN that installs from the apt lists ``ins`` leaves behind: in the
    same stage after it, or in a stage built FROM that stage (data flow along the build);
    None when every later RUN updates or removes them first, or none touches them."""
    stage = ins.stage
    if stage is None or ins not in stage.instructions:
        return None  # an ONBUILD trigger: its later RUNs are in other files

    def scan(current: Stage, instructions: list[Instruction]) -> Instruction | None:
        for later in instructions:
            if later.keyword != "RUN":
                continue
            if _cache_mounted(later, "/var/lib/apt"):
                continue  # it reads and writes its cache mount, not the image's lists
            use = sh.apt_lists_first_use(later)
            if use == "reads":
                return later
            if use == "replaces":
                return None  # later RUNs read these lists, not ours
        for child in ctx.stages:
            if child.parent is current:
                found = scan(child, child.instructions[1:])
                if found is not None:
                    return found
        return None

    return scan(stage, stage.instructions[stage.instructions.index(ins) + 1 :])


def _cache_mounted(ins: Instruction, path: str) -> bool:
    return any(t.rstrip("/") == path or t.startswith(path + "/") for t in ins.cache_mount_targets())


@rule(
    "JT102",
    "apt-no-install-recommends",
    Category.SIZE,
    Severity.WARNING,
    "`apt-get install` without `--no-install-recommends`",
    what="Flags `apt-get install` without `--no-install-recommends` in a stage of the final image.",
    why="""
        By default apt also installs every *recommended* package. For typical server packages
        that adds 20-40 % to the installed size (images typically get 20-40 % smaller), and
        more packages to patch for CVEs.
    """,
    example="RUN apt-get update && apt-get install -y libpq5",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends libpq5",
    fix="Unsafe: inserts `--no-install-recommends`; an app may rely on a recommended "
    "package, so verify the image (`jettison bench` runs a smoke check).",
    notes="""
        Differences from hadolint DL3015: builder stages whose files are only copied from are
        not flagged (their size never reaches the final image); `-o
        APT::Install-Recommends=false` is accepted as well.
    """,
    fix_safety=FixSafety.UNSAFE,
    equivalents={"hadolint": "DL3015"},
)
def no_install_recommends(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.apt_installs(ins):
            if cmd.has_flag("--no-install-recommends") or any(
                "install-recommends" in v.lower() for v in cmd.arg_values
            ):
                continue
            edit = sh.insert_after_word(cmd, "install", "--no-install-recommends")
            yield ctx.report(
                "`apt-get install` without `--no-install-recommends` also "
                "installs recommended packages",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )


def _pip_cache_disabled(ins: Instruction) -> bool:
    value = ins.variables.get("PIP_NO_CACHE_DIR", "").lower()
    # pip reads PIP_NO_CACHE_DIR=off/false/0 as "disable the cache" too (a known pip quirk)
    return value in _TRUTHY | {"off", "false", "0", "no"} and "PIP_NO_CACHE_DIR" in ins.variables


def _runs_as_root(ins: Instruction) -> bool:
    """True when no USER before ``ins`` (in its stage and the stages it is built FROM) names
    another user than root."""
    user = "root"
    if ins.stage is not None:
        for other in ins.stage.all_instructions():
            if other is ins:
                break
            if other.keyword == "USER" and other.args:
                user = other.args[0].split(":", 1)[0]
    return user in ("root", "0")


def _pip_cache_dirs(ins: Instruction) -> list[str]:
    """Where pip keeps its cache for this RUN (removing a directory above it counts too)."""
    dirs = ["~/.cache/pip", "$HOME/.cache/pip", "${HOME}/.cache/pip"]
    if ins.variables.get("PIP_CACHE_DIR"):
        dirs.append(ins.variables["PIP_CACHE_DIR"])
    elif ins.variables.get("XDG_CACHE_HOME"):
        dirs.append(ins.variables["XDG_CACHE_HOME"].rstrip("/") + "/pip")
    elif _runs_as_root(ins):
        dirs.append("/root/.cache/pip")
    return dirs


@rule(
    "JT103",
    "pip-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`pip install` keeps its download cache in the image",
    what="""
        Flags `pip install` (also `python -m pip install`) in a stage of the final image
        without `--no-cache-dir`, without `PIP_NO_CACHE_DIR` in the environment and without a
        BuildKit cache mount on pip's cache directory.
    """,
    why="""
        pip keeps every downloaded wheel in `~/.cache/pip`. For a typical web service that is
        tens of MB; for ML stacks (torch, numpy, scipy) hundreds of MB, in the layer forever.
    """,
    example="RUN pip install -r requirements.txt",
    use_instead="""
        RUN pip install --no-cache-dir -r requirements.txt
        # or, with BuildKit, keep the cache outside the image and across builds:
        RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
    """,
    fix="Safe: inserts `--no-cache-dir` after `install`; in a file that already uses BuildKit "
    "features, adds a cache mount on `/root/.cache/pip` to the RUN instead (same image, "
    "faster rebuilds).",
    notes="""
        Like hadolint DL3042, `PIP_NO_CACHE_DIR` and cache mounts count as compliant;
        unlike it, builder stages are not flagged (a cache there never reaches the final
        image), nor is an install whose RUN removes pip's cache (or a directory above it, as
        in `rm -rf /root/.cache` for root) afterwards, and `uv pip` is left to its own cache
        rules.
    """,
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3042"},
)
def pip_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        if _pip_cache_disabled(ins) or any(
            ".cache/pip" in t or t.rstrip("/") in ("/root/.cache", "/tmp/pip-cache")
            for t in ins.cache_mount_targets()
        ):
            continue
        if "PIP_CACHE_DIR" in ins.variables and any(
            t.rstrip("/") == ins.variables["PIP_CACHE_DIR"].rstrip("/")
            for t in ins.cache_mount_targets()
        ):
            continue
        for cmd in sh.pip_installs(ins):
            if cmd.has_flag("--no-cache-dir", "--no-cache"):
                continue
            if sh.removes(ins, *_pip_cache_dirs(ins), after=cmd.start):
                continue  # `rm -rf /root/.cache` after the install: the layer keeps no cache
            if ctx.dockerfile.uses_buildkit_features:
                # the file already needs BuildKit: keep the cache, outside the image
                mount = "--mount=type=cache,target=/root/.cache/pip "
                edit: Edit | None = Edit(ins.keyword_end + 1, ins.keyword_end + 1, mount)
            else:
                edit = sh.insert_after_word(cmd, "install", "--no-cache-dir")
            yield ctx.report(
                "`pip install` without `--no-cache-dir` leaves pip's download cache in the layer",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=[edit] if edit else None,
            )


@rule(
    "JT104",
    "apk-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`apk add` without `--no-cache`",
    what="Flags `apk add` without `--no-cache` (and without removing `/var/cache/apk` or a "
    "cache mount on it) in a stage of the final image.",
    why="apk keeps the package index (a few MB) in `/var/cache/apk` unless told not to.",
    example="RUN apk update && apk add curl",
    use_instead="RUN apk add --no-cache curl",
    fix="Safe: inserts `--no-cache` after `add`.",
    notes="Matches hadolint DL3019, but builder stages are not flagged, and `apk add "
    "--no-network` (which installs from files at hand and downloads no index) is not.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3019"},
)
def apk_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        adds = [
            c
            for c in sh.commands(ins)
            if c.name == "apk" and c.subcommand() == "add" and not c.has_flag("--no-network")
        ]
        if (
            not adds
            or _cache_mounted(ins, "/var/cache/apk")
            or sh.removes(ins, "/var/cache/apk", after=adds[-1].start)
        ):
            continue
        for cmd in sh.commands(ins):
            if (
                cmd.name == "apk"
                and cmd.subcommand() == "add"
                and not cmd.has_flag("--no-cache", "--no-network")
            ):
                edit = sh.insert_after_word(cmd, "add", "--no-cache")
                yield ctx.report(
                    "`apk add` without `--no-cache` keeps the package index in the layer",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit] if edit else None,
                )


_RPM_TOOLS = {
    "yum": (("yum",), "yum clean all", "/var/cache/yum"),
    "dnf": (("dnf", "microdnf"), "dnf clean all", "/var/cache/dnf"),
    "zypper": (("zypper",), "zypper clean --all", "/var/cache/zypp"),
}


def _rpm_cache(ctx: RuleContext, family: str) -> Iterator[Finding]:
    tools, clean_cmd, cache_dir = _RPM_TOOLS[family]
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        for tool in tools:
            installs = [
                c
                for c in cmds
                if c.name == tool
                and c.subcommand() in ("install", "in", "groupinstall", "update", "upgrade")
            ]
            if not installs:
                continue
            last = installs[-1].start
            cleaned = any(
                c.name == tool and c.subcommand() == "clean" and c.start > last for c in cmds
            )
            if cleaned or sh.removes(ins, cache_dir, after=last) or _cache_mounted(ins, cache_dir):
                continue
            clean = clean_cmd.replace("dnf", tool, 1) if tool == "microdnf" else clean_cmd
            edit = sh.append_to_run(ins, ctx.dockerfile, clean)
            yield ctx.report(
                f"`{tool} {installs[0].subcommand()}` without `{clean}` keeps its cache in "
                "the layer",
                ins,
                edits=[edit] if edit else None,
            )


def _rpm_rule(code: str, family: str, dl: str) -> None:
    tools, clean, cache_dir = _RPM_TOOLS[family]
    names = "/".join(tools)

    def check(ctx: RuleContext) -> Iterator[Finding]:
        return _rpm_cache(ctx, family)

    rule(
        code,
        f"{family}-cache-kept",
        Category.SIZE,
        Severity.WARNING,
        f"`{names} install` without `{clean}` in the same RUN",
        what=f"Flags `{names} install` without `{clean}` (or removing `{cache_dir}`, or a "
        "cache mount on it) in the same RUN, in a stage of the final image.",
        why=f"{names} keeps repository metadata and downloaded packages (often 50-200 MB) in "
        f"`{cache_dir}`.",
        example=f"RUN {tools[0]} install -y httpd",
        use_instead=f"RUN {tools[0]} install -y httpd && {clean}",
        fix=f"Safe: appends `{clean}` to the same RUN.",
        notes=f"Matches hadolint {dl}, except that builder stages (whose files are only "
        "copied from) are not flagged, `update`/`upgrade` count as installs (they download "
        "packages too), and only removing the cache directory counts as cleanup (hadolint "
        "takes any `rm -rf`). Like hadolint, the clean must come after the install.",
        fix_safety=FixSafety.SAFE,
        equivalents={"hadolint": dl},
    )(check)


_rpm_rule("JT105", "yum", "DL3032")
_rpm_rule("JT121", "dnf", "DL3040")
_rpm_rule("JT122", "zypper", "DL3036")


def _node_cache(ctx: RuleContext, tool: str) -> Iterator[Finding]:
    subs, clean, marker = {
        "npm": (("install", "i", "ci"), "npm cache clean --force", ".npm"),
        "yarn": (("install", "add", None), "yarn cache clean", "yarn"),
    }[tool]
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        uses = [c for c in cmds if c.name == tool and _node_install(c, subs)]
        if not uses or marker in " ".join(ins.cache_mount_targets()):
            continue
        last = uses[-1].start
        if any(
            c.name == tool
            and c.subcommand() == "cache"
            and "clean" in c.arg_values
            and c.start > last
            for c in cmds
        ):
            continue
        if tool == "npm" and sh.removes(ins, "/root/.npm", "~/.npm", after=last):
            continue
        edit = sh.append_to_run(ins, ctx.dockerfile, clean)
        yield ctx.report(
            f"`{tool}` keeps its download cache in the layer; add `{clean}` to the same RUN",
            ins,
            edits=[edit] if edit else None,
        )


_NODE_INFO_FLAGS = ("--version", "-v", "--help", "-h", "--info")


def _node_install(cmd: Command, subcommands: tuple[str | None, ...]) -> bool:
    """``npm ci``, ``yarn add x``, or a bare ``yarn`` (which installs), but not ``yarn
    --version`` or ``yarn --help``: they print and download nothing."""
    sub = cmd.subcommand()
    if sub not in subcommands:
        return False
    return sub is not None or not cmd.has_flag(*_NODE_INFO_FLAGS)


@rule(
    "JT106",
    "yarn-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`yarn install` without `yarn cache clean` in the same RUN",
    what="Flags `yarn install|add` (or a bare `yarn`) without `yarn cache clean` (or a cache "
    "mount) in the same RUN, in a stage of the final image.",
    why="yarn keeps a copy of every downloaded tarball in its cache: often as large as "
    "`node_modules` itself.",
    example="RUN yarn install --frozen-lockfile",
    use_instead="RUN yarn install --frozen-lockfile && yarn cache clean",
    fix="Safe: appends `yarn cache clean` to the same RUN.",
    notes="Matches hadolint DL3060, except that builder stages are not flagged and a bare "
    "`yarn` (which is `yarn install`) counts as an install; `yarn --version`, `--help` and "
    "`--info` do not.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3060"},
)
def yarn_cache(ctx: RuleContext) -> Iterator[Finding]:
    return _node_cache(ctx, "yarn")


@rule(
    "JT120",
    "npm-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "`npm install` without `npm cache clean --force` in the same RUN",
    what="Flags `npm install|ci` without `npm cache clean --force` (or removing `~/.npm`, or "
    "a cache mount) in the same RUN, in a stage of the final image.",
    why="npm keeps a copy of every downloaded tarball in `~/.npm`: often as large as "
    "`node_modules` itself.",
    example="RUN npm install -g cgpu@latest",
    use_instead="RUN npm install -g cgpu@latest && npm cache clean --force",
    fix="Safe: appends `npm cache clean --force` to the same RUN.",
    notes="hadolint has no npm cache rule.",
    fix_safety=FixSafety.SAFE,
)
def npm_cache(ctx: RuleContext) -> Iterator[Finding]:
    return _node_cache(ctx, "npm")


@rule(
    "JT107",
    "conda-cache-kept",
    Category.SIZE,
    Severity.WARNING,
    "conda/mamba install without `conda clean -afy` in the same RUN",
    what="Flags `conda|mamba|micromamba install|create|env create|update` without "
    "`conda clean -a` (or `mamba clean -a`) in the same RUN.",
    why="conda keeps package tarballs and extracted packages in `pkgs/`: typically hundreds "
    "of MB for scientific stacks.",
    example="RUN conda install -y numpy librosa",
    use_instead="RUN conda install -y numpy librosa && conda clean -afy",
    fix="Safe: appends `conda clean -afy` (or the mamba equivalent) to the same RUN.",
    fix_safety=FixSafety.SAFE,
)
def conda_cache(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        cmds = sh.commands(ins)
        tools = [
            c
            for c in cmds
            if c.name in ("conda", "mamba", "micromamba")
            and c.subcommand() in ("install", "create", "env", "update")
        ]
        if not tools:
            continue
        if any(
            c.name in ("conda", "mamba", "micromamba")
            and c.subcommand() == "clean"
            and c.start > tools[-1].start
            for c in cmds
        ) or "pkgs" in " ".join(ins.cache_mount_targets()):
            continue
        tool = tools[0].name
        edit = sh.append_to_run(ins, ctx.dockerfile, f"{tool} clean -afy")
        yield ctx.report(
            f"`{tool} {tools[0].subcommand()}` without `{tool} clean -afy` keeps "
            "package tarballs in the layer",
            ins,
            edits=[edit] if edit else None,
        )


@rule(
    "JT108",
    "package-upgrade",
    Category.SIZE,
    Severity.INFO,
    "`apt-get upgrade`/`dist-upgrade` in the Dockerfile",
    what="Flags `apt-get upgrade`, `dist-upgrade`, `full-upgrade`, and `apk upgrade`.",
    why="""
        Upgrading every package duplicates much of the base image in a new layer (tens to
        hundreds of MB) and makes builds unreproducible. Use a newer base image tag instead,
        and upgrade only what a security fix needs.
    """,
    example="RUN apt-get update && apt-get upgrade -y",
    use_instead="FROM python:3.11-slim  # rebuilt regularly; pin a recent patch tag",
    notes="Corresponds to Trivy DS-0024 and hadolint's removed DL3005.",
)
def package_upgrade(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.commands(ins):
            sub = cmd.subcommand()
            if (cmd.name in sh.APT and sub in ("upgrade", "dist-upgrade", "full-upgrade")) or (
                cmd.name == "apk" and sub == "upgrade"
            ):
                yield ctx.report(
                    f"`{cmd.name} {sub}` rewrites base-image files into a new "
                    "layer; use a newer base image instead",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                )


_DOWNLOAD_OUT = re.compile(r"^(-O|--output-document|-o|--output)$")


@rule(
    "JT109",
    "deleted-in-later-layer",
    Category.SIZE,
    Severity.WARNING,
    "a file added in one layer is deleted in a later one",
    what="""
        Flags an `rm` in a RUN that deletes a path an earlier instruction of the same image
        added: a COPY/ADD destination, or a file an earlier RUN downloaded with curl/wget.
    """,
    why="""
        Layers are additive: deleting a file in a later layer only hides it (a whiteout); its
        bytes are still downloaded and stored. `docker history` shows the deleting layer as
        0 B, so this waste is easy to miss. `jettison inspect` measures it exactly.
    """,
    example="""
        COPY app.tar.gz /tmp/
        RUN tar -xzf /tmp/app.tar.gz -C /opt && rm /tmp/app.tar.gz
    """,
    use_instead="""
        RUN --mount=type=bind,source=app.tar.gz,target=/tmp/app.tar.gz \\
            tar -xzf /tmp/app.tar.gz -C /opt
        # or download, extract and delete in one RUN
    """,
)
def deleted_later(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image:
            continue
        added: dict[str, Instruction] = {}
        workdir = "/"
        for ins in stage.all_instructions():
            if ins.keyword == "WORKDIR" and ins.args:
                workdir = _join(workdir, ins.args[0])
            elif ins.keyword in ("COPY", "ADD") and len(ins.args) >= 2:
                dest = _join(workdir, ins.args[-1])
                for src in ins.args[:-1]:
                    name = src.rstrip("/").rsplit("/", 1)[-1]
                    target = dest + name if dest.endswith("/") or len(ins.args) > 2 else dest
                    added[target.rstrip("/") or "/"] = ins
            elif ins.keyword == "RUN":
                for cmd in sh.commands(ins):
                    if cmd.name == "rm" and ins.stage is stage:
                        for word in cmd.args:
                            if word.value.startswith("-") or word.dynamic:
                                continue
                            path = _join(workdir, word.value).rstrip("/")
                            source = added.get(path)
                            if source is not None and source is not ins:
                                yield ctx.report(
                                    f"`rm {word.value}` deletes a file added at line "
                                    f"{source.line}; its bytes stay in that layer",
                                    ins,
                                    start=word.start,
                                    end=word.end,
                                )
                                added.pop(path, None)
                    if cmd.name in ("wget", "curl"):
                        vals = cmd.arg_values
                        for i, v in enumerate(vals[:-1]):
                            if _DOWNLOAD_OUT.match(v):
                                added[_join(workdir, vals[i + 1]).rstrip("/")] = ins


def _join(base: str, path: str) -> str:
    if path.startswith("/"):
        return path
    if path in (".", "./"):
        return base if base.endswith("/") else base + "/"
    return (
        (base.rstrip("/") + "/" + path.removeprefix("./"))
        if base != "/"
        else "/" + path.removeprefix("./")
    )


BUILD_TOOLS = {
    "gcc",
    "g++",
    "make",
    "build-essential",
    "clang",
    "cmake",
    "cpp",
    "autoconf",
    "automake",
    "libtool",
    "pkg-config",
    "pkgconf",
    "git",
    "gfortran",
    "cargo",
    "rustc",
    "golang",
    "musl-dev",
    "build-base",
    "alpine-sdk",
    "gcc-c++",
    "python3-dev",
    "python-dev",
    "linux-headers",
    "ninja-build",
    "meson",
}


def _is_build_package(pkg: str) -> bool:
    return (
        pkg in BUILD_TOOLS
        or pkg.endswith(("-dev", "-devel"))
        or re.match(r"^(gcc|g\+\+|clang|llvm)-\d+$", pkg) is not None
    )


@rule(
    "JT110",
    "build-tools-in-final-stage",
    Category.SIZE,
    Severity.WARNING,
    "compilers, headers or git installed in the final image",
    what="""
        Flags build toolchains (gcc, g++, make, build-essential, cmake, `*-dev` headers, git,
        ...) installed by apt/apk/yum/dnf in a stage of the final image and not purged in the
        same RUN. Builder stages are free to keep them.
    """,
    why="""
        `build-essential` alone is about 200 MB on Debian; `*-dev` packages pull headers and
        static libraries. A runtime needs the shared libraries only. A multi-stage build
        compiles in a builder stage and copies the result (typically 30-50 % smaller).
    """,
    example="""
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y gcc libpq-dev && pip install psycopg2
    """,
    use_instead="""
        FROM python:3.11-slim AS builder
        RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
        RUN python -m venv /venv && /venv/bin/pip install psycopg2
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
            && rm -rf /var/lib/apt/lists/*
        COPY --from=builder /venv /venv
    """,
    fix="Unsafe: `jettison fix --unsafe-fixes` converts Python apps to a multi-stage build.",
)
def build_tools(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        temporary = set(_temporary_installs(ins))
        tools = sorted(
            {
                pkg
                for cmd, pkg in sh.installed_packages(ins)
                if _is_build_package(pkg) and (cmd, pkg) not in temporary
            }
        )
        if tools:
            yield ctx.report(
                f"build tools in the final image: {', '.join(tools)}; build in a "
                "builder stage and copy the result",
                ins,
            )


def _temporary_installs(ins: Instruction) -> list[tuple[Command, str]]:
    """(command, package) installs that a later command of the same RUN removes again: by
    name (``apt-get purge gcc``, ``apk del gcc``), by apk's ``--virtual`` group, or all of
    them through docker-library's idiom (``apt-mark auto '.*'`` then ``apt-get purge
    --auto-remove``, which keeps only what was marked manual before)."""
    cmds = sh.commands(ins)
    removals = [
        c for c in cmds if c.subcommand() in ("purge", "remove", "del", "erase", "autoremove")
    ]
    auto = [c for c in cmds if c.name == "apt-mark" and c.subcommand() == "auto"]
    out: list[tuple[Command, str]] = []
    for cmd, pkg in sh.installed_packages(ins):
        later = [c for c in removals if c.start > cmd.start]
        names = {w.value.split("=", 1)[0] for c in later for w in c.args}
        virtual = _virtual_name(cmd)
        swept = cmd.name in sh.APT and any(
            a.start > cmd.start
            and any(
                c.start > a.start
                and c.name in sh.APT
                and (c.subcommand() == "autoremove" or c.has_flag("--auto-remove"))
                for c in later
            )
            for a in auto
        )
        if pkg in names or (virtual and virtual in names) or swept:
            out.append((cmd, pkg))
    return out


def _virtual_name(cmd: Command) -> str:
    """The ``--virtual``/``-t`` group of an ``apk add`` (removed as one by ``apk del``)."""
    vals = cmd.arg_values
    for i, v in enumerate(vals[:-1]):
        if v in ("--virtual", "-t"):
            return vals[i + 1]
    return ""


# official images with a `-slim` variant, and where `slim` goes in their tags: python, ruby,
# perl and rust put it before the Debian suite (`3.11-slim-bookworm`), node after it
# (`20-bookworm-slim`, `lts-bookworm-slim`), debian after the release (`bookworm-slim`,
# `12-slim`). php, golang and others have no slim variant at all.
_SUITES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_SLIM_BEFORE_SUITE = {"python", "ruby", "perl", "rust"}
# a release name or number (`wheezy-slim` ... `trixie-slim`, `12-slim`); point releases got
# slim tags from Debian 9 on (`12.5-slim`), not before (`7.8-slim` never existed)
_DEBIAN_RELEASES = re.compile(r"^([a-z]+|\d+|(9|[1-9]\d)\.\d+)$")
# what the full variant adds over the slim one
_FULL_EXTRAS = {
    "debian": "documentation, man pages and locales",
    "openjdk": "version-control tools and documentation",
}
SLIM_VARIANTS = _SLIM_BEFORE_SUITE | {"node", "debian", "openjdk"}


def slim_variant(image: str) -> str | None:
    """``python:3.11`` -> ``python:3.11-slim``; None when there is no slim variant (or its tag
    is not one the image's maintainers publish)."""
    ref = image.split("@", 1)[0]
    name, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "")
    repo = name.split("/")[-1]
    namespace = name.split("/")[0] if "/" in name else "library"
    if repo not in SLIM_VARIANTS or namespace not in ("library", "docker.io") or not tag:
        return None
    if repo == "debian":
        ok = _DEBIAN_RELEASES.match(tag) and tag != "latest"
        return f"{name}:{tag}-slim" if ok else None
    version, suite = tag, ""
    for candidate in _SUITES:
        if tag.endswith("-" + candidate):
            version, suite = tag[: -len(candidate) - 1], candidate
    if repo == "node":
        # a version, `lts`, `current` or an LTS codename (`carbon-slim`, `iron-bookworm-slim`)
        if not (_VERSION.match(version) or re.match(r"^[a-z]+$", version)) or version in (
            "latest",
            "alpine",
        ):
            return None
        return f"{name}:{version}-{suite}-slim" if suite else f"{name}:{version}-slim"
    if repo == "openjdk":
        m = re.match(r"^(\d+(\.\d+)*(u\d+)?)(-(jdk|jre))?$", version)
        if m is None:
            return None
    elif not _VERSION.match(version):
        return None  # -onbuild, -rc, -alpine, -windowsservercore ...: no slim twin
    return f"{name}:{version}-slim-{suite}" if suite else f"{name}:{version}-slim"


def full_image_extras(image: str) -> str:
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return _FULL_EXTRAS.get(repo, "compilers, headers and docs")


@rule(
    "JT111",
    "full-base-image",
    Category.SIZE,
    Severity.WARNING,
    "the final image is built on a full base image that has a -slim variant",
    what="Flags `FROM python:3.11` (and node, debian, ruby, perl, rust, openjdk) for the "
    "final image when a `-slim` variant of that tag is published, named as the image names "
    "it (`python:3.11-slim-bookworm`, `node:20-bookworm-slim`, `debian:bookworm-slim`).",
    why="""
        `python:3.11` is about 1 GB with compilers and headers; `python:3.11-slim` about
        130 MB. Most runtimes need none of the extras.
        `debian:bookworm` carries no compilers, but `bookworm-slim` still leaves out
        documentation, man pages and locales (about 40 MB).
    """,
    example="FROM python:3.11",
    use_instead="FROM python:3.11-slim",
    fix="Unsafe: switches the tag to the `-slim` variant; the app may use a tool only the "
    "full image has, so verify with `jettison bench`.",
    fix_safety=FixSafety.UNSAFE,
)
def full_base(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image or stage.parent is not None:
            continue
        slim = slim_variant(stage.base_resolved)
        if slim is None:
            continue
        ins = stage.from_instruction
        edits = []
        if stage.base_resolved == stage.base:
            src = ctx.dockerfile.source
            pos = src.find(stage.base, ins.keyword_end, ins.end)
            if pos != -1:
                edits.append(Edit(pos, pos + len(stage.base), slim))
        yield ctx.report(
            f"`{stage.base_resolved}` is a full image; `{slim}` leaves out "
            f"{full_image_extras(stage.base_resolved)}",
            ins,
            edits=edits,
        )


EDITORS_AND_DEBUG = {
    "vim",
    "vim-tiny",
    "nano",
    "emacs",
    "emacs-nox",
    "less",
    "htop",
    "strace",
    "gdb",
    "tcpdump",
    "telnet",
    "nmap",
    "openssh-server",
    "man-db",
    "manpages",
    "lsof",
    "tmux",
    "screen",
    "mc",
    "iotop",
    "valgrind",
}


@rule(
    "JT112",
    "debug-tools-in-final-stage",
    Category.SIZE,
    Severity.INFO,
    "editors and debugging tools installed in the final image",
    what="Flags vim, nano, emacs, htop, strace, gdb, tcpdump, ssh, man pages and similar "
    "interactive tools installed in a stage of the final image.",
    why="""
        They add megabytes and attack surface and are never used by an automated service
        (`vim` in a simulation image, for one). Debug with `docker exec` into a
        debug sidecar or a separate debug target instead.
    """,
    example="RUN apt-get update && apt-get install -y vim curl",
    use_instead="RUN apt-get update && apt-get install -y --no-install-recommends curl",
    fix="Unsafe: removes the package names from the install command. A name that ends a "
    "continued RUN goes with the continuation before it (`curl \\` + `vim` becomes `curl`), "
    "so BuildKit does not join the next line into the RUN.",
    fix_safety=FixSafety.UNSAFE,
    notes="Related to hadolint DL3001 (running such commands); this rule looks at what is "
    "installed. Network clients that scripts and services run unattended (openssh-client "
    "for git over ssh, net-tools, iputils-ping, dnsutils, traceroute) are not flagged.",
)
def debug_tools(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs(final_only=True):
        for cmd in sh.commands(ins):
            if cmd.name not in (*sh.APT, "apk", "yum", "dnf", "microdnf"):
                continue
            sub = cmd.subcommand()
            if sub not in ("install", "add"):
                continue
            found = [w for w in cmd.words_after(sub) if w.value in EDITORS_AND_DEBUG]
            if not found:
                continue
            remaining = [w for w in cmd.words_after(sub) if w.value not in EDITORS_AND_DEBUG]
            edits: list[Edit] = []
            if remaining:  # never leave an install with no package
                edits = remove_words(
                    ctx.dockerfile.source, ins, found, ctx.dockerfile.directives.escape
                )
            names = ", ".join(w.value for w in found)
            yield ctx.report(
                f"interactive tools in the final image: {names}",
                ins,
                start=cmd.start,
                end=cmd.end,
                edits=edits,
            )


def remove_words(source: str, ins: Instruction, words: list[Word], escape: str) -> list[Edit]:
    """Deletions removing ``words`` from a RUN, keeping its lines well-formed.

    A word after others on its line goes with the blanks before it; a word that starts its
    line goes with the blanks after it, or with the whole line when only a continuation
    follows it. A word that ends the instruction (nothing but blanks or a comment after it,
    no continuation) also takes the continuation of the line before it: ``curl \\`` left
    before a blank, comment or next instruction line would make BuildKit join that line into
    the RUN. Heredoc lines are the shell's, not the Dockerfile's: only the word and the
    blanks before it go there. No edits when a word cannot be removed that way.
    """
    blank = " \t"
    doc_start = ins.heredocs[0].content_start if ins.heredocs else len(source)
    lines = [_line_of(source, w.start) for w in words]
    removed_lines = {  # lines that go whole: a word alone before a continuation
        start
        for w, (start, end) in zip(words, lines, strict=True)
        if w.start < doc_start
        and not source[start : w.start].strip(blank)
        and source[w.end : end].strip(blank + "\r") == escape
    }
    spans: list[tuple[int, int]] = []
    for w, (start, end) in zip(words, lines, strict=True):
        cut = w.start
        while cut > start and source[cut - 1] in blank:
            cut -= 1
        if w.start >= doc_start or cut > start:  # in a heredoc, or after other words
            spans.append((cut, w.end))
            continue
        after = w.end
        while after < end and source[after] in blank:
            after += 1
        rest = source[w.end : end].strip(blank + "\r")
        if start in removed_lines:
            spans.append((start, min(end + 1, len(source))))
        elif rest and not rest.startswith("#"):
            spans.append((w.start, after))
        else:
            previous = _continuation(source, start, escape, removed_lines)
            if previous is None:
                return []
            cont_start, cont_end, adjacent = previous
            if adjacent:  # `curl \` + `vim # c` -> `curl # c`
                spans.append((cont_start, w.end if rest else after))
            else:  # comment lines between stay; so does the word's own comment
                spans.append((cont_start, cont_end))
                spans.append((start, after if rest else min(end + 1, len(source))))
    return [Edit(a, b, "") for a, b in _union(spans)]


def _line_of(source: str, offset: int) -> tuple[int, int]:
    """(start, end) of the line holding ``offset``; end is at its newline (or the text end)."""
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    return start, len(source) if end == -1 else end


def _continuation(
    source: str, line_start: int, escape: str, removed: set[int]
) -> tuple[int, int, bool] | None:
    """The continuation (blanks and escape character) of the line continued into the one
    starting at ``line_start``: (start, end, whether it is the line right above). Blank and
    comment lines between, which BuildKit skips, and lines removed whole are passed over;
    None when no continued line is found."""
    start = line_start
    adjacent = True
    while start > 0:
        start, end = _line_of(source, start - 1)
        if start in removed:
            continue
        text = source[start:end].rstrip(" \t\r")
        stripped = text.strip(" \t")
        if not stripped or stripped.startswith("#"):
            adjacent = False
            continue
        if not text.endswith(escape):
            return None
        cut = start + len(text) - 1
        while cut > start and source[cut - 1] in " \t":
            cut -= 1
        return cut, start + len(text), adjacent
    return None


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|tar\.zst|gz|bz2|xz|zip)$")
_URL = re.compile(r"^(https?|ftp)://")


@rule(
    "JT113",
    "add-remote-url",
    Category.SIZE,
    Severity.WARNING,
    "`ADD` of a remote URL",
    what="Flags `ADD https://...` (without `--checksum`).",
    why="""
        ADD downloads the file into its own layer and never deletes it; an archive fetched
        this way is kept compressed *and* usually extracted by a later RUN, so it is stored
        twice. There is also no integrity check unless `--checksum` is given.
    """,
    example="ADD https://example.com/tool.tar.gz /tmp/",
    use_instead="RUN curl -fsSL https://example.com/tool.tar.gz | tar -xz -C /opt",
    notes="Related to hadolint DL3020 (ADD for local files) and checkov CKV_DOCKER_4.",
)
def add_remote(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if (
            ins.keyword == "ADD"
            and any(_URL.match(a) for a in ins.args[:-1])
            and not ins.flag("checksum")
        ):
            yield ctx.report(
                "`ADD` of a URL keeps the download in its own layer and checks "
                "no checksum; fetch, unpack and clean up in one RUN",
                ins,
            )


@rule(
    "JT114",
    "add-instead-of-copy",
    Category.SIZE,
    Severity.WARNING,
    "`ADD` used for local files that are not archives",
    what="Flags `ADD` whose sources are local files or directories that are not archives.",
    why="ADD has surprising semantics (auto-extraction, remote URLs); for plain files COPY "
    "does the same thing, explicitly.",
    example="ADD requirements.txt /app/",
    use_instead="COPY requirements.txt /app/",
    fix="Safe: replaces `ADD` with `COPY` (identical result for non-archive local sources).",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3020", "checkov": "CKV_DOCKER_4"},
)
def add_local(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword != "ADD" or len(ins.args) < 2 or ins.heredocs:
            continue
        from jettison.dockerfile.expand import expand

        # ARG/ENV values resolve `ADD rel/$APP/bin ...`; an unresolved archive stays unknown
        sources = [
            expand(s, ins.variables, ctx.dockerfile.directives.escape) for s in ins.args[:-1]
        ]
        if any(
            _URL.match(s) or _ARCHIVE.search(s) or s.startswith("git@") or not s for s in sources
        ):
            continue
        if ins.flag("checksum") or ins.flag("keep-git-dir"):
            continue
        edit = Edit(
            ins.start,
            ins.start + 3,
            "COPY" if ctx.dockerfile.source[ins.start : ins.start + 3].isupper() else "copy",
        )
        yield ctx.report(
            "use COPY for local files; ADD also extracts archives and fetches URLs",
            ins,
            edits=[edit],
        )


@rule(
    "JT115",
    "copy-then-extract",
    Category.SIZE,
    Severity.INFO,
    "an archive is COPY'd and then extracted by a RUN",
    what="Flags `COPY x.tar.gz` followed by a RUN that extracts it.",
    why="The archive stays in the COPY layer; `ADD` of a local archive extracts it directly, "
    "or a bind mount avoids the layer altogether.",
    example="COPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt",
    use_instead="ADD app.tar.gz /opt/",
    equivalents={"hadolint": "DL3010"},
)
def copy_extract(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        archives: dict[str, Instruction] = {}
        for ins in stage.instructions:
            if ins.keyword == "COPY" and not ins.flag("from"):
                for s in ins.args[:-1]:
                    if _ARCHIVE.search(s):
                        archives[s.rsplit("/", 1)[-1]] = ins
            elif ins.keyword == "RUN" and archives:
                for cmd in sh.commands(ins):
                    if cmd.name in ("tar", "unzip", "gunzip"):
                        for v in cmd.arg_values:
                            name = v.rsplit("/", 1)[-1]
                            if name in archives:
                                yield ctx.report(
                                    f"`{name}` is copied at line "
                                    f"{archives[name].line} and extracted here; "
                                    "the archive stays in the image",
                                    archives.pop(name),
                                )
                                break


@rule(
    "JT116",
    "copy-whole-stage",
    Category.SIZE,
    Severity.WARNING,
    "`COPY --from=stage / /` copies a whole filesystem",
    what="Flags `COPY --from=<stage> / /` (or to any destination) in a stage of the final image.",
    why="It copies the builder's entire filesystem, compilers and caches included, "
    "defeating the multi-stage build.",
    example="COPY --from=builder / /",
    use_instead="COPY --from=builder /venv /venv",
    notes="A copy into a builder stage is not flagged: it never reaches "
    "the final image (`COPY --from=xx / /` of a cross-compilation helper into the stage that "
    "compiles).",
    equivalents={"hadolint": "DL3067"},
)
def copy_whole_stage(ctx: RuleContext) -> Iterator[Finding]:
    df = ctx.dockerfile
    for ins in df.instructions:
        source = ins.flag("from") if ins.keyword == "COPY" else None
        if (
            source is not None
            and len(ins.args) >= 2
            and any(s.rstrip("/") in ("", ".") or s in ("/", "/.") for s in ins.args[:-1])
            and ins.stage is not None
            and ins.stage.in_final_image
        ):
            yield ctx.report(
                "copies the whole filesystem of another stage; copy only what the runtime needs",
                ins,
            )


@rule(
    "JT117",
    "useradd-without-l",
    Category.SIZE,
    Severity.WARNING,
    "`useradd` with a high UID and without `-l`",
    what="Flags `useradd -u <UID>` with a UID of more than 5 digits (100000 and up) and "
    "without `-l/--no-log-init`. A UID given as an ARG or ENV variable is read through its "
    "value; one whose value is unknown is not flagged.",
    why="useradd writes the user's entry into the sparse `/var/log/lastlog` and faillog; "
    "with a high UID the file becomes gigabytes in the layer.",
    example="RUN useradd -u 1000000 app",
    use_instead="RUN useradd -l -u 1000000 app",
    fix="Safe: inserts `-l`.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3046"},
)
def useradd_l(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.runs():
        for cmd in sh.commands(ins):
            if cmd.name != "useradd" or cmd.has_flag("-l", "--no-log-init"):
                continue
            vals = cmd.arg_values
            uid = None
            for i, v in enumerate(vals):
                if v in ("-u", "--uid") and i + 1 < len(vals):
                    uid = vals[i + 1]
                elif v.startswith("--uid="):
                    uid = v.split("=", 1)[1]
                elif v.startswith("-u") and len(v) > 2 and not v.startswith("--"):
                    uid = v[2:]
            number = _resolved_number(uid, ins) if uid is not None else None
            if number is not None and number >= 100_000:
                edit = Edit(cmd.name_word.end, cmd.name_word.end, " -l")
                yield ctx.report(
                    "`useradd` with a high UID and without `-l` creates a huge lastlog file",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit],
                )


def _resolved_number(word: str, ins: Instruction) -> int | None:
    """``word`` as a number, with ARG/ENV references replaced by their values; None when it
    is not a number or refers to a name without a known value (shell variables, ``--build-arg``
    only)."""
    from jettison.dockerfile.expand import expand, references

    if "$" in word:
        if any(not ins.variables.get(name) for name in references(word)):
            return None
        word = expand(word, ins.variables)
    return int(word) if word.isdigit() else None


@rule(
    "JT118",
    "wget-and-curl",
    Category.SIZE,
    Severity.INFO,
    "both wget and curl are used in one stage",
    what="Flags a RUN that uses or installs curl or wget when the other one is already used "
    "or installed in the same stage.",
    why="Installing both downloaders doubles what is needed for one job (a few MB plus "
    "their libraries).",
    example="RUN wget -q https://a/x\nRUN curl -fsSL https://b/y",
    use_instead="Use one of them (curl -fsSL, or wget -q) everywhere.",
    notes="hadolint DL4001 looks at the commands run only; jettison also counts the two "
    "installed by a package manager (images often install both and use one), and "
    "leaves out one installed, used and removed again in the same RUN (`apt-mark auto` with "
    "`apt-get purge --auto-remove`, `apt-get purge wget`, `apk add --virtual` with `apk del`): "
    "it stays in no layer.",
    equivalents={"hadolint": "DL4001"},
)
def wget_curl(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        seen: set[str] = set()
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            # a downloader installed, used and purged in one RUN (docker-library's `apt-mark
            # auto` + `purge --auto-remove`, apk's `--virtual` + `del`) stays in no image
            temporary = {pkg for _, pkg in _temporary_installs(ins)} & {"curl", "wget"}
            used = ({c.name for c in sh.commands(ins)} & {"curl", "wget"}) - temporary
            installed = {pkg for _, pkg in sh.installed_packages(ins)} & {"curl", "wget"}
            installed -= temporary
            seen |= used | installed
            if (used or installed) and len(seen) == 2:
                yield ctx.report(
                    "both wget and curl are installed or used in this stage; use one", ins
                )


_DEV_DIRS = re.compile(
    r"(^|/)(tests?|docs?|notebooks?|examples?|benchmarks?|\.github)"
    r"(/|$)|\.ipynb$|(^|/)(test_[^/]*\.py|conftest\.py)$"
)


@rule(
    "JT119",
    "dev-files-in-runtime",
    Category.SIZE,
    Severity.INFO,
    "tests, docs or notebooks copied into the runtime image",
    what="Flags COPY/ADD of `tests/`, `docs/`, `notebooks/`, `examples/`, `*.ipynb` into a "
    "stage of the final image.",
    why="They are never used at run time; notebooks with outputs can be large.",
    example="COPY tests/ /app/tests/",
    use_instead="Copy only the application package; exclude tests/docs/notebooks in .dockerignore.",
)
def dev_files(ctx: RuleContext) -> Iterator[Finding]:
    for stage in ctx.stages:
        if not stage.in_final_image:
            continue
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and not ins.flag("from"):
                hits = [s for s in ins.args[:-1] if _DEV_DIRS.search(s.strip("./") or ".")]
                if hits:
                    yield ctx.report(
                        f"development files copied into the runtime image: {', '.join(hits)}", ins
                    )
