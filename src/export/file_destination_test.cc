#include "export/file_destination.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace cdp {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gunzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << rc;
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

// Reads RFC 4180 text (as a spreadsheet would): records of fields, with
// empty unquoted fields as nullopt.
std::vector<std::vector<std::optional<std::string>>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::optional<std::string>>> out;
  std::vector<std::optional<std::string>> rec;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      std::string v;
      ++i;
      while (i < text.size()) {
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
          v.push_back('"');
          i += 2;
        } else if (text[i] == '"') {
          ++i;
          break;
        } else {
          v.push_back(text[i++]);
        }
      }
      rec.emplace_back(v);
    } else {
      size_t j = text.find_first_of(",\n", i);
      if (j == std::string::npos) j = text.size();
      if (j == i) {
        rec.emplace_back(std::nullopt);
      } else {
        rec.emplace_back(text.substr(i, j - i));
      }
      i = j;
    }
    if (i < text.size() && text[i] == ',') {
      ++i;
    } else {
      ++i;
      out.push_back(std::move(rec));
      rec.clear();
    }
  }
  return out;
}

using Values = std::vector<std::optional<std::string>>;

ExportRow Row(Values v, RowChange change = RowChange::kAdded) { return ExportRow{change, std::move(v)}; }

class FileDestinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cdp_files_test_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    ASSERT_TRUE(RegisterFileDestinations(registry_).ok());
    auto k = registry_.Find("files");
    ASSERT_TRUE(k.ok());
    kind_ = *k;
    connection_.name = "lake";
    connection_.kind = "files";
    connection_.settings["path"] = (dir_ / "out").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExportRunInfo Run(int64_t run_id, bool delta, std::map<std::string, std::string> options = {},
                    std::string target = "Members") {
    ExportRunInfo r;
    r.export_name = "members";
    r.export_run_id = run_id;
    r.delta = delta;
    r.target = std::move(target);
    r.schema.fields = {{"CustomerId", DataType::kInt64},
                       {"Name", DataType::kString},
                       {"Spend", DataType::kDouble},
                       {"Vip", DataType::kBool},
                       {"Born", DataType::kDate}};
    r.schema.key_field = 0;
    r.options = std::move(options);
    return r;
  }

  static ExportBatch Batch(int64_t seq, std::vector<ExportRow> rows) {
    ExportBatch b;
    b.sequence = seq;
    b.idempotency_key = "members:1:" + std::to_string(seq);
    b.rows = std::move(rows);
    return b;
  }

  // Runs a whole attempt; returns Commit's status (or the first failure,
  // after Abort).
  Status Export(const ExportRunInfo& run, const std::vector<ExportBatch>& batches, const DestinationKind* kind = nullptr) {
    auto s = (kind ? kind : kind_)->begin(connection_, run);
    if (!s.ok()) return s.status();
    for (const auto& b : batches) {
      Status w = (*s)->Write(b);
      if (!w.ok()) {
        (*s)->Abort();
        return w;
      }
    }
    return (*s)->Commit();
  }

  std::vector<std::string> DirNames(const fs::path& d) {
    std::vector<std::string> out;
    if (!fs::exists(d)) return out;
    for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path Out() const { return dir_ / "out"; }

  fs::path dir_;
  DestinationRegistry registry_;
  const DestinationKind* kind_ = nullptr;
  ResolvedConnection connection_;
};

const std::vector<ExportRow> kFirst = {
    Row({"1", "Ana", "437.66", "true", "1990-01-02"}),
    Row({"2", "Bo, \"the\" barista\nline two", "12", "false", std::nullopt}),
    Row({"3", "", std::nullopt, std::nullopt, "2001-12-31"}),
};
const std::vector<ExportRow> kSecond = {
    Row({"1", "Ana", "500", "true", "1990-01-02"}),
    Row({"4", "Zoë ☕", "0.1", "false", "1980-06-15"}),
};

