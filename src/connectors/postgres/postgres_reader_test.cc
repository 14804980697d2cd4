#include "connectors/postgres/postgres_reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/postgres/postgres_test_server.h"

namespace cdp {
namespace {

using Value = std::optional<std::string>;  // nullopt = SQL NULL
using Row = std::vector<Value>;

// The server is private to this process; its default database will do.
constexpr char kDatabase[] = "postgres";
constexpr int kRows = 3000;
constexpr char kSecureRole[] = "secure_reader";
constexpr char kSecurePassword[] = "Correct-Horse-9";

// A SQL literal ('' doubled; the server has standard_conforming_strings on).
std::string Literal(const Value& value) {
  if (!value) return "NULL";
  std::string out = "'";
  for (char c : *value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string TwoDigits(unsigned v) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%02u", v);
  return buffer;
}

// "YYYY-MM-DD HH:MM:SS[.ffffff]" as PostgreSQL prints it (fraction without trailing zeros).
std::string FormatTimestamp(std::chrono::sys_time<std::chrono::microseconds> t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd(day);
  const auto micros = (t - day).count();
  const int64_t seconds = micros / 1000000;
  std::string out = std::to_string(static_cast<int>(ymd.year())) + "-" +
                    TwoDigits(static_cast<unsigned>(ymd.month())) + "-" +
                    TwoDigits(static_cast<unsigned>(ymd.day())) + " " + TwoDigits(seconds / 3600) + ":" +
                    TwoDigits(seconds / 60 % 60) + ":" + TwoDigits(seconds % 60);
  if (int64_t fraction = micros % 1000000; fraction != 0) {
    char buffer[8];
    std::snprintf(buffer, sizeof(buffer), "%06lld", static_cast<long long>(fraction));
    std::string digits(buffer);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

// One row of the `every_type` table: what is inserted and what the reader
// must return, column by column.
struct TypedRow {
  Row inserted;
  Row expected;
};

const std::vector<std::string> kEveryTypeColumns = {"id",   "big",  "amount", "ratio",  "note",
                                                    "flag", "born", "seen",   "seen_tz"};

TypedRow MakeTypedRow(int i) {
  TypedRow row;
  auto both = [&](Value in, Value out) {
    row.inserted.push_back(std::move(in));
    row.expected.push_back(std::move(out));
  };
  auto same = [&](Value v) { both(v, v); };

  same(std::to_string(i));  // integer
  // bigint, including both extremes.
  if (i == 1) {
    same("9223372036854775807");
  } else if (i == 2) {
    same("-9223372036854775808");
  } else if (i % 11 == 0) {
    same(std::nullopt);
  } else {
    same(std::to_string(int64_t{i} * 3037000493LL * (i % 2 ? 1 : -1)));
  }
  // numeric keeps the scale it was given.
  static const char* kNumerics[] = {"0",        "-1.5",  "12345678901234567890.123456789",
                                    "0.000001", "1.500", "NaN"};
  if (i % 7 == 0) {
    same(std::nullopt);
  } else if (i % 5 == 0) {
    same(kNumerics[i / 5 % 6]);
  } else {
    same(std::to_string(i) + "." + TwoDigits(i % 100));
  }
  // double precision: the database default extra_float_digits = 0 would print
  // 3.14159265358979; the reader asks for shortest exact output.
  static const std::pair<const char*, const char*> kDoubles[] = {{"0", "0"},
                                                                 {"0.1", "0.1"},
                                                                 {"-2.5", "-2.5"},
                                                                 {"3.141592653589793", "3.141592653589793"},
                                                                 {"1e300", "1e+300"},
                                                                 {"-1.5e-10", "-1.5e-10"},
                                                                 {"1e-5", "1e-05"},
                                                                 {"Infinity", "Infinity"},
                                                                 {"-Infinity", "-Infinity"},
                                                                 {"NaN", "NaN"},
                                                                 {"123456.789", "123456.789"}};
  if (i % 9 == 0) {
    same(std::nullopt);
  } else {
    const auto& [in, out] = kDoubles[i % 11];
    both(in, out);
  }
  // text with the characters CSV-like formats trip over.
  static const char* kTexts[] = {
      "plain",       "comma, separated", "double \"quoted\" word", "it's",       "two\nlines", "tab\there",
      "back\\slash", "crlf\r\nend",      "unicode é 日本 🎉",       "  padded  ", "\"\"",       ",,,"};
  if (i % 13 == 0) {
    same(std::nullopt);
  } else if (i % 17 == 0) {
    same("");  // empty, not NULL
  } else if (i == 3) {
    same(std::string(5000, 'x'));
  } else {
    same(std::string(kTexts[i % 12]) + " #" + std::to_string(i));
  }
  // boolean
  if (i % 5 == 4) {
    same(std::nullopt);
  } else {
    both(i % 2 ? "f" : "t", i % 2 ? "false" : "true");
  }
  // date; the database default DateStyle is 'SQL, DMY', the reader's ISO.
  using namespace std::chrono;
  const sys_days day = sys_days(2000y / January / 1) + days(i * 3);
  if (i % 6 == 5) {
    same(std::nullopt);
  } else if (i == 4) {
    same("infinity");
  } else if (i == 6) {
    same("2024-02-29");
  } else {
    same(FormatTimestamp(day).substr(0, 10));
  }
  // timestamp without time zone, sometimes with a fraction.
  const sys_time<microseconds> local =
      day + seconds(i * 7919 % 86400) + microseconds(i % 4 == 0 ? 0 : (i * 37 % 1000) * 1000 + i % 3 * 10);
  if (i % 8 == 7) {
    same(std::nullopt);
  } else {
    same(FormatTimestamp(local));
  }
  // timestamptz given at +05:30; read back in UTC (the database default zone is -03).
  if (i % 10 == 3) {
    same(std::nullopt);
  } else {
    both(FormatTimestamp(local) + "+05:30", FormatTimestamp(local - hours(5) - minutes(30)) + "+00");
  }
  return row;
}

std::vector<TypedRow> MakeTypedRows() {
  std::vector<TypedRow> rows;
  for (int i = 1; i <= kRows; ++i) rows.push_back(MakeTypedRow(i));
  return rows;
}

std::string InsertStatement(const std::string& table, const std::vector<Row>& rows) {
  std::string sql = "INSERT INTO " + table + " VALUES ";
  for (size_t r = 0; r < rows.size(); ++r) {
    sql += r ? ",(" : "(";
    for (size_t c = 0; c < rows[r].size(); ++c) sql += (c ? "," : "") + Literal(rows[r][c]);
    sql += ")";
  }
  return sql;
}

// Everything a reader produced.
struct ReadResult {
  std::vector<std::string> field_names;
  std::vector<Row> rows;
  std::vector<int64_t> lines;
  std::vector<std::string> locations;
  std::vector<std::pair<int64_t, std::string>> record_errors;  // (line, reason)
  size_t batches = 0;
  uint64_t bytes_read = 0;
};

StatusOr<ReadResult> ReadAll(const PostgresSourceOptions& options, size_t max_records) {
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> reader, OpenPostgresSource(options));
  ReadResult result;
  result.field_names = reader->field_names();
  RawRecordBatch batch;
  while (true) {
    CDP_ASSIGN_OR_RETURN(bool more, reader->Next(&batch, max_records));
    if (!more) {
      if (batch.num_records() != 0) return InternalError("Next() returned false with records");
      break;
    }
    if (batch.num_records() == 0 || batch.num_records() > max_records) {
      return InternalError("batch of " + std::to_string(batch.num_records()) + " records");
    }
    ++result.batches;
    result.locations.push_back(batch.location);
    for (const auto& [record, reason] : batch.record_errors) {
      result.record_errors.emplace_back(batch.line[record], reason);
    }
    for (size_t r = 0; r < batch.num_records(); ++r) {
      Row row;
      for (size_t f = 0; f < batch.num_fields(r); ++f) {
        if (batch.field_is_null(r, f)) {
          if (!batch.field(r, f).empty()) return InternalError("NULL field with text");
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(batch.field(r, f)));
        }
      }
      result.rows.push_back(std::move(row));
      result.lines.push_back(batch.line[r]);
    }
  }
  result.bytes_read = reader->bytes_read();
  if (reader->total_bytes() != 0) return InternalError("total_bytes should be unknown");
  // Exhausted readers stay exhausted.
  CDP_ASSIGN_OR_RETURN(bool again, reader->Next(&batch, max_records));
  if (again || batch.num_records() != 0) return InternalError("Next() after the end returned records");
  return result;
}

std::string Describe(const Row& row) {
  std::string out;
  for (const Value& v : row) out += (out.empty() ? "" : " | ") + (v ? "'" + *v + "'" : std::string("NULL"));
  return out;
}

class PostgresReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PostgresTestServerOptions options;
    options.extra_hba_lines.push_back(std::string("host all ") + kSecureRole + " 127.0.0.1/32 scram-sha-256");
    auto server = PostgresTestServer::Start(options);
    if (!server.ok()) {
      setup_error_ = new std::string(server.status().ToString());
      return;
    }
    server_ = server->release();
    typed_rows_ = new std::vector<TypedRow>(MakeTypedRows());
    std::vector<Row> inserted;
    for (const TypedRow& row : *typed_rows_) inserted.push_back(row.inserted);
    const std::string setup =
        // Session defaults the reader must override.
        std::string("ALTER DATABASE ") + kDatabase +
        " SET DateStyle = 'SQL, DMY'; "
        "ALTER DATABASE " +
        kDatabase +
        " SET TimeZone = '<-03>+3'; "
        "ALTER DATABASE " +
        kDatabase +
        " SET extra_float_digits = 0; "
        "CREATE TABLE every_type (id integer PRIMARY KEY, big bigint, amount numeric, ratio double "
        "precision, "
        "  note text, flag boolean, born date, seen timestamp, seen_tz timestamptz); " +
        InsertStatement("every_type", inserted) +
        "; CREATE TABLE contacts (id int, name text); INSERT INTO contacts VALUES (1, 'public one'); "
        "CREATE SCHEMA crm; CREATE TABLE crm.contacts (id int, name text); "
        "INSERT INTO crm.contacts VALUES (10, 'crm ten'), (20, 'crm twenty'); "
        "CREATE TABLE \"Loyalty Scheme\" (\"Member Id\" int, \"Tier Name\" text); "
        "INSERT INTO \"Loyalty Scheme\" VALUES (7, 'Gold'), (8, NULL); "
        "CREATE SCHEMA \"Sales Dept\"; CREATE TABLE \"Sales Dept\".\"Loyalty Scheme\" (tier text); "
        "INSERT INTO \"Sales Dept\".\"Loyalty Scheme\" VALUES ('sales'); "
        "CREATE TABLE \"odd\"\"name\" (v text); INSERT INTO \"odd\"\"name\" VALUES ('odd'); "
        "CREATE TABLE \"dotted.name\" (v text); INSERT INTO \"dotted.name\" VALUES ('dotted'); "
        "CREATE SEQUENCE counter; "
        "CREATE ROLE " +
        kSecureRole + " LOGIN PASSWORD '" + kSecurePassword +
        "'; "
        "GRANT SELECT ON contacts TO " +
        kSecureRole;
    Status created = server_->Exec(setup, kDatabase);
    if (!created.ok()) setup_error_ = new std::string(created.ToString());
  }

