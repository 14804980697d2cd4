#include "workspace/ingest_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "connectors/postgres/postgres_connector.h"
#include "connectors/postgres/postgres_test_server.h"
#include "common/entity_names.h"
#include "demo/demo_generator.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

class IngestRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_ingest_XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto ws = Workspace::Init((dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = std::move(*ws);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  void Apply(const std::string& yaml) {
    auto p = ParseProjectYaml(yaml, "test.yaml", dir_.string());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ASSERT_TRUE(ws_->catalog().ReplaceProject(*p).ok());
  }
  StatusOr<Table> ReadEntity(const std::string& name) {
    CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_->data().Current());
    CDP_ASSIGN_OR_RETURN(auto reader, ws_->data().OpenEntity(snap, name));
    return reader->ReadAll();
  }
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

// The acceptance case: the demo generator's sources ingest through the demo
// project with every row typed and nothing quarantined.
TEST_F(IngestRunnerTest, DemoProjectIngestsEveryGeneratedRow) {
  DemoOptions demo;
  demo.customers = 800;
  demo.seed = 3;
  demo.out_dir = (dir_ / "sources").string();
  DemoSummary summary;
  ASSERT_TRUE(GenerateContosoDemo(demo, &summary).ok());
  std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Apply(yaml);
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->sources.size(), 8u);
  std::map<std::string, int64_t> expected;
  for (const auto& f : summary.files) expected[f.name] = f.rows;
  const std::map<std::string, std::string> files = {
      {"eCommerce Contacts", "ecommerce_contacts.csv"}, {"Loyalty Scheme", "loyalty_scheme.csv"},
      {"Online Purchases", "online_purchases.csv"},     {"PoS Purchases", "pos_purchases.csv"},
      {"Website Reviews", "website_reviews.csv"},       {"CRM Survey", "crm_survey.jsonl"},
      {"Subscriptions", "subscriptions.csv"},           {"Products", "products.csv"}};
  for (const auto& s : run->sources) {
    EXPECT_EQ(s.record.status, "succeeded") << s.record.source << ": " << s.record.message;
    EXPECT_EQ(s.record.rows_quarantined, 0) << s.record.source;
    EXPECT_EQ(s.record.rows_stored, expected[files.at(s.record.source)]) << s.record.source;
  }
  auto loyalty = ReadEntity("Loyalty Scheme");
  ASSERT_TRUE(loyalty.ok());
  const Schema& schema = loyalty->schema();
  EXPECT_EQ(schema.field(schema.FieldIndex("DateOfBirth")).type, DataType::kDate);
  EXPECT_EQ(schema.field(schema.FieldIndex("CreatedOn")).type, DataType::kTimestamp);
  EXPECT_EQ(schema.field(schema.FieldIndex("EMail")).semantic.name(), "Email");
}

