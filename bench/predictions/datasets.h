// Loaders of the public data sets the prediction benchmarks read (../shared/data):
// Online Retail (UCI, Chen, Sain & Guo 2012) as a TransactionLog. A loader
// checks what it read against the facts in the data set's README and refuses
// (DataLoss naming the fact) a file that does not match them. Functions are
// independent and thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "predict/transaction_log.h"

namespace cdp {

// Online Retail, clean subset: CustomerID present, InvoiceNo not starting with
// 'C' (cancellation), Quantity > 0. One transaction per invoice line: day =
// InvoiceDate's day (days since 1970-01-01), amount = Quantity * UnitPrice,
// product = StockCode. Customers are indexed in ascending CustomerID order.
struct OnlineRetailData {
  TransactionLog log;
  std::vector<std::string> customer_ids;  // "17850" (the file's "17850.0" without ".0"), per customer index
  // Per transaction row of `log` (parallel to log.day): index into invoice_numbers.
  // Rows of one invoice share a customer and a day.
  std::vector<int32_t> invoice;
  std::vector<std::string> invoice_numbers;  // clean invoices, in file order
  int32_t first_day = 0;  // first and last day of the clean subset (2010-12-01, 2011-12-09)
  int32_t last_day = -1;

  // Counts over the whole file (the README's facts).
  int64_t rows = 0;                       // 541,909
  int64_t invoices = 0;                   // 25,900
  int64_t stock_codes = 0;                // 4,070
  int64_t countries = 0;                  // 38
  int64_t customers = 0;                  // 4,372
  int64_t rows_without_customer = 0;      // 135,080
  int64_t cancellation_rows = 0;          // 9,288
  int64_t nonpositive_quantity_rows = 0;  // 10,624
  // Counts over the clean subset.
  int64_t clean_rows = 0;
  int64_t clean_invoices = 0;             // 18,536
  int64_t clean_customers = 0;            // (4,339)
  int64_t clean_customer_item_pairs = 0;  // 266,802
  double clean_revenue = 0;               // 8,911,408 (rounded)
};

// Reads <shared_data_dir>/online-retail/online-retail.csv.gz (gzip CSV, RFC
// 4180 quoting). NotFound if the file is missing; DataLoss on a gzip or CSV
// error (naming the line) or when a README fact does not hold (naming it,
// with the expected and the found value).
StatusOr<OnlineRetailData> LoadOnlineRetail(const std::string& shared_data_dir);

}  // namespace cdp