  static void TearDownTestSuite() {
    delete server_;
    delete typed_rows_;
    delete setup_error_;
    server_ = nullptr;
    typed_rows_ = nullptr;
    setup_error_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static PostgresSourceOptions Table(const std::string& table, size_t fetch_size = 100) {
    PostgresSourceOptions options;
    options.conninfo = server_->ConnInfoFor(kDatabase);
    options.table = table;
    options.fetch_size = fetch_size;
    return options;
  }
  static PostgresSourceOptions Query(const std::string& query, size_t fetch_size = 100) {
    PostgresSourceOptions options;
    options.conninfo = server_->ConnInfoFor(kDatabase);
    options.query = query;
    options.fetch_size = fetch_size;
    return options;
  }
  static int64_t CountContacts() {
    auto rows = server_->Query("SELECT count(*) FROM contacts", kDatabase);
    return rows.ok() ? std::stoll(*(*rows)[0][0]) : -1;
  }

  static PostgresTestServer* server_;
  static std::vector<TypedRow>* typed_rows_;
  static std::string* setup_error_;
};

PostgresTestServer* PostgresReaderTest::server_ = nullptr;
std::vector<TypedRow>* PostgresReaderTest::typed_rows_ = nullptr;
std::string* PostgresReaderTest::setup_error_ = nullptr;

TEST_F(PostgresReaderTest, ReadsEveryValueAndNullOfATableAcrossFetches) {
  // 3000 rows, 100 per fetch, 256 per batch: batches straddle fetches.
  auto read = ReadAll(Table("every_type", 100), 256);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->field_names, kEveryTypeColumns);
  ASSERT_EQ(read->rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(read->batches, (kRows + 255) / 256u);
  uint64_t value_bytes = 0;
  for (int i = 0; i < kRows; ++i) {
    // No ORDER BY for a table: match rows by id, which was inserted in order.
    const TypedRow& want = (*typed_rows_)[std::stoi(*read->rows[i][0]) - 1];
    ASSERT_EQ(read->rows[i], want.expected) << "row " << i + 1 << "\n got:  " << Describe(read->rows[i])
                                            << "\n want: " << Describe(want.expected);
    EXPECT_EQ(read->lines[i], i + 1);
    for (const Value& v : want.inserted) value_bytes += v ? v->size() : 0;
  }
  EXPECT_GT(read->bytes_read, 0u);
  EXPECT_LT(read->bytes_read, value_bytes * 2);
  EXPECT_TRUE(read->record_errors.empty());
  for (const std::string& location : read->locations) EXPECT_EQ(location, "table every_type");
}

TEST_F(PostgresReaderTest, ReadsAQueryInItsOrder) {
  // 64 per fetch does not divide the 1000 rows; batches of 100.
  auto read = ReadAll(Query("SELECT id, note AS \"Note Text\", flag, id * 2 AS doubled\n"
                            "FROM every_type WHERE id % 3 = 0 ORDER BY id DESC;  ",
                            64),
                      100);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->field_names, (std::vector<std::string>{"id", "Note Text", "flag", "doubled"}));
  ASSERT_EQ(read->rows.size(), static_cast<size_t>(kRows / 3));
  for (size_t r = 0; r < read->rows.size(); ++r) {
    const int id = kRows - 3 * static_cast<int>(r);
    const Row& want = (*typed_rows_)[id - 1].expected;
    ASSERT_EQ(read->rows[r], (Row{want[0], want[4], want[5], std::to_string(id * 2)})) << "row " << r + 1;
    EXPECT_EQ(read->lines[r], static_cast<int64_t>(r) + 1);
  }
  EXPECT_EQ(read->locations.front(),
            "query SELECT id, note AS \"Note Text\", flag, id * 2 AS doubled FROM every_type WHERE id...");
}

TEST_F(PostgresReaderTest, BatchOfOneAndFetchOfOne) {
  auto read = ReadAll(Table("crm.contacts", 1), 1);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->batches, 2u);
  EXPECT_EQ(read->lines, (std::vector<int64_t>{1, 2}));
}

