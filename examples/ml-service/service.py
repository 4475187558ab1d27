"""Scores feature rows with a model trained at start-up on a synthetic data set."""

import os

import numpy as np
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["age", "income", "visits"]


def train() -> object:
    rng = np.random.default_rng(int(os.environ.get("MODEL_SEED", "42")))
    frame = pd.DataFrame(rng.normal(size=(500, 3)), columns=FEATURES)
    label = (frame["income"] + 0.5 * frame["visits"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(frame, label)
    return model


MODEL = train()
app = FastAPI()


class Row(BaseModel):
    age: float
    income: float
    visits: float


@app.get("/")
def index() -> dict[str, str]:
    return {"service": "ml-service", "features": ",".join(FEATURES)}


@app.post("/score")
def score(row: Row) -> dict[str, float]:
    frame = pd.DataFrame([row.model_dump()], columns=FEATURES)
    return {"probability": float(MODEL.predict_proba(frame)[0, 1])}
