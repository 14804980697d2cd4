#include "engine/entity_by_customer.h"

#include <cassert>
#include <cstring>

#include "common/parallel.h"

namespace cdp {
namespace {

// Gathers rows `rows` of `src` into a new column of the same type. The
// buffers are built once and moved into the column (no second copy: on a
// virtual machine the page faults of fresh memory dominate this step).
Column GatherColumn(const Column& src, const std::vector<uint32_t>& rows) {
  const size_t n = rows.size();
  std::vector<uint64_t> validity((n + 63) / 64, ~uint64_t{0});
  if (src.null_count() > 0) {
    std::fill(validity.begin(), validity.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      if (src.IsValid(rows[i])) validity[i >> 6] |= uint64_t{1} << (i & 63);
    }
  }
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<uint8_t> u8;
  std::vector<int32_t> i32;
  std::vector<uint64_t> offsets;
  std::string chars;
  auto gather = [&](const auto& from, auto* to) {
    to->resize(n);
    auto* d = to->data();
    const auto* f = from.data();
    for (size_t i = 0; i < n; ++i) d[i] = f[rows[i]];
  };
  switch (src.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: gather(src.int64_data(), &i64); break;
    case DataType::kDouble: gather(src.double_data(), &f64); break;
    case DataType::kBool: gather(src.bool_data(), &u8); break;
    case DataType::kDate: gather(src.date_data(), &i32); break;
    case DataType::kString: {
      offsets.resize(n + 1);
      offsets[0] = 0;
      for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + src.StringAt(rows[i]).size();
      chars.resize(offsets[n]);
      for (size_t i = 0; i < n; ++i) {
        std::string_view v = src.StringAt(rows[i]);
        if (!v.empty()) std::memcpy(chars.data() + offsets[i], v.data(), v.size());
      }
      break;
    }
  }
  auto c = Column::FromBuffers(src.type(), n, std::move(validity), std::move(i64), std::move(f64), std::move(u8),
                               std::move(i32), std::move(offsets), std::move(chars));
  assert(c.ok());
  return std::move(c).value();
}

}  // namespace

EntityByCustomer EntityByCustomer::Build(std::shared_ptr<const Table> table, const std::vector<int64_t>& customer_of_row,
                                         size_t num_customers) {
  EntityByCustomer e;
  e.table = std::move(table);
  e.num_customers = num_customers;
  const size_t n = customer_of_row.size();
  assert(e.table == nullptr || e.table->num_rows() == n);
  auto valid = [&](int64_t c) { return c >= 0 && static_cast<uint64_t>(c) < num_customers; };

  e.offsets.assign(num_customers + 1, 0);
  bool sorted = true;
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t c = customer_of_row[i];
    if (!valid(c)) {
      sorted = false;
      continue;
    }
    ++e.offsets[c + 1];
    if (c < prev) sorted = false;
    prev = c;
  }
  for (size_t c = 0; c < num_customers; ++c) e.offsets[c + 1] += e.offsets[c];
  e.rows.resize(e.offsets[num_customers]);
  if (sorted) {
    for (size_t i = 0; i < n; ++i) e.rows[i] = static_cast<uint32_t>(i);
    e.clustered = e.table;
    return e;
  }
  std::vector<uint64_t> cursor(e.offsets.begin(), e.offsets.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t c = customer_of_row[i];
    if (valid(c)) e.rows[cursor[c]++] = static_cast<uint32_t>(i);
  }
  if (e.table == nullptr) return e;
  const Table& src = *e.table;
  std::vector<Column> cols(src.num_columns());
  ParallelFor(0, src.num_columns(), 1, [&](size_t b, size_t end, int) {
    for (size_t k = b; k < end; ++k) cols[k] = GatherColumn(src.column(k), e.rows);
  });
  auto out = std::make_shared<Table>(src.schema());
  for (size_t k = 0; k < cols.size(); ++k) out->mutable_column(k) = std::move(cols[k]);
  Status st = out->Validate();
  assert(st.ok());
  (void)st;
  e.clustered = std::move(out);
  return e;
}

}  // namespace cdp