// Parsing a CSV in many ranges on several threads stores exactly what a
// single-threaded pass stores, in the same order, with the same quarantine.
TEST_F(IngestRunnerTest, ParallelRangesEqualSequentialPass) {
  std::mt19937 rng(11);
  {
    std::ofstream f(dir_ / "orders.csv");
    f << "Id,Note,Amount,Day\n";
    for (int i = 0; i < 20000; ++i) {
      f << i << ",";
      switch (rng() % 4) {
        case 0: f << "\"multi\nline, " << i << "\""; break;
        case 1: f << "\"say \"\"hi\"\"\""; break;
        default: f << "plain" << i;
      }
      f << "," << (rng() % 50 == 0 ? "oops" : std::to_string(rng() % 1000) + ".25") << ",2024-01-"
        << (1 + i % 28) << "\n";
    }
  }
  Apply("sources:\n  - {name: Orders, kind: csv, path: orders.csv, fields: [{name: Amount, type: double}]}\n");
  std::vector<Table> results;
  std::vector<int64_t> quarantined;
  for (int threads : {1, 2}) {
    IngestOptions o;
    o.threads = threads;
    o.force = true;
    o.batch_rows = 1000;
    o.csv_range_bytes = 32 * 1024;
    auto run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok() && run->ok());
    quarantined.push_back(run->sources[0].record.rows_quarantined);
    auto t = ReadEntity("Orders");
    ASSERT_TRUE(t.ok());
    results.push_back(std::move(*t));
  }
  EXPECT_GT(quarantined[0], 0);
  EXPECT_EQ(quarantined[0], quarantined[1]);
  ASSERT_EQ(results[0].num_rows(), results[1].num_rows());
  ASSERT_EQ(results[0].num_rows() + quarantined[0], 20000u);
  for (size_t c = 0; c < results[0].num_columns(); ++c) {
    for (size_t r = 0; r < results[0].num_rows(); ++r) {
      ASSERT_EQ(results[0].column(c).ValueToString(r), results[1].column(c).ValueToString(r)) << c << "," << r;
    }
  }
  auto q = ReadEntity(QuarantineEntityName("Orders"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(static_cast<int64_t>(q->num_rows()), quarantined[1]);
  EXPECT_EQ(q->column(1).StringAt(0), "Amount");
}

// The content hash is computed while the file is parsed (by the range
// splitter with a pool, by the reader on one thread); it must equal the hash
// of the file read before an ingest, so an unchanged file is skipped whichever
// way it was ingested, and a same-size change is not.
TEST_F(IngestRunnerTest, UnchangedFileIsSkippedAfterParallelOrSequentialIngest) {
  auto write = [&](char last_digit) {
    std::ofstream f(dir_ / "a.csv");
    f << "Id,Name\n";
    for (int i = 0; i < 5000; ++i) f << i << ",\"name, " << i << "\"\n";
    f << "5000,tail" << last_digit << "\n";
  };
  write('1');
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv}\n");
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    IngestOptions o;
    o.threads = threads;
    o.csv_range_bytes = 4096;
    o.force = true;
    auto first = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(first.ok() && first->ok());
    EXPECT_EQ(first->sources[0].record.status, "succeeded");
    EXPECT_NE(first->sources[0].record.fingerprint.find("xxh3:"), std::string::npos);
    o.force = false;
    auto again = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(again.ok() && again->ok());
    EXPECT_EQ(again->sources[0].record.status, "skipped") << again->sources[0].record.message;
    EXPECT_EQ(again->sources[0].record.fingerprint, first->sources[0].record.fingerprint);
    EXPECT_EQ(again->sources[0].record.rows_stored, 5001);
  }
  write('2');  // same size, one byte different
  IngestOptions o;
  o.threads = 2;
  o.csv_range_bytes = 4096;
  auto changed = IngestSources(*ws_, {}, o);
  ASSERT_TRUE(changed.ok() && changed->ok());
  EXPECT_EQ(changed->sources[0].record.status, "succeeded");
  auto t = ReadEntity("A");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->column(1).StringAt(5000), "tail2");
  EXPECT_EQ(IngestSources(*ws_, {}, o)->sources[0].record.status, "skipped");
}

TEST_F(IngestRunnerTest, PercentLimitFailsAndKeepsPreviousGeneration) {
  {
    std::ofstream f(dir_ / "a.csv");
    f << "Id,N\n";
    for (int i = 0; i < 100; ++i) f << i << "," << i << "\n";
  }
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, max_bad_rows: 5%, fields: [{name: N, type: int64}]}\n");
  ASSERT_TRUE(IngestSources(*ws_, {}, IngestOptions())->ok());
  {
    std::ofstream f(dir_ / "a.csv");
    f << "Id,N\n";
    for (int i = 0; i < 100; ++i) f << i << "," << (i % 10 == 0 ? "x" : std::to_string(i)) << "\n";
  }
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("10 of 100"), std::string::npos) << run->sources[0].record.message;
  auto t = ReadEntity("A");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_rows(), 100u);
  EXPECT_EQ(t->column(1).Int64At(10), 10);
  auto runs = ws_->catalog().ListRuns(10);
  EXPECT_EQ((*runs)[0].status, "failed");
}

