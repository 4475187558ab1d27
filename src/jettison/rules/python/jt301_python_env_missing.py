"""JT301 python-env-missing: `PYTHONDONTWRITEBYTECODE`/`PYTHONUNBUFFERED` not set in a Python
image."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.dockerfile import Dockerfile, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.python._common import argv_of
from jettison.rules.registry import Category, RuleContext, rule


def is_python_stage(stage: Stage) -> bool:
    """A stage running Python: a python base image, or one that installs/uses pip."""
    root = stage.root_image().split("/")[-1]
    if re.match(r"^(python|pypy)(:|$)", root) or "python" in root.split(":")[0]:
        return True
    for ins in stage.all_instructions():
        if ins.keyword == "RUN" and any(sh.is_pip_install(c) for c in sh.commands(ins)):
            return True
    return False


@rule(
    "JT301",
    "python-env-missing",
    Category.PYTHON,
    Severity.INFO,
    "`PYTHONDONTWRITEBYTECODE`/`PYTHONUNBUFFERED` not set in a Python image",
    what="Flags a Python final stage that does not set `PYTHONDONTWRITEBYTECODE=1` and "
    "`PYTHONUNBUFFERED=1`.",
    why="""
        Without `PYTHONUNBUFFERED` log lines sit in stdout buffers and are lost when the
        container is killed; without `PYTHONDONTWRITEBYTECODE` every start writes `.pyc`
        files into the container layer.
    """,
    example='FROM python:3.11-slim\nCMD ["python", "app.py"]',
    use_instead="FROM python:3.11-slim\nENV PYTHONDONTWRITEBYTECODE=1 \\\n    "
    'PYTHONUNBUFFERED=1\nCMD ["python", "app.py"]',
    fix="""
        Unsafe: adds one ENV after the final stage's FROM with the missing settings.
        `PYTHONDONTWRITEBYTECODE=1` trades start-up time for bytes: code that was not
        compiled at build time is compiled again on every start (measured 50-150 % slower
        starts where the runtime user could not write byte code anyway).
    """,
    notes="""
        Not reported for an image other images are built FROM: there the settings would reach
        every image built on it. A file is taken for such a base when it holds ONBUILD
        instructions, when its command is a bare interpreter or shell (`CMD ["python3"]`, as
        in the official python and pypy images), or when it sets no CMD or ENTRYPOINT and is
        named like one (`Dockerfile.base`, `base.Dockerfile`, a `base/` folder, a final
        stage called `base`).
    """,
    fix_safety=FixSafety.UNSAFE,
)
def python_env(ctx: RuleContext) -> Iterator[Finding]:
    stage = ctx.dockerfile.final_stage
    if stage is None or not is_python_stage(stage) or is_base_image(ctx.dockerfile, stage):
        return
    last = stage.instructions[-1]
    missing = [
        name
        for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")
        if not last.variables.get(name)
    ]
    if not missing:
        return
    frm = stage.from_instruction
    text = "\n" + "ENV " + " ".join(f"{name}=1" for name in missing)
    yield ctx.report(
        f"Python image without {' and '.join(missing)}", frm, edits=[Edit(frm.end, frm.end, text)]
    )


_BASE_NAME = re.compile(r"(^|[^a-z])base([^a-z]|$)")


# interpreters and shells that, run bare, start an interactive prompt
_BARE_COMMAND = re.compile(r"^(python|pypy|ipython)[0-9.]*$|^(bash|sh|ash|dash|zsh)$")


def is_base_image(df: Dockerfile, stage: Stage) -> bool:
    """True when ``stage`` is an image others build FROM: a stage of this file another stage
    is built FROM, or the final image of a file written as a base image (ONBUILD triggers,
    a bare interpreter or shell as its command, or no CMD/ENTRYPOINT and a base-like file
    or stage name). Runtime settings do not belong
    there: every image built on it inherits them."""
    if any(other.parent is stage for other in df.stages):
        return True
    if stage is not df.final_stage:
        return False
    lineage = list(stage.all_instructions())
    if any(i.keyword == "ONBUILD" for i in lineage):
        return True
    commands = [i for i in lineage if i.keyword in ("CMD", "ENTRYPOINT")]
    if commands:
        # an image whose command is a bare interpreter or shell (`CMD ["python3"]`, the
        # official python and pypy images) runs no application: it is there to build on
        last = commands[-1]
        entrypoints = [i for i in commands if i.keyword == "ENTRYPOINT"]
        argv = argv_of(last)
        return (
            last.keyword == "CMD"
            and not entrypoints
            and len(argv) == 1
            and bool(_BARE_COMMAND.match(argv[0].rsplit("/", 1)[-1]))
        )
    parts = df.path.replace("\\", "/").lower().rsplit("/", 2)[-2:]
    return any(_BASE_NAME.search(p) for p in parts) or bool(
        stage.name and _BASE_NAME.search(stage.name)
    )
