#include "connectors/postgres/postgres_destination.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "connectors/postgres/postgres_common.h"

namespace cdp {
namespace {

constexpr char kKind[] = "postgres";
// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1); we refuse them
// instead, so the table and columns are named exactly as configured.
constexpr size_t kMaxIdentifierBytes = 63;
constexpr size_t kMaxSamples = 16;
constexpr size_t kCopyChunkBytes = 1 << 20;
// The staging table lives in the session's temporary schema and is dropped
// at the end of the transaction. Its columns are c0..cN (the schema's
// fields, in order) and `change` (RowChange as a number), so no field name
// can collide with ours.
constexpr char kStage[] = "pg_temp.cdp_export_stage";

const std::set<std::string, std::less<>>& KnownSettings() {
  static const auto* known = new std::set<std::string, std::less<>>{
      "host", "port", "database", "user", "schema", "sslmode", "connect_timeout", "lock_timeout"};
  return *known;
}

std::string JoinKeys(const std::set<std::string, std::less<>>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An identifier as the user wrote it: non-empty, at most 63 bytes, valid
// UTF-8, no NUL. `what` names it in the error ("table", "column", ...).
Status CheckIdentifier(std::string_view name, std::string_view what, std::string_view where) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError(std::string(where) + ": " + std::string(what) + " name \"" +
                                std::string(Utf8Prefix(name, 80)) + "\" " + std::string(why));
  };
  if (name.empty())
    return InvalidArgumentError(std::string(where) + ": empty " + std::string(what) + " name");
  if (name.size() > kMaxIdentifierBytes) {
    return invalid("is longer than PostgreSQL's 63 bytes (" + std::to_string(name.size()) + ")");
  }
  if (name.find('\0') != std::string_view::npos) return invalid("contains a NUL byte");
  if (!IsValidUtf8(name)) return invalid("is not valid UTF-8");
  return Status::Ok();
}

Status ValidateConnection(const ResolvedConnection& connection) {
  const std::string where = "connection '" + connection.name + "' (kind postgres)";
  for (const auto& [key, value] : connection.settings) {
    if (!KnownSettings().count(key)) {
      return InvalidArgumentError(where + ": unknown setting '" + key +
                                  "' (known: " + JoinKeys(KnownSettings()) + ")");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError(where + ": setting '" + key + "' contains a NUL byte");
    }
  }
  for (const auto& [key, value] : connection.secrets) {
    if (key != "password") {
      return InvalidArgumentError(where + ": unknown secret '" + key + "' (known: password)");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError(where + ": secret 'password' contains a NUL byte");
    }
  }
  for (const char* required : {"host", "database"}) {
    if (connection.Setting(required).empty()) {
      return InvalidArgumentError(where + ": setting '" + required + "' is required");
    }
  }
  if (connection.settings.count("port")) {
    const std::string port = connection.Setting("port");
    if (!AllDigits(port) || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return InvalidArgumentError(where + ": setting 'port' must be a number from 1 to 65535, not '" + port +
                                  "'");
    }
  }
  if (connection.settings.count("connect_timeout")) {
    const std::string timeout = connection.Setting("connect_timeout");
    if (!AllDigits(timeout) || std::stoi(timeout) < 1 || std::stoi(timeout) > 3600) {
      return InvalidArgumentError(
          where + ": setting 'connect_timeout' must be seconds from 1 to 3600, not '" + timeout + "'");
    }
  }
  if (connection.settings.count("lock_timeout")) {
    const std::string timeout = connection.Setting("lock_timeout");
    if (!AllDigits(timeout) || std::stoi(timeout) < 1 || std::stoi(timeout) > 86400) {
      return InvalidArgumentError(where + ": setting 'lock_timeout' must be seconds from 1 to 86400, not '" +
                                  timeout + "'");
    }
  }
  if (connection.settings.count("sslmode")) {
    static const std::set<std::string, std::less<>> kModes = {"disable", "allow",     "prefer",
                                                              "require", "verify-ca", "verify-full"};
    if (!kModes.count(connection.Setting("sslmode"))) {
      return InvalidArgumentError(where + ": setting 'sslmode' must be one of " + JoinKeys(kModes) +
                                  ", not '" + connection.Setting("sslmode") + "'");
    }
  }
  if (connection.settings.count("schema")) {
    CDP_RETURN_IF_ERROR(
        CheckIdentifier(connection.Setting("schema"), "schema", where + ", setting 'schema'"));
  }
  return Status::Ok();
}

Status ValidateOptions(const ResolvedConnection& connection,
                       const std::map<std::string, std::string>& options) {
  const std::string where = "export option of connection '" + connection.name + "' (kind postgres)";
  for (const auto& [key, value] : options) {
    if (key == "table") {
      CDP_RETURN_IF_ERROR(CheckIdentifier(value, "table", where + " 'table'"));
    } else if (key == "create") {
      if (value != "true" && value != "false") {
        return InvalidArgumentError(where + " 'create' must be true or false, not '" + value + "'");
      }
    } else {
      return InvalidArgumentError(where + ": unknown option '" + key + "' (known: create, table)");
    }
  }
  return Status::Ok();
}

const char* ColumnType(DataType type) {
  switch (type) {
    case DataType::kString:
      return "text";
    case DataType::kInt64:
      return "bigint";
    case DataType::kDouble:
      return "double precision";
    case DataType::kBool:
      return "boolean";
    case DataType::kDate:
      return "date";
    case DataType::kTimestamp:
      return "timestamp with time zone";
  }
  return "text";
}

// Whether an existing column (its format_type()) can hold the field's values
// without losing any.
bool CompatibleColumn(DataType type, std::string_view column) {
  auto starts = [&](std::string_view prefix) { return column.substr(0, prefix.size()) == prefix; };
  switch (type) {
    case DataType::kString:
      return column == "text" || starts("character varying");
    case DataType::kInt64:
      return column == "bigint" || starts("numeric");
    case DataType::kDouble:
      return column == "double precision" || starts("numeric");
    case DataType::kBool:
      return column == "boolean";
    case DataType::kDate:
      return column == "date";
    case DataType::kTimestamp:
      return starts("timestamp");
  }
  return false;
}

// Appends `value` in COPY's text format (backslash escapes for the
// delimiter, newlines and the backslash itself).
void AppendCopyValue(std::string_view value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(c);
    }
  }
}

