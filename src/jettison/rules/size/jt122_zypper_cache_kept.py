"""JT122 zypper-cache-kept, declared by the yum/dnf/zypper factory in _rpm_cache.py."""

from __future__ import annotations

from jettison.rules.size._rpm_cache import rpm_cache_rule

rpm_cache_rule("JT122", "zypper", "DL3036")