// A JSON Lines record nested 100,000 levels deep crashed the ingest (a
// recursive walk); one whose dotted key collides with a nested object lost a
// value silently. Both are quarantined with their line and reason, and the
// rest of the file is ingested.
TEST_F(IngestRunnerTest, DeepOrCollidingJsonLinesRecordsAreQuarantinedAndTheRestIngests) {
  {
    std::ofstream f(dir_ / "a.jsonl");
    f << "{\"Id\": 1, \"a\": {\"b\": {\"c\": 1}}}\n";
    for (int i = 0; i < 100000; ++i) f << "{\"x\":";
    f << "1" << std::string(100000, '}') << "\n";
    f << "{\"Id\": 3, \"a.b.c\": 1, \"a\": {\"b\": {\"c\": 2}}}\n";
    f << "{\"Id\": 4}\n";
  }
  // Two of four records are bad: far over the default 5%, so the limit is
  // given (exactly the two).
  Apply("sources:\n  - {name: J, kind: jsonl, path: a.jsonl, max_bad_rows: 2}\n");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
  EXPECT_EQ(run->sources[0].record.rows_quarantined, 2);
  auto t = ReadEntity("J");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_rows(), 2u);
  auto q = ReadEntity(QuarantineEntityName("J"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->num_rows(), 2u);
  const int line = q->schema().FieldIndex("Line"), reason = q->schema().FieldIndex("Reason");
  EXPECT_EQ(q->column(line).Int64At(0), 2);
  EXPECT_NE(q->column(reason).StringAt(0).find("line 2: nested deeper than 64 levels (max_depth)"), std::string::npos)
      << q->column(reason).StringAt(0);
  EXPECT_EQ(q->column(line).Int64At(1), 3);
  EXPECT_NE(q->column(reason).StringAt(1).find("field 'a.b.c' is given twice"), std::string::npos)
      << q->column(reason).StringAt(1);

  // A lower limit of the source's jsonl options quarantines the first record too.
  Apply("sources:\n  - {name: J, kind: jsonl, path: a.jsonl, jsonl: {max_depth: 2}, max_bad_rows: 3}\n");
  run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->sources[0].record.rows_quarantined, 3);
}

// One stray quote used to turn the rest of the file into one quarantine
// entry with an empty record (and, on row 1, to replace the entity with 0
// rows, exit 0). Now it costs its own row, which is quarantined with its raw
// line and line number, on one thread and in parallel ranges alike.
TEST_F(IngestRunnerTest, OneStrayQuoteQuarantinesOneRowWithItsRawLine) {
  for (int bad_row : {5000, 1}) {
    SCOPED_TRACE(bad_row);
    {
      std::ofstream f(dir_ / "orders.csv");
      f << "Id,Item,Qty\n";
      for (int i = 1; i <= 10000; ++i) f << i << (i == bad_row ? ",12\" pizza," : ",pizza,") << i % 9 << "\n";
    }
    Apply("sources:\n  - {name: Orders, kind: csv, path: orders.csv}\n");
    for (int threads : {1, 2}) {
      SCOPED_TRACE(threads);
      IngestOptions o;
      o.threads = threads;
      o.force = true;
      o.csv_range_bytes = 8 * 1024;
      auto run = IngestSources(*ws_, {}, o);
      ASSERT_TRUE(run.ok()) << run.status().ToString();
      ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
      const SourceIngestResult& r = run->sources[0];
      EXPECT_EQ(r.record.rows_read, 10000);
      EXPECT_EQ(r.lines_read, 10001);
      EXPECT_EQ(r.record.rows_stored, 9999);
      EXPECT_EQ(r.record.rows_quarantined, 1);
      auto t = ReadEntity("Orders");
      ASSERT_TRUE(t.ok());
      EXPECT_EQ(t->num_rows(), 9999u);
      auto q = ReadEntity(QuarantineEntityName("Orders"));
      ASSERT_TRUE(q.ok()) << q.status().ToString();
      ASSERT_EQ(q->num_rows(), 1u);
      const Schema& qs = q->schema();
      EXPECT_EQ(q->column(qs.FieldIndex("Line")).Int64At(0), bad_row + 1);
      EXPECT_EQ(q->column(qs.FieldIndex("LastLine")).Int64At(0), bad_row + 1);
      EXPECT_EQ(q->column(qs.FieldIndex("Record")).StringAt(0),
                std::to_string(bad_row) + ",12\" pizza," + std::to_string(bad_row % 9));
      EXPECT_NE(q->column(qs.FieldIndex("Reason")).StringAt(0).find("quote character inside an unquoted field"),
                std::string::npos)
          << q->column(qs.FieldIndex("Reason")).StringAt(0);
    }
    // The run stores the counts, lines included.
    auto runs = ws_->catalog().ListRuns(1);
    ASSERT_TRUE(runs.ok());
    EXPECT_NE((*runs)[0].stats_json.find("\"lines_read\":10001"), std::string::npos) << (*runs)[0].stats_json;
  }
}

