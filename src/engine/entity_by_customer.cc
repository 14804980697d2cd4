#include "engine/entity_by_customer.h"

#include <cassert>
#include <cstring>

#include "common/parallel.h"

namespace cdp {
namespace {

// Gathers rows `rows` of `src` into a new column of the same type.
Column GatherColumn(const Column& src, const std::vector<uint32_t>& rows) {
  const size_t n = rows.size();
  Column out(src.type());
  std::vector<uint8_t> null(n, 0);
  if (src.null_count() > 0) {
    for (size_t i = 0; i < n; ++i) null[i] = src.IsNull(rows[i]) ? 1 : 0;
  }
  switch (src.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      std::vector<int64_t> v(n);
      const int64_t* d = src.int64_data().data();
      for (size_t i = 0; i < n; ++i) v[i] = d[rows[i]];
      out.AppendInt64s(v.data(), null.data(), n);
      break;
    }
    case DataType::kDouble: {
      std::vector<double> v(n);
      const double* d = src.double_data().data();
      for (size_t i = 0; i < n; ++i) v[i] = d[rows[i]];
      out.AppendDoubles(v.data(), null.data(), n);
      break;
    }
    case DataType::kBool: {
      std::vector<uint8_t> v(n);
      const uint8_t* d = src.bool_data().data();
      for (size_t i = 0; i < n; ++i) v[i] = d[rows[i]];
      out.AppendBools(v.data(), null.data(), n);
      break;
    }
    case DataType::kDate: {
      std::vector<int32_t> v(n);
      const int32_t* d = src.date_data().data();
      for (size_t i = 0; i < n; ++i) v[i] = d[rows[i]];
      out.AppendDates(v.data(), null.data(), n);
      break;
    }
    case DataType::kString: {
      size_t bytes = 0;
      for (size_t i = 0; i < n; ++i) bytes += src.StringAt(rows[i]).size();
      out.Reserve(n);
      out.ReserveChars(bytes);
      for (size_t i = 0; i < n; ++i) {
        if (null[i]) {
          out.AppendNull();
        } else {
          out.AppendString(src.StringAt(rows[i]));
        }
      }
      break;
    }
  }
  return out;
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
