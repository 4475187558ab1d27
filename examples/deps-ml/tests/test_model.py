import pytest

from app.model import predict, train


@pytest.fixture(scope="module")
def model():
    return train()


def test_predict(model):
    assert abs(predict(model, 1.0) - 3.0) < 0.2
