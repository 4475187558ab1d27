#!/usr/bin/env bash
# engine-docker20.sh - the first engine the tests use: the system's Docker 20.10 (BuildKit
# 0.8), started if it is not running, with stand-ins for the official base images the tests'
# Dockerfiles name (debian:bookworm(-slim), python:3.11(-slim), buildpack-deps), so builds
# run offline. The build machines provide both steps beside the checkout; elsewhere, any
# running engine with those images pulled does (DOCKER_HOST as set).
#
#   bash .ci/engine-docker20.sh        # idempotent
set -euo pipefail
cd "$(dirname "$0")/.."
provided=../shared/engine
if [ -x "$provided/up.sh" ] || [ -f "$provided/up.sh" ]; then
    bash "$provided/up.sh"
    bash "$provided/base-images.sh"
elif /usr/bin/docker version >/dev/null 2>&1 || docker version >/dev/null 2>&1; then
    echo "engine-docker20.sh: using the running engine (DOCKER_HOST as set); the tests pull nothing" \
         "and expect debian:bookworm-slim, python:3.11-slim and buildpack-deps to be there"
else
    echo "engine-docker20.sh: ERROR: no engine answers and no set-up script is provided" >&2
    exit 1
fi