TEST_F(FileDestinationTest, FullCsvRunWritesTheWholeSetAndReplacesIt) {
  ASSERT_TRUE(Export(Run(1, false), {Batch(0, {kFirst[0], kFirst[1]}), Batch(1, {kFirst[2]})}).ok());
  EXPECT_EQ(ReadAll(Out() / "Members.csv"),
            "CustomerId,Name,Spend,Vip,Born\n"
            "1,Ana,437.66,true,1990-01-02\n"
            "2,\"Bo, \"\"the\"\" barista\nline two\",12,false,\n"
            "3,\"\",,,2001-12-31\n");
  auto parsed = ParseCsv(ReadAll(Out() / "Members.csv"));
  ASSERT_EQ(parsed.size(), 4u);
  EXPECT_EQ(parsed[2][1], "Bo, \"the\" barista\nline two");
  EXPECT_EQ(parsed[3][1], "");
  EXPECT_EQ(parsed[3][2], std::nullopt);

  ASSERT_TRUE(Export(Run(2, false), {Batch(0, kSecond)}).ok());
  EXPECT_EQ(ReadAll(Out() / "Members.csv"),
            "CustomerId,Name,Spend,Vip,Born\n1,Ana,500,true,1990-01-02\n4,Zoë ☕,0.1,false,1980-06-15\n");
  EXPECT_EQ(DirNames(Out()), std::vector<std::string>{"Members.csv"});  // no temporary file left
}

TEST_F(FileDestinationTest, JsonLinesHoldTypedValues) {
  ASSERT_TRUE(Export(Run(1, false, {{"format", "jsonl"}}), {Batch(0, kFirst)}).ok());
  std::istringstream in(ReadAll(Out() / "Members.jsonl"));
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].dump(), R"({"Born":"1990-01-02","CustomerId":1,"Name":"Ana","Spend":437.66,"Vip":true})");
  EXPECT_EQ(lines[1]["Name"], "Bo, \"the\" barista\nline two");
  EXPECT_TRUE(lines[1]["Born"].is_null());
  EXPECT_EQ(lines[2]["Name"], "");
  EXPECT_TRUE(lines[2]["Spend"].is_null());
}

TEST_F(FileDestinationTest, GzipFilesDecompressToThePlainText) {
  ASSERT_TRUE(Export(Run(1, false), {Batch(0, kFirst)}).ok());
  ASSERT_TRUE(Export(Run(1, false, {{"gzip", "true"}}), {Batch(0, kFirst)}).ok());
  ASSERT_TRUE(Export(Run(1, false, {{"format", "jsonl"}}), {Batch(0, kFirst)}).ok());
  ASSERT_TRUE(Export(Run(1, false, {{"format", "jsonl"}, {"gzip", "true"}}), {Batch(0, kFirst)}).ok());
  const std::string gz = ReadAll(Out() / "Members.csv.gz");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(Gunzip(gz), ReadAll(Out() / "Members.csv"));
  EXPECT_EQ(Gunzip(ReadAll(Out() / "Members.jsonl.gz")), ReadAll(Out() / "Members.jsonl"));

  // Many batches: the stream spans several deflate buffers.
  std::vector<ExportBatch> batches;
  std::string expected = "CustomerId,Name,Spend,Vip,Born\n";
  for (int b = 0; b < 20; ++b) {
    std::vector<ExportRow> rows;
    for (int i = 0; i < 1000; ++i) {
      const std::string id = std::to_string(b * 1000 + i);
      rows.push_back(Row({id, "name " + id, id + ".5", "true", "2020-01-01"}));
      expected += id + ",name " + id + "," + id + ".5,true,2020-01-01\n";
    }
    batches.push_back(Batch(b, std::move(rows)));
  }
  ASSERT_TRUE(Export(Run(2, false, {{"gzip", "true"}}), batches).ok());
  EXPECT_EQ(Gunzip(ReadAll(Out() / "Members.csv.gz")), expected);
}

TEST_F(FileDestinationTest, DeltaRunsWriteOneFilePerRunWithTheChange) {
  ASSERT_TRUE(Export(Run(1, false), {Batch(0, kFirst)}).ok());
  const std::vector<ExportRow> changes = {
      Row({"1", "Ana", "500", "true", "1990-01-02"}, RowChange::kChanged),
      Row({"3", std::nullopt, std::nullopt, std::nullopt, std::nullopt}, RowChange::kRemoved),
      Row({"4", "Zoë ☕", "0.1", "false", "1980-06-15"}, RowChange::kAdded),
  };
  ExportRunInfo run = Run(7, true);
  ASSERT_TRUE(Export(run, {Batch(0, changes)}).ok());
  const std::string expected =
      "_change,CustomerId,Name,Spend,Vip,Born\n"
      "changed,1,Ana,500,true,1990-01-02\n"
      "removed,3,,,,\n"
      "added,4,Zoë ☕,0.1,false,1980-06-15\n";
  EXPECT_EQ(ReadAll(Out() / "Members.delta-7.csv"), expected);
  // The full file is left as it was.
  EXPECT_EQ(ParseCsv(ReadAll(Out() / "Members.csv")).size(), 4u);

  // A repeated attempt of run 7 (after a crash) rewrites the same file.
  run.attempt = 2;
  ASSERT_TRUE(Export(run, {Batch(0, changes)}).ok());
  EXPECT_EQ(ReadAll(Out() / "Members.delta-7.csv"), expected);
  EXPECT_EQ(DirNames(Out()), (std::vector<std::string>{"Members.csv", "Members.delta-7.csv"}));

  ASSERT_TRUE(Export(Run(8, true, {{"format", "jsonl"}}), {Batch(0, {changes[1]})}).ok());
  EXPECT_EQ(ReadAll(Out() / "Members.delta-8.jsonl"),
            "{\"_change\":\"removed\",\"CustomerId\":3,\"Name\":null,\"Spend\":null,\"Vip\":null,\"Born\":null}\n");
}

