# Expert version of changedetection.io's Dockerfile: same bases (PYTHON_VERSION), same
# requirements and optional Playwright, the same --target layout copied into /usr/local with
# PYTHONPATH, same command and port. Changes: pip's downloads in a cache mount (a
# requirements change re-downloads nothing; the original kept the cache in a builder layer),
# the two small RUNs of the final stage in one, the test suite left out of the image
# (expert.Dockerfile.dockerignore).
ARG PYTHON_VERSION=3.10

FROM python:${PYTHON_VERSION}-slim-bookworm as builder

# See `cryptography` pin comment in requirements.txt
ARG CRYPTOGRAPHY_DONT_BUILD_RUST=1

RUN apt-get update && apt-get install -y --no-install-recommends \
    g++ \
    gcc \
    libc-dev \
    libffi-dev \
    libjpeg-dev \
    libssl-dev \
    libxslt-dev \
    make \
    zlib1g-dev && \
    rm -rf /var/lib/apt/lists/*

COPY requirements.txt /requirements.txt

RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --target=/dependencies -r /requirements.txt

# Playwright stays optional, as upstream: a failed install leaves the image usable
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --target=/dependencies playwright~=1.41.2 \
    || echo "WARN: Failed to install Playwright. The application can still run, but the Playwright option will be disabled."

FROM python:${PYTHON_VERSION}-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends \
    libxslt1.1 \
    # For pdftohtml
    poppler-utils \
    zlib1g \
    && apt-get clean && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1

# Re #80, sets SECLEVEL=1 in openssl.conf to allow monitoring sites with weak/old cipher suites
RUN mkdir /datastore && \
    sed -i 's/^CipherString = .*/CipherString = DEFAULT@SECLEVEL=1/' /etc/ssl/openssl.cnf

COPY --from=builder /dependencies /usr/local
ENV PYTHONPATH=/usr/local

EXPOSE 5000

COPY changedetectionio /app/changedetectionio
COPY changedetection.py /app/changedetection.py

ARG LOGGER_LEVEL=''
ENV LOGGER_LEVEL "$LOGGER_LEVEL"

# root, as upstream: existing /datastore volumes are root-owned
WORKDIR /app
CMD ["python", "./changedetection.py", "-d", "/datastore"]
