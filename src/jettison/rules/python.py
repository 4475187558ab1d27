"""Python runtime rules: interpreter settings, production servers, worker recycling, signals."""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from collections.abc import Iterator

from jettison.dockerfile import Dockerfile, Instruction, Stage
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules import _shell as sh
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


def final_commands(df: Dockerfile) -> list[Instruction]:
    stage = df.final_stage
    if stage is None:
        return []
    return [i for i in stage.all_instructions() if i.keyword in ("CMD", "ENTRYPOINT")]


def argv_of(ins: Instruction) -> list[str]:
    if ins.json_form:
        return list(ins.args)
    try:
        return shlex.split(ins.text, comments=False)
    except ValueError:
        return ins.text.split()


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


_DEV_SERVER = [
    (re.compile(r"\bflask\b.*\brun\b"), "`flask run` is Flask's development server"),
    (
        re.compile(r"\bmanage\.py\b.*\brunserver\b"),
        "`manage.py runserver` is Django's development server",
    ),
    (re.compile(r"\buvicorn\b.*--reload\b"), "`uvicorn --reload` watches files and restarts"),
    (re.compile(r"--debug\b"), "debug mode exposes an interactive debugger"),
    (re.compile(r"\bhttp\.server\b"), "`python -m http.server` is not a production server"),
]


@rule(
    "JT302",
    "dev-server",
    Category.PYTHON,
    Severity.WARNING,
    "a development server or debug mode is the container's command",
    what="Flags CMD/ENTRYPOINT running `flask run`, `manage.py runserver`, `uvicorn "
    "--reload`, `--debug` or `python -m http.server` in the final stage.",
    why="Development servers are single-threaded, reload on file changes and may expose a "
    "debugger that executes code (a remote code execution risk).",
    example='CMD ["flask", "run", "--host", "0.0.0.0", "--debug"]',
    use_instead='CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--max-requests", "1000", "app:app"]',
)
def dev_server(ctx: RuleContext) -> Iterator[Finding]:
    for ins in final_commands(ctx.dockerfile):
        line = " ".join(argv_of(ins))
        for pattern, why in _DEV_SERVER:
            if pattern.search(line):
                yield ctx.report(f"{why}; use a production server", ins)
                break


@rule(
    "JT303",
    "no-worker-recycling",
    Category.PYTHON,
    Severity.INFO,
    "gunicorn without `--max-requests` / celery without `--max-tasks-per-child`",
    what="Flags gunicorn started without `--max-requests` (and no `-c` config file) and "
    "celery workers without `--max-tasks-per-child`.",
    why="Long-lived Python workers accumulate memory (leaks, fragmentation). Recycling them "
    "after N requests/tasks bounds memory.",
    example='CMD ["celery", "-A", "app", "worker"]',
    use_instead='CMD ["celery", "-A", "app", "worker", "--max-tasks-per-child=1000"]',
)
def worker_recycling(ctx: RuleContext) -> Iterator[Finding]:
    for ins in final_commands(ctx.dockerfile):
        argv = argv_of(ins)
        names = [a.rsplit("/", 1)[-1] for a in argv]
        joined = " ".join(argv)
        if (
            "gunicorn" in names
            and "--max-requests" not in joined
            and not any(a in ("-c", "--config") or a.startswith("--config=") for a in argv)
        ):
            if "GUNICORN_CMD_ARGS" in (ins.variables or {}) and "max-requests" in ins.variables.get(
                "GUNICORN_CMD_ARGS", ""
            ):
                continue
            yield ctx.report("gunicorn without `--max-requests`: workers are never recycled", ins)
        if "celery" in names and "worker" in argv and "--max-tasks-per-child" not in joined:
            yield ctx.report("celery worker without `--max-tasks-per-child`", ins)


# Shell builtins and reserved words (dash's and bash's): as the first word of an exec-form
# command they would not exist, or run another program (`echo` is a builtin of sh and the
# binary /bin/echo, which reads options differently); `env` may take assignments
_SHELL_WORDS = frozenset(
    {
        # reserved words
        "!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac",
        "fi", "for", "function", "if", "in", "select", "then", "time", "until", "while",
        # POSIX and dash builtins
        ".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo",
        "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "jobs",
        "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift",
        "test", "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset",
        "wait",
        # bash builtins
        "bind", "builtin", "caller", "compgen", "complete", "compopt", "declare", "dirs",
        "disown", "enable", "help", "history", "let", "logout", "mapfile", "popd", "pushd",
        "readarray", "shopt", "source", "suspend", "typeset",
        "env",
    }
)  # fmt: skip

