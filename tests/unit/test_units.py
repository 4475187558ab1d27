"""The one byte formatter (jettison.units) and its variants, as each output prints them."""

from __future__ import annotations

import pytest

from jettison.units import human_bytes, kilo_or_megabytes, megabytes


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_234_567, "1.2 MB"), (5e12, "5.0 TB")],
)
def test_decimal_units_as_docker_images_prints_them(n: float, text: str) -> None:
    assert human_bytes(n) == text


def test_variants() -> None:
    assert human_bytes(None) == "-"  # bench tables
    assert human_bytes(None, missing="?") == "?"  # deps messages
    assert human_bytes(1.2e12, largest="GB") == "1200.0 GB"  # context rules, deps
    assert human_bytes(-2000) == "-2.0 kB"
    assert megabytes(1_250_000) == "1.2 MB"
    assert megabytes(1_250_000, 0) == "1 MB"
    assert kilo_or_megabytes(99_999) == "100 kB"
    assert kilo_or_megabytes(100_000) == "0.1 MB"
