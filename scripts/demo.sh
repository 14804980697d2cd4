#!/usr/bin/env bash
# The Contoso Coffee demo: generate the lab's sources, create a workspace,
# apply the demo project and run the full pipeline.
# Usage: scripts/demo.sh CDP_BINARY DEMO_DIR [CUSTOMERS] [SEED]
set -euo pipefail
CDP=${1:?cdp binary}
DIR=${2:?demo directory}
CUSTOMERS=${3:-5000}
SEED=${4:-42}
HERE="$(cd "$(dirname "$0")/.." && pwd)"

mkdir -p "$DIR"
echo "== Generating Contoso Coffee sources for $CUSTOMERS customers (seed $SEED) in $DIR/sources"
"$CDP" demo generate --customers "$CUSTOMERS" --seed "$SEED" --out "$DIR/sources"
cp "$HERE/examples/contoso/project.yaml" "$DIR/project.yaml"
if [ ! -f "$DIR/workspace/catalog.db" ]; then
  "$CDP" init "$DIR/workspace"
fi
"$CDP" apply -w "$DIR/workspace" "$DIR/project.yaml"
echo "== Running the pipeline"
"$CDP" run -w "$DIR/workspace"
echo "== Entities"
"$CDP" entities -w "$DIR/workspace"
