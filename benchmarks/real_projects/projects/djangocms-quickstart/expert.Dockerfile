# Expert version of django-cms-quickstart's Dockerfile: same requirements.txt, same
# python:3.11 family (slim), same CMD and port.

# Build stage: uwsgi and psycopg2 have no wheels and compile here.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN python -m pip install --upgrade pip
COPY requirements.txt .
RUN python -m pip install -r requirements.txt

# Run stage: libpq5 is the only system library the built packages need.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --create-home app \
    && mkdir -p /data/media \
    && chown -R app:app /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
RUN python manage.py collectstatic --noinput
# Docker sets net.ipv4.ip_unprivileged_port_start=0 in containers, so uwsgi can still bind :80
USER app
CMD uwsgi --http=0.0.0.0:80 --module=backend.wsgi
