"""Simulation jobs run by the worker (broker and backend from the environment)."""

import os

from celery import Celery

app = Celery(
    "tasks",
    broker=os.environ.get("CELERY_BROKER_URL", "memory://"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://"),
)


@app.task
def run_simulation(steps: int) -> float:
    total = 0.0
    for i in range(1, steps + 1):
        total += 1.0 / (i * i)
    return total


@app.task
def health() -> str:
    return "ok"
