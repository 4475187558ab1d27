"""What the compose rules read: one compose file and its services' Dockerfiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: every audit imports the rules, few read a compose file
    from jettison.compose import ComposeService
    from jettison.dockerfile import Dockerfile
    from jettison.rules.registry import Rule


@dataclass
class ComposeInput:
    path: str
    services: list[ComposeService]
    dockerfiles: dict[str, Dockerfile]  # service name -> parsed Dockerfile
    rule: Rule
