#include "connectors/clickhouse/clickhouse_destination.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/value_text.h"
#include "connectors/http/http_client.h"

namespace cdp {
namespace {

constexpr char kKind[] = "clickhouse";
constexpr size_t kMaxTargetLength = 64;  // ClickHouse keeps a directory per table, named by it (escaped)
constexpr size_t kMaxSamples = 10;
constexpr size_t kInsertBytes = 8u << 20;  // rows buffered per INSERT
constexpr int64_t kDefaultTimeoutSeconds = 300;
constexpr size_t kMaxResponseBytes = 4u << 20;  // the answers we read are counts, names and types
constexpr char kStagingInfix[] = "__cdp_";

const std::set<std::string, std::less<>> kSettings = {"url", "host", "port", "database", "user",
                                                      "timeout_seconds"};

std::string Prefix(const ResolvedConnection& connection) {
  return "clickhouse connection '" + connection.name + "'";
}

// ---------------------------------------------------------------- quoting

std::string EscapeForQuotes(std::string_view value, char quote) {
  std::string out;
  out.reserve(value.size() + 2);
  out += quote;
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\0': out += "\\0"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c == quote) out += '\\';
        out += c;
    }
  }
  out += quote;
  return out;
}

// TabSeparated escaping of one field (ClickHouse's "escaped" text format).
void AppendTsvEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: out += c;
    }
  }
}

// The fields of a TabSeparated answer: lines of tab-separated, escaped fields.
std::vector<std::vector<std::string>> ParseTsv(std::string_view body) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && i + 1 < body.size()) {
      const char e = body[++i];
      switch (e) {
        case 'n': field += '\n'; break;
        case 't': field += '\t'; break;
        case 'r': field += '\r'; break;
        case '0': field += '\0'; break;
        case 'b': field += '\b'; break;
        case 'f': field += '\f'; break;
        default: field += e;
      }
    } else if (c == '\t') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---------------------------------------------------------------- values

struct ColumnPlan {
  std::string name;
  DataType type = DataType::kString;
  bool as_text = false;   // a date or timestamp stored as String (date_type: String)
  bool nullable = true;   // false for the key (MergeTree sorts by it)
  std::string sql_type;   // "Nullable(Int64)", ...
};

std::string BaseType(DataType type, bool as_text) {
  switch (type) {
    case DataType::kString: return "String";
    case DataType::kInt64: return "Int64";
    case DataType::kDouble: return "Float64";
    case DataType::kBool: return "UInt8";
    case DataType::kDate: return as_text ? "String" : "Date";
    case DataType::kTimestamp: return as_text ? "String" : "DateTime('UTC')";
  }
  return "String";
}

// ClickHouse's Date and DateTime: 18.16 shows day 0 (1970-01-01) and second
// 0 as the zero value 0000-00-00, and its calendar ends in 2105; outside
// 1970-01-02 .. 2105-12-31 (1970-01-01 00:00:01 .. 2105-12-31 23:59:59)
// a value would not read back as written.
constexpr int32_t kFirstDay = 1;          // 1970-01-02
constexpr int32_t kLastDay = 49672;       // 2105-12-31
constexpr int64_t kLastSecond = 4291747199;  // 2105-12-31 23:59:59

// An ISO 8601 UTC timestamp (common/value_text.h) -> "YYYY-MM-DD HH:MM:SS"
// (DateTime holds whole seconds: a fraction is cut). nullopt when the text is
// not one; `seconds` receives the instant.
std::optional<std::string> IsoTimestampToDateTime(std::string_view s, int64_t* seconds) {
  int64_t micros = 0;
  if (!ParseIsoTimestamp(s, &micros)) return std::nullopt;
  *seconds = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  std::string out(s.substr(0, 19));
  out[10] = ' ';
  return out;
}

bool IsFloatText(std::string_view s) {
  if (s.empty()) return false;
  double ignored = 0;
  if (ParseNumber(s, &ignored)) return true;
  return s == "nan" || s == "inf" || s == "-inf";
}

