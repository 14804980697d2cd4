#include "connectors/clickhouse/clickhouse_destination.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/clickhouse/clickhouse_test_server.h"

namespace cdp {
namespace {

using Value = std::optional<std::string>;
using Rows = std::vector<std::vector<std::string>>;

constexpr char kDatabase[] = "cdp_exports";

ExportRow Row(std::vector<Value> values, RowChange change = RowChange::kAdded) {
  ExportRow row;
  row.change = change;
  row.values = std::move(values);
  return row;
}

ExportBatch Batch(int64_t sequence, std::vector<ExportRow> rows) {
  ExportBatch batch;
  batch.sequence = sequence;
  batch.idempotency_key = "high_value:1:" + std::to_string(sequence);
  batch.rows = std::move(rows);
  return batch;
}

// TabSeparated answer -> rows of unescaped fields ("\N" stays "\N").
Rows ParseTsv(const std::string& body) {
  Rows rows;
  std::vector<std::string> row;
  std::string field;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && i + 1 < body.size()) {
      const char e = body[++i];
      if (e == 'N') {
        field += "\\N";
      } else if (e == 'n') {
        field += '\n';
      } else if (e == 't') {
        field += '\t';
      } else if (e == 'r') {
        field += '\r';
      } else if (e == '0') {
        field += '\0';
      } else {
        field += e;
      }
    } else if (c == '\t' || c == '\n') {
      row.push_back(field);
      field.clear();
      if (c == '\n') {
        rows.push_back(row);
        row.clear();
      }
    } else {
      field += c;
    }
  }
  return rows;
}

class ClickHouseDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ClickHouseTestServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_TRUE(RegisterClickHouseDestination(registry_).ok());
    auto kind = registry_.Find("clickhouse");
    ASSERT_TRUE(kind.ok());
    kind_ = *kind;
  }

  void TearDown() override {
    if (HasFailure() && server_ != nullptr) std::cerr << "--- clickhouse log:\n" << server_->LogTail() << "\n";
  }

  ResolvedConnection Connection() const {
    ResolvedConnection c;
    c.name = "warehouse";
    c.kind = "clickhouse";
    c.settings = {{"url", server_->url()}, {"database", kDatabase}, {"user", ClickHouseTestServer::kPasswordUser}};
    c.secrets = {{"password", "writer-secret-1"}};
    return c;
  }

  static ExportRunInfo Run(int64_t run_id, bool delta = false) {
    ExportRunInfo run;
    run.export_name = "high_value";
    run.export_run_id = run_id;
    run.delta = delta;
    run.target = "high_value";
    run.schema.fields = {{"ContactId", DataType::kString},
                         {"Spend", DataType::kDouble},
                         {"Visits", DataType::kInt64},
                         {"Vip", DataType::kBool},
                         {"Since", DataType::kDate},
                         {"LastSeen", DataType::kTimestamp}};
    run.schema.key_field = 0;
    return run;
  }

  Status Export(const ResolvedConnection& connection, const ExportRunInfo& run,
                const std::vector<ExportBatch>& batches) {
    CDP_RETURN_IF_ERROR(kind_->validate(connection));
    CDP_RETURN_IF_ERROR(kind_->validate_options(connection, run.options));
    CDP_ASSIGN_OR_RETURN(std::unique_ptr<DestinationSession> session, kind_->begin(connection, run));
    for (const ExportBatch& batch : batches) {
      if (Status s = session->Write(batch); !s.ok()) {
        session->Abort();
        return s;
      }
    }
    CDP_RETURN_IF_ERROR(session->Commit());
    delivered_ = session->rows_delivered();
    samples_ = session->response_samples();
    return Status::Ok();
  }

  Rows Select(const std::string& sql) {
    auto answer = server_->Query(sql + " FORMAT TabSeparated");
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return answer.ok() ? ParseTsv(*answer) : Rows{};
  }
  Rows Tables() { return Select(std::string("SELECT name FROM system.tables WHERE database = '") + kDatabase + "' ORDER BY name"); }
  Rows Content(const std::string& table = "high_value") {
    return Select(std::string("SELECT * FROM ") + kDatabase + ".`" + table + "` ORDER BY ContactId");
  }

  DestinationRegistry registry_;
  const DestinationKind* kind_ = nullptr;
  std::unique_ptr<ClickHouseTestServer> server_;
  int64_t delivered_ = 0;
  std::vector<std::string> samples_;
};

