#include "bench/predictions/datasets.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/datetime.h"

namespace cdp {
namespace {

StatusOr<std::string> ReadGzipFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFoundError("no such file: " + path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return FailedPreconditionError("cannot open " + path);
  std::string out;
  std::vector<char> buf(size_t{1} << 20);
  for (;;) {
    int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      int errnum = 0;
      std::string msg = gzerror(f, &errnum);
      gzclose(f);
      return DataLossError("gzip error in " + path + ": " + msg);
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
    if (out.size() > (size_t{1} << 30)) {
      gzclose(f);
      return DataLossError(path + " decompresses to more than 1 GiB");
    }
  }
  gzclose(f);
  return out;
}

// A small RFC 4180 record splitter over an in-memory buffer: fields are
// unquoted or quoted ("" is a quote inside); records end at LF or CRLF.
class CsvLines {
 public:
  explicit CsvLines(std::string_view text) : text_(text) {}
  // False at the end of the input; DataLoss on a malformed record.
  StatusOr<bool> Next(std::vector<std::string>* fields) {
    fields->clear();
    if (pos_ >= text_.size()) return false;
    ++line_;
    std::string field;
    for (;;) {
      field.clear();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        for (;;) {
          if (pos_ >= text_.size())
            return DataLossError("unterminated quote at line " + std::to_string(line_));
          char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              field.push_back('"');
              ++pos_;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line_;
            field.push_back(c);
          }
        }
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r')
          return DataLossError("text after a closing quote at line " + std::to_string(line_));
      } else {
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
          if (text_[pos_] == '"')
            return DataLossError("quote inside an unquoted field at line " + std::to_string(line_));
          field.push_back(text_[pos_++]);
        }
      }
      fields->push_back(field);
      if (pos_ >= text_.size()) return true;
      char c = text_[pos_++];
      if (c == ',') continue;
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      return true;
    }
  }
  int64_t line() const { return line_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

bool ParseInt(std::string_view s, int64_t* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}
bool ParseDouble(std::string_view s, double* v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*v);
}
// "YYYY-MM-DD HH:MM:SS" -> days since 1970-01-01.
bool ParseDay(std::string_view s, int32_t* day) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  int64_t y, m, d;
  if (!ParseInt(s.substr(0, 4), &y) || !ParseInt(s.substr(5, 2), &m) || !ParseInt(s.substr(8, 2), &d))
    return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  *day = DaysFromCivil(static_cast<int>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

Status CheckFact(std::string_view fact, int64_t expected, int64_t found) {
  if (expected == found) return Status::Ok();
  return DataLossError("online-retail.csv.gz does not match its README: " + std::string(fact) + " expected " +
                       std::to_string(expected) + ", found " + std::to_string(found));
}

}  // namespace