TEST_F(FileDestinationTest, AbortAndFailedWritesLeaveThePreviousExport) {
  ASSERT_TRUE(Export(Run(1, false), {Batch(0, kFirst)}).ok());
  const std::string before = ReadAll(Out() / "Members.csv");

  auto s = kind_->begin(connection_, Run(2, false));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Write(Batch(0, kSecond)).ok());
  EXPECT_EQ((*s)->rows_delivered(), 2);
  (*s)->Abort();
  EXPECT_EQ(ReadAll(Out() / "Members.csv"), before);
  EXPECT_EQ(DirNames(Out()), std::vector<std::string>{"Members.csv"});

  // A row with the wrong number of values fails the write, naming the export.
  Status w = Export(Run(3, false), {Batch(0, kSecond), Batch(1, {Row({"9", "x"})})});
  EXPECT_EQ(w.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(w.message().find("export 'members': batch 1 row 0 has 2 values for 5 fields"), std::string::npos) << w.message();
  EXPECT_EQ(ReadAll(Out() / "Members.csv"), before);
  EXPECT_EQ(DirNames(Out()), std::vector<std::string>{"Members.csv"});
}

TEST_F(FileDestinationTest, AKilledExportLeavesThePreviousFileAndTheNextRunCleansUp) {
  ASSERT_TRUE(Export(Run(1, false, {{"gzip", "true"}}), {Batch(0, kFirst)}).ok());
  const std::string before = ReadAll(Out() / "Members.csv.gz");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto s = kind_->begin(connection_, Run(2, false, {{"gzip", "true"}}));
    if (s.ok() && (*s)->Write(Batch(0, kSecond)).ok()) raise(SIGKILL);  // dies before Commit
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(ReadAll(Out() / "Members.csv.gz"), before);
  EXPECT_EQ(DirNames(Out()).size(), 2u);  // the file and the dead attempt's temporary file

  ExportRunInfo again = Run(2, false, {{"gzip", "true"}});
  again.attempt = 2;
  ASSERT_TRUE(Export(again, {Batch(0, kSecond)}).ok());
  EXPECT_EQ(DirNames(Out()), std::vector<std::string>{"Members.csv.gz"});
  EXPECT_EQ(ParseCsv(Gunzip(ReadAll(Out() / "Members.csv.gz"))).size(), 3u);
}

