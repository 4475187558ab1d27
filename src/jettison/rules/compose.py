"""Compose rules: services that should share a base image."""

from __future__ import annotations

from dataclasses import dataclass

from jettison.context.compose import ComposeService
from jettison.dockerfile import Dockerfile
from jettison.rules.registry import Rule


@dataclass
class ComposeInput:
    path: str
    services: list[ComposeService]
    dockerfiles: dict[str, Dockerfile]  # service name -> parsed Dockerfile
    rule: Rule