StatusOr<OnlineRetailData> LoadOnlineRetail(const std::string& shared_data_dir) {
  const std::string path = shared_data_dir + "/online-retail/online-retail.csv.gz";
  CDP_ASSIGN_OR_RETURN(std::string text, ReadGzipFile(path));
  CsvLines csv(text);
  std::vector<std::string> f;
  CDP_ASSIGN_OR_RETURN(bool has_header, csv.Next(&f));
  const std::vector<std::string> kHeader = {"InvoiceNo",   "StockCode", "Description", "Quantity",
                                            "InvoiceDate", "UnitPrice", "CustomerID",  "Country"};
  if (!has_header || f != kHeader) return DataLossError(path + ": unexpected header");

  struct Row {
    int32_t customer;  // index into ids (file order), remapped below
    int32_t day;
    int32_t invoice;
    double amount;
    std::string product;
  };
  OnlineRetailData data;
  std::unordered_set<std::string> invoices, codes, countries, customers_all;
  std::unordered_map<std::string, int32_t> clean_customer, clean_invoice;
  std::vector<std::string> clean_customer_ids;
  std::unordered_set<std::string> pairs;
  std::vector<Row> rows;
  for (;;) {
    auto more = csv.Next(&f);
    if (!more.ok()) return more.status().WithContext(path);
    if (!*more) break;
    if (f.size() != kHeader.size())
      return DataLossError(path + ": line " + std::to_string(csv.line()) + " has " +
                           std::to_string(f.size()) + " fields, expected 8");
    ++data.rows;
    const std::string& inv = f[0];
    const std::string& code = f[1];
    std::string cust = f[6];
    invoices.insert(inv);
    codes.insert(code);
    countries.insert(f[7]);
    int64_t quantity = 0;
    double price = 0;
    int32_t day = 0;
    if (!ParseInt(f[3], &quantity) || !ParseDouble(f[5], &price) || !ParseDay(f[4], &day))
      return DataLossError(path + ": line " + std::to_string(csv.line()) +
                           ": bad Quantity, UnitPrice or InvoiceDate");
    bool cancelled = !inv.empty() && inv[0] == 'C';
    if (cancelled) ++data.cancellation_rows;
    if (quantity <= 0) ++data.nonpositive_quantity_rows;
    if (cust.empty()) {
      ++data.rows_without_customer;
      continue;
    }
    if (cust.size() > 2 && cust.compare(cust.size() - 2, 2, ".0") == 0) cust.resize(cust.size() - 2);
    customers_all.insert(cust);
    if (cancelled || quantity <= 0) continue;
    auto [cit, cnew] = clean_customer.emplace(cust, static_cast<int32_t>(clean_customer_ids.size()));
    if (cnew) clean_customer_ids.push_back(cust);
    auto [iit, inew] = clean_invoice.emplace(inv, static_cast<int32_t>(data.invoice_numbers.size()));
    if (inew) data.invoice_numbers.push_back(inv);
    pairs.insert(cust + '\x1f' + code);
    double amount = static_cast<double>(quantity) * price;
    data.clean_revenue += amount;
    rows.push_back(Row{cit->second, day, iit->second, amount, code});
  }
  data.invoices = static_cast<int64_t>(invoices.size());
  data.stock_codes = static_cast<int64_t>(codes.size());
  data.countries = static_cast<int64_t>(countries.size());
  data.customers = static_cast<int64_t>(customers_all.size());
  data.clean_rows = static_cast<int64_t>(rows.size());
  data.clean_invoices = static_cast<int64_t>(data.invoice_numbers.size());
  data.clean_customers = static_cast<int64_t>(clean_customer_ids.size());
  data.clean_customer_item_pairs = static_cast<int64_t>(pairs.size());

  CDP_RETURN_IF_ERROR(CheckFact("rows", 541909, data.rows));
  CDP_RETURN_IF_ERROR(CheckFact("invoices", 25900, data.invoices));
  CDP_RETURN_IF_ERROR(CheckFact("stock codes", 4070, data.stock_codes));
  CDP_RETURN_IF_ERROR(CheckFact("countries", 38, data.countries));
  CDP_RETURN_IF_ERROR(CheckFact("distinct customers", 4372, data.customers));
  CDP_RETURN_IF_ERROR(CheckFact("rows without CustomerID", 135080, data.rows_without_customer));
  CDP_RETURN_IF_ERROR(CheckFact("cancellation rows", 9288, data.cancellation_rows));
  CDP_RETURN_IF_ERROR(CheckFact("rows with Quantity <= 0", 10624, data.nonpositive_quantity_rows));
  CDP_RETURN_IF_ERROR(CheckFact("clean invoices", 18536, data.clean_invoices));
  CDP_RETURN_IF_ERROR(
      CheckFact("clean distinct customer-item pairs", 266802, data.clean_customer_item_pairs));
  CDP_RETURN_IF_ERROR(CheckFact("clean revenue (rounded)", 8911408, std::llround(data.clean_revenue)));

  // Customers in ascending CustomerID order.
  std::vector<int32_t> order(clean_customer_ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&](int32_t a, int32_t b) { return clean_customer_ids[a] < clean_customer_ids[b]; });
  std::vector<int32_t> rank(order.size());
  data.customer_ids.resize(order.size());
  for (size_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = static_cast<int32_t>(r);
    data.customer_ids[r] = clean_customer_ids[order[r]];
  }
  for (Row& r : rows) r.customer = rank[r.customer];
  // Sorted as the builder sorts (stable by customer, then day), so `invoice`
  // lines up with the log's rows.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.customer != b.customer ? a.customer < b.customer : a.day < b.day;
  });
  TransactionLogBuilder builder(static_cast<int64_t>(order.size()));
  data.invoice.reserve(rows.size());
  for (const Row& r : rows) {
    builder.AddTransaction(r.customer, r.day, r.amount, r.product);
    data.invoice.push_back(r.invoice);
  }
  CDP_ASSIGN_OR_RETURN(data.log, std::move(builder).Build());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (data.log.day[i] != rows[i].day || data.log.product_names[data.log.product[i]] != rows[i].product)
      return InternalError("online retail: the log's row order differs from the loader's");
  }
  data.first_day = data.log.first_day();
  data.last_day = data.log.last_day();
  return data;
}

}  // namespace cdp