// The bad-row limit holds for a bad quote on row 1 as for any bad row: over
// max_bad_rows the ingest fails and the previous generation stays current.
// A source whose every row is quarantined fails even without a limit.
TEST_F(IngestRunnerTest, BadQuoteOverTheLimitOrEveryRowBadKeepsThePreviousGeneration) {
  auto write = [&](bool quote_on_row_1, bool all_bad) {
    std::ofstream f(dir_ / "a.csv");
    f << "Id,Name\n";
    for (int i = 1; i <= 100; ++i) f << i << ((all_bad || (quote_on_row_1 && i == 1)) ? ",5'11\"" : ",ok") << "\n";
  };
  write(false, false);
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, max_bad_rows: 0}\n");
  ASSERT_TRUE(IngestSources(*ws_, {}, IngestOptions())->ok());
  auto check_kept = [&](const SourceIngestResult& r, const std::string& message_part) {
    EXPECT_EQ(r.record.status, "failed");
    EXPECT_NE(r.record.message.find(message_part), std::string::npos) << r.record.message;
    auto t = ReadEntity("A");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->num_rows(), 100u);
    EXPECT_EQ(t->column(1).StringAt(0), "ok");
  };
  write(true, false);
  for (int threads : {1, 2}) {
    IngestOptions o;
    o.threads = threads;
    auto run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok());
    EXPECT_FALSE(run->ok());
    check_kept(run->sources[0], "line 2, column 7: quote character inside an unquoted field");
  }
  // Unlimited bad rows: row 1 alone is quarantined and the other 99 stored.
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, max_bad_rows: unlimited}\n");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok() && run->ok());
  EXPECT_EQ(run->sources[0].record.rows_stored, 99);
  EXPECT_EQ(run->sources[0].record.rows_quarantined, 1);
  write(false, false);
  ASSERT_TRUE(IngestSources(*ws_, {}, IngestOptions())->ok());
  // Every row bad, no limit: failed, the 100 rows stay.
  write(false, true);
  for (int threads : {1, 2}) {
    IngestOptions o;
    o.threads = threads;
    run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok());
    EXPECT_FALSE(run->ok());
    check_kept(run->sources[0], "all 100 rows read were quarantined");
  }
}

// Without max_bad_rows a source fails when more than 5% of its rows are
// quarantined - small files too (1 bad row in 10) -, keeping its previous
// data; the message names the counts, the default and the first bad line. A
// count or a percentage replaces the default.
TEST_F(IngestRunnerTest, MoreThanFivePercentBadRowsFailsUnlessMaxBadRowsSaysOtherwise) {
  auto write = [&](int rows, int bad) {
    std::ofstream f(dir_ / "a.csv");
    f << "Id,N\n";
    for (int i = 1; i <= rows; ++i) f << i << "," << (i > rows - bad ? "x" : "7") << "\n";
  };
  const std::string fields = ", fields: [{name: N, type: int64}]}\n";
  write(100, 0);
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv" + fields);
  ASSERT_TRUE(IngestSources(*ws_, {}, IngestOptions())->ok());
  write(100, 5);  // 5%: not more than 5%
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
  EXPECT_EQ(run->sources[0].record.rows_quarantined, 5);
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    IngestOptions o;
    o.threads = threads;
    write(100, 6);
    run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok());
    const SourceIngestResult& r = run->sources[0];
    EXPECT_EQ(r.record.status, "failed");
    EXPECT_EQ(r.record.message,
              "FailedPrecondition: 6 of 100 rows were quarantined, over max_bad_rows 5% (the default), so the entity "
              "keeps its previous data (first: line 96: 'x' is not a valid int64); fix the input, or set "
              "max_bad_rows to a count, a percentage or 'unlimited'");
    auto t = ReadEntity("A");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->num_rows(), 95u);  // the last good ingest's
    // The run names the source in its error.
    auto runs = ws_->catalog().ListRuns(1);
    ASSERT_TRUE(runs.ok());
    EXPECT_EQ((*runs)[0].status, "failed");
    EXPECT_NE((*runs)[0].error.find("A: FailedPrecondition: 6 of 100 rows were quarantined"), std::string::npos)
        << (*runs)[0].error;
  }
  write(10, 1);  // a small file: 10% fails too
  run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("1 of 10 rows were quarantined"), std::string::npos);
  write(100, 6);
  for (std::string limit : {"6", "10%", "unlimited"}) {
    SCOPED_TRACE(limit);
    Apply("sources:\n  - {name: A, kind: csv, path: a.csv, max_bad_rows: " + limit + fields);
    run = IngestSources(*ws_, {}, IngestOptions());
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
    EXPECT_EQ(run->sources[0].record.rows_stored, 94);
  }
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, max_bad_rows: 5" + fields);
  run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("6 bad rows exceed max_bad_rows 5 (first: line 96"), std::string::npos)
      << run->sources[0].record.message;
}

