#include "connectors/postgres/postgres_destination.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/postgres/postgres_test_server.h"

namespace cdp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Value = std::optional<std::string>;
using Rows = PostgresTestServer::Rows;

constexpr char kPassword[] = "Sekrit-Pa55word";

class PostgresDestinationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PostgresTestServerOptions options;
    options.extra_hba_lines.push_back("host all secure_writer 127.0.0.1/32 scram-sha-256");
    auto started = PostgresTestServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started).release();
    ASSERT_TRUE(
        server_
            ->Exec(std::string("SET password_encryption = 'scram-sha-256'; CREATE ROLE secure_writer LOGIN "
                               "SUPERUSER PASSWORD '") +
                   kPassword + "'")
            .ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(RegisterPostgresDestination(registry_).ok());
    auto kind = registry_.Find("postgres");
    ASSERT_TRUE(kind.ok());
    kind_ = *kind;
  }

  static ResolvedConnection Connection() {
    ResolvedConnection c;
    c.name = "warehouse";
    c.kind = "postgres";
    c.settings = {{"host", server_->host()},
                  {"port", std::to_string(server_->port())},
                  {"database", "postgres"},
                  {"user", server_->user()}};
    return c;
  }

  // Customers: Id (key, string), Name, Spend (double), Visits (int64),
  // Active (bool), Born (date), Seen (timestamp).
  static ExportRunInfo Info(const std::string& table, bool delta) {
    ExportRunInfo info;
    info.export_name = "export_" + table;
    info.export_run_id = 1;
    info.delta = delta;
    info.target = table;
    info.schema.fields = {{"Id", DataType::kString},     {"Name", DataType::kString},
                          {"Spend", DataType::kDouble},  {"Visits", DataType::kInt64},
                          {"Active", DataType::kBool},   {"Born", DataType::kDate},
                          {"Seen", DataType::kTimestamp}};
    info.schema.key_field = 0;
    return info;
  }

  static ExportRow Row(RowChange change, std::vector<Value> values) {
    return ExportRow{change, std::move(values)};
  }
  static ExportRow Customer(const std::string& id, const std::string& name, const std::string& spend,
                            RowChange change = RowChange::kAdded) {
    return Row(change, {id, name, spend, "3", "true", "1990-05-17", "2024-02-29T12:45:00.5Z"});
  }
  static ExportRow Removed(const std::string& id) {
    return Row(RowChange::kRemoved,
               {id, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  }

  // Begin, Write in batches of `batch_size`, Commit (Abort on a failure).
  Status Run(const ExportRunInfo& info, const std::vector<ExportRow>& rows, size_t batch_size = 2,
             const ResolvedConnection& connection = Connection()) {
    auto session = kind_->begin(connection, info);
    if (!session.ok()) return session.status();
    for (size_t start = 0, sequence = 0; start < rows.size(); start += batch_size, ++sequence) {
      ExportBatch batch;
      batch.sequence = static_cast<int64_t>(sequence);
      batch.idempotency_key = info.export_name + ":1:" + std::to_string(sequence);
      batch.rows.assign(rows.begin() + start, rows.begin() + std::min(rows.size(), start + batch_size));
      if (Status written = (*session)->Write(batch); !written.ok()) {
        (*session)->Abort();
        return written;
      }
    }
    return (*session)->Commit();
  }

  static Rows Select(const std::string& table, const std::string& columns = "\"Id\", \"Name\", \"Spend\"") {
    auto rows = server_->Query("SELECT " + columns + " FROM public.\"" + table + "\" ORDER BY \"Id\"");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : Rows{};
  }

  static PostgresTestServer* server_;
  DestinationRegistry registry_;
  const DestinationKind* kind_ = nullptr;
};

PostgresTestServer* PostgresDestinationTest::server_ = nullptr;

Rows Expect(std::vector<std::vector<Value>> rows) { return rows; }

TEST_F(PostgresDestinationTest, FullExportCreatesTheTypedTableWithAPrimaryKeyAndFillsIt) {
  ExportRunInfo info = Info("full_create", false);
  auto session = kind_->begin(Connection(), info);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ExportBatch batch;
  batch.rows = {Customer("c1", "Ann", "437.66"), Customer("c2", "Bob", "12.5")};
  ASSERT_TRUE((*session)->Write(batch).ok());
  EXPECT_EQ((*session)->rows_delivered(), 2);
  ASSERT_TRUE((*session)->Commit().ok());
  EXPECT_THAT((*session)->response_samples(),
              ::testing::Contains(HasSubstr("created table \"public\".\"full_create\"")));
  EXPECT_THAT((*session)->response_samples(), ::testing::Contains(HasSubstr("copied straight into it")));

  EXPECT_EQ(Select("full_create"), Expect({{"c1", "Ann", "437.66"}, {"c2", "Bob", "12.5"}}));
  auto types = server_->Query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'full_create' "
      "ORDER BY ordinal_position");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ(*types, Expect({{"Id", "text"},
                            {"Name", "text"},
                            {"Spend", "double precision"},
                            {"Visits", "bigint"},
                            {"Active", "boolean"},
                            {"Born", "date"},
                            {"Seen", "timestamp with time zone"}}));
  auto key = server_->Query(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
      "i.indkey[0] "
      "WHERE i.indrelid = 'public.full_create'::regclass AND i.indisprimary");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, Expect({{"Id"}}));
}

