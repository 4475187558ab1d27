# Expert version of healthchecks' docker/Dockerfile (built from the repository root, as
# docker/docker-compose.yml does). Same bases, same wheels, same user, command and
# healthcheck. Changes: no recommended packages, no unused libxml2, pip's cache in a cache
# mount (a dependency change rebuilds only what changed), no pip upgrade in the final image
# (it only added a second pip), the context without .git and stuff/
# (expert.Dockerfile.dockerignore) instead of copying and deleting them.
FROM python:3.12-slim-bookworm AS builder

COPY requirements.txt /tmp
RUN apt-get update && \
    apt-get install -y --no-install-recommends build-essential git libpq-dev libmariadb-dev \
        libffi-dev libssl-dev libcurl4-openssl-dev libpython3-dev rustc pkg-config && \
    rm -rf /var/lib/apt/lists/*
ENV CARGO_NET_GIT_FETCH_WITH_CLI true
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels apprise uwsgi mysqlclient minio -r /tmp/requirements.txt

FROM python:3.12-slim-bookworm

RUN useradd --system hc
ENV PYTHONUNBUFFERED=1
WORKDIR /opt/healthchecks

# the libraries the wheels load (ldd): libxml2 (and libicu72, 36 MB) is loaded by none of
# them; upstream dropped it too, later (de4745e9)
RUN apt-get update && \
    apt-get install -y --no-install-recommends libcurl4 libpq5 libmariadb3 && \
    rm -rf /var/lib/apt/lists/*

RUN --mount=type=bind,target=/wheels,source=/wheels,from=builder \
    pip install --no-cache-dir /wheels/*

COPY . /opt/healthchecks/

RUN rm -f /opt/healthchecks/hc/local_settings.py && \
    DEBUG=False SECRET_KEY=build-key ./manage.py collectstatic --noinput && \
    DEBUG=False SECRET_KEY=build-key ./manage.py compress && \
    mkdir /data && chown hc /data

USER hc

ENV USE_GZIP_MIDDLEWARE=True
HEALTHCHECK --interval=10s --start-period=10s --retries=1 CMD /opt/healthchecks/docker/fetchstatus.sh
CMD [ "uwsgi", "/opt/healthchecks/docker/uwsgi.ini"]