// Every mutating file operation of a run fails in turn (the process "dies"
// there): the previous export stays whole until the run succeeds, and then
// the new one is whole.
TEST_F(FileDestinationTest, AFaultAtAnyWriteLeavesEitherThePreviousOrTheNewExport) {
  for (const char* format : {"csv", "cdm"}) {
    SCOPED_TRACE(format);
    fs::remove_all(Out());
    FaultInjectionEnv env(Env::Default());
    DestinationKind kind = FileDestinationKind(&env);
    const std::map<std::string, std::string> options = {{"format", format}};
    ASSERT_TRUE(Export(Run(1, false, options), {Batch(0, kFirst)}, &kind).ok());
    auto snapshot = [&] {
      std::string all;
      if (std::string(format) == "csv") return ReadAll(Out() / "Members.csv");
      auto manifest = nlohmann::json::parse(ReadAll(Out() / "model.json"));
      std::string loc = manifest["entities"][0]["partitions"][0]["location"];
      return loc + "\n" + ReadAll(Out() / "Members" / loc.substr(loc.rfind('/') + 1));
    };
    const std::string before = snapshot();
    env.ResetCounter();
    ASSERT_TRUE(Export(Run(2, false, options), {Batch(0, kSecond)}, &kind).ok());
    const std::string after = snapshot();
    const uint64_t ops = env.mutating_ops();
    ASSERT_GT(ops, 3u);
    ASSERT_NE(before, after);

    for (uint64_t n = 0; n < ops; ++n) {
      SCOPED_TRACE(n);
      fs::remove_all(Out());
      env.ClearFault();
      ASSERT_TRUE(Export(Run(1, false, options), {Batch(0, kFirst)}, &kind).ok());
      env.ResetCounter();
      env.InjectFault(n, FaultInjectionEnv::FaultMode::kFailFromThenOn);
      Status s = Export(Run(2, false, options), {Batch(0, kSecond)}, &kind);
      env.ClearFault();
      const std::string now = snapshot();
      if (s.ok()) {
        EXPECT_EQ(now, after);
      } else {
        EXPECT_NE(s.message().find("injected fault"), std::string::npos) << s.message();
        EXPECT_TRUE(now == before || now == after);
      }
      // The next attempt succeeds and leaves exactly the new export.
      ExportRunInfo again = Run(2, false, options);
      again.attempt = 2;
      ASSERT_TRUE(Export(again, {Batch(0, kSecond)}, &kind).ok());
      EXPECT_EQ(snapshot(), after);
      // No temporary file is left behind.
      if (std::string(format) == "csv") {
        EXPECT_EQ(DirNames(Out()), std::vector<std::string>{"Members.csv"});
      } else {
        EXPECT_EQ(DirNames(Out()), (std::vector<std::string>{".model.json.lock", "Members", "model.json"}));
        for (const auto& name : DirNames(Out() / "Members")) EXPECT_NE(name[0], '.') << name;
      }
    }
  }
}

TEST_F(FileDestinationTest, CdmFolderManifestMatchesItsData) {
  const std::map<std::string, std::string> cdm = {{"format", "cdm"}};
  ASSERT_TRUE(Export(Run(1, false, cdm), {Batch(0, kFirst)}).ok());
  ASSERT_TRUE(Export(Run(2, false, cdm, "Other"), {Batch(0, kSecond)}).ok());

  auto manifest = nlohmann::json::parse(ReadAll(Out() / "model.json"));
  EXPECT_EQ(manifest["name"], "cdp");
  EXPECT_EQ(manifest["version"], "1.0");
  ASSERT_EQ(manifest["entities"].size(), 2u);
  const auto& e = manifest["entities"][0];
  EXPECT_EQ(e["$type"], "LocalEntity");
  EXPECT_EQ(e["name"], "Members");
  std::vector<std::pair<std::string, std::string>> attrs;
  for (const auto& a : e["attributes"]) attrs.emplace_back(a["name"], a["dataType"]);
  EXPECT_EQ(attrs, (std::vector<std::pair<std::string, std::string>>{
                       {"CustomerId", "int64"}, {"Name", "string"}, {"Spend", "double"}, {"Vip", "boolean"},
                       {"Born", "dateTime"}}));
  ASSERT_EQ(e["partitions"].size(), 1u);
  const auto& p = e["partitions"][0];
  EXPECT_EQ(p["name"], "Members-1");
  EXPECT_EQ(p["location"], "file://" + (Out() / "Members" / "Members-1.csv").string());
  EXPECT_FALSE(p["refreshTime"].get<std::string>().empty());
  EXPECT_EQ(p["fileFormatSettings"]["columnHeaders"], false);
  // The data file: no header, one record per row, as sent.
  auto records = ParseCsv(ReadAll(Out() / "Members" / "Members-1.csv"));
  ASSERT_EQ(records.size(), kFirst.size());
  for (size_t i = 0; i < kFirst.size(); ++i) EXPECT_EQ(records[i], kFirst[i].values);
  EXPECT_EQ(manifest["entities"][1]["name"], "Other");
  EXPECT_EQ(ParseCsv(ReadAll(Out() / "Other" / "Other-2.csv")).size(), 2u);

  // A new run: the manifest names the new file; the previous one is kept for
  // readers of the previous manifest, older ones are removed.
  ASSERT_TRUE(Export(Run(3, false, cdm), {Batch(0, kSecond)}).ok());
  ASSERT_TRUE(Export(Run(4, false, cdm), {Batch(0, kFirst)}).ok());
  manifest = nlohmann::json::parse(ReadAll(Out() / "model.json"));
  EXPECT_EQ(manifest["entities"].size(), 2u);
  EXPECT_EQ(manifest["entities"][0]["partitions"][0]["name"], "Members-4");
  EXPECT_EQ(DirNames(Out() / "Members"), (std::vector<std::string>{"Members-3.csv", "Members-4.csv"}));
}

