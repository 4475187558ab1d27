import pytest

from shop.api import price


def test_price() -> None:
    assert price(100)["cents"] == 90


@pytest.mark.parametrize("cents", [0, 10])
def test_zero(cents: int) -> None:
    assert price(cents)["cents"] <= cents