TEST_F(ClickHouseDestinationTest, FullRunCreatesTheDatabaseAndTableAndInsertsEveryRow) {
  ASSERT_TRUE(Export(Connection(), Run(1),
                     {Batch(0, {Row({"C1", "437.66", "3", "true", "2024-01-31", "2024-02-01T10:20:30Z"}),
                                Row({"C2", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt})}),
                      Batch(1, {Row({"C3", "-1.5", "-9", "false", "1970-01-02", "2024-02-01T10:20:30.123456Z"})})})
                  .ok());
  EXPECT_EQ(delivered_, 3);
  EXPECT_EQ(Content(), (Rows{{"C1", "437.66", "3", "1", "2024-01-31", "2024-02-01 10:20:30"},
                             {"C2", "\\N", "\\N", "\\N", "\\N", "\\N"},
                             {"C3", "-1.5", "-9", "0", "1970-01-02", "2024-02-01 10:20:30"}}));
  EXPECT_EQ(Select(std::string("SELECT name, type FROM system.columns WHERE database = '") + kDatabase +
                   "' AND table = 'high_value'"),
            (Rows{{"ContactId", "String"},
                  {"Spend", "Nullable(Float64)"},
                  {"Visits", "Nullable(Int64)"},
                  {"Vip", "Nullable(UInt8)"},
                  {"Since", "Nullable(Date)"},
                  {"LastSeen", "Nullable(DateTime('UTC'))"}}));
  EXPECT_EQ(Tables(), (Rows{{"high_value"}})) << "no staging table may remain";
  ASSERT_FALSE(samples_.empty());
  EXPECT_NE(samples_.back().find("3 rows"), std::string::npos) << samples_.back();
  EXPECT_TRUE(kind_->check(Connection()).ok());
}

TEST_F(ClickHouseDestinationTest, SecondFullRunReplacesTheTable) {
  ASSERT_TRUE(Export(Connection(), Run(1),
                     {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt}),
                                Row({"C2", "2", "2", "true", "2024-01-02", std::nullopt})})})
                  .ok());
  ExportRunInfo second = Run(2);
  second.schema.fields.push_back({"Tier", DataType::kString});  // the export gained a field
  ASSERT_TRUE(
      Export(Connection(), second, {Batch(0, {Row({"C9", "9", "9", "false", "2024-09-09", std::nullopt, "gold"})})})
          .ok());
  EXPECT_EQ(Content(), (Rows{{"C9", "9", "9", "0", "2024-09-09", "\\N", "gold"}}));
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
  // An empty full run leaves an empty table.
  ASSERT_TRUE(Export(Connection(), Run(3), {}).ok());
  EXPECT_EQ(Content(), Rows{});
}

TEST_F(ClickHouseDestinationTest, DeltaRunAppliesAddedChangedAndRemovedRows) {
  ASSERT_TRUE(Export(Connection(), Run(1),
                     {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt}),
                                Row({"C2", "2", "2", "true", "2024-01-02", std::nullopt}),
                                Row({"C3", "3", "3", "true", "2024-01-03", std::nullopt})})})
                  .ok());
  const Value none;
  ASSERT_TRUE(Export(Connection(), Run(2, /*delta=*/true),
                     {Batch(0, {Row({"C1", "10.5", "11", "false", "2024-01-01", "2024-05-05T00:00:01Z"},
                                    RowChange::kChanged),
                                Row({"C2", none, none, none, none, none}, RowChange::kRemoved)}),
                      Batch(1, {Row({"C4", "4", "4", "true", "2024-01-04", none}, RowChange::kAdded)})})
                  .ok());
  EXPECT_EQ(delivered_, 3);
  EXPECT_EQ(Content(), (Rows{{"C1", "10.5", "11", "0", "2024-01-01", "2024-05-05 00:00:01"},
                             {"C3", "3", "3", "1", "2024-01-03", "\\N"},
                             {"C4", "4", "4", "1", "2024-01-04", "\\N"}}));
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
}

TEST_F(ClickHouseDestinationTest, DeltaRunWithoutTheTableOrWithOtherColumnsIsRefused) {
  auto session = kind_->begin(Connection(), Run(1, /*delta=*/true));
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(session.status().message().find("does not exist"), std::string::npos) << session.status().message();

  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt})})})
                  .ok());
  ExportRunInfo delta = Run(2, /*delta=*/true);
  delta.schema.fields[2].type = DataType::kString;
  session = kind_->begin(Connection(), delta);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("run a full export"), std::string::npos) << session.status().message();
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
}