// Appends one value as a TabSeparated field.
Status AppendTsvValue(std::string& out, const ExportRunInfo& run, const ColumnPlan& column,
                      const std::optional<std::string>& value) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("export '" + run.export_name + "': field '" + column.name + "' " + why);
  };
  if (!value) {
    if (!column.nullable) return bad("is the key and has a null value");
    out += "\\N";
    return Status::Ok();
  }
  const std::string& v = *value;
  switch (column.type) {
    case DataType::kString:
      AppendTsvEscaped(out, v);
      return Status::Ok();
    case DataType::kInt64: {
      int64_t ignored = 0;
      if (!ParseInteger(v, &ignored)) return bad("holds '" + v.substr(0, 40) + "', which is not an int64");
      out += v;
      return Status::Ok();
    }
    case DataType::kDouble:
      if (!IsFloatText(v)) return bad("holds '" + v.substr(0, 40) + "', which is not a number");
      out += v;
      return Status::Ok();
    case DataType::kBool:
      if (v == "true" || v == "1") {
        out += '1';
      } else if (v == "false" || v == "0") {
        out += '0';
      } else {
        return bad("holds '" + v.substr(0, 40) + "', which is not true or false");
      }
      return Status::Ok();
    case DataType::kDate: {
      int32_t days = 0;
      if (!ParseIsoDate(v, &days)) return bad("holds '" + v.substr(0, 40) + "', which is not a YYYY-MM-DD date");
      if (!column.as_text && (days < kFirstDay || days > kLastDay)) {
        return bad("holds " + v + ", outside ClickHouse's Date range (1970-01-02 to 2105-12-31); set the "
                   "export's option date_type: String to store dates as text");
      }
      out += v;
      return Status::Ok();
    }
    case DataType::kTimestamp: {
      if (column.as_text) {
        AppendTsvEscaped(out, v);
        return Status::Ok();
      }
      int64_t seconds = 0;
      std::optional<std::string> converted = IsoTimestampToDateTime(v, &seconds);
      if (!converted) return bad("holds '" + v.substr(0, 40) + "', which is not an ISO 8601 UTC timestamp");
      if (seconds < 1 || seconds > kLastSecond) {
        return bad("holds " + v + ", outside ClickHouse's DateTime range (1970-01-01T00:00:01Z to "
                   "2105-12-31T23:59:59Z); set the export's option date_type: String to store timestamps as "
                   "text");
      }
      out += *converted;
      return Status::Ok();
    }
  }
  return bad("has an unknown type");
}

// ---------------------------------------------------------------- settings

struct Endpoint {
  std::string base_url;  // "http://host:port/" (ends with '/'; may carry a path)
  std::string database;
  std::string user;
  std::string password;
  int timeout_ms = 0;
};