TEST_F(PostgresReaderTest, EmptyResultStillHasFieldNames) {
  auto read = ReadAll(Query("SELECT id, note FROM every_type WHERE false"), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->field_names, (std::vector<std::string>{"id", "note"}));
  EXPECT_TRUE(read->rows.empty());
  EXPECT_EQ(read->batches, 0u);
}

TEST_F(PostgresReaderTest, SchemaQualifiedTableReadsThatSchema) {
  auto read = ReadAll(Table("crm.contacts"), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->rows, (std::vector<Row>{{"10", "crm ten"}, {"20", "crm twenty"}}));
  EXPECT_EQ(read->locations.front(), "table crm.contacts");

  auto unqualified = ReadAll(Table("contacts"), 10);
  ASSERT_TRUE(unqualified.ok()) << unqualified.status().ToString();
  EXPECT_EQ(unqualified->rows, (std::vector<Row>{{"1", "public one"}}));
}

TEST_F(PostgresReaderTest, TableNamesAreQuotedExactly) {
  auto loyalty = ReadAll(Table("Loyalty Scheme"), 10);
  ASSERT_TRUE(loyalty.ok()) << loyalty.status().ToString();
  EXPECT_EQ(loyalty->field_names, (std::vector<std::string>{"Member Id", "Tier Name"}));
  EXPECT_EQ(loyalty->rows, (std::vector<Row>{{"7", "Gold"}, {"8", std::nullopt}}));

  for (const char* name : {"Sales Dept.Loyalty Scheme", "\"Sales Dept\".\"Loyalty Scheme\""}) {
    auto sales = ReadAll(Table(name), 10);
    ASSERT_TRUE(sales.ok()) << name << ": " << sales.status().ToString();
    EXPECT_EQ(sales->rows, (std::vector<Row>{{"sales"}})) << name;
  }
  auto odd = ReadAll(Table("odd\"name"), 10);
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  EXPECT_EQ(odd->rows, (std::vector<Row>{{"odd"}}));
  auto odd_quoted = ReadAll(Table("public.\"odd\"\"name\""), 10);
  ASSERT_TRUE(odd_quoted.ok()) << odd_quoted.status().ToString();
  EXPECT_EQ(odd_quoted->rows, (std::vector<Row>{{"odd"}}));
  auto dotted = ReadAll(Table("\"dotted.name\""), 10);
  ASSERT_TRUE(dotted.ok()) << dotted.status().ToString();
  EXPECT_EQ(dotted->rows, (std::vector<Row>{{"dotted"}}));

  // Exact means case-sensitive: "CONTACTS" is not contacts.
  auto upper = OpenPostgresSource(Table("CONTACTS"));
  EXPECT_EQ(upper.status().code(), StatusCode::kNotFound);
}

