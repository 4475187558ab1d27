"""JT203 no-cache-mount: dependency install without a BuildKit cache mount."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.cache._common import dependency_install
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT203",
    "no-cache-mount",
    Category.CACHE,
    Severity.INFO,
    "dependency install without a BuildKit cache mount",
    what="""
        Suggests `RUN --mount=type=cache` for pip, apt, npm, yarn, go, cargo and uv installs
        in a Dockerfile that already uses BuildKit features (a `# syntax` line, other
        `--mount`s, heredocs, `COPY --link/--chmod`).
    """,
    why="""
        A cache mount keeps downloaded packages *outside* the image and across builds: a
        dependency change re-downloads only what changed (dependency installs
        typically ~70 % faster), and nothing lands in the layer.
    """,
    example="RUN pip install --no-cache-dir -r requirements.txt",
    use_instead="RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
    fix="""
        Unsafe: adds the cache mount flag (needs BuildKit; the file already relies on it).
        For apt, the same RUN also starts with `rm -f /etc/apt/apt.conf.d/docker-clean`, as
        Docker's documentation shows: Debian's and Ubuntu's images ship that file, which
        deletes every downloaded package after each apt-get run, so the cache would keep
        nothing. The file stays removed for later instructions: give their apt-get the same
        cache mount, or their downloaded packages stay in their layers.
    """,
    fix_safety=FixSafety.UNSAFE,
)
def cache_mount(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.dockerfile.uses_buildkit_features:
        return
    targets = {
        "pip": "/root/.cache/pip",
        "npm": "/root/.npm",
        "yarn": "/usr/local/share/.cache/yarn",
        "go": "/root/go/pkg/mod",
        "cargo": "/usr/local/cargo/registry",
        "uv": "/root/.cache/uv",
        "apt-get": "/var/cache/apt",
    }
    for ins in ctx.runs():
        if ins.json_form or (
            ins.flags_named("mount")
            and any(f.options().get("type") == "cache" for f in ins.flags_named("mount"))
        ):
            continue
        pip_cache_off = ins.variables.get("PIP_NO_CACHE_DIR", "").lower() not in ("", "0")
        for cmd in sh.commands(ins):
            tool = "pip" if sh.is_pip_install(cmd) else cmd.name
            if tool == "pip" and (pip_cache_off or cmd.has_flag("--no-cache-dir", "--no-cache")):
                continue  # the user chose no cache; a mount would change nothing
            if tool in targets and (
                tool == "pip"
                or dependency_install(cmd)
                or (tool == "apt-get" and cmd.subcommand() == "install")
            ):
                target = targets[tool]
                extra = ",sharing=locked" if tool == "apt-get" else ""
                flag = f"--mount=type=cache,target={target}{extra} "
                kw_end = ins.keyword_end
                edits = [Edit(kw_end + 1, kw_end + 1, flag)]
                if tool == "apt-get" and not _docker_clean_removed(ins):
                    # Debian's and Ubuntu's images delete every downloaded .deb after each
                    # apt-get run (/etc/apt/apt.conf.d/docker-clean): a cache mount would
                    # keep nothing unless that file goes first, in the same RUN
                    script = ins.script
                    if script is None or ins.heredocs or not script.commands:
                        edits = []  # nowhere to put it: report without a fix
                    else:
                        first = script.start  # before the whole script: `! cmd` stays whole
                        edits.append(Edit(first, first, f"{_RM_DOCKER_CLEAN} && "))
                yield ctx.report(
                    f"`{tool}` downloads on every rebuild; a cache mount on "
                    f"{target} keeps them outside the image",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=edits,
                )
                break


_DOCKER_CLEAN = "/etc/apt/apt.conf.d/docker-clean"


_RM_DOCKER_CLEAN = f"rm -f {_DOCKER_CLEAN}"


def _docker_clean_removed(ins: Instruction) -> bool:
    """True when this RUN, or an earlier one of its image, already deletes docker-clean."""
    stage = ins.stage
    earlier = list(stage.all_instructions()) if stage is not None else [ins]
    for other in earlier:
        if other.keyword == "RUN" and any(
            c.name == "rm" and _DOCKER_CLEAN in c.arg_values for c in sh.commands(other)
        ):
            return True
        if other is ins:
            break
    return False
