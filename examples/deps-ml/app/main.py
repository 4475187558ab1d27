"""HTTP API of the prediction service."""

from fastapi import FastAPI

from .model import predict, train

try:
    import orjson  # optional speed-up, not required
except ImportError:
    orjson = None

app = FastAPI()
MODEL = train()


@app.get("/predict")
def get_prediction(x: float) -> dict[str, float]:
    return {"x": x, "y": predict(MODEL, x)}
