#include "workspace/row_export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "demo/demo_generator.h"
#include "export/export_value.h"
#include "workspace/activity_runner.h"
#include "workspace/definitions.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"

namespace cdp {
namespace {

namespace fs = std::filesystem;

// The Contoso demo (300 people), applied and refreshed once for all tests.
class RowExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cdp_row_export_XXXXXX";
    dir_ = new fs::path(mkdtemp(tmpl));
    DemoOptions demo;
    demo.customers = 300;
    demo.seed = 11;
    demo.out_dir = (*dir_ / "sources").string();
    DemoSummary summary;
    ASSERT_TRUE(GenerateContosoDemo(demo, &summary).ok());
    auto ws = Workspace::Init((*dir_ / "ws").string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = ws->release();
    std::ifstream in(std::string(CDP_SOURCE_DIR) + "/examples/contoso/project.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto project = ParseProjectYaml(yaml, "project.yaml", dir_->string());
    ASSERT_TRUE(project.ok()) << project.status().ToString();
    DefinitionOptions d;
    d.run_date = kDefaultDemoToday;
    d.threads = 2;
    ASSERT_TRUE(ApplyProject(*ws_, *project, d).ok());
    RefreshOptions o;
    o.threads = 2;
    o.run_date = kDefaultDemoToday;
    auto r = RunRefresh(*ws_, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->ok()) << r->error;
  }
  static void TearDownTestSuite() {
    delete ws_;
    ws_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  static fs::path* dir_;
  static Workspace* ws_;
};
fs::path* RowExportTest::dir_ = nullptr;
Workspace* RowExportTest::ws_ = nullptr;

TEST_F(RowExportTest, StreamsEveryRowOfAnEntityAsCsvAndJsonLines) {
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  const auto& info = snap->entities.at("UnifiedActivity");
  ASSERT_GT(info.num_rows, 1000u);  // more than `cdp show`'s default page, across row groups

  std::ostringstream jsonl;
  auto n = StreamEntityRows(*ws_, "UnifiedActivity", "jsonl", jsonl);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, static_cast<int64_t>(info.num_rows));
  auto lines = Lines(jsonl.str());
  ASSERT_EQ(lines.size(), info.num_rows);
  for (const auto& line : lines) {
    auto j = nlohmann::json::parse(line);
    ASSERT_EQ(j.size(), info.schema.num_fields());
  }

  std::ostringstream csv;
  n = StreamEntityRows(*ws_, "Customer", "csv", csv);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  const auto& customer = snap->entities.at("Customer");
  EXPECT_EQ(*n, static_cast<int64_t>(customer.num_rows));
  // The first line is the header; the first row matches FormatExportValue.
  auto reader = ws_->data().OpenEntity(*snap, "Customer");
  ASSERT_TRUE(reader.ok());
  auto table = (*reader)->ReadRowGroup(0);
  ASSERT_TRUE(table.ok());
  std::string header, first;
  std::vector<std::optional<std::string>> values;
  std::vector<ExportField> fields;
  for (size_t c = 0; c < table->num_columns(); ++c) {
    fields.push_back({table->schema().field(c).name, table->schema().field(c).type});
    values.push_back(FormatExportValue(table->column(c), 0));
  }
  AppendCsvHeader(&header, fields);
  AppendCsvRecord(&first, values);
  EXPECT_EQ(csv.str().substr(0, header.size() + first.size()), header + first);

  std::ostringstream limited;
  n = StreamEntityRows(*ws_, "Customer", "csv", limited, 5);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5);

  EXPECT_EQ(StreamEntityRows(*ws_, "Nope", "csv", limited).status().code(), StatusCode::kNotFound);
  auto bad = StreamEntityRows(*ws_, "Customer", "xml", limited);
  EXPECT_EQ(bad.status().message(), "format: expected csv or jsonl, got 'xml'");
}

// Regression: a segment member export showed 437.65999999999997 for a
// LifetimeSpend of 437.66 (a sum of amounts in cents).
TEST_F(RowExportTest, MemberExportWritesSumsOfAmountsAsTheirDecimal) {
  auto snap = ws_->data().Current();
  ASSERT_TRUE(snap.ok());
  auto measures = LoadEntity(*ws_, *snap, "Customer_Measure");
  ASSERT_TRUE(measures.ok()) << measures.status().ToString();
  const Column* ids = (*measures)->ColumnByName("CustomerId");
  const Column* spend = (*measures)->ColumnByName("LifetimeSpend");
  ASSERT_TRUE(ids && spend);
  std::map<int64_t, double> stored;
  for (size_t i = 0; i < ids->size(); ++i) {
    if (spend->IsValid(i)) stored[ids->Int64At(i)] = spend->DoubleAt(i);
  }

  std::ostringstream out;
  auto n = ExportSegmentMembers(*ws_, "HighValueOnlineCustomers", "jsonl", out);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_GT(*n, 10);
  int checked = 0, noisy = 0;
  for (const auto& line : Lines(out.str())) {
    const int64_t id = nlohmann::json::parse(line)["CustomerId"].get<int64_t>();
    // The raw number text as written, before any JSON parser reads it.
    const auto at = line.find("\"LifetimeSpend\":");
    ASSERT_NE(at, std::string::npos);
    const size_t start = at + 16;
    const std::string text = line.substr(start, line.find_first_of(",}", start) - start);
    if (text == "null") continue;
    ASSERT_TRUE(stored.count(id)) << id;
    const double v = stored[id];
    // Amounts in cents: at most two decimals, and the same value.
    const auto dot = text.find('.');
    EXPECT_TRUE(dot == std::string::npos || text.size() - dot - 1 <= 2) << text << " for " << v;
    double back = 0;
    std::from_chars(text.data(), text.data() + text.size(), back);
    EXPECT_NEAR(back, v, 1e-9 * std::abs(v)) << text;
    char shortest[64];
    auto r = std::to_chars(shortest, shortest + sizeof shortest, v);
    if (std::string(shortest, r.ptr) != text) ++noisy;  // what the export printed before
    ++checked;
  }
  EXPECT_GT(checked, 10);
  EXPECT_GT(noisy, 0) << "the demo's sums should include some with floating-point noise";

  // The CSV form: a header and one line per member (no member field holds a
  // line break in the demo).
  std::ostringstream csv;
  auto m = ExportSegmentMembers(*ws_, "HighValueOnlineCustomers", "csv", csv);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Lines(csv.str()).size(), static_cast<size_t>(*m) + 1);
}

}  // namespace
}  // namespace cdp
