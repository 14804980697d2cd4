// bench_measures: the six lab measures (AverageWebPurchase,
// AverageStorePurchase, LifetimeSpend, TotalWebPurchases,
// DaysSinceLastPurchase, ReviewCount) on generated data (default 1M
// customers, 20M activities), timed in the native engine and, in the same
// run and on the same data, in DuckDB (a benchmark peer via
// @duckdb/node-api; see install_duckdb.sh). Prints figures; never pass/fail.
//
// Usage: bench_measures [--customers N] [--activities N] [--threads T]
//                       [--repeat R] [--dir /tmp/DIR] [--no-duckdb] [--keep]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/datetime.h"
#include "common/parallel.h"
#include "engine/entity_by_customer.h"
#include "engine/measure_engine.h"
#include "../common/activity_data.h"

using namespace cdp;
using namespace cdp::bench;
using Clock = std::chrono::steady_clock;

namespace {

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

MeasureConfig Agg(const std::string& name, AggregateFunction fn, const std::string& activity, const std::string& field,
                  std::optional<double> def = std::nullopt) {
  MeasureConfig m;
  m.name = name;
  m.function = fn;
  m.activity = activity;
  m.field = field;
  m.default_value = def;
  return m;
}

MeasureConfig Formula(const std::string& name, const std::string& text) {
  MeasureConfig m;
  m.name = name;
  m.formula = text;
  return m;
}

// Sum and count of the non-null values of a numeric column.
std::pair<double, size_t> Checksum(const Column& c) {
  double s = 0;
  size_t n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.IsNull(i)) continue;
    s += c.type() == DataType::kDouble ? c.DoubleAt(i) : static_cast<double>(c.Int64At(i));
    ++n;
  }
  return {s, n};
}

}  // namespace

