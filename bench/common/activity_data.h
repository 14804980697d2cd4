// Shared by the benchmarks (bench_measures, bench_segments): generated
// activity entities (online / store purchases, website reviews) with rows in
// random customer order, and their CSV form for the DuckDB peer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/datetime.h"
#include "table/column.h"

namespace cdp::bench {

struct Generated {
  std::shared_ptr<Table> table;
  std::vector<int64_t> customer;
  std::vector<int64_t> cents_or_rating;  // for CSV
};

// Rows in random customer order (as an entity arrives from a source).
inline Generated Generate(uint64_t seed, size_t rows, size_t customers, bool review, int32_t first_day, int32_t days) {
  std::mt19937_64 rng(seed);
  Generated g;
  g.customer.resize(rows);
  g.cents_or_rating.resize(rows);
  std::vector<int64_t> ts(rows), product(rows);
  std::vector<double> price(rows);
  for (size_t i = 0; i < rows; ++i) {
    // Skewed activity: a third of the customers are twice as active.
    uint64_t r = rng();
    size_t c = (r >> 40) % customers;
    if ((r & 3) == 0) c = c / 3;
    g.customer[i] = static_cast<int64_t>(c);
    ts[i] = (static_cast<int64_t>(first_day) + static_cast<int64_t>(rng() % days)) * kMicrosPerDay +
            static_cast<int64_t>(rng() % 86400) * kMicrosPerSecond;
    product[i] = static_cast<int64_t>(rng() % 5000);
    if (review) {
      g.cents_or_rating[i] = 1 + static_cast<int64_t>(rng() % 5);
    } else {
      g.cents_or_rating[i] = 199 + static_cast<int64_t>(rng() % 30000);
      price[i] = static_cast<double>(g.cents_or_rating[i]) / 100.0;
    }
  }
  Schema s(review ? std::vector<Field>{{"CustomerIndex", DataType::kInt64, {}}, {"Rating", DataType::kInt64, {}},
                                       {"ReviewedOn", DataType::kTimestamp, {}}, {"ProductId", DataType::kInt64, {}}}
                  : std::vector<Field>{{"CustomerIndex", DataType::kInt64, {}}, {"TotalPrice", DataType::kDouble, {}},
                                       {"PurchasedOn", DataType::kTimestamp, {}}, {"ProductId", DataType::kInt64, {}}});
  g.table = std::make_shared<Table>(s);
  std::vector<uint8_t> nonull(rows, 0);
  g.table->mutable_column(0).AppendInt64s(g.customer.data(), nonull.data(), rows);
  if (review) {
    g.table->mutable_column(1).AppendInt64s(g.cents_or_rating.data(), nonull.data(), rows);
  } else {
    g.table->mutable_column(1).AppendDoubles(price.data(), nonull.data(), rows);
  }
  g.table->mutable_column(2).AppendInt64s(ts.data(), nonull.data(), rows);
  g.table->mutable_column(3).AppendInt64s(product.data(), nonull.data(), rows);
  (void)g.table->Validate();
  return g;
}

inline bool WriteCsv(const std::string& path, const Generated& g, bool review) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f, review ? "CustomerIndex,Rating,ReviewedOn,ProductId\n" : "CustomerIndex,TotalPrice,PurchasedOn,ProductId\n");
  const Table& t = *g.table;
  std::string buf;
  buf.reserve(1 << 20);
  char line[128];
  for (size_t i = 0; i < t.num_rows(); ++i) {
    int64_t v = g.cents_or_rating[i];
    int n = review ? std::snprintf(line, sizeof line, "%lld,%lld,%lld,%lld\n", (long long)g.customer[i], (long long)v,
                                   (long long)t.column(2).Int64At(i), (long long)t.column(3).Int64At(i))
                   : std::snprintf(line, sizeof line, "%lld,%lld.%02lld,%lld,%lld\n", (long long)g.customer[i], (long long)(v / 100),
                                   (long long)(v % 100), (long long)t.column(2).Int64At(i), (long long)t.column(3).Int64At(i));
    buf.append(line, n);
    if (buf.size() > (1 << 20) - 256) {
      std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f);
  return std::fclose(f) == 0;
}

}  // namespace cdp::bench