TEST_F(ClickHouseDestinationTest, FailureMidRunLeavesThePreviousTable) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt})})})
                  .ok());
  const Rows before = Content();

  // A run whose second batch fails (a value the column cannot hold).
  Status s = Export(Connection(), Run(2),
                    {Batch(0, {Row({"C2", "2", "2", "true", "2024-01-02", std::nullopt})}),
                     Batch(1, {Row({"C3", "3", "three", "true", "2024-01-03", std::nullopt})})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("field 'Visits'"), std::string::npos) << s.message();
  EXPECT_EQ(Content(), before);
  EXPECT_EQ(Tables(), (Rows{{"high_value"}})) << "Abort drops the staging table";

  // A run the server rejects half way (its staging table vanished).
  auto session = kind_->begin(Connection(), Run(3));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE((*session)->Write(Batch(0, {Row({"C4", "4", "4", "true", "2024-01-04", std::nullopt})})).ok());
  ASSERT_TRUE((*session)->Write(Batch(1, {Row({"C5", "5", "5", "true", "2024-01-05", std::nullopt})})).ok());
  ASSERT_TRUE(server_->Query(std::string("DROP TABLE ") + kDatabase + ".high_value__cdp_3").ok());
  s = (*session)->Commit();  // the buffered rows are inserted first, into a table that is gone
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("clickhouse connection 'warehouse': inserting batches 0 to 1 failed"),
            std::string::npos)
      << s.message();
  (*session)->Abort();
  EXPECT_EQ(Content(), before);
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
}

TEST_F(ClickHouseDestinationTest, CommitRefusesAStagingTableThatDoesNotHoldExactlyTheRowsSent) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt})})})
                  .ok());
  const Rows before = Content();
  auto session = kind_->begin(Connection(), Run(2));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  ASSERT_TRUE((*session)->Write(Batch(0, {Row({"C2", "2", "2", "true", "2024-01-02", std::nullopt})})).ok());
  // A row the run did not send (as a repeated insert would leave).
  ASSERT_TRUE(server_->Query(std::string("INSERT INTO ") + kDatabase +
                             ".high_value__cdp_2 (ContactId) VALUES ('C2')")
                  .ok());
  Status s = (*session)->Commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("holds 2 rows but 1 were inserted"), std::string::npos) << s.message();
  (*session)->Abort();
  EXPECT_EQ(Content(), before);
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
}

TEST_F(ClickHouseDestinationTest, AnInterruptedSwapIsRepairedByTheNextAttempt) {
  ASSERT_TRUE(Export(Connection(), Run(1), {Batch(0, {Row({"C1", "1", "1", "true", "2024-01-01", std::nullopt})})})
                  .ok());
  const Rows before = Content();
  // What a process killed inside run 2's swap leaves: the target moved to
  // *_old, the staging table not yet renamed; plus run 2's key table.
  const std::string db = kDatabase;
  ASSERT_TRUE(server_->Query("RENAME TABLE " + db + ".high_value TO " + db + ".high_value__cdp_2_old").ok());
  ASSERT_TRUE(server_->Query("CREATE TABLE " + db + ".high_value__cdp_2 AS " + db + ".high_value__cdp_2_old").ok());
  ASSERT_TRUE(server_->Query("CREATE TABLE " + db + ".high_value__cdp_2_keys (ContactId String) ENGINE = "
                             "MergeTree ORDER BY ContactId")
                  .ok());
  // The next attempt of run 2 is a delta: it needs the old table back.
  ExportRunInfo retry = Run(2, /*delta=*/true);
  retry.attempt = 2;
  ASSERT_TRUE(Export(Connection(), retry,
                     {Batch(0, {Row({"C2", "2", "2", "false", "2024-01-02", std::nullopt}, RowChange::kAdded)})})
                  .ok());
  EXPECT_EQ(Content(), (Rows{before[0], {"C2", "2", "2", "0", "2024-01-02", "\\N"}}));
  EXPECT_EQ(Tables(), (Rows{{"high_value"}}));
}

TEST_F(ClickHouseDestinationTest, ValuesRoundTrip) {
  ExportRunInfo run = Run(1);
  run.schema.fields = {{"Id", DataType::kInt64}, {"Text", DataType::kString}, {"Amount", DataType::kDouble}};
  const std::vector<std::string> texts = {"tab\there",  "new\nline",      "back\\slash", "quote ' and \" `",
                                          "\\N",        "",               "Zoë ☕ 東京", "cr\r\nlf",
                                          std::string("nul\0x", 5)};
  std::vector<ExportRow> rows;
  for (size_t i = 0; i < texts.size(); ++i) {
    rows.push_back(Row({std::to_string(i), texts[i], i % 2 ? "437.66" : "1e-300"}));
  }
  rows.push_back(Row({"100", std::nullopt, std::nullopt}));
  rows.push_back(Row({"-9223372036854775808", "min", "-0"}));
  rows.push_back(Row({"9223372036854775807", "max", "1.7976931348623157e+308"}));
  ASSERT_TRUE(Export(Connection(), run, {Batch(0, rows)}).ok());
  Rows got = Select(std::string("SELECT Id, Text, isNull(Text), Amount FROM ") + kDatabase + ".high_value ORDER BY Id");
  Rows want;
  want.push_back({"-9223372036854775808", "min", "0", "-0"});
  for (size_t i = 0; i < texts.size(); ++i) {
    want.push_back({std::to_string(i), texts[i], "0", i % 2 ? "437.66" : "1e-300"});
  }
  want.push_back({"100", "\\N", "1", "\\N"});
  want.push_back({"9223372036854775807", "max", "0", "1.7976931348623157e308"});
  EXPECT_EQ(got, want);
  // The value "\N" is the two-character text, not a null.
  EXPECT_EQ(Select(std::string("SELECT count() FROM ") + kDatabase + ".high_value WHERE Text = '\\\\N'"),
            (Rows{{"1"}}));
}

