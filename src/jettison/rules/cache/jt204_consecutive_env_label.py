"""JT204 consecutive-env-label: several consecutive ENV, LABEL or ARG instructions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from jettison.dockerfile import Instruction
from jettison.findings import Edit, Finding, FixSafety, Severity
from jettison.rules.registry import Category, RuleContext, rule


@rule(
    "JT204",
    "consecutive-env-label",
    Category.CACHE,
    Severity.INFO,
    "several consecutive ENV, LABEL or ARG instructions",
    what="Flags ENV, LABEL or ARG instructions that directly follow another of the same kind.",
    why="Each one is an instruction and an image-config layer entry to rebuild; one "
    "instruction with several pairs is shorter and rebuilds once.",
    example="ENV OMP_NUM_THREADS=1\nENV OMP_PROC_BIND=spread",
    use_instead="ENV OMP_NUM_THREADS=1 \\\n    OMP_PROC_BIND=spread",
    fix="Safe: merges ENV and LABEL runs into one instruction. An ENV whose value refers to a "
    "name set by an ENV just before it starts a new run (a single ENV expands its values "
    "with the variables as they were before it), so only runs that can merge are reported. "
    "ARGs are reported only: several names in one ARG need a newer Dockerfile "
    "frontend than Docker 20.10's built-in one. The merged lines are continued with the "
    "file's escape character (a backtick under ``# escape=` ``).",
    fix_safety=FixSafety.SAFE,
)
def consecutive_env(ctx: RuleContext) -> Iterator[Finding]:

    src = ctx.dockerfile.source
    for stage in ctx.stages:
        group: list[Instruction] = []
        for ins in [*stage.instructions, None]:
            if (
                ins is not None
                and group
                and ins.keyword == group[0].keyword
                and ins.keyword in ("ENV", "LABEL", "ARG")
                and not ins.comments_above
                and _only_blank_between(src, group[-1], ins)
            ):
                group.append(ins)
                continue
            for run in _mergeable_runs(group):
                edits: list[Edit] = []
                legacy = any(
                    not member.text.split() or "=" not in member.text.split()[0] for member in run
                )  # the legacy "ENV key value" form holds one pair and cannot be joined
                # one ARG with several names needs a newer Dockerfile frontend than some
                # engines have (20.10's built-in one): report, do not rewrite
                if not legacy and run[0].keyword != "ARG":
                    joint = f" {ctx.dockerfile.directives.escape}\n    "  # the file's escape
                    for prev, member in itertools.pairwise(run):
                        edits.append(Edit(prev.end, member.body.offsets[0], joint))
                yield ctx.report(
                    f"{len(run)} consecutive {run[0].keyword} instructions; merge them into one",
                    run[1],
                    edits=edits,
                )
            group = [ins] if ins is not None and ins.keyword in ("ENV", "LABEL", "ARG") else []


def _mergeable_runs(group: list[Instruction]) -> list[list[Instruction]]:
    """The parts of a group of consecutive ENVs that can become one instruction.

    One ENV expands every value with the variables as they were before it, so an ENV whose
    value refers to a name set earlier in the group (``ENV JAVA_HOME=/opt/java`` then
    ``ENV PATH=$JAVA_HOME/bin:$PATH``) cannot join it: the group is split there, and only
    parts of two or more are reported. LABEL values are no variables, and one ARG expands
    its names in order, so those groups stay whole."""
    from jettison.dockerfile.expand import references

    if len(group) < 2:
        return []
    if group[0].keyword != "ENV":
        return [group]
    runs: list[list[Instruction]] = [[]]
    names: set[str] = set()
    for member in group:
        values = [member.args[i + 1] for i in range(0, len(member.args) - 1, 2)]
        if runs[-1] and any(references(v) & names for v in values):
            runs.append([])
            names = set()
        runs[-1].append(member)
        names |= {member.args[i] for i in range(0, len(member.args), 2)}
    return [run for run in runs if len(run) > 1]


def _only_blank_between(src: str, a: Instruction, b: Instruction) -> bool:
    return not src[a.end : b.start].strip()
