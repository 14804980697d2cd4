#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Idempotent: packages already present are skipped; run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libzstd-dev libxxhash-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libsimdjson-dev
  libfmt-dev libspdlog-dev
  libpq-dev postgresql
  libutf8proc-dev libphonenumber-dev libroaring-dev
  libboost-dev libxapian-dev libssl-dev chromium
  clang libclang-rt-14-dev
  libcurl4-openssl-dev zlib1g-dev libssh-dev openssh-server openssh-client clickhouse-server
  libxgboost-dev libnlopt-cxx-dev libeigen3-dev python3-xgboost python3-sklearn python3-scipy
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} Debian packages present"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web UI's build and its browser test (registered by CMake only when node
# is found) need node and npm: Debian's, unless a node is already installed.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing node and npm (Debian)"
  $SUDO apt-get update -qq
  if command -v node >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends npm
  else
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
  fi
fi
echo "install-deps: done"