TEST_F(FileDestinationTest, CdmDeltaRunsApplyTheirChangesToTheWholeSet) {
  const std::map<std::string, std::string> cdm = {{"format", "cdm"}};
  ASSERT_TRUE(Export(Run(1, false, cdm), {Batch(0, kFirst)}).ok());
  const std::vector<ExportRow> changes = {
      Row({"1", "Ana", "500", "true", "1990-01-02"}, RowChange::kChanged),
      Row({"3", std::nullopt, std::nullopt, std::nullopt, std::nullopt}, RowChange::kRemoved),
      Row({"4", "Zoë ☕", "0.1", "false", "1980-06-15"}, RowChange::kAdded),
  };
  ExportRunInfo run = Run(2, true, cdm);
  ASSERT_TRUE(Export(run, {Batch(0, changes)}).ok());
  const std::vector<Values> expected = {changes[0].values, kFirst[1].values, changes[2].values};
  EXPECT_EQ(ParseCsv(ReadAll(Out() / "Members" / "Members-2.csv")), expected);
  // Repeating the run (its first attempt committed, but the runner did not
  // learn it) applies the same changes again with the same result.
  run.attempt = 2;
  ASSERT_TRUE(Export(run, {Batch(0, changes)}).ok());
  EXPECT_EQ(ParseCsv(ReadAll(Out() / "Members" / "Members-2.csv")), expected);
  auto manifest = nlohmann::json::parse(ReadAll(Out() / "model.json"));
  EXPECT_EQ(manifest["entities"][0]["partitions"][0]["name"], "Members-2");

  // Fields that differ from the manifest's attributes: no delta.
  ExportRunInfo other = Run(3, true, cdm);
  other.schema.fields.pop_back();
  auto s = kind_->begin(connection_, other);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("run a full export"), std::string::npos);
}

TEST_F(FileDestinationTest, SettingsAndOptionsAreChecked) {
  ResolvedConnection c = connection_;
  EXPECT_TRUE(kind_->validate(c).ok());
  c.settings["host"] = "x";
  EXPECT_EQ(kind_->validate(c).message(), "connection 'lake' (files): unknown setting 'host' (settings: path)");
  c = connection_;
  c.settings.erase("path");
  EXPECT_EQ(kind_->validate(c).code(), StatusCode::kInvalidArgument);
  c = connection_;
  c.secrets["password"] = "hunter2";
  Status s = kind_->validate(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos);

  EXPECT_TRUE(kind_->validate_options(connection_, {{"format", "jsonl"}, {"gzip", "true"}}).ok());
  EXPECT_EQ(kind_->validate_options(connection_, {{"format", "xml"}}).message(),
            "connection 'lake' (files): option format: expected csv, jsonl or cdm, got 'xml'");
  EXPECT_EQ(kind_->validate_options(connection_, {{"gzip", "yes"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kind_->validate_options(connection_, {{"compress", "true"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kind_->validate_options(connection_, {{"format", "cdm"}, {"gzip", "true"}}).code(),
            StatusCode::kInvalidArgument);

  // Relative paths need the runner's base directory.
  c = connection_;
  c.settings["path"] = "exports";
  auto begun = kind_->begin(c, Run(1, false));
  EXPECT_EQ(begun.status().code(), StatusCode::kFailedPrecondition);
  c.settings["base_dir"] = dir_.string();
  ASSERT_TRUE(Export(Run(1, false), {Batch(0, kFirst)}).ok());
  begun = kind_->begin(c, Run(1, false));
  ASSERT_TRUE(begun.ok());
  ASSERT_TRUE((*begun)->Commit().ok());
  EXPECT_TRUE(fs::exists(dir_ / "exports" / "Members.csv"));

  for (const char* bad : {"", "../x", "a/b", ".hidden"}) {
    auto r = kind_->begin(connection_, Run(1, false, {}, bad));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  ExportRunInfo clash = Run(1, true);
  clash.schema.fields[1].name = "_change";
  EXPECT_EQ(kind_->begin(connection_, clash).status().code(), StatusCode::kInvalidArgument);

  EXPECT_TRUE(kind_->check(connection_).ok());
  EXPECT_EQ(RegisterFileDestinations(registry_).code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace cdp
