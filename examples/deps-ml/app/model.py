"""A tiny model trained at start-up on generated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

CONFIG = Path(__file__).with_name("config.yaml")


def load_config() -> dict[str, float]:
    import yaml  # lazy: only read when the service starts

    return dict(yaml.safe_load(CONFIG.read_text()))


def train() -> LinearRegression:
    cfg = load_config()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(0, 10, 200)})
    frame["y"] = cfg["slope"] * frame["x"] + cfg["intercept"] + rng.normal(0, 0.1, 200)
    return LinearRegression().fit(frame[["x"]], frame["y"])


def predict(model: LinearRegression, x: float) -> float:
    return float(model.predict(pd.DataFrame({"x": [x]}))[0])
