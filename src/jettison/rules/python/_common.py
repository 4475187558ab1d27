"""Helpers shared by the Python rules (and official_image, which the pipefail rule reads too)."""

from __future__ import annotations

import shlex

from jettison.dockerfile import Dockerfile, Instruction


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
