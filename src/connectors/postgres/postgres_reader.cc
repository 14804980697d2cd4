#include "connectors/postgres/postgres_reader.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "connectors/postgres/postgres_common.h"

namespace cdp {
namespace {

constexpr Oid kBoolOid = 16;  // pg_type.oid of boolean (fixed in every release)
constexpr char kCursorName[] = "cdp_source_cursor";
constexpr size_t kQueryExcerptChars = 80;

std::string Excerpt(std::string_view text) {
  std::string line = PgOneLine(text);
  if (line.size() <= kQueryExcerptChars) return line;
  return std::string(Utf8Prefix(line, kQueryExcerptChars)) + "...";
}

// Splits "schema.table" into its parts; a part may be "double ""quoted""".
StatusOr<std::vector<std::string>> SplitTableName(std::string_view name) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError("invalid PostgreSQL table name \"" + std::string(name) +
                                "\": " + std::string(why) + " (expected table or schema.table)");
  };
  if (name.empty()) return invalid("empty");
  if (name.find('\0') != std::string_view::npos) return invalid("contains a NUL byte");
  std::vector<std::string> parts;
  size_t i = 0;
  while (true) {
    std::string part;
    if (name[i] == '"') {
      ++i;
      bool closed = false;
      while (i < name.size()) {
        if (name[i] == '"') {
          if (i + 1 < name.size() && name[i + 1] == '"') {
            part += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        part += name[i++];
      }
      if (!closed) return invalid("unterminated double quote");
      if (i < name.size() && name[i] != '.') return invalid("text after a closing double quote");
    } else {
      const size_t dot = std::min(name.find('.', i), name.size());
      part = std::string(name.substr(i, dot - i));
      i = dot;
    }
    if (part.empty()) return invalid("empty name part");
    parts.push_back(std::move(part));
    if (i >= name.size()) break;
    ++i;  // the dot
    if (i >= name.size()) return invalid("ends with a dot");
  }
  if (parts.size() > 2) return invalid("too many dots");
  return parts;
}

bool MayContainPassword(std::string_view conninfo) {
  std::string lower(conninfo);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("password") != std::string::npos) return true;
  if (lower.rfind("postgres://", 0) == 0 || lower.rfind("postgresql://", 0) == 0) {
    const size_t start = lower.find("//") + 2;
    const size_t at = lower.find('@', start);
    return at != std::string::npos && lower.substr(start, at - start).find(':') != std::string::npos;
  }
  return false;
}

// Checks the conninfo syntax and returns the passwords to keep out of messages.
StatusOr<std::vector<std::string>> ParseConnInfoSecrets(const std::string& conninfo) {
  std::vector<std::string> secrets;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? PgOneLine(error) : "out of memory";
    if (error != nullptr) PQfreemem(error);
    if (MayContainPassword(conninfo)) why = "syntax error (details withheld: the string contains a password)";
    return InvalidArgumentError("invalid PostgreSQL connection string: " + why +
                                "; expected \"key=value ...\" or a postgresql:// URI");
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0') {
      secrets.emplace_back(o->val);
    }
  }
  PQconninfoFree(options);
  if (const char* env = std::getenv("PGPASSWORD"); env != nullptr && *env != '\0') secrets.emplace_back(env);
  // Masking a very short password would garble the message more than it protects.
  std::erase_if(secrets, [](const std::string& s) { return s.size() < 4; });
  return secrets;
}

class PostgresRecordReader final : public RecordReader {
 public:
  PostgresRecordReader(PgConnPtr conn, PgErrorContext context, std::string location, int fetch_size,
                       bool validate_utf8)
      : conn_(std::move(conn)),
        context_(std::move(context)),
        location_(std::move(location)),
        fetch_sql_("FETCH FORWARD " + std::to_string(fetch_size) + " FROM " + kCursorName),
        fetch_size_(fetch_size),
        validate_utf8_(validate_utf8) {}

  PostgresRecordReader(const PostgresRecordReader&) = delete;
  PostgresRecordReader& operator=(const PostgresRecordReader&) = delete;

