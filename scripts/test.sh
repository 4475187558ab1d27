#!/usr/bin/env bash
# The one test command (README, CI): install, lint, type-check, run every test.
# Engine tests need a running Docker engine with BuildKit: `bash .ci/engine-docker20.sh`
# (and `bash .ci/engine-docker26.sh` for the second engine) prepare what CI uses.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/test-prereqs.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
