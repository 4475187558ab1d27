"""Smoke check run inside the image: `python -m app.smoke` exits 0 when the service works."""

from app.main import MODEL, app
from app.model import predict

assert app.title
y = predict(MODEL, 3.0)
assert abs(y - 7.0) < 0.2, y
print(f"smoke ok: predict(3.0) = {y:.2f}")
