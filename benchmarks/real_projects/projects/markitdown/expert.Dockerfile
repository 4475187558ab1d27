# Expert version of microsoft/markitdown's Dockerfile: same base tag, same apt packages,
# same requirements (markitdown[all] + the sample plugin), same user and ENTRYPOINT.
FROM python:3.13-slim-bullseye

ENV DEBIAN_FRONTEND=noninteractive \
    EXIFTOOL_PATH=/usr/bin/exiftool \
    FFMPEG_PATH=/usr/bin/ffmpeg \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Runtime tools; the list files go in the same layer they are made in.
ARG INSTALL_GIT=false
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg exiftool \
    && if [ "$INSTALL_GIT" = "true" ]; then apt-get install -y --no-install-recommends git; fi \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, read from the two pyproject.toml files (the same specifiers pip
# resolves for `markitdown[all]` and the plugin): a code change does not reinstall them.
COPY packages/markitdown/pyproject.toml /tmp/req/markitdown.toml
COPY packages/markitdown-sample-plugin/pyproject.toml /tmp/req/plugin.toml
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; \
m = tomllib.load(open('/tmp/req/markitdown.toml', 'rb'))['project']; \
p = tomllib.load(open('/tmp/req/plugin.toml', 'rb'))['project']; \
deps = m['dependencies'] + m['optional-dependencies']['all'] + p['dependencies']; \
print('\n'.join(d for d in deps if not d.startswith('markitdown')))" > /tmp/req/requirements.txt \
    && pip install -r /tmp/req/requirements.txt \
    && rm -rf /tmp/req

# The two packages themselves, built from a bind mount: their sources and tests never
# land in a layer (the install is not editable, nothing reads /app at run time).
RUN --mount=type=bind,source=packages,target=/src,rw \
    pip install --no-cache-dir --no-deps /src/markitdown /src/markitdown-sample-plugin

ARG USERID=nobody
ARG GROUPID=nogroup
USER $USERID:$GROUPID

ENTRYPOINT [ "markitdown" ]
