"""Python runtime rules: interpreter settings, production servers, worker recycling, signals."""

from __future__ import annotations

import json
import re
import shlex
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
        files into the container layer (seeds 000, 001).
    """,
    example='FROM python:3.11-slim\nCMD ["python", "app.py"]',
    use_instead="FROM python:3.11-slim\nENV PYTHONDONTWRITEBYTECODE=1 \\\n    "
    'PYTHONUNBUFFERED=1\nCMD ["python", "app.py"]',
    fix="Safe: adds one ENV after the final stage's FROM with the missing settings.",
    fix_safety=FixSafety.SAFE,
)
def python_env(ctx: RuleContext) -> Iterator[Finding]:
    stage = ctx.dockerfile.final_stage
    if stage is None or not is_python_stage(stage):
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
    "after N requests/tasks bounds memory (seeds 000 and 001 both set this).",
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


# shell builtins and keywords: as the first word of an exec-form command they would not exist
_SHELL_WORDS = {
    "exec",
    "cd",
    "export",
    "source",
    ".",
    "set",
    "eval",
    "ulimit",
    "umask",
    "trap",
    "exit",
    "if",
    "for",
    "while",
    "case",
    "until",
    "test",
    "[",
    "true",
    "false",
    "read",
    "command",
    "wait",
    "alias",
    "unset",
    "shift",
    "env",
}


def _exec_form(ins: Instruction) -> str | None:
    """The JSON form of a shell-form command when that does not change its meaning."""
    text = ins.text.strip()
    if not text or re.search(r"[$`|&;<>(){}*?~\[\]#\\\n'\"=]", text):
        return None  # expansions, operators, quotes, globs or `NAME=value` need a shell
    words = text.split()
    if words[0] in _SHELL_WORDS:
        return None
    if (
        ins.keyword == "ENTRYPOINT"
        and ins.stage is not None
        and any(i.keyword == "CMD" for i in ins.stage.all_instructions())
    ):
        return None  # shell-form ENTRYPOINT ignores CMD; exec form would append it
    return json.dumps(words)


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
    fix="Safe: rewrites to exec form when the command has no shell syntax (no variables, "
    "quotes, operators or globs), so its meaning is unchanged.",
    fix_safety=FixSafety.SAFE,
    equivalents={"hadolint": "DL3025", "buildkit": "JSONArgsRecommended"},
    notes="Like hadolint, applies to every stage; unlike it, `HEALTHCHECK CMD` in shell form "
    "is not flagged (the check is not PID 1, so signals do not matter).",
)
def shell_form(ctx: RuleContext) -> Iterator[Finding]:
    for ins in ctx.dockerfile.instructions:
        if ins.keyword in ("CMD", "ENTRYPOINT") and not ins.json_form and ins.text.strip():
            exec_form = _exec_form(ins)
            edits = [Edit(ins.body.offsets[0], ins.end, exec_form)] if exec_form else []
            yield ctx.report(
                f"shell-form {ins.keyword}: signals go to /bin/sh, not the app", ins, edits=edits
            )


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
