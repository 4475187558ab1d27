"""Compose rules: services whose Dockerfiles start alike should share a base image."""