TEST_F(PostgresDestinationTest, SecondFullRunLeavesExactlyTheNewSet) {
  ExportRunInfo info = Info("full_twice", false);
  ASSERT_TRUE(
      Run(info, {Customer("a", "Ann", "1"), Customer("b", "Bob", "2"), Customer("c", "Cy", "3")}).ok());
  // b removed, c changed, d added, a unchanged.
  ASSERT_TRUE(
      Run(info, {Customer("a", "Ann", "1"), Customer("c", "Cyrus", "30"), Customer("d", "Di", "4")}).ok());
  EXPECT_EQ(Select("full_twice"), Expect({{"a", "Ann", "1"}, {"c", "Cyrus", "30"}, {"d", "Di", "4"}}));
  // An empty full run empties the table.
  ASSERT_TRUE(Run(info, {}).ok());
  EXPECT_EQ(Select("full_twice"), Rows{});
}

TEST_F(PostgresDestinationTest, RepeatingARunGivesExactlyItsResult) {
  ExportRunInfo info = Info("idempotent", false);
  const std::vector<ExportRow> rows = {Customer("a", "Ann", "1"), Customer("b", "Bob", "2")};
  ASSERT_TRUE(Run(info, rows).ok());
  ASSERT_TRUE(Run(info, rows).ok());
  EXPECT_EQ(Select("idempotent"), Expect({{"a", "Ann", "1"}, {"b", "Bob", "2"}}));

  ExportRunInfo delta = Info("idempotent", true);
  const std::vector<ExportRow> changes = {Removed("a"), Customer("b", "Bobby", "5", RowChange::kChanged),
                                          Customer("c", "Cy", "3")};
  ASSERT_TRUE(Run(delta, changes).ok());
  ASSERT_TRUE(Run(delta, changes).ok());
  EXPECT_EQ(Select("idempotent"), Expect({{"b", "Bobby", "5"}, {"c", "Cy", "3"}}));
}

TEST_F(PostgresDestinationTest, DeltaAppliesAddedChangedAndRemovedRows) {
  ASSERT_TRUE(Run(Info("delta", false),
                  {Customer("a", "Ann", "1"), Customer("b", "Bob", "2"), Customer("c", "Cy", "3")})
                  .ok());
  // Changed b, removed c, added d; a removal of an absent key and a change of
  // a key the table lacks (it is inserted) are applied as well.
  ASSERT_TRUE(Run(Info("delta", true),
                  {Customer("b", "Bobby", "20", RowChange::kChanged), Removed("c"), Customer("d", "Di", "4"),
                   Removed("zz"), Customer("e", "Eve", "5", RowChange::kChanged)})
                  .ok());
  EXPECT_EQ(Select("delta"),
            Expect({{"a", "Ann", "1"}, {"b", "Bobby", "20"}, {"d", "Di", "4"}, {"e", "Eve", "5"}}));
}

