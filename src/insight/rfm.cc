#include "insight/rfm.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/datetime.h"
#include "insight/internal/insight_text.h"

namespace cdp {
namespace {

using insight_internal::HumanNumber;

struct GroupSpec {
  const char* name;
  const char* key;
  const char* description;
  int r_low, r_high, f_low, f_high;
};

// The recency x frequency grid (see rfm.h); together the cells cover R 1-5 x F 1-5 once.
constexpr GroupSpec kGroups[] = {
    {"Champions", "Champions", "bought most recently and buy often", 5, 5, 4, 5},
    {"Loyal", "Loyal", "buy often and bought not long ago", 3, 4, 4, 5},
    {"Potential loyalist", "PotentialLoyalist", "recent customers with a few purchases", 4, 5, 2, 3},
    {"New", "New", "bought most recently, few purchases so far", 5, 5, 1, 1},
    {"Promising", "Promising", "bought recently, few purchases so far", 4, 4, 1, 1},
    {"Need attention", "NeedAttention", "average recency and frequency", 3, 3, 3, 3},
    {"About to sleep", "AboutToSleep", "below average recency and few purchases", 3, 3, 1, 2},
    {"At risk", "AtRisk", "bought often, but long ago", 1, 2, 3, 4},
    {"Cannot lose them", "CannotLoseThem", "bought most often, but long ago", 1, 2, 5, 5},
    {"Hibernating", "Hibernating", "last purchase long ago, few purchases", 2, 2, 1, 2},
    {"Lost", "Lost", "the oldest last purchases, few purchases", 1, 1, 1, 2},
};

// Scores 1..5 of `value` (higher = better) for the customers in `rows`:
// 1 + floor(5 * (rows with a strictly lower value) / n).
void ScoreByQuintile(const std::vector<int64_t>& rows, const std::vector<double>& value, std::vector<uint8_t>* score) {
  const size_t n = rows.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    double va = value[static_cast<size_t>(rows[a])], vb = value[static_cast<size_t>(rows[b])];
    return va != vb ? va < vb : rows[a] < rows[b];
  });
  size_t a = 0;
  while (a < n) {
    size_t b = a;
    const double v = value[static_cast<size_t>(rows[order[a]])];
    while (b < n && value[static_cast<size_t>(rows[order[b]])] == v) ++b;
    const auto s = static_cast<uint8_t>(1 + (5 * a) / n);
    for (size_t i = a; i < b; ++i) (*score)[static_cast<size_t>(rows[order[i]])] = s;
    a = b;
  }
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return HumanNumber(static_cast<double>(n)) + " " + (n == 1 ? one : many);
}

}  // namespace

StatusOr<RfmInput> RfmInputFromTransactions(int64_t customers, std::span<const int64_t> customer,
                                            std::span<const int32_t> day, std::span<const double> amount) {
  if (customers < 0) return InvalidArgumentError("rfm: customers " + std::to_string(customers) + " is negative");
  if (customer.size() != day.size() || customer.size() != amount.size()) {
    return InvalidArgumentError("rfm: transactions: " + std::to_string(customer.size()) + " customers, " +
                                std::to_string(day.size()) + " days and " + std::to_string(amount.size()) +
                                " amounts (one of each per transaction)");
  }
  RfmInput in;
  const auto n = static_cast<size_t>(customers);
  in.last_day.assign(n, kNoTransactionDay);
  in.frequency.assign(n, 0);
  in.monetary.assign(n, 0.0);
  for (size_t i = 0; i < customer.size(); ++i) {
    const int64_t c = customer[i];
    if (c < 0 || c >= customers) {
      return InvalidArgumentError("rfm: transaction " + std::to_string(i) + ": customer index " + std::to_string(c) +
                                  " is outside [0, " + std::to_string(customers) + ")");
    }
    if (!IsSupportedRunDate(day[i])) {
      return InvalidArgumentError("rfm: transaction " + std::to_string(i) + ": day " + std::to_string(day[i]) +
                                  " is outside 1900-01-01 .. 9999-12-31");
    }
    const auto u = static_cast<size_t>(c);
    in.last_day[u] = std::max(in.last_day[u], day[i]);
    ++in.frequency[u];
    if (!std::isnan(amount[i])) in.monetary[u] += amount[i];
  }
  return in;
}