class PostgresSession final : public DestinationSession {
 public:
  PostgresSession(const ResolvedConnection& connection, const ExportRunInfo& info)
      : connection_name_(connection.name), info_(info) {}
  ~PostgresSession() override {
    if (conn_ != nullptr) Abort();
  }
  PostgresSession(const PostgresSession&) = delete;
  PostgresSession& operator=(const PostgresSession&) = delete;

  // Connects, opens the transaction, creates or checks the table and
  // creates the staging table.
  Status Begin(const ResolvedConnection& connection) {
    const std::string where = "export '" + info_.export_name + "' to connection '" + connection_name_ + "'";
    const ExportSchema& schema = info_.schema;
    if (schema.fields.empty()) return InvalidArgumentError(where + ": the export has no fields");
    if (schema.key_field >= schema.fields.size()) {
      return InvalidArgumentError(where + ": key field index " + std::to_string(schema.key_field) +
                                  " is outside the " + std::to_string(schema.fields.size()) + " fields");
    }
    std::set<std::string_view> seen;
    for (const ExportField& field : schema.fields) {
      CDP_RETURN_IF_ERROR(CheckIdentifier(field.name, "column", where));
      if (!seen.insert(field.name).second) {
        return InvalidArgumentError(where + ": field \"" + field.name + "\" appears twice");
      }
    }
    const auto table_option = info_.options.find("table");
    table_ = table_option != info_.options.end() ? table_option->second : info_.target;
    CDP_RETURN_IF_ERROR(CheckIdentifier(table_, "table", where));
    schema_name_ = connection.Setting("schema", "public");
    CDP_RETURN_IF_ERROR(CheckIdentifier(schema_name_, "schema", where));
    const auto create_option = info_.options.find("create");
    const bool create = create_option == info_.options.end() || create_option->second != "false";

    lock_timeout_ = connection.Setting("lock_timeout", "300");  // digits only (ValidateConnection)
    errors_.subject = "connection '" + connection_name_ + "'";
    const std::string password = connection.Secret("password");
    if (password.size() >= 4) errors_.secrets.push_back(password);
    CDP_RETURN_IF_ERROR(Connect(connection, password));

    CDP_RETURN_IF_ERROR(
        Run("SET client_encoding TO 'UTF8'; SET DateStyle TO 'ISO, MDY'; SET TimeZone TO 'UTC'; "
            "SET extra_float_digits TO 3; SET temp_buffers TO '64MB'; SET lock_timeout TO '" +
                lock_timeout_ + "s'; BEGIN ISOLATION LEVEL READ COMMITTED",
            "setting up the session"));

    CDP_ASSIGN_OR_RETURN(const std::string quoted_schema, Quote(schema_name_));
    CDP_ASSIGN_OR_RETURN(const std::string quoted_table, Quote(table_));
    target_ = quoted_schema + "." + quoted_table;
    errors_.subject += " table " + target_;
    quoted_fields_.clear();
    for (const ExportField& field : schema.fields) {
      CDP_ASSIGN_OR_RETURN(std::string quoted, Quote(field.name));
      quoted_fields_.push_back(std::move(quoted));
    }

    // The schema must exist; the table is created when missing.
    CDP_ASSIGN_OR_RETURN(PgResultPtr namespace_row,
                         Query("SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", {schema_name_},
                               "looking up the schema"));
    if (PQntuples(namespace_row.get()) == 0) {
      return errors_.Make(StatusCode::kNotFound, "schema \"" + schema_name_ +
                                                     "\" does not exist (create it, or set the connection's "
                                                     "`schema`)");
    }
    const std::string namespace_oid = PQgetvalue(namespace_row.get(), 0, 0);
    CDP_ASSIGN_OR_RETURN(
        PgResultPtr table_row,
        Query("SELECT oid, relkind FROM pg_catalog.pg_class WHERE relnamespace = $1 AND relname = $2",
              {namespace_oid, table_}, "looking up the table"));
    if (PQntuples(table_row.get()) == 0) {
      if (!create) {
        return errors_.Make(StatusCode::kNotFound,
                            "the table does not exist and the export's option `create` is false");
      }
      std::string ddl = "CREATE TABLE " + target_ + " (";
      for (size_t i = 0; i < schema.fields.size(); ++i) {
        ddl += quoted_fields_[i] + " " + ColumnType(schema.fields[i].type) +
               (i == schema.key_field ? " NOT NULL" : "") + ", ";
      }
      ddl += "PRIMARY KEY (" + quoted_fields_[schema.key_field] + "))";
      CDP_RETURN_IF_ERROR(Run(ddl, "creating the table"));
      AddSample("created table " + target_);
      CDP_ASSIGN_OR_RETURN(table_row,
                           Query("SELECT oid, relkind FROM pg_catalog.pg_class WHERE relnamespace = $1 "
                                 "AND relname = $2",
                                 {namespace_oid, table_}, "looking up the created table"));
      if (PQntuples(table_row.get()) == 0) {
        return errors_.Make(StatusCode::kInternal, "the table was created but cannot be found");
      }
    }
    const std::string relkind = PQgetvalue(table_row.get(), 0, 1);
    if (relkind != "r" && relkind != "p") {
      return errors_.Make(StatusCode::kFailedPrecondition, "is not a table (pg_class.relkind '" + relkind +
                                                               "'); name a table in the export's `table`");
    }
    const std::string table_oid = PQgetvalue(table_row.get(), 0, 0);
    // One export attempt at a time per table (this lock conflicts with
    // itself and with other writers); readers are never blocked.
    CDP_RETURN_IF_ERROR(Run("LOCK TABLE " + target_ + " IN SHARE ROW EXCLUSIVE MODE",
                            "locking the table (another export or transaction held it longer than the "
                            "connection's lock_timeout of " +
                                lock_timeout_ + " s)"));
    CDP_RETURN_IF_ERROR(CheckColumns(table_oid, create));
    // A full run into an empty table (new, or emptied) has nothing to merge
    // with: its rows are copied straight into the table, in the same
    // transaction, at the speed of a plain COPY. Otherwise they go to the
    // staging table and are merged at Commit.
    if (!info_.delta) {
      CDP_ASSIGN_OR_RETURN(PgResultPtr any, Query("SELECT 1 FROM " + target_ + " LIMIT 1", {},
                                                  "checking whether the table is empty"));
      direct_ = PQntuples(any.get()) == 0;
    }
    if (direct_) {
      std::string columns;
      for (const std::string& quoted : quoted_fields_) columns += (columns.empty() ? "" : ", ") + quoted;
      copy_sql_ = "COPY " + target_ + " (" + columns + ") FROM STDIN";
      AddSample("the table is empty: rows are copied straight into it");
    } else {
      copy_sql_ = std::string("COPY ") + kStage + " FROM STDIN";
      CDP_RETURN_IF_ERROR(CreateStage());
    }
    return Status::Ok();
  }