Status ValidateConnection(const ResolvedConnection& connection) {
  const std::string prefix = Prefix(connection);
  for (const auto& [key, value] : connection.settings) {
    if (key == "password") {
      return InvalidArgumentError(prefix + ": 'password' is a secret, not a setting (take it from an "
                                  "environment variable or the secret store)");
    }
    if (!kSettings.count(key)) {
      return InvalidArgumentError(prefix + ": unknown setting '" + key +
                                  "' (known: url, host, port, database, user, timeout_seconds)");
    }
    if (value.size() > 2048 || value.find('\0') != std::string::npos) {
      return InvalidArgumentError(prefix + ": setting '" + key + "' is not a valid value");
    }
  }
  for (const auto& [key, value] : connection.secrets) {
    if (key != "password") {
      return InvalidArgumentError(prefix + ": unknown secret '" + key + "' (known: password)");
    }
    if (value.size() > 1024 || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgumentError(prefix + ": secret 'password' is longer than 1024 bytes or holds CR, LF or NUL");
    }
  }
  const std::string url = connection.Setting("url");
  const std::string host = connection.Setting("host");
  if (url.empty() == host.empty()) {
    return InvalidArgumentError(prefix + ": set either 'url' (e.g. http://127.0.0.1:8123) or 'host' (with "
                                "'port', default 8123)");
  }
  if (!url.empty()) {
    CDP_RETURN_IF_ERROR(ValidateHttpUrl(url, prefix + " setting url"));
    if (url.find_first_of("?#") != std::string::npos || url.find('@') != std::string::npos) {
      return InvalidArgumentError(prefix + ": setting 'url' must not hold a query, a fragment or credentials "
                                  "(give user as a setting and password as a secret)");
    }
    if (connection.settings.count("port")) {
      return InvalidArgumentError(prefix + ": setting 'port' goes with 'host'; put the port in 'url'");
    }
  } else {
    for (char c : host) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':')) {
        return InvalidArgumentError(prefix + ": setting 'host' must be a host name or address, not '" + host +
                                    "'");
      }
    }
  }
  if (const std::string port = connection.Setting("port"); !port.empty()) {
    int64_t p = 0;
    if (!ParseInteger(port, &p) || p < 1 || p > 65535) {
      return InvalidArgumentError(prefix + ": setting 'port' must be a number from 1 to 65535, not '" + port +
                                  "'");
    }
  }
  if (const std::string t = connection.Setting("timeout_seconds"); !t.empty()) {
    int64_t seconds = 0;
    if (!ParseInteger(t, &seconds) || seconds < 1 || seconds > 86400) {
      return InvalidArgumentError(prefix + ": setting 'timeout_seconds' must be a number from 1 to 86400, not '" +
                                  t + "'");
    }
  }
  if (connection.settings.count("database") && connection.Setting("database").empty()) {
    return InvalidArgumentError(prefix + ": setting 'database' is empty");
  }
  if (connection.settings.count("user") && connection.Setting("user").empty()) {
    return InvalidArgumentError(prefix + ": setting 'user' is empty");
  }
  for (const char* key : {"user", "database"}) {
    const std::string v = connection.Setting(key);
    if (v.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgumentError(prefix + ": setting '" + std::string(key) + "' holds CR or LF");
    }
  }
  return Status::Ok();
}

Endpoint MakeEndpoint(const ResolvedConnection& connection) {
  Endpoint e;
  const std::string url = connection.Setting("url");
  if (!url.empty()) {
    e.base_url = url;
  } else {
    std::string host = connection.Setting("host");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6 address
    e.base_url = "http://" + host + ":" + connection.Setting("port", "8123");
  }
  if (e.base_url.back() != '/') e.base_url += '/';
  e.database = connection.Setting("database", "default");
  e.user = connection.Setting("user", "default");
  e.password = connection.Secret("password");
  int64_t seconds = kDefaultTimeoutSeconds;
  if (const std::string t = connection.Setting("timeout_seconds"); !t.empty()) (void)ParseInteger(t, &seconds);
  e.timeout_ms = static_cast<int>(seconds * 1000);
  return e;
}

struct ExportOptions {
  bool dates_as_text = false;
};

StatusOr<ExportOptions> ParseOptions(const ResolvedConnection& connection,
                                     const std::map<std::string, std::string>& options) {
  ExportOptions out;
  for (const auto& [key, value] : options) {
    if (key == "date_type") {
      if (value == "Date") {
        out.dates_as_text = false;
      } else if (value == "String") {
        out.dates_as_text = true;
      } else {
        return InvalidArgumentError("export option 'date_type' for " + Prefix(connection) +
                                    " must be Date or String, not '" + value + "'");
      }
    } else {
      return InvalidArgumentError("unknown export option '" + key + "' for " + Prefix(connection) +
                                  " (known: date_type)");
    }
  }
  return out;
}