# what /bin/sh would expand, quote, redirect, glob, assign or read as an operator or comment
_SHELL_SYNTAX = re.compile(r"""[$`|&;<>(){}*?~\[\]#\\'"=!]""")
_SH_NAMES = frozenset({"sh", "bash", "dash", "ash"})
# options of a SHELL ["/bin/bash", "-o", "pipefail", "-c"] that do not change how a single
# simple command runs
_SH_OPTION = re.compile(r"^(-(?=[euo])[eu]*o?|pipefail|errexit|nounset)$")


def posix_command_shell(shell: tuple[str, ...] | list[str]) -> bool:
    """True for ``/bin/sh -c`` and shells like it (``bash -o pipefail -c``): a POSIX shell
    that runs its one argument as a script, with no option that changes how a simple command
    runs (``-x`` traces, ``-l`` reads profiles)."""
    if len(shell) < 2 or shell[-1] != "-c":
        return False
    if shell[0].rsplit("/", 1)[-1] not in _SH_NAMES:
        return False
    return all(_SH_OPTION.match(arg) for arg in shell[1:-1])


def exec_split(script: str) -> list[str] | None:
    """The argv ``/bin/sh -c script`` runs, when the shell would run exactly those words
    (no expansion, quoting, globbing, assignment, operator, builtin or reserved word); None
    when it would do anything else."""
    if _SHELL_SYNTAX.search(script):
        return None
    if any(
        ch not in " \t" and (ch.isspace() or unicodedata.category(ch).startswith("C"))
        for ch in script
    ):
        return None  # sh splits words at spaces and tabs only
    words = [w for w in re.split(r"[ \t]+", script) if w]
    if not words or words[0] in _SHELL_WORDS:
        return None
    return words


# official images whose config sets no ENTRYPOINT: a CMD on them is the whole argv
_NO_ENTRYPOINT_IMAGES = frozenset(
    {
        "almalinux", "alpine", "amazonlinux", "buildpack-deps", "busybox", "centos",
        "debian", "elixir", "erlang", "fedora", "gcc", "golang", "haskell", "openjdk",
        "perl", "pypy", "python", "rockylinux", "ruby", "rust", "ubuntu",
    }
)  # fmt: skip
_BASE = "base"  # the base image's ENTRYPOINT/CMD, unknown to the rule
_Setting = Instruction | str | None  # an instruction, _BASE, or nothing set


def official_image(ref: str) -> str | None:
    """``python`` for ``python:3.11-slim`` or ``docker.io/library/python``; None for an
    image that is not an official (Docker Hub library) one."""
    name = ref.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return None if "/" in name or not name else name.lower()


def _image_commands(df: Dockerfile) -> list[tuple[_Setting, _Setting]]:
    """(ENTRYPOINT, CMD) of every stage's image, as the builder sets them: an ENTRYPOINT
    clears the CMD unless a CMD came before it in the same stage (one inherited through
    ``FROM stage`` is cleared too)."""
    out: list[tuple[_Setting, _Setting]] = []
    for stage in df.stages:
        entrypoint: _Setting
        cmd: _Setting
        if stage.parent is not None:
            entrypoint, cmd = out[stage.parent.index]
        else:
            known = not stage.base_unresolved and (
                official_image(stage.base_resolved) in _NO_ENTRYPOINT_IMAGES
            )
            entrypoint, cmd = (None if known else _BASE), _BASE
        cmd_set = False
        for ins in stage.instructions:
            if ins.keyword == "CMD":
                cmd, cmd_set = ins, True
            elif ins.keyword == "ENTRYPOINT":
                entrypoint = ins
                if not cmd_set:
                    cmd = None
        out.append((entrypoint, cmd))
    return out


def _is_set(setting: _Setting) -> bool:
    if isinstance(setting, Instruction):
        return not (setting.json_form and not setting.args)  # `ENTRYPOINT []` sets nothing
    return setting is not None


def _argv_changes(ins: Instruction, images: list[tuple[_Setting, _Setting]]) -> str | None:
    """Why exec form would change the argv of an image whose CMD or ENTRYPOINT ``ins`` is
    (Docker runs ENTRYPOINT + CMD; a shell-form ENTRYPOINT gets the CMD as ``$0 $@``)."""
    for entrypoint, cmd in images:
        if cmd is ins and _is_set(entrypoint):
            if isinstance(entrypoint, Instruction):
                return f"the ENTRYPOINT at line {entrypoint.line} would get other arguments"
            return "the base image may set an ENTRYPOINT, which would get other arguments"
        if entrypoint is ins and isinstance(cmd, Instruction) and _is_set(cmd):
            # (a stage's own ENTRYPOINT always clears the base image's CMD)
            return f"exec form would append the CMD at line {cmd.line} to the command"
    return None