TEST_F(PostgresReaderTest, TableNameCannotInjectSql) {
  for (const char* name :
       {"contacts; DROP TABLE contacts", "contacts\"; DROP TABLE contacts; --", "contacts WHERE false"}) {
    auto reader = OpenPostgresSource(Table(name));
    EXPECT_EQ(reader.status().code(), StatusCode::kNotFound) << name << ": " << reader.status().ToString();
  }
  EXPECT_EQ(CountContacts(), 1);
}

TEST_F(PostgresReaderTest, RejectsMalformedTableNamesBeforeConnecting) {
  for (const char* name : {"a.b.c", "crm.", ".contacts", "\"unterminated", "\"a\"b", "crm..contacts"}) {
    PostgresSourceOptions options = Table(name);
    options.conninfo = "host=127.0.0.1 port=1";  // never reached
    auto reader = OpenPostgresSource(options);
    EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument)
        << name << ": " << reader.status().ToString();
    EXPECT_NE(reader.status().message().find(name), std::string::npos) << reader.status().message();
  }
}

TEST_F(PostgresReaderTest, NeedsExactlyOneOfTableAndQueryAndAPositiveFetchSize) {
  PostgresSourceOptions neither;
  neither.conninfo = server_->ConnInfoFor(kDatabase);
  EXPECT_EQ(OpenPostgresSource(neither).status().code(), StatusCode::kInvalidArgument);
  PostgresSourceOptions both = Table("contacts");
  both.query = "SELECT 1";
  auto rejected = OpenPostgresSource(both);
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rejected.status().message().find("exactly one"), std::string::npos);
  EXPECT_EQ(OpenPostgresSource(Table("contacts", 0)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenPostgresSource(Query(" ;; ")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresReaderTest, MissingTableIsNotFoundAndNamed) {
  auto reader = OpenPostgresSource(Table("crm.no_such_table"));
  ASSERT_EQ(reader.status().code(), StatusCode::kNotFound) << reader.status().ToString();
  const std::string& message = reader.status().message();
  EXPECT_NE(message.find("table \"crm.no_such_table\""), std::string::npos) << message;
  EXPECT_NE(message.find("relation \"crm.no_such_table\" does not exist"), std::string::npos) << message;
  EXPECT_NE(message.find("host=127.0.0.1 port=" + std::to_string(server_->port()) +
                         " dbname=postgres user=postgres"),
            std::string::npos)
      << message;

  auto schema = OpenPostgresSource(Table("no_such_schema.contacts"));
  EXPECT_EQ(schema.status().code(), StatusCode::kNotFound) << schema.status().ToString();
}

TEST_F(PostgresReaderTest, BadQueryIsInvalidArgumentWithTheServerMessage) {
  auto syntax = OpenPostgresSource(Query("SELECT id FROM every_type WHER id = 1"));
  ASSERT_EQ(syntax.status().code(), StatusCode::kInvalidArgument) << syntax.status().ToString();
  EXPECT_NE(syntax.status().message().find("syntax error at or near \"id\" at character 32 of the query"),
            std::string::npos)
      << syntax.status().message();
  EXPECT_NE(syntax.status().message().find("query \"SELECT id FROM every_type WHER id = 1\""),
            std::string::npos);

  auto column = OpenPostgresSource(Query("SELECT nope FROM every_type"));
  EXPECT_EQ(column.status().code(), StatusCode::kNotFound) << column.status().ToString();
  EXPECT_NE(column.status().message().find("column \"nope\" does not exist"), std::string::npos);

  // Evaluated by the first fetch, inside OpenPostgresSource.
  auto division = OpenPostgresSource(Query("SELECT 1 / (id - id) FROM every_type"));
  EXPECT_EQ(division.status().code(), StatusCode::kInvalidArgument) << division.status().ToString();
  EXPECT_NE(division.status().message().find("division by zero"), std::string::npos);
}

TEST_F(PostgresReaderTest, QueryCannotWriteNorRunASecondStatement) {
  for (const char* query :
       {"SELECT 1; DELETE FROM contacts", "WITH d AS (DELETE FROM contacts RETURNING *) SELECT * FROM d",
        "SELECT nextval('counter')", "DELETE FROM contacts RETURNING *"}) {
    auto reader = OpenPostgresSource(Query(query));
    EXPECT_EQ(reader.status().code(), StatusCode::kInvalidArgument)
        << query << ": " << reader.status().ToString();
  }
  EXPECT_EQ(CountContacts(), 1);
}

TEST_F(PostgresReaderTest, UnreachableServerIsUnavailableAndNamesHostAndPortButNotThePassword) {
  // A port nobody listens on: the fixture's port after a throwaway bind.
  const int port = server_->port() == 1 ? 2 : 1;
  const std::string password = "Sup3r-Secret-Pw";
  for (const std::string& conninfo :
       {"host=127.0.0.1 port=" + std::to_string(port) + " dbname=crm user=etl password=" + password,
        "postgresql://etl:" + password + "@127.0.0.1:" + std::to_string(port) + "/crm"}) {
    PostgresSourceOptions options;
    options.conninfo = conninfo;
    options.table = "contacts";
    auto reader = OpenPostgresSource(options);
    ASSERT_EQ(reader.status().code(), StatusCode::kUnavailable) << reader.status().ToString();
    const std::string& message = reader.status().message();
    EXPECT_NE(message.find("host=127.0.0.1 port=" + std::to_string(port) + " dbname=crm user=etl"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("Connection refused"), std::string::npos) << message;
    EXPECT_NE(message.find("table \"contacts\""), std::string::npos) << message;
    EXPECT_EQ(message.find(password), std::string::npos) << message;
  }
}

TEST_F(PostgresReaderTest, MalformedConnInfoIsInvalidArgumentWithoutThePassword) {
  PostgresSourceOptions options = Table("contacts");
  options.conninfo = "host=127.0.0.1 password=Leaky-Pw-1 garbage";
  auto reader = OpenPostgresSource(options);
  ASSERT_EQ(reader.status().code(), StatusCode::kInvalidArgument) << reader.status().ToString();
  EXPECT_EQ(reader.status().message().find("Leaky"), std::string::npos) << reader.status().message();

  options.conninfo = "host=127.0.0.1 bogus_option=1";
  reader = OpenPostgresSource(options);
  ASSERT_EQ(reader.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reader.status().message().find("bogus_option"), std::string::npos) << reader.status().message();
}

TEST_F(PostgresReaderTest, MissingDatabaseOrRoleIsReported) {
  PostgresSourceOptions options = Table("contacts");
  options.conninfo =
      "host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=postgres dbname=no_such_db";
  auto reader = OpenPostgresSource(options);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("database \"no_such_db\" does not exist"), std::string::npos)
      << reader.status().message();

  options.conninfo =
      "host=127.0.0.1 port=" + std::to_string(server_->port()) + " user=nobody dbname=postgres";
  reader = OpenPostgresSource(options);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("role \"nobody\" does not exist"), std::string::npos)
      << reader.status().message();
}

TEST_F(PostgresReaderTest, PasswordFromConnInfoOrEnvironmentAndAuthFailures) {
  const std::string base = "host=127.0.0.1 port=" + std::to_string(server_->port()) + " dbname=" + kDatabase +
                           " user=" + kSecureRole;
  ::unsetenv("PGPASSWORD");
  PostgresSourceOptions options = Table("contacts");

  options.conninfo = base;
  auto missing = OpenPostgresSource(options);
  ASSERT_EQ(missing.status().code(), StatusCode::kFailedPrecondition) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("PGPASSWORD"), std::string::npos) << missing.status().message();

  options.conninfo = base + " password=Wrong-Horse-1";
  auto wrong = OpenPostgresSource(options);
  ASSERT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("password authentication failed"), std::string::npos)
      << wrong.status().message();
  EXPECT_EQ(wrong.status().message().find("Wrong-Horse"), std::string::npos) << wrong.status().message();

  options.conninfo = base + " password=" + kSecurePassword;
  auto given = ReadAll(options, 10);
  ASSERT_TRUE(given.ok()) << given.status().ToString();
  EXPECT_EQ(given->rows, (std::vector<Row>{{"1", "public one"}}));

  options.conninfo = base;
  ::setenv("PGPASSWORD", kSecurePassword, 1);
  auto from_env = ReadAll(options, 10);
  ::unsetenv("PGPASSWORD");
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->rows, (std::vector<Row>{{"1", "public one"}}));

  // Permission denied is not an authentication failure but still a precondition.
  options.conninfo = base + " password=" + kSecurePassword;
  options.table = "every_type";
  auto denied = OpenPostgresSource(options);
  EXPECT_EQ(denied.status().code(), StatusCode::kFailedPrecondition) << denied.status().ToString();
  EXPECT_NE(denied.status().message().find("permission denied"), std::string::npos)
      << denied.status().message();
}

