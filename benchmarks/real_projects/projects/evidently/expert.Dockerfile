# Expert version of evidently's docker/Dockerfile.service (built from the repository root):
# same base, same build args and labels, same `pip install .${INSTALL_EXTRAS}` resolution,
# same WORKDIR and ENTRYPOINT.
FROM python:3.11-slim-bookworm
ARG BUILD_DATE
ARG VCS_REF
ARG VERSION
ARG INSTALL_EXTRAS="[sql]"
LABEL org.label-schema.build-date=$BUILD_DATE \
      org.label-schema.name="Evidently AI Service" \
      org.label-schema.url="https://github.com/evidentlyai/evidently" \
      org.label-schema.vcs-ref=$VCS_REF \
      org.label-schema.vcs-url="https://github.com/evidentlyai/evidently" \
      org.label-schema.version=$VERSION \
      org.label-schema.schema-version="1.0"
LABEL maintainer="mike0sv@evidentlyai.com"

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

# Every dependency is a wheel: no compiler is installed (upstream installs and purges
# build-essential in the same step). Dependencies first: the same install command on a
# stub of the package (metadata + version file only), so pip resolves exactly what
# `pip install .${INSTALL_EXTRAS}` resolves, and a code change does not redo it.
WORKDIR /stub
COPY pyproject.toml README.md ./
COPY src/evidently/_version.py src/evidently/_version.py
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install .${INSTALL_EXTRAS} \
    && cd / && rm -rf /stub

# Then the package itself, from a bind mount: the sources never land in a layer.
RUN --mount=type=bind,source=.,target=/src,rw \
    pip install --no-cache-dir --no-deps --force-reinstall /src

# The UI keeps its workspace in ./workspace (under /app) and telemetry settings in $HOME.
RUN useradd --create-home --uid 10001 evidently \
    && mkdir /app && chown evidently:evidently /app
USER evidently
WORKDIR /app
ENTRYPOINT ["evidently", "ui", "--host", "0.0.0.0"]
