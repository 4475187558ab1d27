# Expert version of bookwyrm's Dockerfile (same dependency groups' runtime part, same
# entrypoint and volumes). Built as upstream: docker build -f <this file> .

# Build stage: every pinned dependency has a manylinux wheel for CPython 3.11, so the
# slim image is enough (no compiler, no -dev packages).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH
RUN python -m venv /venv
COPY pyproject.toml /app/
WORKDIR /app
# the runtime group only: the dev group (mypy, ruff, pytest, stubs) is not used by any service
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "pip>=25.1.0" && pip install --group main

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH \
    SYSTEM_SASS=True
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext tidy libpq5 libsass1 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --home-dir /app --no-create-home bookwyrm \
    && mkdir -p /app/exports /app/images /app/static \
    && chown bookwyrm:bookwyrm /app/exports /app/images /app/static

COPY --from=build /venv /venv
COPY entrypoint.sh /entrypoint.sh
COPY README.md LICENSE.md VERSION manage.py gunicorn.conf.py /app/
COPY celerywyrm /app/celerywyrm
COPY locale /app/locale
COPY bookwyrm /app/bookwyrm
# compile_themes (run by the entrypoint) writes the compiled CSS beside the SCSS sources
RUN python3 -m compileall -q /app/bookwyrm /app/celerywyrm /app/manage.py /app/gunicorn.conf.py \
    && chown -R bookwyrm:bookwyrm /app/bookwyrm/static/css/themes

USER bookwyrm
VOLUME ["/app/exports", "/app/images", "/app/static"]
ENTRYPOINT ["/entrypoint.sh"]
