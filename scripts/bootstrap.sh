#!/usr/bin/env bash
# Create .venv and install jettison with its development tools (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.jettison-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install --quiet -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import jettison, dockerfile, tree_sitter_bash, docker' 
  touch "$stamp"
fi
# An editable install leaves our own modules uncompiled (pip compiles a wheel's at install
# time); where PYTHONDONTWRITEBYTECODE is set, every run would recompile them (~40 ms of a
# 250 ms `jettison inspect`). compileall only rewrites what changed.
.venv/bin/python -m compileall -q src >/dev/null
