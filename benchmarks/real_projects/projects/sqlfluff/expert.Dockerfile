# Expert version of sqlfluff's Dockerfile: same bases (build args), same venv layout and
# entrypoint. pip-tools resolves the requirements outside the venv that ships, pip caches
# are cache mounts (a dependency change re-downloads nothing), and the context is only what
# the build reads (expert.Dockerfile.dockerignore).
ARG BUILDER_BASE=python:3.14-slim-trixie
ARG FINAL_BASE=python:3.14-slim-trixie

FROM ${BUILDER_BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# the resolver only: installed in the builder's system Python, never copied
RUN --mount=type=cache,target=/root/.cache/pip pip install pip-tools

COPY pyproject.toml .
RUN --mount=type=cache,target=/root/.cache/pip \
    pip-compile -o requirements.txt pyproject.toml --strip-extras

ENV VIRTUAL_ENV=/app/.venv
RUN python -m venv $VIRTUAL_ENV
ENV PATH=$VIRTUAL_ENV/bin:$PATH
# the venv keeps an up-to-date pip as upstream's does: derived images pip-install plugins into it
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --upgrade pip setuptools wheel && \
    pip install -r requirements.txt

# the package itself last: a code change reinstalls only sqlfluff
COPY MANIFEST.in README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps .

FROM ${FINAL_BASE}
ARG DESC_SUFFIX
LABEL org.opencontainers.image.title="sqlfluff" \
      org.opencontainers.image.authors="sqlfluff Community" \
      org.opencontainers.image.description="A modular SQL linter and auto-formatter with support for multiple dialects and templated code${DESC_SUFFIX}" \
      org.opencontainers.image.source="https://github.com/sqlfluff/sqlfluff" \
      org.opencontainers.image.documentation="https://docs.sqlfluff.com/en/stable/"

COPY --from=build /app/.venv /app/.venv
ENV VIRTUAL_ENV=/app/.venv PATH=/app/.venv/bin:$PATH

# root on purpose: `sqlfluff fix` rewrites files in a bind-mounted /sql owned by the host user
WORKDIR /sql
ENTRYPOINT ["sqlfluff"]
CMD ["--help"]
