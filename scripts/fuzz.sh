#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (see docs/fuzzing.md).
#
#   scripts/fuzz.sh regress  [BUILD_DIR]                    every corpus file + RUNS mutations per target
#   scripts/fuzz.sh campaign [BUILD_DIR] [SECONDS] [TARGET...] SECONDS of fuzzing per target, one at a time
#   scripts/fuzz.sh list     [BUILD_DIR]                    the targets and their corpora
#
# A target is an executable src/<module>/fuzz/<name>_fuzz in BUILD_DIR. Its
# seed corpus is src/<module>/fuzz/corpus/<name>_fuzz/ (or corpus/ when the
# folder holds one target), and src/<module>/fuzz/<name>_fuzz.options may
# hold extra libFuzzer flags (one line, e.g. -max_len=4096 -dict=...).
#
# regress: deterministic (-seed=1); new inputs go to a scratch dir, so the
#   source tree is never written. Exit status 1 if any target fails.
# campaign: the corpus grows in BUILD_DIR/corpus/<target> (seeded from the
#   repo's); crashes, leaks, timeouts and OOMs are written to
#   BUILD_DIR/findings/<target>/ and end that target's run. Per-target logs
#   and a summary (executions, cov, ft, findings) are in BUILD_DIR/campaign/.
#   Environment: MERGE=1 merges inputs that add coverage back into the repo
#   corpus (-merge=1); CONTINUE=1 keeps fuzzing after a crash (-fork=1
#   -ignore_crashes=1 ...).
set -uo pipefail

MODE=${1:-regress}
BUILD_DIR=${2:-build/fuzz}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
RUNS=${RUNS:-2000}
# Leaks are findings; a UBSan report aborts (the build has -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

targets() {
  find "$BUILD_DIR/src" -path '*/fuzz/*_fuzz' -type f -perm -u+x 2>/dev/null | sort
}

# module fuzz dir in the source tree for a target binary
src_dir_of() {
  local bin=$1 rel
  rel=${bin#"$BUILD_DIR"/}
  dirname "$rel"
}

corpus_of() {
  local bin=$1 name dir
  name=$(basename "$bin")
  dir=$(src_dir_of "$bin")
  if [ -d "$dir/corpus/$name" ]; then echo "$dir/corpus/$name"; else echo "$dir/corpus"; fi
}

options_of() {
  local bin=$1 file
  file="$(src_dir_of "$bin")/$(basename "$bin").options"
  if [ -f "$file" ]; then eval "echo $(head -n 1 "$file")"; fi
}

if [ -z "$(targets)" ]; then
  echo "fuzz.sh: no fuzz targets in $BUILD_DIR (run make fuzz-build)" >&2
  exit 1
fi

case "$MODE" in
list)
  for bin in $(targets); do
    echo "$(basename "$bin")  corpus: $(corpus_of "$bin") ($(find "$(corpus_of "$bin")" -type f | wc -l) files)  options: $(options_of "$bin")"
  done
  ;;
regress)
  passed=0
  failed=0
  failed_names=""
  start=$(date +%s)
  for bin in $(targets); do
    name=$(basename "$bin")
    scratch="$BUILD_DIR/regress/$name"
    rm -rf "$scratch"
    mkdir -p "$scratch" "$BUILD_DIR/findings/$name"
    log="$BUILD_DIR/regress/$name.log"
    t0=$(date +%s)
    # shellcheck disable=SC2046
    if "$bin" "$scratch" "$(corpus_of "$bin")" -seed=1 -runs="$RUNS" -timeout=60 -print_final_stats=1 \
         -artifact_prefix="$BUILD_DIR/findings/$name/" $(options_of "$bin") >"$log" 2>&1; then
      passed=$((passed + 1))
      echo "fuzz regress: $name ok ($(grep -c . <(find "$(corpus_of "$bin")" -type f)) corpus files + $RUNS runs, $(($(date +%s) - t0)) s)"
    else
      failed=$((failed + 1))
      failed_names="$failed_names $name"
      echo "fuzz regress: $name FAILED (log: $log)"
      grep -E '^(==[0-9]+==ERROR|SUMMARY|.*_fuzz: |artifact_prefix|Test unit written)' "$log" | head -n 8 | sed 's/^/    /'
    fi
  done
  echo "fuzz regress: $passed passed, $failed failed in $(($(date +%s) - start)) s${failed_names:+ (failed:$failed_names)}"
  [ "$failed" -eq 0 ]
  ;;
campaign)
  SECONDS_PER_TARGET=${3:-60}
  shift 3 2>/dev/null || shift $#
  wanted=" $* "
  mkdir -p "$BUILD_DIR/campaign"
  summary="$BUILD_DIR/campaign/summary-$(date -u +%Y%m%dT%H%M%SZ).txt"
  printf '%-22s %8s %12s %8s %8s %8s  %s\n' target seconds execs cov ft corpus findings | tee "$summary"
  status=0
  for bin in $(targets); do
    name=$(basename "$bin")
    if [ "$wanted" != "  " ] && [[ "$wanted" != *" $name "* ]]; then continue; fi
    corpus="$BUILD_DIR/corpus/$name"
    findings="$BUILD_DIR/findings/$name"
    mkdir -p "$corpus" "$findings"
    log="$BUILD_DIR/campaign/$name.log"
    extra=()
    if [ "${CONTINUE:-0}" = 1 ]; then extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); fi
    before=$(find "$findings" -type f | wc -l)
    t0=$(date +%s)
    # shellcheck disable=SC2046
    "$bin" "$corpus" "$(corpus_of "$bin")" -max_total_time="$SECONDS_PER_TARGET" -timeout=25 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${extra[@]}" $(options_of "$bin") >"$log" 2>&1 || status=1
    elapsed=$(($(date +%s) - t0))
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
    size=$(find "$corpus" -type f | wc -l)
    new=$(($(find "$findings" -type f | wc -l) - before))
    printf '%-22s %8s %12s %8s %8s %8s  %s\n' "$name" "$elapsed" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$size" \
      "$new$( [ "$new" -gt 0 ] && echo " in $findings")" | tee -a "$summary"
    if [ "${MERGE:-0}" = 1 ]; then
      # shellcheck disable=SC2046
      "$bin" -merge=1 "$(corpus_of "$bin")" "$corpus" $(options_of "$bin") >>"$log" 2>&1 || true
    fi
  done
  echo "summary: $summary; logs: $BUILD_DIR/campaign/<target>.log"
  exit $status
  ;;
*)
  sed -n '2,22p' "$0"
  exit 2
  ;;
esac
