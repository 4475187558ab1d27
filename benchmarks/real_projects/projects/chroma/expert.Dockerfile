# Expert version of chroma's Dockerfile (same bases, same requirements, same entrypoint,
# command, port and environment). Changes: no recommended packages; the final stage copies
# only what the server runs (the chromadb package and the entrypoint) instead of the whole
# repository (Rust, Go and JS sources, Kubernetes and CI files); the entrypoint's mode is set
# by COPY --chmod instead of a RUN; one apt layer in the final stage.
FROM python:3.11-slim-bookworm AS builder
ARG REBUILD_HNSWLIB
RUN apt-get update --fix-missing && apt-get install -y --fix-missing --no-install-recommends \
    build-essential \
    gcc \
    g++ \
    cmake \
    autoconf && \
    rm -rf /var/lib/apt/lists/* && \
    mkdir /install

WORKDIR /install

COPY ./requirements.txt requirements.txt

RUN --mount=type=cache,target=/root/.cache/pip pip install --upgrade --prefix="/install" -r requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip if [ "$REBUILD_HNSWLIB" = "true" ]; then pip install --no-binary :all: --force-reinstall --prefix="/install" chroma-hnswlib; fi

FROM python:3.11-slim-bookworm AS final

# curl stays: the compose file's healthcheck calls it
RUN apt-get update --fix-missing && apt-get install -y --no-install-recommends curl && \
    rm -rf /var/lib/apt/lists/*

COPY --from=builder /install /usr/local

WORKDIR /chroma
COPY --chmod=755 ./bin/docker_entrypoint.sh /docker_entrypoint.sh
# the server imports chromadb from the working directory; nothing else of the repository runs
COPY ./chromadb /chroma/chromadb

ENV CHROMA_HOST_ADDR="0.0.0.0"
ENV CHROMA_HOST_PORT=8000
ENV CHROMA_WORKERS=1
ENV CHROMA_LOG_CONFIG="chromadb/log_config.yml"
ENV CHROMA_TIMEOUT_KEEP_ALIVE=30

EXPOSE 8000

ENTRYPOINT ["/docker_entrypoint.sh"]
CMD [ "--workers ${CHROMA_WORKERS} --host ${CHROMA_HOST_ADDR} --port ${CHROMA_HOST_PORT} --proxy-headers --log-config ${CHROMA_LOG_CONFIG} --timeout-keep-alive ${CHROMA_TIMEOUT_KEEP_ALIVE}"]