// A header that lacks a declared field fails the source (before any row is
// converted) naming the file and showing both lists; a file read with
// `header: false` whose first line holds the declared names fails too,
// instead of ingesting the header as a record.
TEST_F(IngestRunnerTest, HeaderThatDoesNotMatchTheDeclaredFieldsFailsShowingBoth) {
  std::ofstream(dir_ / "a.csv") << "Id,Name,E-Mail\n1,Ann,a@x.org\n2,Bob,b@x.org\n";
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, fields: [{name: Id}, {name: Name}, {name: Email}]}\n");
  for (int threads : {1, 2}) {
    IngestOptions o;
    o.threads = threads;
    auto run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok());
    const SourceIngestResult& r = run->sources[0];
    EXPECT_EQ(r.record.status, "failed");
    EXPECT_NE(r.record.message.find((dir_ / "a.csv").string() +
                                    ": the header does not match the declared fields: declared field 'Email' is not "
                                    "in the header (did you mean 'E-Mail'?); missing: Email; declared: Id, Name, "
                                    ">>Email<<; header: Id, Name, >>E-Mail<<"),
              std::string::npos)
        << r.record.message;
    EXPECT_EQ(r.record.rows_read, 0);
  }
  // Order does not matter (columns are matched by name).
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, fields: [{name: Mail, source_field: E-Mail}, {name: Id}]}\n");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->ok()) << run->sources[0].record.message;

  // header: false with a header line.
  Apply("sources:\n  - {name: A, kind: csv, path: a.csv, csv: {header: false}, fields: [{name: Id, source_field: "
        "column1}, {name: Email, source_field: column3}]}\n");
  run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("a.csv: line 1 holds the declared field names (column1 = 'Id', "
                                                "column3 = 'E-Mail'): the file starts with a header line; set "
                                                "header: true"),
            std::string::npos)
      << run->sources[0].record.message;
  // The same file without its header line ingests.
  std::ofstream(dir_ / "a.csv") << "1,Ann,a@x.org\n2,Bob,b@x.org\n";
  run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
  EXPECT_EQ(run->sources[0].record.rows_stored, 2);
}

// skip_rows skips report titles before the header, on one thread and in
// parallel ranges; quarantined rows keep their file lines.
TEST_F(IngestRunnerTest, SkipRowsSkipsLinesBeforeTheHeader) {
  {
    std::ofstream f(dir_ / "r.csv");
    f << "Monthly export\nGenerated 2024-05-01, by \"ops\n";
    f << "Id,N\n";
    for (int i = 1; i <= 200; ++i) f << i << "," << (i == 150 ? "x" : "3") << "\n";
  }
  Apply("sources:\n  - {name: R, kind: csv, path: r.csv, csv: {skip_rows: 2}, fields: [{name: N, type: int64}]}\n");
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    IngestOptions o;
    o.threads = threads;
    o.force = true;
    o.csv_range_bytes = 256;
    auto run = IngestSources(*ws_, {}, o);
    ASSERT_TRUE(run.ok());
    ASSERT_TRUE(run->ok()) << run->sources[0].record.message;
    EXPECT_EQ(run->sources[0].record.rows_read, 200);
    EXPECT_EQ(run->sources[0].record.rows_quarantined, 1);
    EXPECT_EQ(run->sources[0].lines_read, 203);
    auto q = ReadEntity(QuarantineEntityName("R"));
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->num_rows(), 1u);
    EXPECT_EQ(q->column(q->schema().FieldIndex("Line")).Int64At(0), 153);
  }
  // Without skip_rows the title is the header, and the declared field is missing.
  Apply("sources:\n  - {name: R, kind: csv, path: r.csv, fields: [{name: N, type: int64}]}\n");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("header: >>Monthly export<<"), std::string::npos)
      << run->sources[0].record.message;
}

