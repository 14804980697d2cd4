#!/usr/bin/env bash
# Scale benchmark (issue 20): the Contoso demo workspace for N customers,
# end to end, on this machine. Prints one table: per refresh stage wall
# seconds, CPU seconds and peak resident memory; the generator; `cdp serve`
# start time (until /api/v1/health answers) and resident memory; the customer
# card's latency (p50/p99) and throughput under concurrent load (wrk); and the
# data size on disk. See bench/scale/README.md for what each figure measures.
#
# Usage: bench/scale/run.sh N [options]
#   --cdp PATH          use this cdp binary (no build)
#   --build-dir DIR     Release build dir to (re)use (default build/release;
#                       configured Release + bench if it has no cache; `ninja cdp`)
#   --tmp DIR           parent of the temporary directory (default /tmp)
#   --keep              keep the temporary directory (sources, workspace, logs)
#   --seed S            generator seed (default 42)
#   --project full|core full: project.yaml + exports + predictions + enrichments
#                       (what `make demo` applies; default); core: project.yaml only
#   --threads T         refresh worker threads (0 = all cores; default 0)
#   --load-seconds S    seconds of card load (default 15)
#   --connections C     concurrent connections of the card load (default 16)
#   --interval S        memory/CPU sampling interval (default 0.1)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/scale"

die() { echo "bench/scale/run.sh: $*" >&2; exit 2; }
N=""; CDP=""; BUILD_DIR="$ROOT/build/release"; TMP_PARENT=/tmp; KEEP=0; SEED=42; PROJECT=full
THREADS=0; LOAD_SECONDS=15; CONNECTIONS=16; INTERVAL=0.1
while [ $# -gt 0 ]; do
  case "$1" in
    --cdp) CDP=${2:?--cdp needs a path}; shift 2 ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift 2 ;;
    --tmp) TMP_PARENT=${2:?--tmp needs a directory}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --seed) SEED=${2:?--seed needs a value}; shift 2 ;;
    --project) PROJECT=${2:?--project needs full or core}; shift 2 ;;
    --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
    --load-seconds) LOAD_SECONDS=${2:?--load-seconds needs a value}; shift 2 ;;
    --connections) CONNECTIONS=${2:?--connections needs a value}; shift 2 ;;
    --interval) INTERVAL=${2:?--interval needs a value}; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$N" ] || die "one N only (got '$N' and '$1')"; N=$1; shift ;;
  esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N (customers) must be a positive integer, got '${N}'"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, got '$SEED'"
