#include "insight/customer_attributes.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/datetime.h"
#include "common/parallel.h"

namespace cdp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDaysPerYear = 365.25;
constexpr std::string_view kOther = "(other)";

// 31204 -> "31,204".
std::string WithThousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

// One column to turn into an attribute: which source and column, and the row
// of that table for each customer (-1 = none).
struct ColumnJob {
  size_t source = 0;
  size_t column = 0;
  const std::vector<int64_t>* row_of = nullptr;  // null: row i = customer i
};

// The attribute of one column, or a reason it is skipped.
struct ColumnResult {
  bool keep = false;
  CustomerAttribute attribute;
  std::string skip_reason;  // when !keep and non-empty
};

ColumnResult BuildColumn(int64_t customers, const AttributeSource& src, const Field& field, const Column& col,
                         const std::vector<int64_t>* row_of, int32_t as_of_day, int max_categories) {
  ColumnResult out;
  CustomerAttribute& a = out.attribute;
  a.entity = src.entity;
  a.field = field.name;
  a.name = field.name;
  const size_t n = static_cast<size_t>(customers);
  // The table row of customer c, or -1.
  auto row = [&](size_t c) -> int64_t {
    int64_t r = row_of ? (*row_of)[c] : static_cast<int64_t>(c);
    if (r < 0 || col.IsNull(static_cast<size_t>(r))) return -1;
    return r;
  };
  int64_t present = 0;
  switch (col.type()) {
    case DataType::kInt64:
    case DataType::kDouble:
    case DataType::kDate:
    case DataType::kTimestamp: {
      a.kind = AttributeKind::kNumeric;
      a.is_date = col.type() == DataType::kDate || col.type() == DataType::kTimestamp;
      if (a.is_date) a.name = "years since " + field.name;
      a.numbers.assign(n, kNaN);
      for (size_t c = 0; c < n; ++c) {
        const int64_t r = row(c);
        if (r < 0) continue;
        const size_t i = static_cast<size_t>(r);
        double v;
        switch (col.type()) {
          case DataType::kInt64:
            v = static_cast<double>(col.Int64At(i));
            break;
          case DataType::kDouble:
            v = col.DoubleAt(i);
            break;
          case DataType::kDate:
            v = (static_cast<double>(as_of_day) - col.DateAt(i)) / kDaysPerYear;
            break;
          default:
            v = (static_cast<double>(as_of_day) - DayOfMicros(col.TimestampAt(i))) / kDaysPerYear;
        }
        if (std::isfinite(v)) {
          a.numbers[c] = v;
          ++present;
        }
      }
      break;
    }
    case DataType::kBool: {
      a.kind = AttributeKind::kCategorical;
      a.categories = {"false", "true"};
      a.codes.assign(n, -1);
      for (size_t c = 0; c < n; ++c) {
        const int64_t r = row(c);
        if (r < 0) continue;
        a.codes[c] = col.BoolAt(static_cast<size_t>(r)) ? 1 : 0;
        ++present;
      }
      break;
    }
    case DataType::kString: {
      a.kind = AttributeKind::kCategorical;
      for (size_t c = 0; c < n; ++c) present += row(c) >= 0;
      // Counts per value (views into the column's arena); stops as soon as
      // the distinct values exceed half of the present ones (identifying),
      // which halves the work on e-mails and names.
      std::unordered_map<std::string_view, int64_t> counts;
      const size_t limit = static_cast<size_t>(present / 2);
      for (size_t c = 0; c < n; ++c) {
        const int64_t r = row(c);
        if (r < 0) continue;
        ++counts[col.StringAt(static_cast<size_t>(r))];
        if (counts.size() > limit) {
          out.skip_reason = src.entity + "." + field.name + ": identifying (more than " +
                            WithThousands(static_cast<int64_t>(limit)) + " distinct values in " +
                            WithThousands(present) + " rows)";
          return out;
        }
      }
      // Most frequent first, ties by value, so codes do not depend on hashing.
      std::vector<std::pair<int64_t, std::string_view>> order;
      order.reserve(counts.size());
      for (const auto& [value, count] : counts) order.emplace_back(-count, value);
      std::sort(order.begin(), order.end());
      const bool lumped = static_cast<int64_t>(order.size()) > max_categories;
      const size_t kept = lumped ? static_cast<size_t>(max_categories - 1) : order.size();
      std::unordered_map<std::string_view, int32_t> code_of;
      for (size_t k = 0; k < kept; ++k) {
        code_of.emplace(order[k].second, static_cast<int32_t>(k));
        a.categories.emplace_back(order[k].second);
      }
      const int32_t other = static_cast<int32_t>(kept);
      if (lumped) a.categories.emplace_back(kOther);
      a.codes.assign(n, -1);
      for (size_t c = 0; c < n; ++c) {
        const int64_t r = row(c);
        if (r < 0) continue;
        auto it = code_of.find(col.StringAt(static_cast<size_t>(r)));
        a.codes[c] = it != code_of.end() ? it->second : other;
      }
      break;
    }
  }
  if (present == 0 && n > 0) {
    out.skip_reason = src.entity + "." + field.name + ": no values";
    return out;
  }
  out.keep = true;
  return out;
}

}  // namespace

