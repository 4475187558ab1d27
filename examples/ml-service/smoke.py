"""Smoke check: train, score one row through the API (no external service)."""

from fastapi.testclient import TestClient

from service import app

client = TestClient(app)
resp = client.post("/score", json={"age": 1.0, "income": 2.0, "visits": 1.0})
assert resp.status_code == 200, resp.text
assert resp.json()["probability"] > 0.5, resp.json()
print("ml-service smoke ok", resp.json())
