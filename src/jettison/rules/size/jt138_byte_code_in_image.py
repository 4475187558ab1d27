"""JT138 byte-code-in-image: `pip install` writes byte code for every module it installs."""

from __future__ import annotations

from collections.abc import Iterator

from jettison.dockerfile import Instruction, Stage
from jettison.dockerfile import commands as sh
from jettison.findings import Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule
from jettison.rules.size._common import stages_in_image

# pip reads PIP_NO_COMPILE inverted (its --no-compile is a store_false option): only a false
# value turns compiling off; PIP_NO_COMPILE=1 sets compile to 1, and pip compiles
_PIP_FALSE = {"0", "false", "no", "off", "n", "f"}


def _compiles_later(stages: list[Stage]) -> bool:
    """The image compiles byte code on purpose (`python -m compileall`)."""
    for stage in stages:
        for ins in stage.instructions:
            if ins.keyword == "RUN" and any(
                (sh.python_module(c) or ("",))[0] == "compileall" for c in sh.commands(ins)
            ):
                return True
    return False


def _compile_off(ins: Instruction) -> bool:
    return ins.variables.get("PIP_NO_COMPILE", "").lower() in _PIP_FALSE


@rule(
    "JT138",
    "byte-code-in-image",
    Category.SIZE,
    Severity.INFO,
    "`pip install` writes byte code for every module it installs",
    what="""
        Flags `pip install` in a stage whose files reach the final image (the final stage,
        the stages it is built from, and the stages it copies from) without `--no-compile`
        or `PIP_NO_COMPILE=0` (pip reads this variable inverted: `PIP_NO_COMPILE=1`
        compiles). Not reported when the image compiles byte code on purpose (`python -m
        compileall`, or `pip install --compile`). Off unless selected by its code
        (`--select JT,JT138` or `select = ["JT", "JT138"]`): leaving byte code out is a
        trade, not a plain gain.
    """,
    why="""
        pip compiles every installed module into `__pycache__`: typically a fifth to a
        third of site-packages (one 1.07 GB data-science image held 300 MB of it). Without
        it, Python compiles what a process imports when it starts: if the process may
        write, once per container; if it may not (a non-root user, or
        `PYTHONDONTWRITEBYTECODE=1`), at every start. Bytes saved against seconds of
        start-up: measure both on the image before choosing.
    """,
    example="RUN pip install --no-cache-dir -r requirements.txt",
    use_instead="RUN pip install --no-cache-dir --no-compile -r requirements.txt",
    fix="""
        Unsafe (start-up time changes): inserts `--no-compile` after `install`. `jettison fix
        --verify --each-fix` shows the bytes it saved and the time the checks (start-up
        included) took before and after it.
    """,
    fix_safety=FixSafety.UNSAFE,
    opt_in=True,
)
def byte_code_in_image(ctx: RuleContext) -> Iterator[Finding]:
    stages = stages_in_image(ctx.dockerfile)
    if _compiles_later(stages):
        return
    for stage in stages:
        for ins in stage.instructions:
            if ins.keyword != "RUN" or _compile_off(ins):
                continue
            for cmd in sh.pip_installs(ins):
                if cmd.has_flag("--no-compile", "--compile") or cmd.name == "uv":
                    # uv writes no byte code unless asked (--compile-bytecode); --compile
                    # asks for it, and wins over a --no-compile inserted before it
                    continue
                words = [v for v in cmd.arg_values if not v.startswith("-")]
                if all(w in ("install", "pip", "setuptools", "wheel", "-m") for w in words):
                    continue  # the packaging tools alone (JT134's matter)
                edit = sh.insert_after_word(cmd, "install", "--no-compile")
                yield ctx.report(
                    "`pip install` writes byte code (`__pycache__`) for every module it "
                    "installs, often a fifth of site-packages; `--no-compile` leaves it out "
                    "(Python then compiles what it imports at start-up: measure both)",
                    ins,
                    start=cmd.start,
                    end=cmd.end,
                    edits=[edit] if edit else None,
                )
