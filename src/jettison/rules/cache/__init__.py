"""Build-cache and speed rules: instruction order, stale apt caches, cache mounts, layers."""