  // Fetches the first rows and learns the columns from them.
  Status Start() {
    CDP_RETURN_IF_ERROR(Fetch());
    const int columns = PQnfields(current_.get());
    field_names_.reserve(columns);
    is_bool_.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      field_names_.emplace_back(PQfname(current_.get(), c));
      is_bool_.push_back(PQftype(current_.get(), c) == kBoolOid);
    }
    return Status::Ok();
  }

  const std::vector<std::string>& field_names() const override { return field_names_; }
  uint64_t bytes_read() const override { return bytes_read_; }
  uint64_t total_bytes() const override { return 0; }

  StatusOr<bool> Next(RawRecordBatch* batch, size_t max_records) override {
    batch->Clear();
    batch->location = location_;
    if (!failed_.ok()) return failed_;
    max_records = std::max<size_t>(max_records, 1);
    spans_.clear();
    size_t rows = 0;
    while (rows < max_records) {
      if (current_ == nullptr || row_in_result_ >= PQntuples(current_.get())) {
        if (cursor_exhausted_) break;
        if (Status fetched = Fetch(); !fetched.ok()) {
          failed_ = fetched;
          if (rows == 0) {
            batch->Clear();
            batch->location = location_;
            return failed_;
          }
          break;  // hand out the rows already received; the next call reports the error
        }
        continue;
      }
      const int end = static_cast<int>(
          std::min<size_t>(PQntuples(current_.get()), row_in_result_ + (max_records - rows)));
      for (int r = row_in_result_; r < end; ++r) AppendRow(r, batch);
      rows += end - row_in_result_;
      row_in_result_ = end;
    }
    if (cursor_exhausted_ && current_ != nullptr && row_in_result_ >= PQntuples(current_.get())) {
      current_.reset();  // the last rows are copied out; free them now
    }
    batch->fields.reserve(spans_.size());
    for (const auto& [offset, length] : spans_)
      batch->fields.emplace_back(batch->arena.data() + offset, length);
    return rows > 0;
  }

 private:
  void AppendRow(int r, RawRecordBatch* batch) {
    const PGresult* result = current_.get();
    const uint32_t record = static_cast<uint32_t>(batch->line.size());
    const size_t arena_mark = batch->arena.size();
    const size_t field_mark = spans_.size();
    const int64_t row_number = next_row_number_++;
    for (int c = 0; c < static_cast<int>(field_names_.size()); ++c) {
      if (PQgetisnull(result, r, c)) {
        spans_.emplace_back(batch->arena.size(), 0);
        batch->is_null.push_back(1);
        continue;
      }
      std::string_view value(PQgetvalue(result, r, c), PQgetlength(result, r, c));
      bytes_read_ += value.size();
      if (is_bool_[c]) {
        if (value == "t") value = "true";
        if (value == "f") value = "false";
      }
      if (validate_utf8_ && !IsValidUtf8(value)) {
        batch->arena.resize(arena_mark);
        spans_.resize(field_mark);
        batch->is_null.resize(field_mark);
        batch->record_errors.emplace_back(record, "row " + std::to_string(row_number) + " column \"" +
                                                      field_names_[c] +
                                                      "\": invalid UTF-8 in a SQL_ASCII database");
        break;
      }
      spans_.emplace_back(batch->arena.size(), value.size());
      batch->arena.append(value);
      batch->is_null.push_back(0);
    }
    batch->field_begin.push_back(static_cast<uint32_t>(spans_.size()));
    batch->line.push_back(row_number);
  }

  // Replaces current_ by the next fetch; closes the transaction after the last.
  Status Fetch() {
    current_.reset();
    row_in_result_ = 0;
    PgResultPtr result(PQexec(conn_.get(), fetch_sql_.c_str()));
    if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return context_.FromServer(conn_.get(), result.get(),
                                 "fetching rows after row " + std::to_string(next_row_number_ - 1));
    }
    if (PQntuples(result.get()) < fetch_size_) {
      cursor_exhausted_ = true;
      PQclear(PQexec(conn_.get(), "COMMIT"));  // read-only: nothing to lose if this fails
      conn_.reset();
    }
    current_ = std::move(result);
    return Status::Ok();
  }

  PgConnPtr conn_;  // null once the cursor is exhausted
  const PgErrorContext context_;
  const std::string location_;
  const std::string fetch_sql_;
  const int fetch_size_;
  const bool validate_utf8_;
  std::vector<std::string> field_names_;
  std::vector<bool> is_bool_;
  PgResultPtr current_;  // the latest fetch; rows before row_in_result_ are consumed
  int row_in_result_ = 0;
  bool cursor_exhausted_ = false;
  int64_t next_row_number_ = 1;
  uint64_t bytes_read_ = 0;
  Status failed_;
  std::vector<std::pair<size_t, size_t>> spans_;  // (arena offset, length) per field of the batch
};

std::string StripTrailingSemicolons(std::string_view query) {
  size_t end = query.size();
  while (end > 0 && (query[end - 1] == ';' || std::isspace(static_cast<unsigned char>(query[end - 1]))))
    --end;
  return std::string(query.substr(0, end));
}

}  // namespace