Status ValidateTarget(const ExportRunInfo& run) {
  const std::string& t = run.target;
  const std::string what = "export '" + run.export_name + "': target table '" + t + "'";
  if (t.empty()) return InvalidArgumentError("export '" + run.export_name + "': the target table name is empty");
  if (t.size() > kMaxTargetLength) {
    return InvalidArgumentError(what + " is longer than " + std::to_string(kMaxTargetLength) + " bytes");
  }
  for (char c : t) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError(what + " holds a control character");
    }
  }
  if (t.find(kStagingInfix) != std::string::npos) {
    return InvalidArgumentError(what + " must not contain '" + std::string(kStagingInfix) +
                                "' (the destination's own tables are named so)");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- client

class ClickHouseClient {
 public:
  ClickHouseClient(const ResolvedConnection& connection, Endpoint endpoint)
      : prefix_(Prefix(connection)), endpoint_(std::move(endpoint)) {}

  // Runs one statement (the SQL is the request body); returns the answer.
  StatusOr<std::string> Execute(std::string_view sql, std::string_view what) {
    return Send("", std::string(sql), what);
  }
  // INSERT ... FORMAT TabSeparated with `data` as the rows.
  Status Insert(std::string_view insert_sql, std::string data, std::string_view what) {
    return Send("?query=" + PercentEncode(insert_sql), std::move(data), what).status();
  }
  const Endpoint& endpoint() const { return endpoint_; }
  std::string Table(std::string_view name) const {
    return QuoteClickHouseIdentifier(endpoint_.database) + "." + QuoteClickHouseIdentifier(name);
  }

 private:
  StatusOr<std::string> Send(const std::string& query, std::string body, std::string_view what) {
    HttpClientRequest request;
    request.method = "POST";
    request.url = endpoint_.base_url + query;
    request.headers = {{"Content-Type", "text/plain; charset=UTF-8"}, {"X-ClickHouse-User", endpoint_.user}};
    if (!endpoint_.password.empty()) request.headers.emplace_back("X-ClickHouse-Key", endpoint_.password);
    request.body = std::move(body);
    request.timeout_ms = endpoint_.timeout_ms;
    request.max_response_bytes = kMaxResponseBytes;
    auto response = http_.Send(request);
    if (!response.ok()) {
      return Status(response.status().code(),
                    prefix_ + ": " + std::string(what) + " failed: " + response.status().message());
    }
    if (response->status == 200) return std::move(response->body);
    const std::string message = prefix_ + ": " + std::string(what) + " failed: " + response->Summary(400);
    const std::string& b = response->body;
    if (b.find("Code: 516") != std::string::npos || b.find("Code: 192") != std::string::npos ||
        b.find("Code: 193") != std::string::npos || b.find("Code: 194") != std::string::npos ||
        response->status == 401 || response->status == 403) {
      return UnauthenticatedError(message + " (check user and password)");
    }
    if (response->status >= 500) return UnavailableError(message);
    return FailedPreconditionError(message);
  }

  std::string prefix_;
  Endpoint endpoint_;
  HttpClient http_;
};

StatusOr<bool> TableExists(ClickHouseClient& client, std::string_view table) {
  CDP_ASSIGN_OR_RETURN(std::string answer,
                       client.Execute("EXISTS TABLE " + client.Table(table), "checking table " + std::string(table)));
  return !answer.empty() && answer[0] == '1';
}

// ---------------------------------------------------------------- session

class ClickHouseSession final : public DestinationSession {
 public:
  ClickHouseSession(const ResolvedConnection& connection, const ExportRunInfo& run, ExportOptions options)
      : connection_(connection),
        run_(run),
        options_(options),
        client_(connection, MakeEndpoint(connection)),
        staging_(run.target + kStagingInfix + std::to_string(run.export_run_id)),
        keys_(staging_ + "_keys"),
        old_(staging_ + "_old") {
    for (size_t i = 0; i < run_.schema.fields.size(); ++i) {
      ColumnPlan c;
      c.name = run_.schema.fields[i].name;
      c.type = run_.schema.fields[i].type;
      c.as_text = options_.dates_as_text && (c.type == DataType::kDate || c.type == DataType::kTimestamp);
      c.nullable = i != run_.schema.key_field;
      const std::string base = BaseType(c.type, c.as_text);
      c.sql_type = c.nullable ? "Nullable(" + base + ")" : base;
      columns_.push_back(std::move(c));
    }
  }
  ClickHouseSession(const ClickHouseSession&) = delete;
  ClickHouseSession& operator=(const ClickHouseSession&) = delete;
  ~ClickHouseSession() override {
    if (state_ == State::kOpen) Abort();
  }

  Status Open();
  Status Write(const ExportBatch& batch) override;
  Status Commit() override;
  void Abort() override;
  int64_t rows_delivered() const override { return rows_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  enum class State { kOpen, kCommitted, kAborted };

  std::string ColumnList() const {
    std::string out;
    for (const ColumnPlan& c : columns_) out += (out.empty() ? "" : ", ") + QuoteClickHouseIdentifier(c.name);
    return out;
  }
  const ColumnPlan& Key() const { return columns_[run_.schema.key_field]; }
  Status RecoverAndClean();
  Status Flush();
  Status CheckTargetColumns();
  void Sample(std::string text) {
    if (samples_.size() < kMaxSamples) samples_.push_back(std::move(text));
  }
  Status Fail(Status s) {
    Sample(s.message());
    return s;
  }

  ResolvedConnection connection_;
  ExportRunInfo run_;
  ExportOptions options_;
  ClickHouseClient client_;
  std::vector<ColumnPlan> columns_;
  std::string staging_, keys_, old_;
  State state_ = State::kOpen;
  int64_t rows_ = 0;
  int64_t staged_rows_ = 0;  // rows inserted into the staging table
  // Rows of Write calls not yet inserted (TabSeparated), see Flush.
  std::string pending_rows_, pending_keys_;
  int64_t pending_staged_ = 0, pending_count_ = 0;
  int64_t pending_first_batch_ = -1, pending_last_batch_ = -1;
  std::vector<std::string> samples_;
};

// Puts the target back when an earlier attempt died between the renames of
// its swap (target moved to *_old, staging not yet in place), then drops the
// staging, key and old tables that earlier attempts of any run left.
Status ClickHouseSession::RecoverAndClean() {
  const std::string db = client_.endpoint().database;
  const std::string prefix = run_.target + kStagingInfix;
  CDP_ASSIGN_OR_RETURN(std::string answer,
                       client_.Execute("SELECT name FROM system.tables WHERE database = " + QuoteClickHouseString(db) +
                                           " AND (name = " + QuoteClickHouseString(run_.target) +
                                           " OR substring(name, 1, " + std::to_string(prefix.size()) +
                                           ") = " + QuoteClickHouseString(prefix) + ") FORMAT TabSeparated",
                                       "listing the tables of database " + db));
  std::vector<std::string> leftovers;
  bool target_exists = false;
  for (const auto& row : ParseTsv(answer)) {
    if (row.empty()) continue;
    if (row[0] == run_.target) target_exists = true;
    if (row[0].starts_with(prefix)) {
      const std::string suffix = row[0].substr(prefix.size());
      const size_t digits = std::find_if(suffix.begin(), suffix.end(), [](char c) { return c < '0' || c > '9'; }) -
                            suffix.begin();
      const std::string tail = suffix.substr(digits);
      if (digits > 0 && (tail.empty() || tail == "_keys" || tail == "_old")) leftovers.push_back(row[0]);
    }
  }
  if (!target_exists) {
    for (const std::string& name : leftovers) {
      if (!name.ends_with("_old")) continue;
      CDP_RETURN_IF_ERROR(client_.Execute("RENAME TABLE " + client_.Table(name) + " TO " + client_.Table(run_.target),
                                          "restoring table " + run_.target + " from " + name)
                              .status());
      Sample("restored " + db + "." + run_.target + " from " + name + " (left by an interrupted swap)");
      break;
    }
  }
  for (const std::string& name : leftovers) {
    CDP_RETURN_IF_ERROR(
        client_.Execute("DROP TABLE IF EXISTS " + client_.Table(name), "dropping leftover table " + name).status());
  }
  return Status::Ok();
}

Status ClickHouseSession::CheckTargetColumns() {
  const std::string db = client_.endpoint().database;
  CDP_ASSIGN_OR_RETURN(std::string answer,
                       client_.Execute("SELECT name, type FROM system.columns WHERE database = " +
                                           QuoteClickHouseString(db) + " AND table = " +
                                           QuoteClickHouseString(run_.target) + " FORMAT TabSeparated",
                                       "reading the columns of table " + run_.target));
  std::map<std::string, std::string> have;
  for (const auto& row : ParseTsv(answer)) {
    if (row.size() >= 2) have[row[0]] = row[1];
  }
  std::map<std::string, std::string> want;
  for (const ColumnPlan& c : columns_) want[c.name] = c.sql_type;
  if (have != want) {
    std::string listed;
    for (const auto& [name, type] : have) listed += (listed.empty() ? "" : ", ") + name + " " + type;
    std::string expected;
    for (const ColumnPlan& c : columns_) expected += (expected.empty() ? "" : ", ") + c.name + " " + c.sql_type;
    return FailedPreconditionError(Prefix(connection_) + ": table " + db + "." + run_.target + " has columns (" +
                                   listed + ") but export '" + run_.export_name + "' sends (" + expected +
                                   "); a delta run cannot apply to it: run a full export");
  }
  return Status::Ok();
}

Status ClickHouseSession::Open() {
  const std::string db = client_.endpoint().database;
  CDP_RETURN_IF_ERROR(client_.Execute("CREATE DATABASE IF NOT EXISTS " + QuoteClickHouseIdentifier(db),
                                      "creating database " + db)
                          .status());
  CDP_RETURN_IF_ERROR(RecoverAndClean());
  if (run_.delta) {
    CDP_ASSIGN_OR_RETURN(bool exists, TableExists(client_, run_.target));
    if (!exists) {
      return FailedPreconditionError(Prefix(connection_) + ": table " + db + "." + run_.target +
                                     " does not exist, and a delta run of export '" + run_.export_name +
                                     "' only applies changes to it: run a full export");
    }
    CDP_RETURN_IF_ERROR(CheckTargetColumns());
  }
  std::string columns;
  for (const ColumnPlan& c : columns_) {
    columns += (columns.empty() ? "" : ", ") + QuoteClickHouseIdentifier(c.name) + " " + c.sql_type;
  }
  const std::string order_by = QuoteClickHouseIdentifier(Key().name);
  CDP_RETURN_IF_ERROR(client_.Execute("CREATE TABLE " + client_.Table(staging_) + " (" + columns +
                                          ") ENGINE = MergeTree ORDER BY " + order_by,
                                      "creating staging table " + staging_)
                          .status());
  if (run_.delta) {
    CDP_RETURN_IF_ERROR(client_.Execute("CREATE TABLE " + client_.Table(keys_) + " (" + order_by + " " +
                                            BaseType(Key().type, Key().as_text) + ") ENGINE = MergeTree ORDER BY " +
                                            order_by,
                                        "creating key table " + keys_)
                            .status());
  }
  return Status::Ok();
}

Status ClickHouseSession::Write(const ExportBatch& batch) {
  if (state_ != State::kOpen) {
    return FailedPreconditionError(Prefix(connection_) + ": Write after Commit or Abort");
  }
  std::string rows;
  std::string keys;
  int64_t staged = 0;
  for (const ExportRow& row : batch.rows) {
    if (row.values.size() != columns_.size()) {
      return InvalidArgumentError("export '" + run_.export_name + "': batch " + std::to_string(batch.sequence) +
                                  " has a row of " + std::to_string(row.values.size()) + " values for " +
                                  std::to_string(columns_.size()) + " fields");
    }
    if (!run_.delta && row.change != RowChange::kAdded) {
      return InvalidArgumentError("export '" + run_.export_name + "': a full run sent a row marked '" +
                                  std::string(RowChangeName(row.change)) + "'");
    }
    if (run_.delta) {
      CDP_RETURN_IF_ERROR(AppendTsvValue(keys, run_, Key(), row.values[run_.schema.key_field]));
      keys += '\n';
      if (row.change == RowChange::kRemoved) continue;
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) rows += '\t';
      CDP_RETURN_IF_ERROR(AppendTsvValue(rows, run_, columns_[i], row.values[i]));
    }
    rows += '\n';
    ++staged;
  }
  pending_rows_ += rows;
  pending_keys_ += keys;
  pending_staged_ += staged;
  pending_count_ += static_cast<int64_t>(batch.rows.size());
  if (pending_first_batch_ < 0) pending_first_batch_ = batch.sequence;
  pending_last_batch_ = batch.sequence;
  if (pending_rows_.size() + pending_keys_.size() >= kInsertBytes) return Flush();
  return Status::Ok();
}

// One INSERT per few MB rather than per batch: each INSERT makes a MergeTree
// part, and many small parts slow the server down (and, past
// parts_to_throw_insert, fail inserts). The rows are not visible before
// Commit anyway.
Status ClickHouseSession::Flush() {
  if (pending_count_ == 0) return Status::Ok();
  const std::string what = pending_first_batch_ == pending_last_batch_
                               ? "inserting batch " + std::to_string(pending_first_batch_)
                               : "inserting batches " + std::to_string(pending_first_batch_) + " to " +
                                     std::to_string(pending_last_batch_);
  if (!pending_rows_.empty()) {
    if (Status s = client_.Insert("INSERT INTO " + client_.Table(staging_) + " (" + ColumnList() +
                                      ") FORMAT TabSeparated",
                                  std::move(pending_rows_), what);
        !s.ok()) {
      return Fail(s);
    }
  }
  if (!pending_keys_.empty()) {
    if (Status s = client_.Insert("INSERT INTO " + client_.Table(keys_) + " FORMAT TabSeparated",
                                  std::move(pending_keys_), what + " (keys)");
        !s.ok()) {
      return Fail(s);
    }
  }
  staged_rows_ += pending_staged_;
  rows_ += pending_count_;
  pending_rows_.clear();
  pending_keys_.clear();
  pending_staged_ = 0;
  pending_count_ = 0;
  pending_first_batch_ = -1;
  return Status::Ok();
}

Status ClickHouseSession::Commit() {
  if (state_ != State::kOpen) {
    return FailedPreconditionError(Prefix(connection_) + ": Commit after Commit or Abort");
  }
  CDP_RETURN_IF_ERROR(Flush());
  const std::string db = client_.endpoint().database;
  // The staging table must hold every row sent, no more, no less.
  auto count = [&](const std::string& table) -> StatusOr<int64_t> {
    CDP_ASSIGN_OR_RETURN(std::string answer,
                         client_.Execute("SELECT count() FROM " + client_.Table(table) + " FORMAT TabSeparated",
                                         "counting the rows of " + table));
    while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) answer.pop_back();
    int64_t n = 0;
    if (!ParseInteger(answer, &n)) {
      return InternalError(Prefix(connection_) + ": unexpected answer to a row count: '" + answer.substr(0, 80) + "'");
    }
    return n;
  };
  auto staged = count(staging_);
  if (!staged.ok()) return Fail(staged.status());
  if (*staged != staged_rows_) {
    return Fail(DataLossError(Prefix(connection_) + ": staging table " + staging_ + " holds " +
                              std::to_string(*staged) + " rows but " + std::to_string(staged_rows_) +
                              " were inserted; the target table is left as it was"));
  }
  if (run_.delta) {
    // The rows of the current table that this run neither removes nor replaces.
    const std::string key = QuoteClickHouseIdentifier(Key().name);
    if (Status s = client_.Execute("INSERT INTO " + client_.Table(staging_) + " (" + ColumnList() + ") SELECT " +
                                       ColumnList() + " FROM " + client_.Table(run_.target) + " WHERE " + key +
                                       " NOT IN (SELECT " + key + " FROM " + client_.Table(keys_) + ")",
                                   "copying the unchanged rows of " + run_.target)
                       .status();
        !s.ok()) {
      return Fail(s);
    }
  }
  auto exists = TableExists(client_, run_.target);
  if (!exists.ok()) return Fail(exists.status());
  const std::string rename =
      *exists ? "RENAME TABLE " + client_.Table(run_.target) + " TO " + client_.Table(old_) + ", " +
                    client_.Table(staging_) + " TO " + client_.Table(run_.target)
              : "RENAME TABLE " + client_.Table(staging_) + " TO " + client_.Table(run_.target);
  if (Status s = client_.Execute(rename, "swapping in table " + run_.target).status(); !s.ok()) {
    // A rename that stopped half way: put the old table back.
    auto target_now = TableExists(client_, run_.target);
    if (target_now.ok() && !*target_now && *exists) {
      (void)client_.Execute("RENAME TABLE " + client_.Table(old_) + " TO " + client_.Table(run_.target),
                            "restoring table " + run_.target);
    }
    return Fail(s);
  }
  state_ = State::kCommitted;
  (void)client_.Execute("DROP TABLE IF EXISTS " + client_.Table(old_), "dropping " + old_);
  if (run_.delta) (void)client_.Execute("DROP TABLE IF EXISTS " + client_.Table(keys_), "dropping " + keys_);
  auto total = count(run_.target);
  Sample("replaced " + db + "." + run_.target + ": " + (total.ok() ? std::to_string(*total) : "?") + " rows (" +
         std::to_string(rows_) + " sent)");
  return Status::Ok();
}

