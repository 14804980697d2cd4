// Benchmark peer for bench_measures (never a product dependency): loads the
// CSV files written by the C++ benchmark into DuckDB, then times ONLY the six
// lab measures as CREATE TABLE ... AS SELECT aggregates (loading excluded).
// Usage: node duckdb_measures.mjs DIR RUN_DATE(YYYY-MM-DD) THREADS
// Prints one JSON object on stdout.
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, runDate, threads] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const con = await instance.connect();

const t0 = performance.now();
for (const [table, ts] of [['online', 'PurchasedOn'], ['store', 'PurchasedOn'], ['reviews', 'ReviewedOn']]) {
  const other = table === 'reviews' ? 'Rating' : 'TotalPrice';
  const otherType = table === 'reviews' ? 'BIGINT' : 'DOUBLE';
  await con.run(`CREATE TABLE ${table} AS SELECT CustomerIndex, ${other}, make_timestamp(${ts}) AS ${ts}, ProductId
                 FROM read_csv('${dir}/${table}.csv', header = true,
                   columns = {'CustomerIndex': 'BIGINT', '${other}': '${otherType}', '${ts}': 'BIGINT', 'ProductId': 'BIGINT'})`);
}
const loadMs = performance.now() - t0;

const queries = {
  AverageWebPurchase: `SELECT CustomerIndex, avg(TotalPrice) AS v FROM online GROUP BY CustomerIndex`,
  AverageStorePurchase: `SELECT CustomerIndex, avg(TotalPrice) AS v FROM store GROUP BY CustomerIndex`,
  LifetimeSpend: `SELECT coalesce(w.c, s.c) AS CustomerIndex, coalesce(w.v, 0) + coalesce(s.v, 0) AS v
                  FROM (SELECT CustomerIndex AS c, sum(TotalPrice) AS v FROM online GROUP BY 1) w
                  FULL OUTER JOIN (SELECT CustomerIndex AS c, sum(TotalPrice) AS v FROM store GROUP BY 1) s ON w.c = s.c`,
  TotalWebPurchases: `SELECT CustomerIndex, count(*) AS v FROM online GROUP BY CustomerIndex`,
  DaysSinceLastPurchase: `SELECT CustomerIndex, DATE '${runDate}' - CAST(max(PurchasedOn) AS DATE) AS v FROM online GROUP BY CustomerIndex`,
  ReviewCount: `SELECT CustomerIndex, count(*) AS v FROM reviews GROUP BY CustomerIndex`,
};

const result = { load_ms: loadMs, threads: Number(threads || 2), queries: {}, checksums: {} };
let total = 0;
for (const [name, sql] of Object.entries(queries)) {
  const s = performance.now();
  await con.run(`CREATE OR REPLACE TEMP TABLE m_${name} AS ${sql}`);
  const ms = performance.now() - s;
  total += ms;
  result.queries[name] = ms;
}
result.total_ms = total;
for (const name of Object.keys(queries)) {
  const r = await con.runAndReadAll(`SELECT CAST(sum(v) AS DOUBLE) AS s, count(*) AS n FROM m_${name}`);
  const row = r.getRowsJson()[0];
  result.checksums[name] = { sum: Number(row[0]), rows: Number(row[1]) };
}
process.stdout.write(JSON.stringify(result) + '\n');
