"""Smoke check without a database: the driver loads libpq and the app answers /health."""

import psycopg2

from app import app

assert psycopg2.__libpq_version__ > 0
resp = app.test_client().get("/health")
assert resp.status_code == 200, resp.status_code
print("web-psycopg smoke ok", resp.get_json())
