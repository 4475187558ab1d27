"""Background jobs; the broker is Redis, named only in configuration."""

import importlib
from pathlib import Path

from celery import Celery

yaml = importlib.import_module("yaml")
config = yaml.safe_load(Path(__file__).parent.parent.parent.joinpath("celeryconfig.yaml").read_text())
app = Celery("shop", broker=config["broker_url"])


@app.task
def send_receipt(order_id: int) -> str:
    from google.protobuf import json_format  # protobuf: a PEP 420 namespace (google.*)

    return json_format.__name__ + str(order_id)
