#!/usr/bin/env bash
# Install jettison and audit the included example project (a typical unoptimized Flask app).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
set +e
.venv/bin/jettison audit examples/flask-app "$@"
code=$?
set -e
# exit 1 means "findings at or above the fail level": expected for this example
[ "$code" -le 1 ] || exit "$code"