// standardize: rewrites known spellings at ingest, keeps unknown ones, and
// reports both counts per field in the result and the run's stats; after
// unification the Customer holds the standard form for both spellings.
TEST_F(IngestRunnerTest, StandardizedStatesReachTheCustomerInOneForm) {
  std::ofstream(dir_ / "web.csv") << "Id,Name,Email,State,Gender\n"
                                     "1,Ann,ann@x.org,California,F\n"
                                     "2,Bob,bob@x.org,CA,Male\n"
                                     "3,Cy,cy@x.org,Calif.,m\n"
                                     "4,Di,di@x.org,Bavaria,\n"
                                     "5,Ed,ed@x.org,,X\n";
  std::ofstream(dir_ / "crm.csv") << "CrmId,Email,State\n"
                                     "c1,ann@x.org,CA\n"
                                     "c2,bob@x.org,california\n";
  Apply(R"(sources:
  - name: Web
    kind: csv
    path: web.csv
    primary_key: Id
    fields:
      - {name: Id, type: string}
      - {name: Name, semantic: Person.FirstName}
      - {name: Email, semantic: Email}
      - {name: State, semantic: Location.State, standardize: state_code}
      - {name: Gender, semantic: Person.Gender, standardize: gender}
  - name: Crm
    kind: csv
    path: crm.csv
    primary_key: CrmId
    fields:
      - {name: Email, semantic: Email}
      - {name: State, semantic: Location.State, standardize: state_code}
unification:
  sources:
    - source: Web
    - source: Crm
  rules:
    - name: SameEmail
      conditions: [{field: Email}]
)");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(run->ok()) << run->sources[0].record.message << run->sources[1].record.message;
  const auto& web = run->sources[0].standardized;
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].field, "State");
  EXPECT_EQ(web[0].standardizer, "state_code");
  EXPECT_EQ(web[0].standardized, 2);  // California, Calif.
  EXPECT_EQ(web[0].unknown, 1);       // Bavaria, kept
  EXPECT_EQ(web[1].field, "Gender");
  EXPECT_EQ(web[1].standardized, 3);  // F, m, X ("Male" is already the standard form)
  EXPECT_EQ(web[1].unknown, 0);
  auto t = ReadEntity("Web");
  ASSERT_TRUE(t.ok());
  const int state = t->schema().FieldIndex("State"), gender = t->schema().FieldIndex("Gender");
  EXPECT_EQ(t->column(state).StringAt(0), "CA");
  EXPECT_EQ(t->column(state).StringAt(2), "CA");
  EXPECT_EQ(t->column(state).StringAt(3), "Bavaria");
  EXPECT_TRUE(t->column(state).IsNull(4));
  EXPECT_EQ(t->column(gender).StringAt(0), "Female");
  EXPECT_EQ(t->column(gender).StringAt(2), "Male");
  EXPECT_EQ(t->column(gender).StringAt(4), "Other");
  auto runs = ws_->catalog().ListRuns(1);
  ASSERT_TRUE(runs.ok());
  EXPECT_NE((*runs)[0].stats_json.find(
                R"("standardized":[{"field":"State","standardized":2,"standardizer":"state_code","unknown":1})"),
            std::string::npos)
      << (*runs)[0].stats_json;

  auto unified = RunUnify(*ws_, UnifyRunOptions());
  ASSERT_TRUE(unified.ok()) << unified.status().ToString();
  auto customers = ReadEntity("Customer");
  ASSERT_TRUE(customers.ok()) << customers.status().ToString();
  const int cs = customers->schema().FieldIndex("State");
  ASSERT_GE(cs, 0);
  std::map<std::string, int> states;
  for (size_t r = 0; r < customers->num_rows(); ++r) {
    states[customers->column(cs).IsNull(r) ? std::string("(null)") : std::string(customers->column(cs).StringAt(r))]++;
  }
  EXPECT_EQ(customers->num_rows(), 5u);
  EXPECT_EQ(states, (std::map<std::string, int>{{"CA", 3}, {"Bavaria", 1}, {"(null)", 1}}));
}

TEST_F(IngestRunnerTest, MissingFileFailsTheSourceNotTheRun) {
  Apply("sources:\n  - {name: A, kind: csv, path: nope.csv}\n");
  auto run = IngestSources(*ws_, {}, IngestOptions());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("nope.csv"), std::string::npos);
}

