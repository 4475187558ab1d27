"""JT303 no-worker-recycling: gunicorn without `--max-requests` / celery without `--max-tasks-
per-child`.
"""

from __future__ import annotations

from collections.abc import Iterator

from jettison.findings import Finding, Severity
from jettison.rules.python._common import argv_of, final_commands
from jettison.rules.registry import Category, RuleContext, rule


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
