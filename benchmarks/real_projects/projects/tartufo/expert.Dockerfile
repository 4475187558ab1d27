# Expert version of tartufo's Dockerfile: same base (python:3.13-slim), same
# Poetry 2.2.1 and lock file, same ENTRYPOINT/CMD and /venv layout.
FROM python:3.13-slim AS base
WORKDIR /app

FROM base AS builder
ENV PIP_DEFAULT_TIMEOUT=100 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_VERSION=2.2.1 \
    POETRY_CACHE_DIR=/root/.cache/pypoetry
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "poetry==$POETRY_VERSION"
# A venv without pip/setuptools: nothing at run time imports them; Poetry installs
# into it with its own installer, and the wheel goes in through the builder's pip.
RUN python -m venv --without-pip /venv
# Dependencies first: this layer is reused until pyproject.toml/poetry.lock change.
COPY pyproject.toml poetry.lock ./
RUN --mount=type=cache,target=/root/.cache/pypoetry \
    . /venv/bin/activate && poetry install --no-root --only=main --no-interaction
COPY README.md LICENSE ./
COPY tartufo ./tartufo
RUN poetry build -f wheel \
    && pip --python /venv/bin/python install --no-cache-dir --no-deps dist/*.whl

FROM base AS final
# git is needed at run time (GitPython calls it), ssh for remote scans.
RUN apt-get update \
    && apt-get upgrade -y \
    && apt-get install -y --no-install-recommends git openssh-client \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /venv /venv
COPY scripts/docker/gitconfig /root/.gitconfig
# Stays root: the image scans repositories mounted at /git whatever their owner,
# with the ssh/git settings of /root/.gitconfig (as upstream).
WORKDIR /git
ENTRYPOINT [ "/venv/bin/tartufo" ]
CMD [ "-h" ]
