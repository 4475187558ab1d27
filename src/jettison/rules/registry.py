"""The rule registry: every rule is a small function over the model, with its own docs.

A rule is declared with :func:`rule`; its docs are fields of the declaration (what it does,
why it matters, example, use instead, fix safety), which ``jettison rules`` prints and
``docs/rules/`` is generated from, so code and docs cannot drift apart.

The registry owns every code: a rule's is declared by its :func:`rule`, and the codes that
are no rule (``jettison deps``' JT9xx, ``jettison inspect``'s JIxxx, the multi-stage
conversion) are declared in :mod:`jettison.rules.codes`; :func:`all_codes` lists both, and
a rule cannot take a code already used.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jettison.findings import Edit, Finding, Fix, FixSafety, Severity
from jettison.rules.codes import OTHER_CODES, CodeInfo

if TYPE_CHECKING:
    from jettison.dockerfile import Dockerfile, Instruction, Stage


class Category(StrEnum):
    SIZE = "size"
    CACHE = "cache"
    PYTHON = "python"
    SECURITY = "security"
    CORRECTNESS = "correctness"
    CONTEXT = "context"
    COMPOSE = "compose"


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    example: str
    use_instead: str
    fix: str = "No automatic fix."
    notes: str = ""


@dataclass(frozen=True)
class ImageChanges:
    """What a safe fix may change in the built image, declared with the rule and checked by
    building (``jettison.fixes.semantic_check``): paths it may remove or rewrite (globs of
    absolute paths; ``*`` crosses ``/``) and config keys it may change."""

    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    why: str = ""


@dataclass
class Rule:
    code: str
    name: str
    category: Category
    severity: Severity
    summary: str
    # the docs as declared (what, why, example, use_instead, fix, notes), dedented by
    # :attr:`doc` on first use: an audit never reads them
    doc_text: tuple[str, str, str, str, str, str]
    # a Dockerfile rule takes a RuleContext; context/compose rules take their own input
    check: Callable[[Any], Iterable[Finding]] | None
    fix_safety: FixSafety | None = None
    equivalents: dict[str, str] = field(default_factory=dict)
    # which input the rule reads: a Dockerfile, a build context or a compose file
    scope: str = "dockerfile"
    image_changes: ImageChanges = ImageChanges()  # a safe fix's declared effect
    # off unless selected by its own code: a trade the user chooses (byte code vs start-up)
    opt_in: bool = False

    @property
    def fixable(self) -> bool:
        return self.fix_safety is not None

    @cached_property
    def doc(self) -> RuleDoc:
        from textwrap import dedent  # imported here: only the rule docs and SARIF need it

        what, why, example, use_instead, fix, notes = (dedent(t).strip() for t in self.doc_text)
        return RuleDoc(what, why, example, use_instead, fix, notes)


REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    category: Category,
    severity: Severity,
    summary: str,
    *,
    what: str,
    why: str,
    example: str,
    use_instead: str,
    fix: str = "No automatic fix.",
    notes: str = "",
    fix_safety: FixSafety | None = None,
    equivalents: dict[str, str] | None = None,
    scope: str = "dockerfile",
    image_changes: ImageChanges | None = None,
    opt_in: bool = False,
) -> Callable[[Callable[[Any], Iterable[Finding]]], Callable[[Any], Iterable[Finding]]]:
    """Declare a rule; the decorated function yields findings via ``ctx.report``."""

    def register(func: Callable[[Any], Iterable[Finding]]) -> Callable[[Any], Iterable[Finding]]:
        if code in REGISTRY or code in OTHER_CODES:
            raise ValueError(f"duplicate rule code {code}")
        REGISTRY[code] = Rule(
            code=code,
            name=name,
            category=category,
            severity=severity,
            summary=summary,
            doc_text=(what, why, example, use_instead, fix, notes),
            check=func,
            fix_safety=fix_safety,
            equivalents=dict(equivalents or {}),
            scope=scope,
            image_changes=image_changes or ImageChanges(),
            opt_in=opt_in,
        )
        return func

    return register


def _load_rules() -> None:
    """Import every module of the rule families once: each rule registers itself."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import jettison.rules

    for info in pkgutil.walk_packages(jettison.rules.__path__, "jettison.rules."):
        importlib.import_module(info.name)


_loaded = False


def all_rules() -> list[Rule]:
    _load_rules()
    return [REGISTRY[c] for c in sorted(REGISTRY)]


def all_codes() -> dict[str, CodeInfo]:
    """Every code jettison prints: the rules' and the other ones of :mod:`jettison.rules.codes`
    (``jettison deps``, ``jettison inspect``, the multi-stage conversion)."""
    out = {r.code: CodeInfo(r.code, r.name, f"{r.scope} rule") for r in all_rules()}
    out.update(OTHER_CODES)
    return dict(sorted(out.items()))


def get_rule(code: str) -> Rule | None:
    all_rules()
    return REGISTRY.get(code.upper())


class RuleContext:
    """What a rule sees: the parsed Dockerfile plus helpers to report findings with fixes."""

    def __init__(
        self, dockerfile: Dockerfile, rule: Rule, trusted_registries: tuple[str, ...] = ()
    ) -> None:
        self.dockerfile = dockerfile
        self.rule = rule
        # the registries base images may come from (configured; empty: any), for JT412
        self.trusted_registries = trusted_registries

    @property
    def stages(self) -> list[Stage]:
        return self.dockerfile.stages

    def runs(self, final_only: bool = False) -> Iterator[Instruction]:
        for stage in self.dockerfile.stages:
            if final_only and not stage.in_final_image:
                continue
            for ins in stage.instructions:
                if ins.keyword == "RUN":
                    yield ins
                elif ins.sub_instruction is not None and ins.sub_instruction.keyword == "RUN":
                    yield ins.sub_instruction  # ONBUILD RUN: runs in every image built FROM it

    def report(
        self,
        message: str,
        at: Instruction | None = None,
        *,
        start: int | None = None,
        end: int | None = None,
        edits: Iterable[Edit] | None = None,
        fix_description: str = "",
        safety: FixSafety | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        df = self.dockerfile
        if start is None:
            start = at.start if at is not None else 0
        if end is None:
            end = at.end if at is not None else start
        line = df.line_of(start)
        end_line = (
            at.end_line if at is not None and end >= at.end else df.line_of(max(start, end - 1))
        )
        column = start - df.line_starts[line - 1] + 1
        if line == 1 and df.source.startswith("\ufeff") and column > 1:
            column -= 1  # a byte-order mark is not a column (BuildKit drops it too)
        fix = None
        edit_list = tuple(sorted(edits)) if edits is not None else ()
        if edit_list:
            fix = Fix(
                fix_description or self.rule.summary,
                safety or self.rule.fix_safety or FixSafety.UNSAFE,
                edit_list,
            )
        return Finding(
            code=self.rule.code,
            message=message,
            path=df.path,
            line=line,
            end_line=end_line,
            column=column,
            severity=severity or self.rule.severity,
            fix=fix,
            equivalents=dict(self.rule.equivalents),
            rule_name=self.rule.name,
        )
