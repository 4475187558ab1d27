"""Errors users see when an image cannot be read: one line, exit code 2."""

from __future__ import annotations

from jettison.errors import JettisonError


class ImageError(JettisonError):
    """The image could not be found or read."""


class ImageNotFoundError(ImageError):
    """No such image, archive, layout or registry reference."""


class CorruptImageError(ImageError):
    """A tar, JSON document or blob is malformed, truncated or of an unknown kind."""