int main(int argc, char** argv) {
  size_t customers = 1'000'000, activities = 20'000'000;
  int threads = 2, repeat = 5;
  bool duckdb = true, keep = false;
  std::string dir = "/tmp/cdp_bench_measures";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--customers") customers = std::stoull(next());
    else if (a == "--activities") activities = std::stoull(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--repeat") repeat = std::max(1, std::stoi(next()));
    else if (a == "--dir") dir = next();
    else if (a == "--no-duckdb") duckdb = false;
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr, "usage: bench_measures [--customers N] [--activities N] [--threads T] [--repeat R] [--dir DIR] [--no-duckdb] [--keep]\n");
      return 2;
    }
  }
  const int32_t run_date = DaysFromCivil(2025, 1, 1);
  const int32_t first_day = DaysFromCivil(2023, 1, 1);
  const size_t online_rows = activities * 2 / 5, store_rows = activities * 2 / 5, review_rows = activities - online_rows - store_rows;
  std::printf("bench_measures: %zu customers, %zu activities (online %zu, store %zu, reviews %zu), %d threads\n", customers,
              activities, online_rows, store_rows, review_rows, threads);

  auto t0 = Clock::now();
  Generated online = Generate(1, online_rows, customers, false, first_day, 730);
  Generated store = Generate(2, store_rows, customers, false, first_day, 730);
  Generated reviews = Generate(3, review_rows, customers, true, first_day, 730);
  auto t1 = Clock::now();
  std::printf("generate: %.0f ms\n", Ms(t0, t1));

  // Group by customer (counting sort + clustered copy): once per refresh.
  auto b0 = Clock::now();
  EntityByCustomer online_by = EntityByCustomer::Build(online.table, online.customer, customers);
  EntityByCustomer store_by = EntityByCustomer::Build(store.table, store.customer, customers);
  EntityByCustomer reviews_by = EntityByCustomer::Build(reviews.table, reviews.customer, customers);
  auto b1 = Clock::now();
  std::printf("group by customer (EntityByCustomer::Build, 3 entities, %zu rows): %.0f ms\n", activities, Ms(b0, b1));

  // The layout choice, measured: per-customer sum of TotalPrice reading the
  // original table through the row ids vs the clustered copy (1 thread).
  {
    const double* orig = online.table->column(1).double_data().data();
    const double* clus = online_by.clustered->column(1).double_data().data();
    std::vector<double> out(customers);
    auto g0 = Clock::now();
    for (size_t c = 0; c < customers; ++c) {
      double s = 0;
      for (uint64_t p = online_by.offsets[c]; p < online_by.offsets[c + 1]; ++p) s += orig[online_by.rows[p]];
      out[c] = s;
    }
    auto g1 = Clock::now();
    double check = 0;
    for (size_t c = 0; c < customers; ++c) {
      double s = 0;
      for (uint64_t p = online_by.offsets[c]; p < online_by.offsets[c + 1]; ++p) s += clus[p];
      check += s - out[c];
    }
    auto g2 = Clock::now();
    std::printf("layout: per-customer sum over %zu rows, 1 thread: via row ids %.1f ms, clustered %.1f ms (diff %g)\n",
                online_rows, Ms(g0, g1), Ms(g1, g2), check);
  }

  std::vector<MeasureConfig> measures = {
      Agg("AverageWebPurchase", AggregateFunction::kAverage, "OnlinePurchase", "TotalPrice"),
      Agg("AverageStorePurchase", AggregateFunction::kAverage, "StorePurchase", "TotalPrice"),
      Agg("WebSpend", AggregateFunction::kSum, "OnlinePurchase", "TotalPrice", 0.0),
      Agg("StoreSpend", AggregateFunction::kSum, "StorePurchase", "TotalPrice", 0.0),
      Formula("LifetimeSpend", "WebSpend + StoreSpend"),
      Agg("TotalWebPurchases", AggregateFunction::kCount, "OnlinePurchase", ""),
      Agg("LastPurchaseDate", AggregateFunction::kMax, "OnlinePurchase", "PurchasedOn"),
      Formula("DaysSinceLastPurchase", "days_since(LastPurchaseDate)"),
      Agg("ReviewCount", AggregateFunction::kCount, "WebsiteReview", ""),
  };
  MeasureInputs in;
  in.num_customers = customers;
  in.run_date = run_date;
  in.activities["OnlinePurchase"] = {&online_by, "PurchasedOn"};
  in.activities["StorePurchase"] = {&store_by, "PurchasedOn"};
  in.activities["WebsiteReview"] = {&reviews_by, "ReviewedOn"};
  auto engine = MeasureEngine::Compile(measures, in);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::vector<double> times;
  StatusOr<MeasureResults> res = InternalError("not run");
  for (int r = 0; r < repeat; ++r) {
    auto e0 = Clock::now();
    res = (*engine)->Evaluate(threads);
    auto e1 = Clock::now();
    if (!res.ok()) {
      std::fprintf(stderr, "%s\n", res.status().ToString().c_str());
      return 1;
    }
    times.push_back(Ms(e0, e1));
  }
  std::sort(times.begin(), times.end());
  const double ours = times[times.size() / 2];
  // Rows read: each source once (all its measures in one pass).
  const double rows_per_sec_core = static_cast<double>(activities) / (ours / 1000.0) / threads;
  std::printf("ours: six lab measures (9 with helpers) in %.1f ms median of %d (min %.1f, max %.1f), %d threads; %.0f M rows/s/core\n",
              ours, repeat, times.front(), times.back(), threads, rows_per_sec_core / 1e6);
  const char* six[] = {"AverageWebPurchase", "AverageStorePurchase", "LifetimeSpend", "TotalWebPurchases", "DaysSinceLastPurchase", "ReviewCount"};
  nlohmann::json our_sums;
  for (const char* name : six) {
    auto [s, n] = Checksum(*res->attributes.ColumnByName(name));
    our_sums[name] = {{"sum", s}, {"non_null", n}};
  }

  if (!duckdb) return 0;
  const std::string script_dir = std::string(CDP_SOURCE_DIR) + "/bench/measures";
  if (!std::filesystem::exists(script_dir + "/node_modules/@duckdb/node-api")) {
    std::printf("duckdb: not installed (run bench/measures/install_duckdb.sh, needs npm); only our figures above\n");
    return 0;
  }
  std::filesystem::create_directories(dir);
  auto w0 = Clock::now();
  bool ok = WriteCsv(dir + "/online.csv", online, false) && WriteCsv(dir + "/store.csv", store, false) &&
            WriteCsv(dir + "/reviews.csv", reviews, true);
  auto w1 = Clock::now();
  if (!ok) {
    std::printf("duckdb: could not write CSV files to %s\n", dir.c_str());
    return 0;
  }
  std::printf("csv for duckdb written in %.0f ms (%s)\n", Ms(w0, w1), dir.c_str());
  std::string cmd = "cd '" + script_dir + "' && node duckdb_measures.mjs '" + dir + "' " + FormatDate(run_date) + " " +
                    std::to_string(threads);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (p) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = pclose(p);
    if (rc != 0) out.clear();
  }
  if (!keep) std::filesystem::remove_all(dir);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (out.empty() || j.is_discarded()) {
    std::printf("duckdb: the node script failed (is Node 20 installed? run bench/measures/install_duckdb.sh); only our figures above\n");
    return 0;
  }
  const double theirs = j["total_ms"].get<double>();
  std::printf("duckdb: load %.0f ms (not counted); six measures in %.1f ms, %d threads:", j["load_ms"].get<double>(), theirs,
              j["threads"].get<int>());
  for (const char* name : six) std::printf(" %s %.0f", name, j["queries"][name].get<double>());
  std::printf("\n");
  for (const char* name : six) {
    double a = our_sums[name]["sum"].get<double>(), b = j["checksums"][name]["sum"].get<double>();
    bool same = std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(a));
    std::printf("check %-22s ours sum %.6g (%zu non-null) duckdb sum %.6g (%lld groups) %s\n", name, a,
                our_sums[name]["non_null"].get<size_t>(), b, j["checksums"][name]["rows"].get<long long>(), same ? "same" : "DIFFERENT");
  }
  std::printf("ratio ours/duckdb: %.3f (target <= 0.5); ours %.1f ms vs duckdb %.1f ms on %d threads (target <= 1000 ms)\n",
              ours / theirs, ours, theirs, threads);
  return 0;
}
