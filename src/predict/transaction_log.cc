#include "predict/transaction_log.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace cdp {

int32_t TransactionLog::first_day() const {
  if (day.empty()) return 0;
  return *std::min_element(day.begin(), day.end());
}

int32_t TransactionLog::last_day() const {
  if (day.empty()) return -1;
  return *std::max_element(day.begin(), day.end());
}

int32_t TransactionLogBuilder::Intern(std::string_view name, std::vector<std::string>* names,
                                      std::unordered_map<std::string, int32_t>* index) {
  if (name.empty()) return -1;
  auto [it, inserted] = index->try_emplace(std::string(name), static_cast<int32_t>(names->size()));
  if (inserted) names->emplace_back(name);
  return it->second;
}

void TransactionLogBuilder::AddTransaction(int64_t customer, int32_t day, double amount, std::string_view product) {
  transactions_.push_back({customer, day, Intern(product, &product_names_, &product_index_), amount});
}

void TransactionLogBuilder::AddOther(int64_t customer, int32_t day, std::string_view type, double amount) {
  int32_t code = Intern(type, &type_names_, &type_index_);
  others_.push_back({customer, day, code < 0 ? Intern("(none)", &type_names_, &type_index_) : code, amount});
}

StatusOr<TransactionLog> TransactionLogBuilder::Build() && {
  auto sort_rows = [&](std::vector<Row>& rows, std::vector<int64_t>* offsets, const char* what) -> Status {
    for (const Row& r : rows) {
      if (r.customer < 0 || r.customer >= num_customers_) {
        return InvalidArgumentError(std::string(what) + " of customer index " + std::to_string(r.customer) +
                                    " outside 0.." + std::to_string(num_customers_ - 1));
      }
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.customer != b.customer ? a.customer < b.customer : a.day < b.day;
    });
    offsets->assign(static_cast<size_t>(num_customers_) + 1, 0);
    for (const Row& r : rows) ++(*offsets)[static_cast<size_t>(r.customer) + 1];
    for (size_t i = 1; i < offsets->size(); ++i) (*offsets)[i] += (*offsets)[i - 1];
    return Status::Ok();
  };
  TransactionLog log;
  CDP_RETURN_IF_ERROR(sort_rows(transactions_, &log.offsets, "a transaction"));
  CDP_RETURN_IF_ERROR(sort_rows(others_, &log.other_offsets, "an activity"));
  log.day.reserve(transactions_.size());
  log.amount.reserve(transactions_.size());
  log.product.reserve(transactions_.size());
  for (const Row& r : transactions_) {
    log.day.push_back(r.day);
    log.amount.push_back(r.amount);
    log.product.push_back(r.code);
  }
  log.other_day.reserve(others_.size());
  log.other_type.reserve(others_.size());
  log.other_amount.reserve(others_.size());
  for (const Row& r : others_) {
    log.other_day.push_back(r.day);
    log.other_type.push_back(r.code);
    log.other_amount.push_back(r.amount);
  }
  log.product_names = std::move(product_names_);
  log.other_type_names = std::move(type_names_);
  transactions_.clear();
  others_.clear();
  return log;
}

}  // namespace cdp
