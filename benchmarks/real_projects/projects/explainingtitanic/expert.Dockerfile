# Expert version of oegedijk/explainingtitanic's Dockerfile: same base, same ENV, same
# apt package, same pinned requirements, same port and CMD.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=7860 \
    WEB_CONCURRENCY=1 \
    GUNICORN_TIMEOUT=60 \
    GUNICORN_PRELOAD=0

WORKDIR /app

# graphviz renders the decision-tree views at run time
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*

# All requirements are wheels (no compiler, so one stage); the pip cache stays in a
# cache mount, and pip is not upgraded in the image.
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \
    env -u PIP_NO_CACHE_DIR pip install -r requirements.txt

# The app only reads its code and pickled explainers: root-owned, run as a system user.
RUN useradd --system --uid 10001 --no-create-home app
COPY . .
USER app

EXPOSE 7860

CMD ["sh", "-c", "PRELOAD_FLAG=''; if [ \"${GUNICORN_PRELOAD:-0}\" = \"1\" ] || [ \"${GUNICORN_PRELOAD:-0}\" = \"true\" ] || [ \"${GUNICORN_PRELOAD:-0}\" = \"TRUE\" ]; then PRELOAD_FLAG='--preload'; fi; exec gunicorn ${PRELOAD_FLAG} --timeout ${GUNICORN_TIMEOUT:-60} -w ${WEB_CONCURRENCY:-1} --bind 0.0.0.0:${PORT:-8080} dashboard:app"]