StatusOr<std::unique_ptr<RecordReader>> OpenPostgresSource(const PostgresSourceOptions& options) {
  if (options.table.empty() == options.query.empty()) {
    return InvalidArgumentError("a PostgreSQL source needs exactly one of `table` and `query` (got " +
                                std::string(options.table.empty() ? "neither" : "both") + ")");
  }
  if (options.fetch_size == 0) return InvalidArgumentError("PostgreSQL source fetch_size must be > 0");
  const int fetch_size = static_cast<int>(std::min<size_t>(options.fetch_size, INT_MAX));

  std::vector<std::string> table_parts;
  std::string query;
  if (!options.table.empty()) {
    CDP_ASSIGN_OR_RETURN(table_parts, SplitTableName(options.table));
  } else {
    query = StripTrailingSemicolons(options.query);
    if (query.empty()) return InvalidArgumentError("PostgreSQL source query is empty");
  }

  PgErrorContext context;
  CDP_ASSIGN_OR_RETURN(context.secrets, ParseConnInfoSecrets(options.conninfo));
  context.subject =
      options.table.empty() ? "query \"" + Excerpt(options.query) + "\"" : "table \"" + options.table + "\"";

  // Defaults first: settings in the user's conninfo override them.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"30", "cdp", options.conninfo.c_str(), nullptr};
  PgConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return ResourceExhaustedError("cannot allocate a PostgreSQL connection");
  context.server = PgDescribeServer(conn.get());
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    const bool auth = PQconnectionNeedsPassword(conn.get()) || PQconnectionUsedPassword(conn.get());
    std::string why = PgOneLine(PQerrorMessage(conn.get()));
    if (PQconnectionNeedsPassword(conn.get())) {
      why += " (give the password in the connection string or PGPASSWORD)";
    }
    return context.Make(auth ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable,
                        "cannot connect: " + why);
  }

  // Session settings that fix the text format of values, then the snapshot.
  // A SQL_ASCII database holds unchecked bytes: the server would fail the whole
  // fetch on converting them, so take them raw and check each value instead.
  const char* server_encoding = PQparameterStatus(conn.get(), "server_encoding");
  const bool validate_utf8 = server_encoding != nullptr && std::string_view(server_encoding) == "SQL_ASCII";
  const std::string session_setup =
      std::string("SET client_encoding TO '") + (validate_utf8 ? "SQL_ASCII" : "UTF8") +
      "'; SET DateStyle TO 'ISO, MDY'; SET TimeZone TO 'UTC'; SET IntervalStyle TO 'postgres'; "
      "SET extra_float_digits TO 3; SET bytea_output TO 'hex'; "
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  PgResultPtr setup(PQexec(conn.get(), session_setup.c_str()));
  if (PQresultStatus(setup.get()) != PGRES_COMMAND_OK) {
    return context.FromServer(conn.get(), setup.get(), "setting up the session");
  }

  std::string select;
  if (!table_parts.empty()) {
    select = "SELECT * FROM ";
    for (size_t i = 0; i < table_parts.size(); ++i) {
      char* quoted = PQescapeIdentifier(conn.get(), table_parts[i].data(), table_parts[i].size());
      if (quoted == nullptr) {
        return context.Make(StatusCode::kInvalidArgument,
                            "cannot quote the table name: " + PgOneLine(PQerrorMessage(conn.get())));
      }
      if (i > 0) select += '.';
      select += quoted;
      PQfreemem(quoted);
    }
  }
  const std::string declare_prefix = std::string("DECLARE ") + kCursorName + " NO SCROLL CURSOR FOR\n";
  const std::string declare = declare_prefix + (table_parts.empty() ? query : select);
  // The extended protocol (PQexecParams) accepts exactly one statement, so a
  // query cannot smuggle in a second one after a semicolon.
  PgResultPtr declared(PQexecParams(conn.get(), declare.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
  if (PQresultStatus(declared.get()) != PGRES_COMMAND_OK) {
    return context.FromServer(conn.get(), declared.get(),
                              table_parts.empty() ? "cannot run the query" : "cannot read the table",
                              table_parts.empty() ? static_cast<long>(declare_prefix.size()) : -1);
  }

  std::string location = table_parts.empty() ? "query " + Excerpt(options.query) : "table " + options.table;
  auto reader = std::make_unique<PostgresRecordReader>(std::move(conn), std::move(context),
                                                       std::move(location), fetch_size, validate_utf8);
  CDP_RETURN_IF_ERROR(reader->Start());
  return std::unique_ptr<RecordReader>(std::move(reader));
}

}  // namespace cdp