TEST_F(ClickHouseDestinationTest, IdentifiersAreQuoted) {
  ExportRunInfo run = Run(1);
  run.target = "odd `name\\ ; DROP";
  run.schema.fields = {{"key`x", DataType::kString}, {"two words", DataType::kString}};
  ASSERT_TRUE(Export(Connection(), run, {Batch(0, {Row({"a", "b"})})}).ok());
  EXPECT_EQ(Tables(), (Rows{{"odd `name\\ ; DROP"}}));
  EXPECT_EQ(Select(std::string("SELECT `key\\`x`, `two words` FROM ") + kDatabase + ".`odd \\`name\\\\ ; DROP`"),
            (Rows{{"a", "b"}}));
  ASSERT_TRUE(Export(Connection(), run, {Batch(0, {Row({"c", "d"})})}).ok());
  EXPECT_EQ(Select(std::string("SELECT `key\\`x`, `two words` FROM ") + kDatabase + ".`odd \\`name\\\\ ; DROP`"),
            (Rows{{"c", "d"}}));
}

TEST_F(ClickHouseDestinationTest, DatesOutsideClickHouseRangeNeedDateTypeString) {
  ExportRunInfo run = Run(1);
  Status s = Export(Connection(), run, {Batch(0, {Row({"C1", "1", "1", "true", "1965-03-04", std::nullopt})})});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("date_type: String"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("field 'Since'"), std::string::npos) << s.message();

  // 18.16 shows day 0 as 0000-00-00: 1970-01-01 would not read back either.
  s = Export(Connection(), run, {Batch(0, {Row({"C1", "1", "1", "true", "1970-01-01", std::nullopt})})});
  EXPECT_NE(s.message().find("date_type: String"), std::string::npos) << s.message();
  s = Export(Connection(), run, {Batch(0, {Row({"C1", "1", "1", "true", "2000-01-01", "1969-12-31T23:59:59Z"})})});
  EXPECT_NE(s.message().find("field 'LastSeen'"), std::string::npos) << s.message();
  EXPECT_EQ(Tables(), Rows{});

  run.options = {{"date_type", "String"}};
  ASSERT_TRUE(
      Export(Connection(), run, {Batch(0, {Row({"C1", "1", "1", "true", "1965-03-04", "1960-01-01T00:00:00Z"})})})
          .ok());
  EXPECT_EQ(Content(), (Rows{{"C1", "1", "1", "1", "1965-03-04", "1960-01-01T00:00:00Z"}}));
}

TEST_F(ClickHouseDestinationTest, WrongPasswordIsRefusedWithoutEchoingIt) {
  ResolvedConnection c = Connection();
  c.secrets["password"] = "not-the-password-42";
  Status s = Export(c, Run(1), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("warehouse"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("not-the-password-42"), std::string::npos) << s.message();
  EXPECT_FALSE(kind_->check(c).ok());
}

TEST_F(ClickHouseDestinationTest, ValidationNamesTheConnectionAndTheKey) {
  ResolvedConnection c = Connection();
  c.settings["host"] = "127.0.0.1";
  EXPECT_NE(kind_->validate(c).message().find("either 'url'"), std::string::npos);
  c = Connection();
  c.settings["pasword"] = "x";
  EXPECT_NE(kind_->validate(c).message().find("unknown setting 'pasword'"), std::string::npos);
  c = Connection();
  c.settings["url"] = "http://u:p@127.0.0.1:8123";
  EXPECT_NE(kind_->validate(c).message().find("credentials"), std::string::npos);
  c = Connection();
  c.settings.erase("url");
  c.settings["host"] = "127.0.0.1";
  c.settings["port"] = std::to_string(server_->http_port());
  EXPECT_TRUE(kind_->validate(c).ok());
  EXPECT_TRUE(kind_->check(c).ok());
  EXPECT_NE(kind_->validate_options(Connection(), {{"date_type", "Date32"}}).message().find("'date_type'"),
            std::string::npos);
  ExportRunInfo run = Run(1);
  run.target = "x__cdp_1";
  auto session = kind_->begin(Connection(), run);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("__cdp_"), std::string::npos);
}

}  // namespace
}  // namespace cdp