TEST_F(PostgresDestinationTest, ValuesRoundTripExactly) {
  ExportRunInfo info = Info("value_types", false);
  const std::vector<ExportRow> rows = {
      Row(RowChange::kAdded, {"k1", "O'Brien \"quoted\"", "437.66", "9223372036854775807", "false",
                              "2024-02-29", "2024-02-29T23:59:59.123456Z"}),
      Row(RowChange::kAdded, {"k2", "tab\there\nnew line\r\nback\\slash \\N \\t", "-1.5e-300",
                              "-9223372036854775808", "true", "0001-01-01", "1970-01-01T00:00:00Z"}),
      Row(RowChange::kAdded,
          {"k3", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}),
      Row(RowChange::kAdded, {"k4", "", "0.1", "0", "true", "9999-12-31", "2026-12-07T08:00:00.000001Z"}),
      Row(RowChange::kAdded, {"k5 Zoë 北京 🙂", "Ünïcødé ✓ €", "1.7976931348623157e+308", "42", "false",
                              "2000-02-29", "2024-06-01T00:00:00Z"}),
      Row(RowChange::kAdded,
          {"k6\\N", "\\N", "0.30000000000000004", "-1", "true", "1999-12-31", "1999-12-31T23:59:59.999999Z"}),
  };
  ASSERT_TRUE(Run(info, rows, 4).ok());
  auto got = server_->Query(
      "SET TimeZone = 'UTC'; SET extra_float_digits = 1; "
      "SELECT \"Id\", \"Name\", \"Spend\"::text, \"Visits\"::text, \"Active\"::text, \"Born\"::text, "
      "to_char(\"Seen\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM public.value_types "
      "ORDER BY \"Id\"");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(
      *got,
      Expect({
          {"k1", "O'Brien \"quoted\"", "437.66", "9223372036854775807", "false", "2024-02-29",
           "2024-02-29T23:59:59.123456Z"},
          {"k2", "tab\there\nnew line\r\nback\\slash \\N \\t", "-1.5e-300", "-9223372036854775808", "true",
           "0001-01-01", "1970-01-01T00:00:00.000000Z"},
          {"k3", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
          {"k4", "", "0.1", "0", "true", "9999-12-31", "2026-12-07T08:00:00.000001Z"},
          {"k5 Zoë 北京 🙂", "Ünïcødé ✓ €", "1.7976931348623157e+308", "42", "false", "2000-02-29",
           "2024-06-01T00:00:00.000000Z"},
          {"k6\\N", "\\N", "0.30000000000000004", "-1", "true", "1999-12-31", "1999-12-31T23:59:59.999999Z"},
      }));
}

TEST_F(PostgresDestinationTest, AFailingWriteLeavesTheTableAsBefore) {
  ExportRunInfo info = Info("write_failure", false);
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1"), Customer("b", "Bob", "2")}).ok());
  const Rows before = Select("write_failure");

  // Batch 0 lands in the transaction; batch 1 holds a value that is no number.
  std::vector<ExportRow> rows = {Customer("a", "Changed", "9"), Customer("x", "New", "8"),
                                 Customer("y", "Bad", "not-a-number")};
  Status failed = Run(info, rows);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument) << failed.ToString();
  EXPECT_THAT(failed.message(), HasSubstr("connection 'warehouse'"));
  EXPECT_THAT(failed.message(), HasSubstr("batch 1"));
  EXPECT_THAT(failed.message(), HasSubstr("not-a-number"));
  EXPECT_EQ(Select("write_failure"), before);

  // A row without its key fails the Write as well.
  Status no_key = Run(
      info, {Customer("a", "Changed", "9"), Row(RowChange::kAdded, {std::nullopt, "x", "1", "1", "true",
                                                                    "2000-01-01", "2000-01-01T00:00:00Z"})});
  EXPECT_EQ(no_key.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_key.message(), HasSubstr("no value for the key field \"Id\""));
  EXPECT_EQ(Select("write_failure"), before);

  // Duplicate keys in one run fail at Commit, also leaving the table alone.
  Status duplicate = Run(info, {Customer("q", "One", "1"), Customer("q", "Two", "2")});
  EXPECT_FALSE(duplicate.ok());
  EXPECT_THAT(duplicate.message(), HasSubstr("upserting the rows"));
  EXPECT_EQ(Select("write_failure"), before);
}