def _exec_form(
    ins: Instruction, images: list[tuple[_Setting, _Setting]]
) -> tuple[str | None, str | None]:
    """(the exec form of a shell-form command, why it is not rewritten): the exec form only
    when the container runs the same argv with it."""
    stage = ins.stage
    if len(ins.args) != 1 or stage is None:
        return None, None
    words = exec_split(ins.args[0])
    if words is None or not posix_command_shell(ins.shell):
        return None, None  # expansions, operators, quotes, globs or `NAME=value` need a shell
    if ins.shell[0].endswith("bash") and "BASH_ENV" in ins.variables:
        return None, None  # bash -c reads $BASH_ENV first
    root = stage.root_image().lower()
    if any(word in root for word in ("windows", "nanoserver", "servercore")):
        return None, None  # the shell there is cmd or powershell
    why = _argv_changes(ins, images)
    if why is not None:
        return None, why
    return json.dumps(words, ensure_ascii=False), None


@rule(
    "JT304",
    "shell-form-command",
    Category.PYTHON,
    Severity.WARNING,
    "shell-form CMD or ENTRYPOINT",
    what="Flags CMD/ENTRYPOINT written in shell form (`CMD python app.py`).",
    why="""
        Shell form runs `/bin/sh -c "..."` as PID 1; `docker stop`'s SIGTERM goes to the
        shell, which does not forward it: the app is killed after the 10 s timeout instead
        of shutting down cleanly.
    """,
    example="CMD gunicorn app:app",
    use_instead='CMD ["gunicorn", "app:app"]',
    fix="""
        Safe for a CMD: rewrites to exec form only when the container then runs the same argv. The
        command must have no shell syntax (no variables, quotes, operators, globs or
        assignments), not start with a shell builtin or reserved word (`echo`, `exec`,
        `cd`...), and run under `/bin/sh -c` (or a `SHELL` such as `bash -o pipefail -c`). A
        CMD is not rewritten while an ENTRYPOINT is in effect (set in its stage or a parent
        stage, or possibly by a base image other than well-known official ones such as
        `python` or `debian` that set none): the ENTRYPOINT would get other arguments. An
        ENTRYPOINT is not rewritten while a CMD is in effect for it (before it in its stage,
        or in a stage built FROM it): exec form appends the CMD, shell form passes it as
        `$0 $@`. The finding then says why it was not rewritten. An ENTRYPOINT rewrite is
        always unsafe: `docker run IMAGE args` appends args to an exec-form ENTRYPOINT,
        while the shell form ignored them, so what such a run does changes.
    """,
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3025", "buildkit": "JSONArgsRecommended"},
    notes="Like hadolint, applies to every stage; unlike it, `HEALTHCHECK CMD` in shell form "
    "is not flagged (the check is not PID 1, so signals do not matter).",
)
def shell_form(ctx: RuleContext) -> Iterator[Finding]:
    images = _image_commands(ctx.dockerfile)
    for ins in ctx.dockerfile.instructions:
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.json_form and ins.text.strip():
            exec_form, why_not = _exec_form(ins, images)
            edits = [Edit(ins.body.offsets[0], ins.end, exec_form)] if exec_form else []
            message = f"shell-form {ins.keyword}: signals go to /bin/sh, not the app"
            if why_not:
                message += f" (not rewritten: {why_not})"
            safety = None
            if edits and ins.keyword == "ENTRYPOINT":
                # `docker run IMAGE args` passes args to an exec-form ENTRYPOINT; the shell
                # form ignored them: the rewrite changes what such a run does
                safety = FixSafety.UNSAFE
                message += (
                    " (rewrite is unsafe: `docker run IMAGE args` would pass args to it, "
                    "which the shell form ignores)"
                )
            yield ctx.report(message, ins, edits=edits, safety=safety)


@rule(
    "JT305",
    "no-healthcheck",
    Category.PYTHON,
    Severity.INFO,
    "a service image without HEALTHCHECK",
    what="Notes a final stage that EXPOSEs a port but has no HEALTHCHECK.",
    why="Without a health check the engine (and compose `depends_on: service_healthy`) "
    "cannot tell a hung service from a working one.",
    example='EXPOSE 8000\nCMD ["gunicorn", "app:app"]',
    use_instead='HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.'
    "request; urllib.request.urlopen('http://127.0.0.1:8000/health')\"",
    equivalents={"checkov": "CKV_DOCKER_2"},
)
def no_healthcheck(ctx: RuleContext) -> Iterator[Finding]:
    stage = ctx.dockerfile.final_stage
    if stage is None:
        return
    instrs = list(stage.all_instructions())
    expose = [i for i in instrs if i.keyword == "EXPOSE"]
    if expose and not any(i.keyword == "HEALTHCHECK" for i in instrs):
        yield ctx.report("service image (EXPOSE) without HEALTHCHECK", expose[-1])
