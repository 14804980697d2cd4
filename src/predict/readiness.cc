#include "predict/readiness.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/datetime.h"

namespace cdp {
namespace {

std::string CountWord(int64_t n) {
  static const char* kWords[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
  if (n >= 0 && n <= 10) return kWords[n];
  return std::to_string(n);
}

std::string Percent(double share) {
  char buf[32];
  double p = share * 100;
  if (p >= 10 || p == std::floor(p)) {
    std::snprintf(buf, sizeof(buf), "%.0f%%", p);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f%%", p);
  }
  return buf;
}

std::string Days(int64_t n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

std::string Customers(int64_t n) { return n == 1 ? "1 customer has" : std::to_string(n) + " customers have"; }

}  // namespace

ReadinessReport AssessReadiness(const TransactionLog& log, int32_t as_of_day, const ReadinessRequirements& req) {
  ReadinessReport r;
  r.as_of_day = as_of_day;
  r.window_days = req.window_days;
  r.profiles = log.num_customers();
  const int64_t window = req.window_days;
  const int64_t last_window_start = static_cast<int64_t>(as_of_day) - window;
  std::vector<int64_t> per_customer;
  bool any = false;
  for (int64_t c = 0; c < log.num_customers(); ++c) {
    int64_t rows = 0, days = 0;
    int32_t previous = 0;
    bool before_window = false, in_window = false;
    for (int64_t i = log.offsets[c]; i < log.offsets[c + 1] && log.day[i] < as_of_day; ++i) {
      const int32_t d = log.day[i];
      if (rows == 0 || d != previous) ++days;
      previous = d;
      ++rows;
      if (std::isnan(log.amount[i])) ++r.transactions_without_amount;
      if (log.product[i] < 0) ++r.transactions_without_product;
      if (!any || d < r.first_day) r.first_day = d;
      if (!any || d > r.last_day) r.last_day = d;
      any = true;
      if (d < last_window_start) {
        before_window = true;
      } else {
        in_window = true;
      }
    }
    if (rows == 0) continue;
    r.transactions += rows;
    per_customer.push_back(rows);
    if (days >= 2) ++r.repeat_customers;
    if (before_window && !in_window) ++r.positives;
  }
  if (!any) {
    r.first_day = 0;
    r.last_day = -1;
  }
  r.customers_with_transactions = static_cast<int64_t>(per_customer.size());
  if (!per_customer.empty()) {
    size_t n = per_customer.size();
    std::sort(per_customer.begin(), per_customer.end());
    r.median_transactions_per_customer =
        n % 2 == 1 ? static_cast<double>(per_customer[n / 2])
                   : (static_cast<double>(per_customer[n / 2 - 1]) + static_cast<double>(per_customer[n / 2])) / 2;
    r.mean_transactions_per_customer = static_cast<double>(r.transactions) / static_cast<double>(n);
  }
  if (r.transactions > 0) {
    r.share_without_amount = static_cast<double>(r.transactions_without_amount) / static_cast<double>(r.transactions);
    r.share_without_product =
        static_cast<double>(r.transactions_without_product) / static_cast<double>(r.transactions);
    r.history_days = static_cast<int32_t>(std::min<int64_t>(static_cast<int64_t>(as_of_day) - r.first_day,
                                                            std::numeric_limits<int32_t>::max()));
  }

  // Problems, most fundamental first.
  auto& p = r.problems;
  if (req.window_days <= 0) p.push_back("window_days must be positive (got " + std::to_string(req.window_days) + ")");
  if (req.min_windows <= 0) p.push_back("min_windows must be positive (got " + std::to_string(req.min_windows) + ")");
  if (r.profiles == 0) p.push_back("there are no customer profiles");
  if (r.transactions == 0) {
    if (r.profiles > 0) p.push_back("there are no transactions before " + FormatDate(as_of_day));
  } else if (req.window_days > 0 && req.min_windows > 0) {
    const int64_t needed = window * req.min_windows;
    if (r.history_days < needed) {
      p.push_back("needs at least " + CountWord(req.min_windows) + (req.min_windows == 1 ? " window" : " windows") +
                  " of history (" + Days(needed) + "); the data cover " + Days(r.history_days));
    }
    const int64_t gap = static_cast<int64_t>(as_of_day) - r.last_day;
    if (gap > window) {
      p.push_back("the newest transaction (" + FormatDate(r.last_day) + ") is " + Days(gap) + " before " +
                  FormatDate(as_of_day) + ", more than one window (" + Days(window) + ")");
    }
  }
  if (r.profiles > 0 && r.customers_with_transactions < req.min_customers) {
    p.push_back("only " + Customers(r.customers_with_transactions) + " transactions; at least " +
                std::to_string(req.min_customers) + " are needed");
  }
  if (r.profiles > 0 && r.repeat_customers < req.min_repeat_customers) {
    p.push_back("only " + Customers(r.repeat_customers) + " transactions on two or more days; at least " +
                std::to_string(req.min_repeat_customers) + " are needed");
  }
  if (r.profiles > 0 && req.window_days > 0 && r.positives < req.min_positive) {
    p.push_back("only " + std::to_string(r.positives) + (r.positives == 1 ? " customer" : " customers") +
                " stopped buying in the last window (" + Days(window) + "); at least " +
                std::to_string(req.min_positive) + " are needed");
  }
  if (req.needs_amount && r.transactions > 0 && r.share_without_amount > req.max_missing_share) {
    p.push_back(Percent(r.share_without_amount) + " of transactions have no amount; at most " +
                Percent(req.max_missing_share) + " may be missing");
  }
  if (req.needs_product && r.transactions > 0 && r.share_without_product > req.max_missing_share) {
    p.push_back(Percent(r.share_without_product) + " of transactions have no product; at most " +
                Percent(req.max_missing_share) + " may be missing");
  }
  r.ready = p.empty();
  return r;
}

nlohmann::ordered_json ReadinessReport::ToJson() const {
  nlohmann::ordered_json j;
  j["ready"] = ready;
  j["problems"] = problems;
  j["profiles"] = profiles;
  j["customers_with_transactions"] = customers_with_transactions;
  j["transactions"] = transactions;
  j["first_day"] = transactions > 0 ? nlohmann::ordered_json(FormatDate(first_day)) : nlohmann::ordered_json();
  j["last_day"] = transactions > 0 ? nlohmann::ordered_json(FormatDate(last_day)) : nlohmann::ordered_json();
  j["as_of_day"] = FormatDate(as_of_day);
  j["history_days"] = history_days;
  j["window_days"] = window_days;
  j["median_transactions_per_customer"] = median_transactions_per_customer;
  j["mean_transactions_per_customer"] = mean_transactions_per_customer;
  j["repeat_customers"] = repeat_customers;
  j["positives"] = positives;
  j["transactions_without_amount"] = transactions_without_amount;
  j["transactions_without_product"] = transactions_without_product;
  j["share_without_amount"] = share_without_amount;
  j["share_without_product"] = share_without_product;
  return j;
}

}  // namespace cdp
