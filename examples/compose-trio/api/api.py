"""Front service: accepts jobs, validates them with pydantic."""

from flask import Flask, jsonify, request
from pydantic import BaseModel, ValidationError

app = Flask(__name__)


class Job(BaseModel):
    name: str
    size: int


@app.get("/")
def index():
    return jsonify(service="api")


@app.post("/jobs")
def submit():
    try:
        job = Job.model_validate(request.get_json(force=True))
    except ValidationError as exc:
        return jsonify(error=exc.errors()), 422
    return jsonify(accepted=job.model_dump()), 202
