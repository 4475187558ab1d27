"""JT302 dev-server: a development server or debug mode is the container's command."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.python._common import argv_of, final_commands
from jettison.rules.registry import Category, RuleContext, rule

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
