"""Smoke check inside the image: imports the app, its workers and its URL-named drivers."""

import importlib

import shop.api
import shop.tasks

for module in ("uvicorn.workers", "psycopg2", "redis", "gunicorn"):
    importlib.import_module(module)
assert shop.api.price(100)["cents"] == 90
print("smoke ok")
