"""JT105 yum-cache-kept, declared by the yum/dnf/zypper factory in _rpm_cache.py."""

from __future__ import annotations

from jettison.rules.size._rpm_cache import rpm_cache_rule

rpm_cache_rule("JT105", "yum", "DL3032")
