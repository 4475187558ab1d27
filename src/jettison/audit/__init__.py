"""``jettison audit`` as a library.

- :mod:`~jettison.audit.discovery`: which files the verbs read (skipped directories,
  Dockerfile and compose file names) and :func:`discover`;
- :mod:`~jettison.audit.checks`: the rules on one Dockerfile, suppressions and overrides;
- :mod:`~jettison.audit.contexts`: compose files and build contexts;
- :mod:`~jettison.audit.run`: :func:`audit_paths`, the public entry, with the process pool;
- :mod:`~jettison.audit.suppress`: inline ignore comments;
- :mod:`~jettison.audit.codes`: the codes ``--select``/``--ignore`` accept.

The names below load their module on first use, so a verb that only asks which files are
compose files does not import the rules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jettison.audit.checks import (
        audit_dockerfile_bytes,
        audit_dockerfile_path,
        check_dockerfile,
        finalize,
        select_rules,
    )
    from jettison.audit.discovery import Inputs, discover, is_compose_name, is_dockerfile_name
    from jettison.audit.run import AuditResult, audit_dockerfiles, audit_paths
    from jettison.audit.suppress import Suppressions

_HOMES = {
    "audit_dockerfile_bytes": "checks",
    "audit_dockerfile_path": "checks",
    "check_dockerfile": "checks",
    "finalize": "checks",
    "select_rules": "checks",
    "Inputs": "discovery",
    "discover": "discovery",
    "is_compose_name": "discovery",
    "is_dockerfile_name": "discovery",
    "AuditResult": "run",
    "audit_dockerfiles": "run",
    "audit_paths": "run",
    "Suppressions": "suppress",
}

__all__ = [
    "AuditResult",
    "Inputs",
    "Suppressions",
    "audit_dockerfile_bytes",
    "audit_dockerfile_path",
    "audit_dockerfiles",
    "audit_paths",
    "check_dockerfile",
    "discover",
    "finalize",
    "is_compose_name",
    "is_dockerfile_name",
    "select_rules",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"jettison.audit.{home}"), name)
