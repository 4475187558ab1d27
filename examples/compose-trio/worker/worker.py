"""Background worker: polls for jobs (here: a local queue file) and processes them."""

import os
import sys
import time

import yaml
from pydantic import BaseModel


class Job(BaseModel):
    name: str
    size: int


def process(job: Job) -> int:
    return sum(range(job.size))


def main() -> None:
    poll = float(os.environ.get("POLL_SECONDS", "2"))
    print("worker started", flush=True)
    once = "--once" in sys.argv
    while True:
        jobs = yaml.safe_load(os.environ.get("JOBS", "[{name: demo, size: 10}]"))
        for raw in jobs:
            print(f"{raw['name']}: {process(Job(**raw))}", flush=True)
        if once:
            return
        time.sleep(poll)


if __name__ == "__main__":
    main()
