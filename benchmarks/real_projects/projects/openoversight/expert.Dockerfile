# Expert version of dockerfiles/web/Dockerfile-prod (OpenOversight), built the same way:
#   docker build -f <this file> --target production --build-arg PYTHON_VERSION=3.11 .
ARG PYTHON_VERSION=3.11

# Build stage: the compiler and libpq headers only exist here (psycopg2 builds from source).
FROM python:${PYTHON_VERSION}-slim-bullseye AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# Run stage: libpq5 is the only system library the built wheels need
# (Pillow's wheel bundles libjpeg/zlib).
FROM python:${PYTHON_VERSION}-slim-bullseye AS production
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 openoversight
COPY --from=build /opt/venv /opt/venv
WORKDIR /usr/src/app
COPY OpenOversight OpenOversight
# entrypoint_prod.sh copies the static assets into OpenOversight/static at start-up
RUN mkdir -p OpenOversight/static && chown openoversight OpenOversight/static
USER openoversight
CMD ["OpenOversight/scripts/entrypoint_prod.sh"]