  // Connects and checks that the connection's schema exists; sends no data.
  Status Check(const ResolvedConnection& connection) {
    errors_.subject = "connection '" + connection_name_ + "'";
    const std::string password = connection.Secret("password");
    if (password.size() >= 4) errors_.secrets.push_back(password);
    CDP_RETURN_IF_ERROR(Connect(connection, password));
    schema_name_ = connection.Setting("schema", "public");
    CDP_ASSIGN_OR_RETURN(PgResultPtr namespace_row,
                         Query("SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", {schema_name_},
                               "looking up the schema"));
    const bool found = PQntuples(namespace_row.get()) > 0;
    conn_.reset();
    finished_ = true;
    if (!found) return errors_.Make(StatusCode::kNotFound, "schema \"" + schema_name_ + "\" does not exist");
    return Status::Ok();
  }

  Status Write(const ExportBatch& batch) override {
    if (conn_ == nullptr || finished_) {
      return FailedPreconditionError("PostgreSQL " + errors_.subject + ": Write after the attempt ended");
    }
    if (failed_) {
      return FailedPreconditionError("PostgreSQL " + errors_.subject + ": Write after a failed Write");
    }
    const size_t fields = info_.schema.fields.size();
    const size_t key = info_.schema.key_field;
    std::string data;
    data.reserve(batch.rows.size() * 64);
    for (size_t r = 0; r < batch.rows.size(); ++r) {
      const ExportRow& row = batch.rows[r];
      if (row.values.size() != fields) {
        failed_ = true;
        return InvalidArgumentError("PostgreSQL " + errors_.subject + ": batch " +
                                    std::to_string(batch.sequence) + " row " + std::to_string(r) + " has " +
                                    std::to_string(row.values.size()) + " values for " +
                                    std::to_string(fields) + " fields");
      }
      if (!row.values[key].has_value()) {
        failed_ = true;
        return InvalidArgumentError(
            "PostgreSQL " + errors_.subject + ": batch " + std::to_string(batch.sequence) + " row " +
            std::to_string(r) + " has no value for the key field \"" + info_.schema.fields[key].name + "\"");
      }
      if (direct_ && row.change == RowChange::kRemoved) continue;  // nothing to remove from an empty table
      for (size_t f = 0; f < fields; ++f) {
        if (f > 0) data.push_back('\t');
        if (row.values[f].has_value()) {
          AppendCopyValue(*row.values[f], &data);
        } else {
          data.append("\\N");
        }
      }
      if (!direct_) {
        data.push_back('\t');
        data.push_back(static_cast<char>('0' + static_cast<int>(row.change)));
      }
      data.push_back('\n');
    }
    if (Status copied = Copy(data, batch.sequence); !copied.ok()) {
      failed_ = true;
      return copied;
    }
    rows_delivered_ += static_cast<int64_t>(batch.rows.size());
    if (batch.sequence < 3) {
      AddSample("batch " + std::to_string(batch.sequence) + ": COPY " + std::to_string(batch.rows.size()));
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (conn_ == nullptr || finished_) {
      return FailedPreconditionError("PostgreSQL " + errors_.subject + ": Commit after the attempt ended");
    }
    if (failed_) {
      Abort();
      return FailedPreconditionError("PostgreSQL " + errors_.subject +
                                     ": Commit after a failed Write; the transaction was rolled back");
    }
    Status merged = direct_ ? Status::Ok() : Merge();
    if (!merged.ok()) {
      Abort();
      return merged;
    }
    PgResultPtr result(PQexec(conn_.get(), "COMMIT"));
    const bool committed = PQresultStatus(result.get()) == PGRES_COMMAND_OK &&
                           std::string_view(PQcmdStatus(result.get())) == "COMMIT";
    if (!committed) {
      Status failure = PQstatus(conn_.get()) == CONNECTION_BAD
                           ? errors_.FromServer(conn_.get(), result.get(),
                                                "committing (the outcome is unknown: repeat the run)")
                           : errors_.FromServer(conn_.get(), result.get(), "committing");
      if (failure.ok() || PQresultStatus(result.get()) == PGRES_COMMAND_OK) {
        failure =
            errors_.Make(StatusCode::kInternal, std::string("COMMIT answered ") + PQcmdStatus(result.get()));
      }
      conn_.reset();
      finished_ = true;
      return failure;
    }
    AddSample("COMMIT");
    conn_.reset();
    finished_ = true;
    return Status::Ok();
  }

  void Abort() override {
    if (conn_ == nullptr) return;
    if (PQstatus(conn_.get()) == CONNECTION_OK) {
      // A COPY left open by a failed Write is ended first; then the
      // transaction (and the staging table with it) is rolled back.
      if (PQtransactionStatus(conn_.get()) == PQTRANS_ACTIVE) {
        PQputCopyEnd(conn_.get(), "export attempt aborted");
        while (PGresult* r = PQgetResult(conn_.get())) PQclear(r);
      }
      PQclear(PQexec(conn_.get(), "ROLLBACK"));
    }
    conn_.reset();  // closing the connection rolls back anything still open
    finished_ = true;
  }

  int64_t rows_delivered() const override { return rows_delivered_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  Status Connect(const ResolvedConnection& connection, const std::string& password) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"host", connection.Setting("host")},
        {"port", connection.Setting("port", "5432")},
        {"dbname", connection.Setting("database")},
        {"connect_timeout", connection.Setting("connect_timeout", "30")},
        {"sslmode", connection.Setting("sslmode", "prefer")},
        {"application_name", std::string(Utf8Prefix("cdp export " + info_.export_name, kMaxIdentifierBytes))},
    };
    if (!connection.Setting("user").empty()) params.emplace_back("user", connection.Setting("user"));
    if (!password.empty()) params.emplace_back("password", password);
    std::vector<const char*> keywords, values;
    for (const auto& [k, v] : params) {
      keywords.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    conn_.reset(PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/0));
    if (conn_ == nullptr) return ResourceExhaustedError("cannot allocate a PostgreSQL connection");
    errors_.server = PgDescribeServer(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      const bool auth = PQconnectionNeedsPassword(conn_.get()) || PQconnectionUsedPassword(conn_.get());
      std::string why = PgOneLine(PQerrorMessage(conn_.get()));
      if (PQconnectionNeedsPassword(conn_.get())) why += " (set the connection's secret `password`)";
      conn_.reset();
      return errors_.Make(auth ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable,
                          "cannot connect: " + why);
    }
    return Status::Ok();
  }

  StatusOr<std::string> Quote(std::string_view identifier) {
    char* quoted = PQescapeIdentifier(conn_.get(), identifier.data(), identifier.size());
    if (quoted == nullptr) {
      return errors_.Make(StatusCode::kInvalidArgument, "cannot quote the name \"" + std::string(identifier) +
                                                            "\": " + PgOneLine(PQerrorMessage(conn_.get())));
    }
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
  }

  // Runs statements of ours without parameters.
  Status Run(const std::string& sql, std::string_view action) {
    PgResultPtr result(PQexec(conn_.get(), sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return errors_.FromServer(conn_.get(), result.get(), action);
    }
    return Status::Ok();
  }

  // Runs one statement with text parameters.
  StatusOr<PgResultPtr> Query(const std::string& sql, const std::vector<std::string>& params,
                              std::string_view action) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PgResultPtr result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                    values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return errors_.FromServer(conn_.get(), result.get(), action);
    }
    return result;
  }

  // Checks (and with `create`, adds) the exported columns and the unique
  // index on the key column.
  Status CheckColumns(const std::string& table_oid, bool create) {
    CDP_ASSIGN_OR_RETURN(
        PgResultPtr columns,
        Query("SELECT attname, pg_catalog.format_type(atttypid, atttypmod), attnum "
              "FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
              {table_oid}, "reading the table's columns"));
    std::map<std::string, std::pair<std::string, std::string>, std::less<>>
        existing;  // name -> (type, attnum)
    for (int r = 0; r < PQntuples(columns.get()); ++r) {
      existing[PQgetvalue(columns.get(), r, 0)] = {PQgetvalue(columns.get(), r, 1),
                                                   PQgetvalue(columns.get(), r, 2)};
    }
    const ExportSchema& schema = info_.schema;
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const ExportField& field = schema.fields[i];
      auto it = existing.find(field.name);
      if (it == existing.end()) {
        if (i == schema.key_field || !create) {
          return errors_.Make(StatusCode::kFailedPrecondition,
                              "has no column \"" + field.name + "\"" +
                                  (i == schema.key_field ? " for the export's key field"
                                                         : " and the export's option `create` is false") +
                                  " (the table's columns differ from the export's fields)");
        }
        CDP_RETURN_IF_ERROR(
            Run("ALTER TABLE " + target_ + " ADD COLUMN " + quoted_fields_[i] + " " + ColumnType(field.type),
                "adding column \"" + field.name + "\""));
        AddSample("added column " + quoted_fields_[i] + " " + ColumnType(field.type));
        continue;
      }
      if (!CompatibleColumn(field.type, it->second.first)) {
        return errors_.Make(StatusCode::kFailedPrecondition,
                            "column \"" + field.name + "\" is " + it->second.first +
                                ", which cannot hold the " + std::string(DataTypeName(field.type)) +
                                " field of that name (expected " + ColumnType(field.type) + ")");
      }
    }
    const std::string& key_attnum = existing[schema.fields[schema.key_field].name].second;
    CDP_ASSIGN_OR_RETURN(
        PgResultPtr index,
        Query("SELECT 1 FROM pg_catalog.pg_index WHERE indrelid = $1 AND indisunique AND indisvalid "
              "AND indpred IS NULL AND indexprs IS NULL AND indnkeyatts = 1 AND indkey[0] = $2",
              {table_oid, key_attnum}, "looking for the key's unique index"));
    if (PQntuples(index.get()) == 0) {
      return errors_.Make(StatusCode::kFailedPrecondition,
                          "has no primary key or unique index on column \"" +
                              schema.fields[schema.key_field].name +
                              "\" alone, which the export upserts by (add one, or export to a new table)");
    }
    return Status::Ok();
  }

  Status CreateStage() {
    const ExportSchema& schema = info_.schema;
    std::string ddl = "CREATE TEMP TABLE cdp_export_stage (";
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      ddl += "c" + std::to_string(i) + " " + ColumnType(schema.fields[i].type) + ", ";
    }
    ddl += "change smallint NOT NULL) ON COMMIT DROP";
    return Run(ddl, "creating the staging table");
  }

  Status Copy(const std::string& data, int64_t sequence) {
    const std::string action = "copying batch " + std::to_string(sequence) +
                               (direct_ ? " into the table" : " into the staging table");
    PgResultPtr start(PQexec(conn_.get(), copy_sql_.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN)
      return errors_.FromServer(conn_.get(), start.get(), action);
    for (size_t offset = 0; offset < data.size(); offset += kCopyChunkBytes) {
      const size_t n = std::min(kCopyChunkBytes, data.size() - offset);
      if (PQputCopyData(conn_.get(), data.data() + offset, static_cast<int>(n)) != 1) {
        return errors_.FromServer(conn_.get(), nullptr, action);
      }
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) return errors_.FromServer(conn_.get(), nullptr, action);
    Status status;
    bool first = true;
    while (PGresult* raw = PQgetResult(conn_.get())) {
      PgResultPtr result(raw);
      if (first && PQresultStatus(raw) != PGRES_COMMAND_OK)
        status = errors_.FromServer(conn_.get(), raw, action);
      first = false;
    }
    if (first) return errors_.FromServer(conn_.get(), nullptr, action);  // no result at all: connection lost
    return status;
  }

  // Applies the staged rows to the table.
  Status Merge() {
    const ExportSchema& schema = info_.schema;
    const std::string key_column = quoted_fields_[schema.key_field];
    const std::string stage_key = "s.c" + std::to_string(schema.key_field);
    CDP_RETURN_IF_ERROR(Run(std::string("ANALYZE ") + kStage, "analyzing the staging table"));
    std::string remove;
    if (info_.delta) {
      remove = "DELETE FROM " + target_ + " AS t USING " + kStage +
               " AS s WHERE s.change = " + std::to_string(static_cast<int>(RowChange::kRemoved)) + " AND t." +
               key_column + " = " + stage_key;
    } else {
      remove = "DELETE FROM " + target_ + " AS t WHERE NOT EXISTS (SELECT 1 FROM " + kStage + " AS s WHERE " +
               stage_key + " = t." + key_column + " AND s.change <> " +
               std::to_string(static_cast<int>(RowChange::kRemoved)) + ")";
    }
    PgResultPtr removed(PQexec(conn_.get(), remove.c_str()));
    if (PQresultStatus(removed.get()) != PGRES_COMMAND_OK) {
      return errors_.FromServer(conn_.get(), removed.get(), "deleting removed rows");
    }
    std::string columns, stage_columns, set, old_values, new_values;
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const std::string sep = i == 0 ? "" : ", ";
      columns += sep + quoted_fields_[i];
      stage_columns += sep + "c" + std::to_string(i);
      if (i == schema.key_field) continue;
      const std::string set_sep = set.empty() ? "" : ", ";
      set += set_sep + quoted_fields_[i] + " = EXCLUDED." + quoted_fields_[i];
      old_values += set_sep + "t." + quoted_fields_[i];
      new_values += set_sep + "EXCLUDED." + quoted_fields_[i];
    }
    std::string upsert = "INSERT INTO " + target_ + " AS t (" + columns + ") SELECT " + stage_columns +
                         " FROM " + kStage + " WHERE change <> " +
                         std::to_string(static_cast<int>(RowChange::kRemoved)) + " ON CONFLICT (" +
                         key_column + ") ";
    if (set.empty()) {
      upsert += "DO NOTHING";
    } else {
      // Rows whose values did not change are not rewritten.
      upsert +=
          "DO UPDATE SET " + set + " WHERE ROW(" + old_values + ") IS DISTINCT FROM ROW(" + new_values + ")";
    }
    PgResultPtr upserted(PQexec(conn_.get(), upsert.c_str()));
    if (PQresultStatus(upserted.get()) != PGRES_COMMAND_OK) {
      return errors_.FromServer(conn_.get(), upserted.get(), "upserting the rows");
    }
    AddSample(std::string("merge: ") + PQcmdTuples(removed.get()) + " deleted, " +
              PQcmdTuples(upserted.get()) + " inserted or changed");
    return Status::Ok();
  }

  void AddSample(std::string sample) {
    if (samples_.size() < kMaxSamples) samples_.push_back(std::move(sample));
  }

  const std::string connection_name_;
  const ExportRunInfo info_;
  PgErrorContext errors_;
  PgConnPtr conn_;            // null before Connect and once the attempt ended
  std::string lock_timeout_;  // seconds
  std::string schema_name_;
  std::string table_;
  std::string target_;                      // "schema"."table", quoted
  std::vector<std::string> quoted_fields_;  // per schema field
  bool direct_ = false;                     // full run into an empty table: COPY into it, no staging
  std::string copy_sql_;                    // COPY ... FROM STDIN of each Write
  bool failed_ = false;                     // a Write failed: the transaction is lost
  bool finished_ = false;                   // committed or aborted
  int64_t rows_delivered_ = 0;
  std::vector<std::string> samples_;
};

Status CheckConnection(const ResolvedConnection& connection) {
  CDP_RETURN_IF_ERROR(ValidateConnection(connection));
  ExportRunInfo info;
  info.export_name = "connection test";
  PostgresSession session(connection, info);
  return session.Check(connection);
}

}  // namespace

Status RegisterPostgresDestination(DestinationRegistry& registry) {
  DestinationKind kind;
  kind.kind = kKind;
  kind.durable_batches = false;
  kind.validate = ValidateConnection;
  kind.validate_options = ValidateOptions;
  kind.begin = [](const ResolvedConnection& connection,
                  const ExportRunInfo& info) -> StatusOr<std::unique_ptr<DestinationSession>> {
    CDP_RETURN_IF_ERROR(ValidateConnection(connection));
    CDP_RETURN_IF_ERROR(ValidateOptions(connection, info.options));
    auto session = std::make_unique<PostgresSession>(connection, info);
    if (Status begun = session->Begin(connection); !begun.ok()) {
      session->Abort();
      return begun;
    }
    return std::unique_ptr<DestinationSession>(std::move(session));
  };
  kind.check = CheckConnection;
  return registry.Register(std::move(kind));
}

}  // namespace cdp
