"""A small API whose database driver is compiled against libpq."""

import os

import psycopg2
import psycopg2.extensions
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/health")
def health():  # no database needed: reports the driver and the libpq it loaded
    return jsonify(status="ok", psycopg2=psycopg2.__version__, libpq=psycopg2.__libpq_version__)


@app.get("/items")
def items():
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        return jsonify(error="DATABASE_URL is not set"), 503
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name FROM items ORDER BY id")
        return jsonify([{"id": i, "name": n} for i, n in cur.fetchall()])


@app.get("/")
def index():
    return jsonify(service="web-psycopg", quoted=psycopg2.extensions.adapt("it's").getquoted().decode())
