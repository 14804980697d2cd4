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
# The project, with the demo's exports (CSV files and a CDM folder under the workspace) and predictions.
cat "$HERE/examples/contoso/project.yaml" "$HERE/examples/contoso/exports.yaml" "$HERE/examples/contoso/predictions.yaml" "$HERE/examples/contoso/enrichments.yaml" > "$DIR/project.yaml"
if [ ! -f "$DIR/workspace/catalog.db" ]; then
  "$CDP" init "$DIR/workspace"
fi
"$CDP" apply -w "$DIR/workspace" "$DIR/project.yaml"
echo "== Running the pipeline (ingest, unify, activities, measures, predictions, segments, exports, index)"
"$CDP" run -w "$DIR/workspace"
echo "== Entities"
"$CDP" entities -w "$DIR/workspace"
echo "== A unified customer and why its records were merged"
FIRST_ID=$("$CDP" show Customer -w "$DIR/workspace" --limit 1 --json | sed -n 's/.*"CustomerId": *\([0-9]*\).*/\1/p')
if [ -n "$FIRST_ID" ]; then
  "$CDP" explain "$FIRST_ID" -w "$DIR/workspace" > "$DIR/explain.txt"
  head -40 "$DIR/explain.txt"
  echo "(the whole explanation is in $DIR/explain.txt)"
  echo "== Their timeline"
  "$CDP" timeline "$FIRST_ID" -w "$DIR/workspace" --limit 10
fi
echo "== Predictions (trained by the refresh, graded against their baselines)"
"$CDP" predict list -w "$DIR/workspace"
"$CDP" predict evaluate Churn -w "$DIR/workspace" || true
echo "== The customers most likely to churn, with the factors behind each score"
"$CDP" predict scores Churn -w "$DIR/workspace" --limit 5 || true
echo "== The lab's segments"
"$CDP" segment list -w "$DIR/workspace"
echo "== Their exports (run by the refresh: whole the first time, only the changes after)"
"$CDP" export list -w "$DIR/workspace"
find "$DIR/workspace/exports" -type f -not -name ".*" | sort | head -30 || true
echo "== Run history"
"$CDP" runs -w "$DIR/workspace" --limit 5

# Serve the workspace: the REST API and the web UI on 127.0.0.1.
HOST=${CDP_DEMO_HOST:-127.0.0.1}
PORT=${CDP_DEMO_PORT:-8080}
KEY=$("$CDP" apikey create -w "$DIR/workspace" --role admin --name "demo $(date -u +%Y-%m-%dT%H:%M:%SZ)" --json |
  sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
echo "$KEY" > "$DIR/admin-api-key.txt"
chmod 600 "$DIR/admin-api-key.txt"
cat <<MSG
== Serving the demo
  Web UI:   http://$HOST:$PORT/
  API:      http://$HOST:$PORT/api/v1  (OpenAPI: http://$HOST:$PORT/api/v1/openapi.json)
  API key:  $KEY   (admin; also saved in $DIR/admin-api-key.txt)
  Try:      curl -H "Authorization: Bearer $KEY" http://$HOST:$PORT/api/v1/segments
  Stop with Ctrl-C.
MSG
exec "$CDP" serve -w "$DIR/workspace" --host "$HOST" --port "$PORT"
