#!/usr/bin/env bash
# The one test command (README, CI): install, lint, type-check, run every test.
# Engine tests need a running Docker engine with BuildKit; on the project's machines
# `bash ../shared/engine/up.sh && bash ../shared/engine/base-images.sh` provides one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/test-prereqs.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