TEST_F(PostgresReaderTest, ConnectionLostMidStreamIsUnavailable) {
  PostgresSourceOptions options = Table("every_type", 100);
  options.conninfo += " application_name=cdp_doomed_reader";
  auto reader = OpenPostgresSource(options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  RawRecordBatch batch;
  auto first = (*reader)->Next(&batch, 50);
  ASSERT_TRUE(first.ok() && *first) << first.status().ToString();

  auto killed = server_->Query(
      "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
      "WHERE application_name = 'cdp_doomed_reader'");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(killed->size(), 1u);

  // The 50 rows left of the first fetch still arrive; the next fetch fails.
  auto second = (*reader)->Next(&batch, 1000);
  ASSERT_TRUE(second.ok() && *second) << second.status().ToString();
  ASSERT_EQ(batch.num_records(), 50u);
  EXPECT_EQ(batch.line.front(), 51);
  EXPECT_EQ(batch.line.back(), 100);
  auto third = (*reader)->Next(&batch, 1000);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kUnavailable) << third.status().ToString();
  EXPECT_NE(third.status().message().find("after row 100"), std::string::npos) << third.status().message();
  EXPECT_EQ(batch.num_records(), 0u);
  auto fourth = (*reader)->Next(&batch, 1000);
  EXPECT_EQ(fourth.status().code(), StatusCode::kUnavailable) << "a failed reader stays failed";
}