bool CustomerAttribute::IsMissing(int64_t customer) const {
  if (customer < 0) return true;
  const size_t c = static_cast<size_t>(customer);
  if (kind == AttributeKind::kNumeric) return c >= numbers.size() || std::isnan(numbers[c]);
  return c >= codes.size() || codes[c] < 0;
}

const CustomerAttribute* CustomerAttributes::Find(std::string_view name) const {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  for (const auto& a : attributes) {
    if (name.size() == a.entity.size() + 1 + a.field.size() && name.substr(0, a.entity.size()) == a.entity &&
        name[a.entity.size()] == '.' && name.substr(a.entity.size() + 1) == a.field) {
      return &a;
    }
  }
  return nullptr;
}

StatusOr<CustomerAttributes> BuildCustomerAttributes(int64_t customers, std::span<const AttributeSource> sources,
                                                     const AttributeOptions& options) {
  if (customers < 0 || customers > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
    return InvalidArgumentError("customer attributes: customers must be in [0, 4294967295], got " +
                                std::to_string(customers));
  }
  if (options.max_categories < 2 || options.max_categories > 1000) {
    return InvalidArgumentError("customer attributes: max_categories must be in [2, 1000], got " +
                                std::to_string(options.max_categories));
  }
  if (options.as_of_day != 0 && !IsSupportedRunDate(options.as_of_day)) {
    return InvalidArgumentError("customer attributes: as_of_day " + std::to_string(options.as_of_day) +
                                " is outside 1900-01-01..9999-12-31 (0 = today)");
  }
  if (options.threads < 0 || options.threads > 256) {
    return InvalidArgumentError("customer attributes: threads must be in [0, 256], got " +
                                std::to_string(options.threads));
  }
  const int32_t as_of =
      options.as_of_day != 0 ? options.as_of_day : static_cast<int32_t>(std::time(nullptr) / 86400);

  // Row of each customer per mapped source (the first row wins).
  std::vector<std::vector<int64_t>> row_of(sources.size());
  std::vector<ColumnJob> jobs;
  for (size_t s = 0; s < sources.size(); ++s) {
    const AttributeSource& src = sources[s];
    if (src.entity.empty()) {
      return InvalidArgumentError("customer attributes: source " + std::to_string(s) + " has no entity name");
    }
    if (!src.table) {
      return InvalidArgumentError("customer attributes: source '" + src.entity + "' has no table");
    }
    const int64_t rows = static_cast<int64_t>(src.table->num_rows());
    if (src.customer_of.empty()) {
      if (rows != customers) {
        return InvalidArgumentError("customer attributes: source '" + src.entity + "' has " + std::to_string(rows) +
                                    " rows and no customer_of; it must have one row per customer (" +
                                    std::to_string(customers) + ")");
      }
    } else {
      if (static_cast<int64_t>(src.customer_of.size()) != rows) {
        return InvalidArgumentError("customer attributes: source '" + src.entity + "' customer_of has " +
                                    std::to_string(src.customer_of.size()) + " entries for " + std::to_string(rows) +
                                    " rows");
      }
      row_of[s].assign(static_cast<size_t>(customers), -1);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t c = src.customer_of[static_cast<size_t>(r)];
        if (c < -1 || c >= customers) {
          return InvalidArgumentError("customer attributes: source '" + src.entity + "' customer_of[" +
                                      std::to_string(r) + "] = " + std::to_string(c) + " is not a customer index (" +
                                      std::to_string(customers) + " customers, -1 = none)");
        }
        if (c >= 0 && row_of[s][static_cast<size_t>(c)] < 0) row_of[s][static_cast<size_t>(c)] = r;
      }
    }
    const Schema& schema = src.table->schema();
    for (size_t k = 0; k < schema.num_fields(); ++k) {
      const std::string& name = schema.field(k).name;
      if (name == "CustomerId") continue;
      if (std::find(options.exclude.begin(), options.exclude.end(), name) != options.exclude.end()) continue;
      jobs.push_back({s, k, src.customer_of.empty() ? nullptr : &row_of[s]});
    }
  }

  std::vector<ColumnResult> results(jobs.size());
  ParallelFor(options.threads, jobs.size(), 1, [&](size_t begin, size_t end, int) {
    for (size_t j = begin; j < end; ++j) {
      const ColumnJob& job = jobs[j];
      const AttributeSource& src = sources[job.source];
      results[j] = BuildColumn(customers, src, src.table->schema().field(job.column), src.table->column(job.column),
                               job.row_of, as_of, options.max_categories);
    }
  });

  CustomerAttributes out;
  out.customers = customers;
  for (auto& r : results) {
    if (!r.keep) {
      if (!r.skip_reason.empty()) out.skipped.push_back(std::move(r.skip_reason));
      continue;
    }
    // A name already taken (the same field in two entities) becomes "entity.field".
    const bool taken = std::any_of(out.attributes.begin(), out.attributes.end(),
                                   [&](const CustomerAttribute& a) { return a.name == r.attribute.name; });
    if (taken) {
      r.attribute.name = r.attribute.entity + "." + (r.attribute.is_date ? "years since " : "") + r.attribute.field;
    }
    out.attributes.push_back(std::move(r.attribute));
  }
  return out;
}

