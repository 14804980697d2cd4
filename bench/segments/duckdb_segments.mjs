// Benchmark peer for bench_segments (never a product dependency): loads the
// CSV files written by the C++ benchmark into DuckDB (not timed), then times
// each segment's SQL as CREATE OR REPLACE TEMP TABLE ... AS <query> (the
// member set, as our evaluator produces), median of `repeat` runs; member
// counts are read afterwards (not timed). Reuses bench/measures/node_modules.
// Usage: node duckdb_segments.mjs SPEC.json   (written by bench_segments)
// Prints one JSON object on stdout.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../measures/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const threads = spec.threads || 2;
const repeat = spec.repeat || 3;
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await instance.connect();

const t0 = performance.now();
for (const t of spec.tables) {
  // Timestamps arrive as microseconds since the epoch (UTC).
  const cols = t.columns.map((c) => `'${c.name}': '${c.type === 'TIMESTAMP' ? 'BIGINT' : c.type}'`).join(', ');
  const select = t.columns
    .map((c) => (c.type === 'TIMESTAMP' ? `make_timestamp("${c.name}") AS "${c.name}"` : `"${c.name}"`))
    .join(', ');
  await con.run(`CREATE TABLE ${t.name} AS SELECT ${select}
                 FROM read_csv('${t.file}', header = true, allow_quoted_nulls = false, columns = {${cols}})`);
}
const loadMs = performance.now() - t0;

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const times = spec.segments.map(() => []);
const mixedTotals = [];
for (let r = 0; r < repeat; ++r) {
  let mixed = 0;
  for (let i = 0; i < spec.segments.length; ++i) {
    const s = spec.segments[i];
    const start = performance.now();
    await con.run(`CREATE OR REPLACE TEMP TABLE seg_${i} AS ${s.sql}`);
    const ms = performance.now() - start;
    times[i].push(ms);
    if (s.group === 'mixed') mixed += ms;
  }
  mixedTotals.push(mixed);
}
const segments = [];
for (let i = 0; i < spec.segments.length; ++i) {
  const r = await con.runAndReadAll(`SELECT count(*) FROM seg_${i}`);
  segments.push({ name: spec.segments[i].name, ms: median(times[i]), count: Number(r.getRows()[0][0]) });
}
process.stdout.write(
  JSON.stringify({ load_ms: loadMs, threads, repeat, mixed_total_ms: median(mixedTotals), segments }) + '\n',
);