TEST_F(PostgresDestinationTest, AFullRunIntoAnEmptyTableCopiesStraightIntoItAndStillRollsBack) {
  ASSERT_TRUE(server_
                  ->Exec("CREATE TABLE public.emptied (\"Id\" text PRIMARY KEY, \"Name\" text, "
                         "\"Spend\" double precision)")
                  .ok());
  ExportRunInfo info = Info("emptied", false);
  // Duplicate keys break the primary key at once: the Write fails.
  Status duplicate = Run(info, {Customer("a", "Ann", "1"), Customer("a", "Again", "2")});
  EXPECT_EQ(duplicate.code(), StatusCode::kInvalidArgument) << duplicate.ToString();
  EXPECT_THAT(duplicate.message(), HasSubstr("into the table"));
  EXPECT_EQ(Select("emptied"), Rows{});
  // A new table whose run fails is not left behind either.
  EXPECT_FALSE(Run(Info("dup_new", false), {Customer("a", "Ann", "1"), Customer("a", "Again", "2")}).ok());
  auto gone = server_->Query("SELECT to_regclass('public.dup_new') IS NULL");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, Expect({{"t"}}));

  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1"), Customer("b", "Bob", "2")}).ok());
  EXPECT_EQ(Select("emptied"), Expect({{"a", "Ann", "1"}, {"b", "Bob", "2"}}));
  ASSERT_TRUE(Run(info, {Customer("b", "Bob", "3")}).ok());  // not empty any more: merged
  EXPECT_EQ(Select("emptied"), Expect({{"b", "Bob", "3"}}));
}

TEST_F(PostgresDestinationTest, AbortAfterWritesLeavesTheTableAsBeforeAndANewTableUncreated) {
  ExportRunInfo info = Info("aborted", false);
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1")}).ok());
  auto session = kind_->begin(Connection(), info);
  ASSERT_TRUE(session.ok());
  ExportBatch batch;
  batch.rows = {Customer("a", "Changed", "5"), Customer("b", "Bob", "2")};
  ASSERT_TRUE((*session)->Write(batch).ok());
  (*session)->Abort();
  EXPECT_EQ(Select("aborted"), Expect({{"a", "Ann", "1"}}));

  auto fresh = kind_->begin(Connection(), Info("never_created", false));
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Write(batch).ok());
  fresh->reset();  // destroyed without Commit or Abort: rolled back
  auto exists = server_->Query("SELECT to_regclass('public.never_created') IS NULL");
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(*exists, Expect({{"t"}}));
}

TEST_F(PostgresDestinationTest, ATerminatedConnectionMidRunLeavesTheTableAsBeforeAndARepeatFixesIt) {
  ExportRunInfo info = Info("terminated", false);
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1"), Customer("b", "Bob", "2")}).ok());
  const Rows before = Select("terminated");

  auto session = kind_->begin(Connection(), info);
  ASSERT_TRUE(session.ok());
  ExportBatch batch;
  batch.rows = {Customer("a", "Ann", "1"), Customer("c", "Cy", "3")};
  ASSERT_TRUE((*session)->Write(batch).ok());
  auto killed = server_->Query(
      "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'cdp export export_terminated') t");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(*killed, Expect({{"1"}}));
  batch.sequence = 1;
  batch.rows = {Customer("d", "Di", "4")};
  Status written = (*session)->Write(batch);
  Status outcome = written.ok() ? (*session)->Commit() : written;
  if (!written.ok()) (*session)->Abort();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.code(), StatusCode::kUnavailable) << outcome.ToString();
  EXPECT_EQ(Select("terminated"), before);

  ASSERT_TRUE(
      Run(info, {Customer("a", "Ann", "1"), Customer("c", "Cy", "3"), Customer("d", "Di", "4")}).ok());
  EXPECT_EQ(Select("terminated"), Expect({{"a", "Ann", "1"}, {"c", "Cy", "3"}, {"d", "Di", "4"}}));
}

TEST_F(PostgresDestinationTest, ATerminatedConnectionDuringCommitLeavesTheTableAsBefore) {
  ExportRunInfo info = Info("terminated_commit", false);
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1")}).ok());
  auto session = kind_->begin(Connection(), info);
  ASSERT_TRUE(session.ok());
  ExportBatch batch;
  batch.rows = {Customer("b", "Bob", "2")};
  ASSERT_TRUE((*session)->Write(batch).ok());
  ASSERT_TRUE(server_
                  ->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE application_name = 'cdp export export_terminated_commit'")
                  .ok());
  Status committed = (*session)->Commit();
  EXPECT_EQ(committed.code(), StatusCode::kUnavailable) << committed.ToString();
  EXPECT_EQ(Select("terminated_commit"), Expect({{"a", "Ann", "1"}}));
}