FeatureMatrix ToFeatureMatrix(const CustomerAttributes& attributes, std::span<const int64_t> rows,
                              std::vector<int32_t>* feature_attribute) {
  FeatureMatrix m;
  // Per attribute, its first matrix column.
  std::vector<size_t> first(attributes.attributes.size());
  std::vector<int32_t> owner;
  for (size_t a = 0; a < attributes.attributes.size(); ++a) {
    const CustomerAttribute& attr = attributes.attributes[a];
    first[a] = m.names.size();
    if (attr.kind == AttributeKind::kNumeric) {
      m.names.push_back(attr.name);
      owner.push_back(static_cast<int32_t>(a));
    } else {
      for (const auto& value : attr.categories) {
        m.names.push_back(attr.name + " = " + value);
        owner.push_back(static_cast<int32_t>(a));
      }
    }
  }
  const size_t cols = m.names.size();
  m.rows = static_cast<int64_t>(rows.size());
  m.values.assign(rows.size() * cols, std::numeric_limits<float>::quiet_NaN());
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t c = rows[i];
    float* out = m.values.data() + i * cols;
    for (size_t a = 0; a < attributes.attributes.size(); ++a) {
      const CustomerAttribute& attr = attributes.attributes[a];
      if (attr.IsMissing(c)) continue;
      const size_t cu = static_cast<size_t>(c);
      if (attr.kind == AttributeKind::kNumeric) {
        out[first[a]] = static_cast<float>(attr.numbers[cu]);
      } else {
        for (size_t k = 0; k < attr.categories.size(); ++k) out[first[a] + k] = 0.0f;
        out[first[a] + static_cast<size_t>(attr.codes[cu])] = 1.0f;
      }
    }
  }
  if (feature_attribute) *feature_attribute = std::move(owner);
  return m;
}

}  // namespace cdp
