# Expert version of CTFd's Dockerfile: same requirements.txt (and plugin requirements), same
# base, same user id, entrypoint and port. Built as upstream: docker build -f <this file> .
FROM python:3.11-slim-bookworm AS build
ENV PATH="/opt/venv/bin:$PATH" \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libffi-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/venv
# dependencies before the code: a source change no longer reinstalls them
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
COPY CTFd/plugins /tmp/plugins
RUN for d in /tmp/plugins/*; do \
        if [ -f "$d/requirements.txt" ]; then pip install -r "$d/requirements.txt"; fi; \
    done

FROM python:3.11-slim-bookworm AS release
WORKDIR /opt/CTFd
# libffi8 and libssl3 (what the original installs here) are already in the base image
# /opt/CTFd itself must be the user's too: the filesystem cache creates /opt/CTFd/.data
RUN useradd --no-log-init --shell /bin/bash -u 1001 ctfd \
    && mkdir -p /var/log/CTFd /var/uploads \
    && chown 1001:1001 /var/log/CTFd /var/uploads /opt/CTFd
COPY --from=build /opt/venv /opt/venv
# owned by the app user in the one layer that copies it (CTFd writes its SQLite database,
# uploads and .ctfd_secret_key under /opt/CTFd); the entrypoint is already executable in git
COPY --chown=1001:1001 . /opt/CTFd
ENV PATH="/opt/venv/bin:$PATH"
USER 1001
EXPOSE 8000
ENTRYPOINT ["/opt/CTFd/docker-entrypoint.sh"]
