"""HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from dotenv import load_dotenv
from fastapi import FastAPI

from .db import engine
from .plugins.discounts import discount

if TYPE_CHECKING:
    from yaml import SafeLoader  # only for annotations

load_dotenv()
app = FastAPI()


@app.get("/price/{cents}")
def price(cents: int) -> dict[str, int]:
    import orjson  # lazy: imported on first request

    orjson.dumps({"cents": cents})
    return {"cents": discount(cents), "pool": engine.pool.size()}


@click.command()
def show_routes() -> None:
    for route in app.routes:
        click.echo(route.path)
