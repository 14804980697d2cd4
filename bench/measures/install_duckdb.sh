#!/usr/bin/env bash
# Installs the DuckDB benchmark peer (@duckdb/node-api, pinned by
# package-lock.json) into bench/measures/node_modules. DuckDB is only a
# benchmark peer for bench_measures, never a product dependency.
# The lock file lists every platform's optional binding package (npm ci
# refuses a lock without them); regenerate it with
#   npm install --package-lock-only --omit-lockfile-registry-resolved
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "install_duckdb.sh: npm not found; install Node.js 20+ to compare with DuckDB" >&2
  exit 1
fi
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
