"""All rule families; importing this package registers every rule."""

from jettison.rules import (  # noqa: F401
    cache,
    compose,
    context,
    correctness,
    python,
    runtime_image,
    security,
    size,
)
