#!/usr/bin/env bash
# Builds the web UI (web/) into web/dist, which `cdp serve --ui-dir web/dist` serves.
# Installs node/npm (scripts/install-deps.sh) if missing, runs `npm ci` only when node_modules
# is missing or package-lock.json changed since the last install, then `vite build`.
# Usage: scripts/build-ui.sh   (CDP_SKIP_UI=1 skips it)
set -euo pipefail
if [ "${CDP_SKIP_UI:-0}" = "1" ]; then
  echo "build-ui: skipped (CDP_SKIP_UI=1)"
  exit 0
fi
HERE="$(cd "$(dirname "$0")/.." && pwd)"
WEB="$HERE/web"

# node and npm come from the install script (it installs Debian's when missing).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  bash "$HERE/scripts/install-deps.sh"
fi

cd "$WEB"
STAMP=node_modules/.cdp-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
  echo "build-ui: npm ci"
  if ! npm ci --no-audit --no-fund --loglevel=error; then
    echo "build-ui: npm ci failed; trying npm install --no-save"
    npm install --no-save --no-audit --no-fund --loglevel=error
  fi
  echo "$want" > "$STAMP"
fi

# Rebuild only when a source is newer than the last build.
if [ -f dist/index.html ] && [ -z "$(find src index.html vite.config.ts tsconfig.json package-lock.json -newer dist/index.html -print -quit)" ]; then
  echo "build-ui: web/dist is up to date"
  exit 0
fi
echo "build-ui: vite build"
npx --no-install vite build --logLevel warn
echo "build-ui: built $WEB/dist"
