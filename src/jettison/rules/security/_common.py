"""Helpers shared by several security rules: the final stage's users, image references."""

from __future__ import annotations

from jettison.dockerfile import Instruction, Stage
from jettison.rules.registry import RuleContext


def final_users(ctx: RuleContext) -> tuple[Stage | None, list[Instruction]]:
    stage = ctx.dockerfile.final_stage
    if stage is None or stage.root_image() == "scratch":
        return None, []
    return stage, [i for i in stage.all_instructions() if i.keyword == "USER"]


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    last = ref.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    return ref, tag, digest