[[ "$THREADS" =~ ^[0-9]+$ ]] || die "--threads must be a non-negative integer, got '$THREADS'"
[[ "$LOAD_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "--load-seconds must be a positive integer, got '$LOAD_SECONDS'"
[[ "$CONNECTIONS" =~ ^[1-9][0-9]*$ ]] || die "--connections must be a positive integer, got '$CONNECTIONS'"
[[ "$INTERVAL" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--interval must be a number of seconds, got '$INTERVAL'"
case "$PROJECT" in full|core) ;; *) die "--project must be full or core, got '$PROJECT'" ;; esac
# The bench's own tools (Debian), installed when missing as bench/api does.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-scale: installing ${missing[*]} (Debian)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "could not install ${missing[*]}"
fi
command -v curl >/dev/null || die "needs curl"
[ -d "$TMP_PARENT" ] || die "--tmp directory '$TMP_PARENT' does not exist"

if [ -z "$CDP" ]; then
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCDP_BUILD_TESTS=OFF \
      -DCDP_BUILD_BENCH=ON -DCDP_SANITIZE=OFF >/dev/null
  fi
  grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$BUILD_DIR/CMakeCache.txt" ||
    die "$BUILD_DIR is not a Release build (reconfigure it or pass --build-dir/--cdp)"
  echo "== Building cdp in $BUILD_DIR (no-op when up to date)"
  ninja -C "$BUILD_DIR" -j2 cdp | tail -1
  CDP="$BUILD_DIR/cdp"
fi
[ -x "$CDP" ] || die "cdp binary '$CDP' is not executable"

WORK=$(mktemp -d "$TMP_PARENT/cdp-scale-$N.XXXXXX")
WS="$WORK/workspace"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; fi
  if [ "$KEEP" = 1 ]; then echo "(kept $WORK)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

{
  echo "date      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit    $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted src changes)')"
  echo "binary    $CDP"
  echo "machine   $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo) RAM"
  echo "customers $N (seed $SEED), project: $PROJECT, refresh threads: $THREADS"
} > "$WORK/header.txt"
echo "uptime before: $(uptime)" > "$WORK/load.txt"
cat "$WORK/header.txt"; cat "$WORK/load.txt"

# A command under GNU time: wall, user, sys, peak RSS to $1.time.
timed() { local name=$1; shift; /usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "$@"; }

echo "== Generating $N customers"
timed generate "$CDP" demo generate --customers "$N" --seed "$SEED" --out "$WORK/sources" --json > "$WORK/generate.json"
if [ "$PROJECT" = full ]; then
  cat "$ROOT"/examples/contoso/{project,exports,predictions,enrichments}.yaml > "$WORK/project.yaml"
else
  cp "$ROOT/examples/contoso/project.yaml" "$WORK/project.yaml"
fi
# The project reads its sources from the generator's directory; scripts/demo.sh
# relies on the same layout (project.yaml beside sources/).
"$CDP" init "$WS" > /dev/null
timed apply "$CDP" apply -w "$WS" "$WORK/project.yaml" > "$WORK/apply.out"

echo "== cdp run (sampling RSS and CPU every ${INTERVAL} s)"
RUN_RC=0
python3 "$HERE/sample_proc.py" --run "$WORK/run.samples" "$INTERVAL" "$WORK/run.time" -- \
  "$CDP" run -w "$WS" --json --threads "$THREADS" > "$WORK/run.json" 2> "$WORK/run.err" || RUN_RC=$?
if [ "$RUN_RC" != 0 ]; then
  echo "cdp run failed (exit $RUN_RC):"; cat "$WORK/run.json" "$WORK/run.err" | tail -20; exit 1
fi
"$CDP" runs -w "$WS" --json --limit 1 > "$WORK/runs.json"

# One `cdp serve`: seconds from exec until /api/v1/health answers, its RSS then.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {  # name
  PORT=$(free_port)
  local t0; t0=$(date +%s.%N)
  "$CDP" serve -w "$WS" --host 127.0.0.1 --port "$PORT" --quiet --no-schedules > "$WORK/$1.log" 2>&1 &
  SERVER=$!
  python3 "$HERE/sample_proc.py" "$SERVER" "$WORK/$1.samples" "$INTERVAL" &
  local deadline=$((SECONDS + 3600))
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; do
    kill -0 "$SERVER" 2>/dev/null || { echo "cdp serve died:"; cat "$WORK/$1.log"; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "cdp serve did not answer /api/v1/health within 3600 s"; exit 1; }
    sleep 0.05
  done
  local t1; t1=$(date +%s.%N)
  echo "$(python3 -c "print(round($t1 - $t0, 2))") $(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status") $(awk '{print ($14+$15)/100}' "/proc/$SERVER/stat")" > "$WORK/$1.start"
}
stop_server() {
  kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

echo "== cdp serve (first start after the refresh) and the card under load"
KEY=$("$CDP" apikey create -w "$WS" --role viewer --name bench-scale --json | sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
[ -n "$KEY" ] || die "could not create an API key"
start_server serve1
# 5,000 customer ids from random pages of Customer, requested round-robin.
python3 - "$PORT" "$KEY" "$WORK/card.lua" <<'PY'
import json, sys, urllib.request, random
port, key, out = sys.argv[1], sys.argv[2], sys.argv[3]
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": "Bearer " + key})
    return json.load(urllib.request.urlopen(req, timeout=60))
rnd = random.Random(3)
total = get("/api/v1/entities/Customer/schema")["rows"]
ids = []
for _ in range(10):
    off = rnd.randrange(0, max(1, total - 500))
    ids += [r["CustomerId"] for r in get(f"/api/v1/entities/Customer/rows?limit=500&cursor=o{off}")["items"]]
rnd.shuffle(ids)
with open(out, "w") as f:
    f.write("local paths = {\n" + "".join(json.dumps(f"/api/v1/customers/{i}/card") + ",\n" for i in ids) + "}\n")
    f.write("local n = #paths\nlocal i = 0\nrequest = function()\n  i = i % n + 1\n"
            "  return wrk.format('GET', paths[i], {['Authorization'] = 'Bearer " + key + "'})\nend\n")
    f.write("done = function(summary, latency, requests)\n  io.write(string.format('RESULT errors=%d\\n', "
            "summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + "
            "summary.errors.timeout))\nend\n")
print(f"   {len(ids)} customer ids sampled from {total} customers")
PY
# Warm-up (first touches of the card's columns), then the measured load.
# wrk's timeout is raised from its 2 s default to 60 s so that slow cards are
# measured as latencies rather than counted as timeouts.
wrk -t1 -c"$CONNECTIONS" -d3s --timeout 60s -s "$WORK/card.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk-warm.txt" 2>&1
wrk -t1 -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" --timeout 60s --latency -s "$WORK/card.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" 2>&1
awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {print r, h}' "/proc/$SERVER/status" > "$WORK/serve1.after"
stop_server
echo "== cdp serve (second start)"
start_server serve2
stop_server

du -sb "$WORK/sources" | cut -f1 > "$WORK/du.sources"
du -sb "$WS" | cut -f1 > "$WORK/du.workspace"
echo "uptime after:  $(uptime)" >> "$WORK/load.txt"

echo
python3 "$HERE/report.py" "$WORK"
