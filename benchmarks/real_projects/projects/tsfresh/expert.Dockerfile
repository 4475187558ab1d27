# Expert version of tsfresh's Dockerfile: same two bases (python:3.8 builder with git for
# the setuptools_scm version, python:3.8-slim runtime), same `pip install --prefix=/install`
# layout, same inherited CMD (python3).
FROM python:3.8-slim AS base

FROM python:3.8 AS builder
LABEL maintainer="nilslennartbraun@gmail.com"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first, from setup.cfg's install_requires (what `pip install .` resolves):
# a code change does not reinstall numpy, pandas, scipy, statsmodels, numba ...
COPY setup.cfg /tmp/setup.cfg
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import configparser; c = configparser.ConfigParser(); c.read('/tmp/setup.cfg'); \
print(c['options']['install_requires'].strip())" > /tmp/requirements.txt \
    && pip install --prefix=/install -r /tmp/requirements.txt

# Then tsfresh itself from a bind mount of the whole context: the version comes from git
# (PyScaffold/setuptools_scm), and no source or .git lands in a layer.
RUN --mount=type=bind,source=.,target=/source,rw \
    cd /source && pip install --no-cache-dir --no-deps --prefix=/install .

FROM base
COPY --from=builder /install /usr/local
# Feature extraction reads and writes nothing outside its process: run unprivileged.
RUN useradd --create-home --uid 10001 tsfresh
USER tsfresh