// Sources are opened through the connector registered for their kind: a
// kind nobody registered fails the source's ingest with a message naming the
// source and the kind (the workspace itself knows no database).
TEST_F(IngestRunnerTest, SourceOfAnUnregisteredKindFailsNamingSourceAndKind) {
  Apply("sources:\n  - name: CRM\n    kind: postgres\n    postgres: {conninfo: \"host=/nowhere\", table: crm}\n");
  SourceRegistry files_only;
  RegisterFileConnectors(files_only);
  IngestOptions o;
  o.connectors = &files_only;
  auto run = IngestSources(*ws_, {}, o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const auto& rec = run->sources[0].record;
  EXPECT_EQ(rec.status, "failed");
  EXPECT_NE(rec.message.find("source 'CRM'"), std::string::npos) << rec.message;
  EXPECT_NE(rec.message.find("kind 'postgres'"), std::string::npos) << rec.message;
  EXPECT_NE(rec.message.find("registered: csv, jsonl"), std::string::npos) << rec.message;

  // Registered, the kind is opened by the connector, which resolves
  // conninfo_env itself.
  SourceRegistry with_postgres;
  ASSERT_TRUE(RegisterPostgresConnector(with_postgres).ok());
  EXPECT_EQ(RegisterPostgresConnector(with_postgres).code(), StatusCode::kAlreadyExists);
  unsetenv("CDP_TEST_UNSET_CONNINFO");
  Apply("sources:\n  - name: CRM\n    kind: postgres\n    postgres: {conninfo_env: CDP_TEST_UNSET_CONNINFO, table: crm}\n");
  o.connectors = &with_postgres;
  run = IngestSources(*ws_, {}, o);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->sources[0].record.status, "failed");
  EXPECT_NE(run->sources[0].record.message.find("environment variable 'CDP_TEST_UNSET_CONNINFO' (conninfo_env of source 'CRM') is not set"),
            std::string::npos)
      << run->sources[0].record.message;
}

// A PostgreSQL source against a real server started for the test, with the
// connector registered as the cdp binary registers it.
TEST_F(IngestRunnerTest, IngestsPostgresTableThroughTheProject) {
  Status registered = RegisterPostgresConnector(SourceRegistry::Global());
  ASSERT_TRUE(registered.ok() || registered.code() == StatusCode::kAlreadyExists) << registered.ToString();
  auto server = PostgresTestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)
                  ->Exec("CREATE TABLE crm (id int PRIMARY KEY, name text, born date, spend numeric(10,2), vip boolean);"
                         "INSERT INTO crm SELECT g, 'Name ' || g, DATE '1980-01-01' + g, g * 1.5, g % 2 = 0 "
                         "FROM generate_series(1, 2500) g;"
                         "INSERT INTO crm VALUES (9999, NULL, NULL, NULL, NULL);")
                  .ok());
  setenv("CDP_TEST_CRM", (*server)->conninfo().c_str(), 1);
  Apply("sources:\n  - name: CRM\n    kind: postgres\n    postgres: {conninfo_env: CDP_TEST_CRM, table: public.crm}\n"
        "    filters: [{field: id, op: less_equal, value: 2000}]\n");
  IngestOptions o;
  o.batch_rows = 700;
  auto run = IngestSources(*ws_, {}, o);
  ASSERT_TRUE(run.ok());
  const auto& rec = run->sources[0].record;
  ASSERT_EQ(rec.status, "succeeded") << rec.message;
  EXPECT_EQ(rec.rows_read, 2501);
  EXPECT_EQ(rec.rows_stored, 2000);
  EXPECT_EQ(rec.rows_filtered, 501);
  auto t = ReadEntity("CRM");
  ASSERT_TRUE(t.ok());
  const Schema& s = t->schema();
  EXPECT_EQ(s.field(s.FieldIndex("id")).type, DataType::kInt64);
  EXPECT_EQ(s.field(s.FieldIndex("born")).type, DataType::kDate);
  EXPECT_EQ(s.field(s.FieldIndex("spend")).type, DataType::kDouble);
  EXPECT_EQ(s.field(s.FieldIndex("vip")).type, DataType::kBool);
  EXPECT_EQ(t->ColumnByName("name")->StringAt(41), "Name 42");
  EXPECT_DOUBLE_EQ(t->ColumnByName("spend")->DoubleAt(1), 3.0);
  EXPECT_EQ(t->ColumnByName("born")->ValueToString(0), "1980-01-02");
  // A database source is never skipped: it is re-read every time.
  auto again = IngestSources(*ws_, {}, o);
  EXPECT_EQ(again->sources[0].record.status, "succeeded");
  unsetenv("CDP_TEST_CRM");
}

}  // namespace
}  // namespace cdp