void ClickHouseSession::Abort() {
  if (state_ != State::kOpen) return;
  state_ = State::kAborted;
  (void)client_.Execute("DROP TABLE IF EXISTS " + client_.Table(staging_), "dropping " + staging_);
  if (run_.delta) (void)client_.Execute("DROP TABLE IF EXISTS " + client_.Table(keys_), "dropping " + keys_);
}

StatusOr<std::unique_ptr<DestinationSession>> Begin(const ResolvedConnection& connection,
                                                    const ExportRunInfo& run) {
  CDP_RETURN_IF_ERROR(ValidateConnection(connection));
  CDP_ASSIGN_OR_RETURN(ExportOptions options, ParseOptions(connection, run.options));
  CDP_RETURN_IF_ERROR(ValidateTarget(run));
  if (run.schema.fields.empty()) return InvalidArgumentError("export '" + run.export_name + "' has no fields");
  if (run.schema.key_field >= run.schema.fields.size()) {
    return InvalidArgumentError("export '" + run.export_name + "': the key field is not one of its fields");
  }
  std::set<std::string> names;
  for (const ExportField& f : run.schema.fields) {
    if (f.name.empty() || !names.insert(f.name).second) {
      return InvalidArgumentError("export '" + run.export_name + "': field name '" + f.name +
                                  "' is empty or repeated");
    }
  }
  auto session = std::make_unique<ClickHouseSession>(connection, run, options);
  if (Status s = session->Open(); !s.ok()) {
    session->Abort();
    return s;
  }
  return std::unique_ptr<DestinationSession>(std::move(session));
}

Status Check(const ResolvedConnection& connection) {
  CDP_RETURN_IF_ERROR(ValidateConnection(connection));
  ClickHouseClient client(connection, MakeEndpoint(connection));
  CDP_ASSIGN_OR_RETURN(std::string answer, client.Execute("SELECT 1", "a test query"));
  if (answer.rfind("1", 0) != 0) {
    return UnavailableError(Prefix(connection) + ": unexpected answer to SELECT 1: '" + answer.substr(0, 80) + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string QuoteClickHouseIdentifier(std::string_view name) { return EscapeForQuotes(name, '`'); }
std::string QuoteClickHouseString(std::string_view value) { return EscapeForQuotes(value, '\''); }

Status RegisterClickHouseDestination(DestinationRegistry& registry) {
  DestinationKind kind;
  kind.kind = kKind;
  kind.durable_batches = false;  // the table is swapped in at Commit, whole
  kind.validate = ValidateConnection;
  kind.validate_options = [](const ResolvedConnection& connection,
                             const std::map<std::string, std::string>& options) -> Status {
    return ParseOptions(connection, options).status();
  };
  kind.begin = Begin;
  kind.check = Check;
  return registry.Register(std::move(kind));
}

}  // namespace cdp