TEST_F(PostgresReaderTest, InvalidUtf8InASqlAsciiDatabaseIsARecordError) {
  ASSERT_TRUE(server_
                  ->Exec("CREATE DATABASE ascii_db ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                         "TEMPLATE template0")
                  .ok());
  ASSERT_TRUE(
      server_
          ->Exec("CREATE TABLE t (id int, v text); "
                 "INSERT INTO t VALUES (1, 'caf' || chr(195) || chr(169)), (2, E'bad\\xff'), (3, 'ok')",
                 "ascii_db")
          .ok());
  PostgresSourceOptions options;
  options.conninfo = server_->ConnInfoFor("ascii_db");
  options.query = "SELECT id, v FROM t ORDER BY id";
  auto read = ReadAll(options, 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->rows.size(), 3u);
  EXPECT_EQ(read->rows[0], (Row{"1", "café"}));
  EXPECT_TRUE(read->rows[1].empty());
  EXPECT_EQ(read->rows[2], (Row{"3", "ok"}));
  ASSERT_EQ(read->record_errors.size(), 1u);
  EXPECT_EQ(read->record_errors[0].first, 2);
  EXPECT_NE(read->record_errors[0].second.find("row 2 column \"v\": invalid UTF-8"), std::string::npos)
      << read->record_errors[0].second;
}

}  // namespace
}  // namespace cdp