StatusOr<RfmResult> ComputeRfm(const RfmInput& input, const RfmOptions& options) {
  const size_t n = input.last_day.size();
  if (input.frequency.size() != n || input.monetary.size() != n) {
    return InvalidArgumentError("rfm: input arrays differ in length (last_day " + std::to_string(n) + ", frequency " +
                                std::to_string(input.frequency.size()) + ", monetary " +
                                std::to_string(input.monetary.size()) + ")");
  }
  if (options.as_of_day != 0 && !IsSupportedRunDate(options.as_of_day)) {
    return InvalidArgumentError("rfm: as_of_day " + std::to_string(options.as_of_day) +
                                " is outside 1900-01-01 .. 9999-12-31");
  }
  const bool with_definitions = !options.last_date_field.empty() && !options.frequency_field.empty();
  if (with_definitions && options.entity != kCustomerEntity && options.entity != kCustomerMeasureEntity) {
    return InvalidArgumentError("rfm: entity '" + options.entity + "' must be Customer or Customer_Measure");
  }
  if (with_definitions && !options.name_prefix.empty() && !IsValidSegmentName(options.name_prefix + "X")) {
    return InvalidArgumentError("rfm: name_prefix '" + options.name_prefix + "' does not make a segment name (" +
                                std::string(kSegmentNameRule) + ")");
  }
  std::vector<int64_t> buyers;
  int32_t last = kNoTransactionDay;
  for (size_t i = 0; i < n; ++i) {
    const bool has_day = input.last_day[i] != kNoTransactionDay;
    if (input.frequency[i] < 0) {
      return InvalidArgumentError("rfm: customer " + std::to_string(i) + ": frequency " +
                                  std::to_string(input.frequency[i]) + " is negative");
    }
    if (has_day != (input.frequency[i] > 0)) {
      return InvalidArgumentError("rfm: customer " + std::to_string(i) + ": " +
                                  (has_day ? "a last transaction day with frequency 0"
                                           : "frequency " + std::to_string(input.frequency[i]) +
                                                 " without a last transaction day"));
    }
    if (has_day && !IsSupportedRunDate(input.last_day[i])) {
      return InvalidArgumentError("rfm: customer " + std::to_string(i) + ": last day " +
                                  std::to_string(input.last_day[i]) + " is outside 1900-01-01 .. 9999-12-31");
    }
    if (has_day) {
      buyers.push_back(static_cast<int64_t>(i));
      last = std::max(last, input.last_day[i]);
    }
  }

  RfmResult r;
  r.customers = static_cast<int64_t>(n);
  r.customers_with_transactions = static_cast<int64_t>(buyers.size());
  r.as_of_day = options.as_of_day != 0 ? options.as_of_day : (buyers.empty() ? 0 : last + 1);
  r.r_score.assign(n, 0);
  r.f_score.assign(n, 0);
  r.m_score.assign(n, 0);

  // Days since the last transaction (0 for a day on or after as_of).
  std::vector<double> days(n, 0), neg_days(n, 0), freq(n, 0);
  for (int64_t c : buyers) {
    const auto u = static_cast<size_t>(c);
    days[u] = static_cast<double>(std::max<int64_t>(0, int64_t{r.as_of_day} - input.last_day[u]));
    neg_days[u] = -days[u];
    freq[u] = static_cast<double>(input.frequency[u]);
  }
  ScoreByQuintile(buyers, neg_days, &r.r_score);
  ScoreByQuintile(buyers, freq, &r.f_score);
  ScoreByQuintile(buyers, input.monetary, &r.m_score);

  const double total = static_cast<double>(std::max<size_t>(n, 1));
  for (const GroupSpec& g : kGroups) {
    RfmGroup out;
    out.name = g.name;
    out.key = g.key;
    out.description = g.description;
    out.r_low = g.r_low;
    out.r_high = g.r_high;
    out.f_low = g.f_low;
    out.f_high = g.f_high;
    // Value ranges of the score ranges over every buyer: scores are monotone
    // in the values, so "score in range" is "value in these bounds".
    std::optional<int64_t> dmin, dmax, fmin, fmax, all_dmin, all_dmax, all_fmin, all_fmax;
    auto widen = [](std::optional<int64_t>& lo, std::optional<int64_t>& hi, int64_t v) {
      lo = lo ? std::min(*lo, v) : v;
      hi = hi ? std::max(*hi, v) : v;
    };
    double spend = 0, sum_days = 0, sum_freq = 0;
    std::vector<uint32_t> members;
    for (int64_t c : buyers) {
      const auto u = static_cast<size_t>(c);
      const auto d = static_cast<int64_t>(days[u]);
      const int64_t f = input.frequency[u];
      widen(all_dmin, all_dmax, d);
      widen(all_fmin, all_fmax, f);
      const bool r_in = r.r_score[u] >= g.r_low && r.r_score[u] <= g.r_high;
      const bool f_in = r.f_score[u] >= g.f_low && r.f_score[u] <= g.f_high;
      if (r_in) widen(dmin, dmax, d);
      if (f_in) widen(fmin, fmax, f);
      if (r_in && f_in) {
        members.push_back(static_cast<uint32_t>(c));
        spend += input.monetary[u];
        sum_days += days[u];
        sum_freq += freq[u];
      }
    }
    out.size = static_cast<int64_t>(members.size());
    out.share = static_cast<double>(out.size) / total;
    if (out.size > 0) {
      const double m = static_cast<double>(out.size);
      out.average_spend = spend / m;
      out.average_recency_days = sum_days / m;
      out.average_frequency = sum_freq / m;
      out.min_recency_days = dmin;
      out.max_recency_days = dmax;
      out.min_frequency = fmin;
      out.max_frequency = fmax;
      // Bounds that are the buyers' extremes add nothing (but the date
      // condition is always there: it is what excludes non-buyers).
      const bool d_lo = *dmin > *all_dmin, d_hi = *dmax < *all_dmax;
      const bool f_lo = *fmin > *all_fmin, f_hi = *fmax < *all_fmax;
      std::string rt;
      if (d_lo && d_hi) {
        rt = "last transaction " + HumanNumber(static_cast<double>(*dmin)) + " to " +
             Plural(*dmax, "day", "days") + " ago";
      } else if (d_hi) {
        rt = "last transaction at most " + Plural(*dmax, "day", "days") + " ago";
      } else if (d_lo) {
        rt = "last transaction at least " + Plural(*dmin, "day", "days") + " ago";
      } else {
        rt = "any transaction";
      }
      if (f_lo && f_hi) {
        rt += *fmin == *fmax ? " and " + Plural(*fmin, "transaction", "transactions")
                             : " and " + HumanNumber(static_cast<double>(*fmin)) + " to " +
                                   Plural(*fmax, "transaction", "transactions");
      } else if (f_lo) {
        rt += " and at least " + Plural(*fmin, "transaction", "transactions");
      } else if (f_hi) {
        rt += " and at most " + Plural(*fmax, "transaction", "transactions");
      }
      out.rules_text = rt;
      if (with_definitions) {
        SegmentDefinition def;
        def.name = options.name_prefix + g.key;
        def.display_name = std::string("RFM: ") + g.name;
        def.description = std::string(g.description) + " (" + rt + "; RFM scores at " + FormatDate(r.as_of_day) + ")";
        def.type = SegmentType::kDynamic;
        Rule rule;
        rule.entity = options.entity;
        auto cond = [&](const std::string& field, ConditionOp op, SegmentValue v) {
          Condition c;
          c.field = field;
          c.op = op;
          if (op != ConditionOp::kIsNotEmpty) c.values.push_back(std::move(v));
          rule.conditions.emplace_back(std::move(c));
        };
        // days <= X  <=>  last >= as_of - X;  days >= X  <=>  last <= as_of - X
        // (days clamp at 0, and a day after as_of passes "on or after" too).
        if (d_hi) cond(options.last_date_field, ConditionOp::kOnOrAfter, FormatDate(AddDays(r.as_of_day, -*dmax)));
        if (d_lo) cond(options.last_date_field, ConditionOp::kOnOrBefore, FormatDate(AddDays(r.as_of_day, -*dmin)));
        if (!d_lo && !d_hi) cond(options.last_date_field, ConditionOp::kIsNotEmpty, SegmentValue{});
        if (f_lo) cond(options.frequency_field, ConditionOp::kGreaterEqual, *fmin);
        if (f_hi) cond(options.frequency_field, ConditionOp::kLessEqual, *fmax);
        def.rules.push_back(std::move(rule));
        out.definition = std::move(def);
      }
    }
    out.members = CustomerSet::Of(members);
    out.members.Optimize();
    r.groups.push_back(std::move(out));
  }
  // Customers without a transaction.
  RfmGroup none;
  none.name = "No transactions";
  none.key = "NoTransactions";
  none.description = "no transaction with a day";
  none.rules_text = "no transaction";
  std::vector<uint32_t> members;
  for (size_t i = 0; i < n; ++i) {
    if (input.last_day[i] == kNoTransactionDay) members.push_back(static_cast<uint32_t>(i));
  }
  none.size = static_cast<int64_t>(members.size());
  none.share = static_cast<double>(none.size) / total;
  none.members = CustomerSet::Of(members);
  none.members.Optimize();
  r.groups.push_back(std::move(none));
  return r;
}

nlohmann::ordered_json ToJson(const RfmResult& result) {
  nlohmann::ordered_json j;
  j["as_of"] = result.as_of_day != 0 ? nlohmann::ordered_json(FormatDate(result.as_of_day)) : nullptr;
  j["customers"] = result.customers;
  j["customers_with_transactions"] = result.customers_with_transactions;
  auto groups = nlohmann::ordered_json::array();
  for (const RfmGroup& g : result.groups) {
    nlohmann::ordered_json o;
    o["name"] = g.name;
    o["key"] = g.key;
    o["description"] = g.description;
    o["r"] = {g.r_low, g.r_high};
    o["f"] = {g.f_low, g.f_high};
    o["size"] = g.size;
    o["share"] = g.share;
    o["average_spend"] = g.average_spend;
    o["recency_days"] = g.average_recency_days;
    o["frequency"] = g.average_frequency;
    o["rules_text"] = g.rules_text;
    o["definition"] = g.definition ? nlohmann::ordered_json::parse(SegmentToJson(*g.definition, -1))
                                   : nlohmann::ordered_json(nullptr);
    groups.push_back(std::move(o));
  }
  j["groups"] = std::move(groups);
  return j;
}

}  // namespace cdp
