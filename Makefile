# Two entry points: `make demo` (the main job) and `make test` (all tests).
# Both install missing Debian packages first (scripts/install-deps.sh).
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
TEST_DIR := build/test
DEMO_DIR ?= demo
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 42

.PHONY: all deps build build-test test demo clean bench-ingest bench-unify-accuracy bench-measures bench-segments fuzz-build fuzz

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCDP_BUILD_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS)
	bash scripts/build-ui.sh

build-test: deps
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1 -gz" \
	  -DCDP_SANITIZE=ON -DCDP_BUILD_TESTS=ON -DCDP_BUILD_BENCH=OFF
	cmake --build $(TEST_DIR) -j $(JOBS)
	bash scripts/build-ui.sh

# The fuzz targets' regression run (every corpus file plus a fixed number of
# runs each) comes first, so ctest's summary stays the closing output; ctest
# runs even when it failed, and then make test fails too.
test: build-test fuzz-build
	fuzz=0; bash scripts/fuzz.sh regress $(FUZZ_DIR) || fuzz=1; \
	cd $(TEST_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest -j $(JOBS) --output-on-failure --timeout 900 && [ $$fuzz -eq 0 ]

# libFuzzer targets (docs/fuzzing.md): a clang build dir with every library
# instrumented; only the fuzz targets and what they link are built.
FUZZ_DIR := build/fuzz
SECONDS ?= 60
fuzz-build: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
	  -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCDP_FUZZ=ON -DCDP_BUILD_TESTS=OFF -DCDP_BUILD_BENCH=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target cdp_fuzzers

# A fuzzing campaign of SECONDS per target (TARGETS="a b" for some only);
# new inputs are kept in build/fuzz/corpus/<target>, crashes in build/fuzz/findings/<target>.
fuzz: fuzz-build
	bash scripts/fuzz.sh campaign $(FUZZ_DIR) $(SECONDS) $(TARGETS)

demo: build
	bash scripts/demo.sh $(RELEASE_DIR)/cdp $(DEMO_DIR) $(DEMO_CUSTOMERS) $(DEMO_SEED)

clean:
	rm -rf build

# Benchmarks (Release build): see bench/.
bench-ingest: build
	cmake -S . -B $(RELEASE_DIR) -DCDP_BUILD_BENCH=ON && cmake --build $(RELEASE_DIR) -j $(JOBS) --target bench_ingest
	$(RELEASE_DIR)/bench/bench_ingest

# Unification accuracy (pairwise P/R/F1) on the demo data and Febrl: see bench/unify_accuracy.
bench-unify-accuracy: build
	cmake -S . -B $(RELEASE_DIR) -DCDP_BUILD_BENCH=ON && cmake --build $(RELEASE_DIR) -j $(JOBS) --target bench_unify_accuracy
	$(RELEASE_DIR)/bench/bench_unify_accuracy $(ARGS)

# Measure engine: the six lab measures on 1M customers / 20M activities, ours
# vs DuckDB (benchmark peer from npm, see bench/measures/install_duckdb.sh).
bench-measures: build
	cmake -S . -B $(RELEASE_DIR) -DCDP_BUILD_BENCH=ON && cmake --build $(RELEASE_DIR) -j $(JOBS) --target bench_measures
	-bash bench/measures/install_duckdb.sh
	$(RELEASE_DIR)/src/engine/bench_measures $(ARGS)

# Segments after measures: the lab's three and a refresh of 100 mixed segments
# on 1M customers / 20M activities, ours vs the same SQL in DuckDB (reuses
# bench/measures/node_modules); see bench/segments.
bench-segments: build
	cmake -S . -B $(RELEASE_DIR) -DCDP_BUILD_BENCH=ON && cmake --build $(RELEASE_DIR) -j $(JOBS) --target bench_segments
	-[ -d bench/measures/node_modules/@duckdb/node-api ] || bash bench/measures/install_duckdb.sh
	$(RELEASE_DIR)/bench/bench_segments $(ARGS)

# Customer search index (Xapian) on 1M generated customers: build, 1% update,
# index size, queries/s for typo'd names, phones and filters with facets on 1
# and 2 threads; see bench/search.
.PHONY: bench-search
bench-search: build
	cmake -S . -B $(RELEASE_DIR) -DCDP_BUILD_BENCH=ON && cmake --build $(RELEASE_DIR) -j $(JOBS) --target bench_search
	$(RELEASE_DIR)/bench/bench_search $(ARGS)

# REST API under load (wrk from Debian): `cdp serve` on a 1M-customer demo
# workspace (built once under build/bench-api), card by id, lookup by email,
# search, then a 5-minute soak with resident memory; see bench/api.
# ARGS: [CUSTOMERS] [SECONDS_PER_SCENARIO] [SOAK_SECONDS]
.PHONY: bench-api
bench-api: build
	bash bench/api/run.sh $(RELEASE_DIR)/cdp $(ARGS)
