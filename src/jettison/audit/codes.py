"""The rule codes ``--select``/``--ignore`` and the config accept, and their validation."""

from __future__ import annotations

from jettison.config import Config
from jettison.errors import JettisonError
from jettison.rules.codes import MULTISTAGE, UNUSED_DISTRIBUTIONS, UNUSED_LIBRARIES


def split_codes(values: tuple[str, ...]) -> list[str]:
    """``--select A,B --select C`` as ``[A, B, C]``, upper case."""
    return [c.strip().upper() for v in values for c in v.split(",") if c.strip()]


def check_rule_codes(config: Config) -> None:
    """A mistyped code in --select/--ignore or the config must not silently check nothing.

    Rule codes count, and so do ``MULTISTAGE``, ``UNUSEDLIBS`` and ``UNUSEDDISTS``, the codes
    of the multi-stage conversion, the unused library packages and the unused Python
    distributions, all decided on the engine
    (``jettison fix --ignore MULTISTAGE`` turns the conversion off).
    """
    from jettison.rules.registry import all_rules

    codes = [r.code for r in all_rules()]
    hadolint = {r.equivalents.get("hadolint") for r in all_rules()}
    for given in [*config.select, *config.ignore]:
        if given in hadolint:
            continue  # hadolint codes select their jettison equivalents (see config)
        if not any(code.startswith(given) for code in codes):
            if any(
                c.startswith(given) for c in (MULTISTAGE, UNUSED_LIBRARIES, UNUSED_DISTRIBUTIONS)
            ):
                continue
            raise JettisonError(
                f"unknown rule code or prefix {given!r} in --select/--ignore (see `jettison rules`)"
            )
