# Expert version of testdrivenio/fastapi-celery's project/Dockerfile: same base tag, same
# pinned requirements, same WORKDIR and (inherited) CMD; docker-compose.yml runs web,
# worker and dashboard from this one image with their own commands.
FROM python:3.11.2-slim-buster

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /usr/src/app

# Every requirement is a pure-Python or manylinux wheel: no compiler, no second stage.
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -r requirements.txt

RUN useradd --system --uid 10001 --no-create-home app
COPY . .
# The worker's command writes logs/celery.log under the WORKDIR: only that folder is
# the app user's; the code stays root-owned.
RUN mkdir -p logs && chown app:app logs
USER app