TEST_F(PostgresDestinationTest, ExistingTableColumnsAreCheckedAndMissingOnesAdded) {
  ASSERT_TRUE(server_
                  ->Exec("CREATE TABLE public.existing (\"Id\" text PRIMARY KEY, \"Name\" varchar(40), "
                         "\"Spend\" numeric, \"Extra\" text DEFAULT 'kept'); "
                         "INSERT INTO public.existing VALUES ('old', 'Old', 1, 'x')")
                  .ok());
  // Visits, Active, Born and Seen are added; Extra is left alone.
  ASSERT_TRUE(Run(Info("existing", false), {Customer("a", "Ann", "1.25")}).ok());
  EXPECT_EQ(Select("existing", "\"Id\", \"Name\", \"Spend\"::text, \"Visits\"::text, \"Extra\""),
            Expect({{"a", "Ann", "1.25", "3", "kept"}}));

  // create: false refuses to add a column.
  ASSERT_TRUE(server_->Exec("CREATE TABLE public.narrow (\"Id\" text PRIMARY KEY, \"Name\" text)").ok());
  ExportRunInfo strict = Info("narrow", false);
  strict.options["create"] = "false";
  Status narrow = Run(strict, {Customer("a", "Ann", "1")});
  EXPECT_EQ(narrow.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(narrow.message(), HasSubstr("\"public\".\"narrow\""));
  EXPECT_THAT(narrow.message(), HasSubstr("no column \"Spend\""));

  // A column of the wrong type is an error naming the table and the column.
  ASSERT_TRUE(
      server_->Exec("CREATE TABLE public.mistyped (\"Id\" text PRIMARY KEY, \"Spend\" integer)").ok());
  Status mistyped = Run(Info("mistyped", false), {Customer("a", "Ann", "1")});
  EXPECT_EQ(mistyped.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(mistyped.message(), HasSubstr("\"public\".\"mistyped\""));
  EXPECT_THAT(mistyped.message(), HasSubstr("column \"Spend\" is integer"));
  auto unchanged =
      server_->Query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'mistyped'");
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(*unchanged, Expect({{"2"}}));  // the failed attempt added no column

  // Without a unique index on the key there is no upsert.
  ASSERT_TRUE(server_->Exec("CREATE TABLE public.keyless (\"Id\" text, \"Name\" text)").ok());
  Status keyless = Run(Info("keyless", false), {Customer("a", "Ann", "1")});
  EXPECT_EQ(keyless.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(keyless.message(), HasSubstr("no primary key or unique index on column \"Id\""));

  // create: false and no table.
  ExportRunInfo missing = Info("missing_table", false);
  missing.options["create"] = "false";
  EXPECT_EQ(Run(missing, {Customer("a", "Ann", "1")}).code(), StatusCode::kNotFound);

  // A view is not a table.
  ASSERT_TRUE(server_->Exec("CREATE VIEW public.a_view AS SELECT 1 AS \"Id\"").ok());
  Status view = Run(Info("a_view", false), {Customer("a", "Ann", "1")});
  EXPECT_EQ(view.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(view.message(), HasSubstr("is not a table"));
}

TEST_F(PostgresDestinationTest, NamesAreQuotedExactlyAndTheTableOptionAndSchemaSettingAreUsed) {
  ASSERT_TRUE(server_->Exec("CREATE SCHEMA \"Mar keting\"").ok());
  ResolvedConnection connection = Connection();
  connection.settings["schema"] = "Mar keting";
  ExportRunInfo info = Info("ignored target", false);
  info.options["table"] = "Weird \"Name\"; DROP TABLE x; --";
  info.schema.fields[1].name = "Full \"Name\"";
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1")}, 2, connection).ok());
  auto got = server_->Query(
      "SELECT \"Id\", \"Full \"\"Name\"\"\" FROM \"Mar keting\".\"Weird \"\"Name\"\"; DROP TABLE x; --\"");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, Expect({{"a", "Ann"}}));

  connection.settings["schema"] = "no_such_schema";
  Status missing = Run(info, {Customer("a", "Ann", "1")}, 2, connection);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("schema \"no_such_schema\" does not exist"));
  EXPECT_EQ(kind_->check(connection).code(), StatusCode::kNotFound);
  EXPECT_TRUE(kind_->check(Connection()).ok());

  ExportRunInfo too_long = Info(std::string(64, 't'), false);
  EXPECT_EQ(Run(too_long, {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresDestinationTest, ValidationNamesTheConnectionAndKey) {
  ResolvedConnection c = Connection();
  EXPECT_TRUE(kind_->validate(c).ok());
  c.settings["hostname"] = "x";
  Status unknown = kind_->validate(c);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("connection 'warehouse'"));
  EXPECT_THAT(unknown.message(), HasSubstr("'hostname'"));

  c = Connection();
  c.settings.erase("database");
  EXPECT_THAT(kind_->validate(c).message(), HasSubstr("'database' is required"));
  c = Connection();
  c.settings["port"] = "99999";
  EXPECT_THAT(kind_->validate(c).message(), HasSubstr("'port'"));
  c = Connection();
  c.settings["sslmode"] = "sometimes";
  EXPECT_THAT(kind_->validate(c).message(), HasSubstr("'sslmode'"));
  c = Connection();
  c.secrets["api_key"] = "x";
  EXPECT_THAT(kind_->validate(c).message(), HasSubstr("unknown secret 'api_key'"));

  EXPECT_TRUE(kind_->validate_options(Connection(), {{"table", "t"}, {"create", "false"}}).ok());
  EXPECT_THAT(kind_->validate_options(Connection(), {{"create", "yes"}}).message(), HasSubstr("'create'"));
  EXPECT_THAT(kind_->validate_options(Connection(), {{"format", "csv"}}).message(),
              HasSubstr("unknown option 'format'"));
  EXPECT_EQ(RegisterPostgresDestination(registry_).code(), StatusCode::kAlreadyExists);
}

TEST_F(PostgresDestinationTest, PasswordAuthenticatesAndNeverAppearsInMessages) {
  ResolvedConnection c = Connection();
  c.settings["user"] = "secure_writer";
  c.secrets["password"] = kPassword;
  ASSERT_TRUE(Run(Info("with_password", false), {Customer("a", "Ann", "1")}, 2, c).ok());
  EXPECT_EQ(Select("with_password"), Expect({{"a", "Ann", "1"}}));

  c.secrets["password"] = "Wrong-Pa55word";
  Status wrong = Run(Info("with_password", false), {Customer("b", "Bob", "2")}, 2, c);
  EXPECT_EQ(wrong.code(), StatusCode::kFailedPrecondition) << wrong.ToString();
  EXPECT_THAT(wrong.message(), HasSubstr("user=secure_writer"));
  EXPECT_THAT(wrong.message(), Not(HasSubstr("Wrong-Pa55word")));
  c.secrets.erase("password");
  Status none = kind_->check(c);
  EXPECT_EQ(none.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.message(), HasSubstr("password"));
  EXPECT_EQ(Select("with_password"), Expect({{"a", "Ann", "1"}}));
}

TEST_F(PostgresDestinationTest, ConcurrentAttemptsOnOneTableAreSerialized) {
  ExportRunInfo info = Info("serialized", false);
  ASSERT_TRUE(Run(info, {Customer("a", "Ann", "1")}).ok());
  auto first = kind_->begin(Connection(), info);
  ASSERT_TRUE(first.ok());
  // The second attempt waits for the first's lock, at most lock_timeout.
  ResolvedConnection c = Connection();
  c.settings["lock_timeout"] = "1";
  auto second = kind_->begin(c, info);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
  EXPECT_THAT(second.status().message(), HasSubstr("locking the table"));
  EXPECT_THAT(second.status().message(), HasSubstr("lock_timeout of 1 s"));
  (*first)->Abort();
  auto third = kind_->begin(c, info);  // the lock is free again
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  (*third)->Abort();
  EXPECT_EQ(Select("serialized"), Expect({{"a", "Ann", "1"}}));
  c.settings["lock_timeout"] = "0";
  EXPECT_THAT(kind_->validate(c).message(), HasSubstr("'lock_timeout'"));
}

}  // namespace
}  // namespace cdp
