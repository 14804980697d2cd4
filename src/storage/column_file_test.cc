#include "storage/column_file.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <limits>
#include <thread>

#include "common/thread_pool.h"
#include "storage/env.h"
#include "storage/test_util.h"

namespace cdp {
namespace {

using testing_util::AllTypesSchema;
using testing_util::MakeAllTypesTable;
using testing_util::ScratchDir;
using testing_util::SliceRows;
using testing_util::TablesEqual;

Env* env() { return Env::Default(); }

void WriteFile(const std::string& path, const Table& t, const ColumnFileOptions& options = {}) {
  auto w = ColumnFileWriter::Create(env(), path, t.schema(), options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Append(t).ok());
  ASSERT_TRUE((*w)->Finish().ok());
}

StatusOr<Table> ReadFile(const std::string& path) {
  CDP_ASSIGN_OR_RETURN(auto r, ColumnFileReader::Open(env(), path));
  return r->ReadAll();
}

std::string Slurp(const std::string& path) { return *env()->ReadFile(path); }

void Spit(const std::string& path, const std::string& content) {
  // Delete first: on ext4, truncating a file with data forces a flush on close.
  (void)env()->DeleteFile(path);
  auto f = env()->NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(content).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

TEST(ColumnFileTest, RoundTripsEveryDataTypeWithNullsAcrossRowGroups) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(1000, 1);
  ColumnFileOptions options;
  options.row_group_rows = 100;
  WriteFile(dir.Join("t.cdpc"), t, options);

  auto r = ColumnFileReader::Open(env(), dir.Join("t.cdpc"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->schema(), AllTypesSchema());
  EXPECT_EQ((*r)->num_rows(), 1000u);
  ASSERT_EQ((*r)->num_row_groups(), 10u);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(TablesEqual(*all, t));
  for (size_t g = 0; g < 10; ++g) {
    EXPECT_EQ((*r)->row_group_num_rows(g), 100u);
    auto group = (*r)->ReadRowGroup(g);
    ASSERT_TRUE(group.ok()) << group.status().ToString();
    EXPECT_TRUE(TablesEqual(*group, SliceRows(t, g * 100, g * 100 + 100))) << "row group " << g;
  }
  EXPECT_EQ(all->column(0).null_count(), t.column(0).null_count());
}

TEST(ColumnFileTest, RoundTripsEmptyStringsAndAllNullColumns) {
  ScratchDir dir;
  Table t(Schema({{"s", DataType::kString, {}}, {"n", DataType::kInt64, {}}, {"d", DataType::kDate, {}}}));
  for (int i = 0; i < 130; ++i) {
    t.mutable_column(0).AppendString("");
    t.mutable_column(1).AppendNull();
    t.mutable_column(2).AppendNull();
    t.FinishRow();
  }
  WriteFile(dir.Join("t.cdpc"), t);
  auto back = ReadFile(dir.Join("t.cdpc"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(TablesEqual(*back, t));
  EXPECT_EQ(back->column(0).null_count(), 0u);
  EXPECT_EQ(back->column(1).null_count(), 130u);
}

// Integer columns are stored as base + whole-byte offsets: every width from
// 0 (constant) to 8 (the full int64 range) must read back exactly, with null
// slots reading as zero whatever the other values are.
TEST(ColumnFileTest, RoundTripsIntegersOfEveryWidthAndNullsBesideLargeValues) {
  ScratchDir dir;
  Table t(Schema({{"i", DataType::kInt64, {}},
                  {"ts", DataType::kTimestamp, {}},
                  {"d", DataType::kDate, {}},
                  {"s", DataType::kString, {}}}));
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t small = std::numeric_limits<int64_t>::min();
  const size_t group = 64;
  // Group w holds values spanning w bytes around a negative base.
  for (size_t w = 0; w <= 8; ++w) {
    for (size_t r = 0; r < group; ++r) {
      const uint64_t span = w == 0 ? 0 : (w == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * w)) - 1);
      const int64_t v = r % 2 == 0 ? -5 : static_cast<int64_t>(static_cast<uint64_t>(-5) + span);
      if (r % 7 == 3) {
        t.mutable_column(0).AppendNull();
        t.mutable_column(1).AppendNull();
        t.mutable_column(2).AppendNull();
        t.mutable_column(3).AppendNull();
      } else {
        t.mutable_column(0).AppendInt64(w == 8 ? (r % 2 ? big : small) : v);
        t.mutable_column(1).AppendTimestamp(1700000000000000 + static_cast<int64_t>(r % 3));
        t.mutable_column(2).AppendDate(r % 2 ? std::numeric_limits<int32_t>::min() : 19000);
        t.mutable_column(3).AppendString(std::string(w * 40 * (r % 3), 'x'));
      }
      t.FinishRow();
    }
  }
  ColumnFileOptions options;
  options.row_group_rows = group;
  WriteFile(dir.Join("w.cdpc"), t, options);
  auto back = ReadFile(dir.Join("w.cdpc"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(TablesEqual(*back, t));
  for (size_t c = 0; c < 3; ++c) {
    for (size_t r = 0; r < back->num_rows(); ++r) {
      if (!back->column(c).IsNull(r)) continue;
      if (c == 2) {
        EXPECT_EQ(back->column(c).DateAt(r), 0) << "row " << r;
      } else {
        EXPECT_EQ(back->column(c).Int64At(r), 0) << "column " << c << " row " << r;
      }
    }
  }
}

TEST(ColumnFileTest, WritingOnAThreadPoolGivesTheSameBytes) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(5000, 21);
  ColumnFileOptions options;
  options.row_group_rows = 300;
  WriteFile(dir.Join("inline.cdpc"), t, options);
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    options.pool = &pool;
    const std::string path = dir.Join("pool" + std::to_string(threads) + ".cdpc");
    auto w = ColumnFileWriter::Create(env(), path, t.schema(), options);
    ASSERT_TRUE(w.ok());
    for (size_t begin = 0; begin < t.num_rows(); begin += 777) {
      ASSERT_TRUE((*w)->Append(SliceRows(t, begin, std::min<size_t>(t.num_rows(), begin + 777))).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
    EXPECT_EQ((*w)->bytes_written(), env()->GetFileSize(path).value());
    EXPECT_EQ(Slurp(path), Slurp(dir.Join("inline.cdpc"))) << threads << " threads";
    auto back = ReadFile(path);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(TablesEqual(*back, t));
  }
}

// Row groups encoded apart (as ingest threads do) and appended in order,
// mixed with appended rows on a pool writer, read back as the same rows; an
// encoded group equals the same rows written as one group by Append.
TEST(ColumnFileTest, EncodedRowGroupsAppendInOrderWithAppendedRows) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(5000, 23);
  ThreadPool pool(2);
  ColumnFileOptions options;
  options.row_group_rows = 700;
  options.pool = &pool;
  const std::string path = dir.Join("mixed.cdpc");
  auto w = ColumnFileWriter::Create(env(), path, t.schema(), options);
  ASSERT_TRUE(w.ok());
  EncodedRowGroup group;  // reused: its buffers are overwritten each time
  size_t begin = 0;
  for (size_t k = 0; begin < t.num_rows(); ++k) {
    const size_t end = std::min<size_t>(t.num_rows(), begin + 300 + 250 * (k % 4));
    Table part = SliceRows(t, begin, end);
    if (k % 3 == 1) {
      ASSERT_TRUE((*w)->Append(part).ok());  // may stay buffered or in flight
    } else {
      ASSERT_TRUE(ColumnFileWriter::EncodeRowGroup(part, options, &group).ok());
      EXPECT_EQ(group.rows(), end - begin);
      ASSERT_TRUE((*w)->AppendRowGroup(group).ok());
    }
    begin = end;
  }
  ASSERT_TRUE(ColumnFileWriter::EncodeRowGroup(Table(t.schema()), options, &group).ok());
  ASSERT_TRUE((*w)->AppendRowGroup(group).ok()) << "an empty group writes nothing";
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->rows_written(), t.num_rows());
  auto back = ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(TablesEqual(*back, t));

  // One encoded group of all rows gives the bytes of one appended group.
  ColumnFileOptions one;
  one.row_group_rows = t.num_rows();
  WriteFile(dir.Join("appended.cdpc"), t, one);
  auto e = ColumnFileWriter::Create(env(), dir.Join("encoded.cdpc"), t.schema(), one);
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(ColumnFileWriter::EncodeRowGroup(t, one, &group).ok());
  ASSERT_TRUE((*e)->AppendRowGroup(group).ok());
  ASSERT_TRUE((*e)->Finish().ok());
  EXPECT_EQ(Slurp(dir.Join("encoded.cdpc")), Slurp(dir.Join("appended.cdpc")));

  // A group of another schema is refused, and the file is not broken by it.
  Table other{Schema({{"x", DataType::kInt64, {}}})};
  other.mutable_column(0).AppendInt64(1);
  other.FinishRow();
  ASSERT_TRUE(ColumnFileWriter::EncodeRowGroup(other, options, &group).ok());
  auto f = ColumnFileWriter::Create(env(), dir.Join("refused.cdpc"), t.schema(), options);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->AppendRowGroup(group).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*f)->Append(t).ok());
  ASSERT_TRUE((*f)->Finish().ok());
  auto refused = ReadFile(dir.Join("refused.cdpc"));
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(TablesEqual(*refused, t));
}

TEST(ColumnFileTest, WriterOnAPoolCanBeDroppedWithGroupsInFlight) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(3000, 22);
  ThreadPool pool(2);
  ColumnFileOptions options;
  options.row_group_rows = 100;
  options.pool = &pool;
  auto w = ColumnFileWriter::Create(env(), dir.Join("dropped.cdpc"), t.schema(), options);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(t).ok());
  w->reset();  // no Finish: the file is unreadable, nothing crashes
  EXPECT_EQ(ReadFile(dir.Join("dropped.cdpc")).status().code(), StatusCode::kDataLoss);
}

TEST(ColumnFileTest, EmptyFileHasSchemaAndNoRows) {
  ScratchDir dir;
  auto w = ColumnFileWriter::Create(env(), dir.Join("e.cdpc"), AllTypesSchema());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(Table(AllTypesSchema())).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->rows_written(), 0u);
  EXPECT_EQ((*w)->bytes_written(), env()->GetFileSize(dir.Join("e.cdpc")).value());

  auto r = ColumnFileReader::Open(env(), dir.Join("e.cdpc"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->num_rows(), 0u);
  EXPECT_EQ((*r)->num_row_groups(), 0u);
  EXPECT_EQ((*r)->schema(), AllTypesSchema());
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->num_rows(), 0u);
  EXPECT_EQ(all->num_columns(), 6u);
}

TEST(ColumnFileTest, FileWithoutColumnsKeepsItsRowCount) {
  ScratchDir dir;
  Table t{Schema()};
  for (int i = 0; i < 5; ++i) t.FinishRow();
  WriteFile(dir.Join("z.cdpc"), t);
  auto back = ReadFile(dir.Join("z.cdpc"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->num_rows(), 5u);
  EXPECT_EQ(back->num_columns(), 0u);
}

TEST(ColumnFileTest, BatchesOfAnySizeFormRowGroupsOfTheConfiguredSize) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(2000, 2);
  ColumnFileOptions options;
  options.row_group_rows = 100;
  auto w = ColumnFileWriter::Create(env(), dir.Join("b.cdpc"), t.schema(), options);
  ASSERT_TRUE(w.ok());
  // Batch sizes chosen to cross both row-group and 64-bit bitmap boundaries.
  const size_t sizes[] = {1, 63, 64, 65, 7, 250, 0, 129, 1000};
  size_t pos = 0;
  for (size_t i = 0; pos < t.num_rows(); ++i) {
    size_t n = std::min(sizes[i % std::size(sizes)], t.num_rows() - pos);
    ASSERT_TRUE((*w)->Append(SliceRows(t, pos, pos + n)).ok());
    pos += n;
    EXPECT_EQ((*w)->rows_written(), pos);
  }
  ASSERT_TRUE((*w)->Finish().ok());

  auto r = ColumnFileReader::Open(env(), dir.Join("b.cdpc"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)->num_row_groups(), 20u);
  for (size_t g = 0; g < 20; ++g) EXPECT_EQ((*r)->row_group_num_rows(g), 100u);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_TRUE(TablesEqual(*all, t));
}

TEST(ColumnFileTest, LastRowGroupHoldsTheRemainder) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(250, 3);
  ColumnFileOptions options;
  options.row_group_rows = 100;
  WriteFile(dir.Join("r.cdpc"), t, options);
  auto r = ColumnFileReader::Open(env(), dir.Join("r.cdpc"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)->num_row_groups(), 3u);
  EXPECT_EQ((*r)->row_group_num_rows(2), 50u);
  auto last = (*r)->ReadRowGroup(2);
  ASSERT_TRUE(last.ok());
  EXPECT_TRUE(TablesEqual(*last, SliceRows(t, 200, 250)));
}

TEST(ColumnFileTest, RowGroupByteLimitBoundsLargeStrings) {
  ScratchDir dir;
  Table t(Schema({{"id", DataType::kInt64, {}}, {"blob", DataType::kString, {}}}));
  for (int i = 0; i < 40; ++i) {
    t.mutable_column(0).AppendInt64(i);
    t.mutable_column(1).AppendString(std::string(i == 20 ? 5000 : 300, static_cast<char>('a' + i % 26)));
    t.FinishRow();
  }
  ColumnFileOptions options;
  options.row_group_bytes = 1000;  // about 3 rows of 316 bytes; row 20 alone exceeds it
  WriteFile(dir.Join("s.cdpc"), t, options);
  auto r = ColumnFileReader::Open(env(), dir.Join("s.cdpc"));
  ASSERT_TRUE(r.ok());
  size_t rows = 0;
  for (size_t g = 0; g < (*r)->num_row_groups(); ++g) {
    uint64_t n = (*r)->row_group_num_rows(g);
    EXPECT_GE(n, 1u);
    if (rows == 20) {
      EXPECT_EQ(n, 1u) << "the oversized row forms its own group";
    } else {
      EXPECT_LE(n, 3u) << "group " << g;
    }
    rows += n;
  }
  EXPECT_EQ(rows, 40u);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(TablesEqual(*all, t));
}

TEST(ColumnFileTest, ProjectionReturnsRequestedColumnsInRequestedOrder) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(300, 4);
  ColumnFileOptions options;
  options.row_group_rows = 128;
  WriteFile(dir.Join("p.cdpc"), t, options);
  auto r = ColumnFileReader::Open(env(), dir.Join("p.cdpc"));
  ASSERT_TRUE(r.ok());

  std::vector<int> cols = {4, 1};
  auto p = (*r)->ReadAll(&cols);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->num_columns(), 2u);
  EXPECT_EQ(p->schema().field(0), t.schema().field(4));
  EXPECT_EQ(p->schema().field(1), t.schema().field(1));
  Table expected(p->schema());
  expected.mutable_column(0) = t.column(4);
  expected.mutable_column(1) = t.column(1);
  ASSERT_TRUE(expected.Validate().ok());
  EXPECT_TRUE(TablesEqual(*p, expected));

  auto g1 = (*r)->ReadRowGroup(1, &cols);
  ASSERT_TRUE(g1.ok());
  EXPECT_TRUE(TablesEqual(*g1, SliceRows(expected, 128, 256)));

  std::vector<int> none;
  auto empty = (*r)->ReadAll(&none);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->num_columns(), 0u);
  EXPECT_EQ(empty->num_rows(), 300u);
}

TEST(ColumnFileTest, BadProjectionOrRowGroupIsInvalidArgument) {
  ScratchDir dir;
  WriteFile(dir.Join("p.cdpc"), MakeAllTypesTable(10, 5));
  auto r = ColumnFileReader::Open(env(), dir.Join("p.cdpc"));
  ASSERT_TRUE(r.ok());
  std::vector<int> out_of_range = {6};
  std::vector<int> negative = {-1};
  std::vector<int> repeated = {2, 2};
  EXPECT_EQ((*r)->ReadAll(&out_of_range).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*r)->ReadAll(&negative).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*r)->ReadAll(&repeated).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*r)->ReadRowGroup(1).status().code(), StatusCode::kInvalidArgument);
}

TEST(ColumnFileTest, WriterRejectsDuplicateFieldsAndMismatchedBatches) {
  ScratchDir dir;
  Schema dup({{"a", DataType::kInt64, {}}, {"a", DataType::kString, {}}});
  EXPECT_EQ(ColumnFileWriter::Create(env(), dir.Join("d.cdpc"), dup).status().code(),
            StatusCode::kInvalidArgument);
  ColumnFileOptions bad;
  bad.row_group_rows = 0;
  EXPECT_EQ(ColumnFileWriter::Create(env(), dir.Join("d.cdpc"), AllTypesSchema(), bad).status().code(),
            StatusCode::kInvalidArgument);

  auto w = ColumnFileWriter::Create(env(), dir.Join("m.cdpc"), AllTypesSchema());
  ASSERT_TRUE(w.ok());
  Table other(Schema({{"x", DataType::kInt64, {}}}));
  EXPECT_EQ((*w)->Append(other).code(), StatusCode::kInvalidArgument);
  Schema retyped = AllTypesSchema();
  Schema changed;
  for (size_t i = 0; i < retyped.num_fields(); ++i) {
    Field f = retyped.field(i);
    if (i == 2) f.type = DataType::kInt64;
    changed.AddField(f);
  }
  EXPECT_EQ((*w)->Append(Table(changed)).code(), StatusCode::kInvalidArgument);
  Table ragged(AllTypesSchema());
  ragged.mutable_column(0).AppendInt64(1);
  ragged.FinishRow();  // only one column got a value
  EXPECT_EQ((*w)->Append(ragged).code(), StatusCode::kInvalidArgument);
  // The writer is still usable after rejected batches.
  Table good = MakeAllTypesTable(3, 6);
  ASSERT_TRUE((*w)->Append(good).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  EXPECT_EQ((*w)->Append(good).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*w)->Finish().ok()) << "Finish is idempotent";
  auto back = ReadFile(dir.Join("m.cdpc"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(TablesEqual(*back, good));
}

TEST(ColumnFileTest, WriteErrorIsStickyAndReported) {
  ScratchDir dir;
  FaultInjectionEnv fenv(env());
  ColumnFileOptions options;
  options.row_group_rows = 10;
  auto w = ColumnFileWriter::Create(&fenv, dir.Join("f.cdpc"), AllTypesSchema(), options);
  ASSERT_TRUE(w.ok());
  fenv.InjectFault(fenv.mutating_ops(), FaultInjectionEnv::FaultMode::kFailOnce);
  Status s = (*w)->Append(MakeAllTypesTable(25, 7));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected fault"), std::string::npos) << s.ToString();
  EXPECT_EQ((*w)->Append(MakeAllTypesTable(5, 7)).ToString(), s.ToString());
  EXPECT_EQ((*w)->Finish().ToString(), s.ToString());
}

TEST(ColumnFileTest, FinishFailsWhenSyncFails) {
  ScratchDir dir;
  FaultInjectionEnv fenv(env());
  auto w = ColumnFileWriter::Create(&fenv, dir.Join("f.cdpc"), AllTypesSchema());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append(MakeAllTypesTable(25, 8)).ok());
  // Finish does: chunk appends (6 columns), footer, tail, sync, close.
  fenv.InjectFault(fenv.mutating_ops() + 8, FaultInjectionEnv::FaultMode::kFailOnce);
  Status s = (*w)->Finish();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sync"), std::string::npos) << s.ToString();
}

TEST(ColumnFileTest, CompressesRepetitiveData) {
  ScratchDir dir;
  Table t(Schema({{"country", DataType::kString, {}}, {"n", DataType::kInt64, {}}}));
  for (int i = 0; i < 100000; ++i) {
    t.mutable_column(0).AppendString("United Kingdom");
    t.mutable_column(1).AppendInt64(i % 10);
    t.FinishRow();
  }
  WriteFile(dir.Join("c.cdpc"), t);
  uint64_t size = env()->GetFileSize(dir.Join("c.cdpc")).value();
  EXPECT_LT(size, t.MemoryUsage() / 20) << "raw " << t.MemoryUsage();
  auto back = ReadFile(dir.Join("c.cdpc"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(TablesEqual(*back, t));
}

TEST(ColumnFileTest, DefaultOptionsSplitLargeBatchesIntoRowGroups) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(300000, 9, 3);
  WriteFile(dir.Join("l.cdpc"), t);
  auto r = ColumnFileReader::Open(env(), dir.Join("l.cdpc"));
  ASSERT_TRUE(r.ok());
  const size_t group = ColumnFileOptions().row_group_rows;
  ASSERT_LT(group, 300000u);
  EXPECT_EQ((*r)->num_row_groups(), (300000 + group - 1) / group);
  auto all = (*r)->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(TablesEqual(*all, t));
}

TEST(ColumnFileTest, MissingFileIsNotFoundAndForeignFileIsDataLoss) {
  ScratchDir dir;
  EXPECT_EQ(ColumnFileReader::Open(env(), dir.Join("nope.cdpc")).status().code(), StatusCode::kNotFound);
  Spit(dir.Join("text.cdpc"), std::string(100, 'x'));
  auto s = ColumnFileReader::Open(env(), dir.Join("text.cdpc")).status();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(dir.Join("text.cdpc")), std::string::npos) << s.ToString();
}

// A small file of three row groups covering every type.
std::string SmallFile(const ScratchDir& dir, Table* table) {
  *table = MakeAllTypesTable(20, 10, 4);
  ColumnFileOptions options;
  options.row_group_rows = 8;
  std::string path = dir.Join("small.cdpc");
  WriteFile(path, *table, options);
  return Slurp(path);
}

// Opens and fully reads `path`; the result must be DataLoss naming the file.
void ExpectDataLoss(const std::string& path, const std::string& what) {
  auto back = ReadFile(path);
  ASSERT_FALSE(back.ok()) << what << " was not detected";
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss) << what << ": " << back.status().ToString();
  EXPECT_NE(back.status().message().find(path), std::string::npos) << back.status().ToString();
}

TEST(ColumnFileTest, EveryFlippedByteIsDetected) {
  ScratchDir dir;
  Table t;
  const std::string good = SmallFile(dir, &t);
  ASSERT_GT(good.size(), 200u);
  const std::string path = dir.Join("flipped.cdpc");
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Spit(path, bad);
      ExpectDataLoss(path, "flip of byte " + std::to_string(i) + " with mask " + std::to_string(mask));
    }
  }
}

TEST(ColumnFileTest, TruncationAtEveryLengthIsDetected) {
  ScratchDir dir;
  Table t;
  const std::string good = SmallFile(dir, &t);
  const std::string path = dir.Join("truncated.cdpc");
  for (size_t n = 0; n < good.size(); ++n) {
    Spit(path, good.substr(0, n));
    ExpectDataLoss(path, "truncation to " + std::to_string(n) + " bytes");
  }
  // Appended garbage moves the tail, which is detected as well.
  Spit(path, good + "garbage!");
  ExpectDataLoss(path, "trailing garbage");
}

TEST(ColumnFileTest, CorruptChunkErrorNamesRowGroupAndColumn) {
  ScratchDir dir;
  Table t;
  std::string bad = SmallFile(dir, &t);
  bad[9] = static_cast<char>(bad[9] ^ 0x10);  // inside the first chunk: row group 0, column 0
  const std::string path = dir.Join("chunk.cdpc");
  Spit(path, bad);
  auto r = ColumnFileReader::Open(env(), path);
  ASSERT_TRUE(r.ok()) << "the footer is intact";
  auto g = (*r)->ReadRowGroup(0);
  ASSERT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(g.status().message().find("row group 0 column 'Contact Id'"), std::string::npos)
      << g.status().ToString();
  // Other row groups and columns stay readable.
  std::vector<int> email = {1};
  EXPECT_TRUE((*r)->ReadRowGroup(0, &email).ok());
  auto g1 = (*r)->ReadRowGroup(1);
  ASSERT_TRUE(g1.ok());
  EXPECT_TRUE(TablesEqual(*g1, SliceRows(t, 8, 16)));
}

// A footer rewritten with a valid checksum but nonsense values (as a buggy or
// hostile writer could produce) must be rejected or read safely, never crash
// or allocate unbounded memory.
TEST(ColumnFileTest, FooterWithValidChecksumButBadSizesIsRejectedSafely) {
  ScratchDir dir;
  Table t;
  const std::string good = SmallFile(dir, &t);
  const size_t tail = 24;
  uint64_t footer_len;
  std::memcpy(&footer_len, good.data() + good.size() - tail + 8, 8);
  const size_t footer_start = good.size() - tail - footer_len;
  const std::string path = dir.Join("crafted.cdpc");
  const uint64_t patterns[] = {0,          1, 0xFF, 0x7FFFFFFF, 0xFFFFFFFF, uint64_t{1} << 40, ~uint64_t{0},
                               good.size()};
  size_t ok_count = 0;
  for (size_t pos = footer_start; pos + 1 <= footer_start + footer_len; ++pos) {
    for (uint64_t pattern : patterns) {
      std::string bad = good;
      size_t n = std::min<size_t>(8, footer_start + footer_len - pos);
      std::memcpy(bad.data() + pos, &pattern, n);
      uint64_t sum = XXH3_64bits(bad.data() + footer_start, footer_len);
      std::memcpy(bad.data() + bad.size() - tail, &sum, 8);
      Spit(path, bad);
      auto back = ReadFile(path);
      if (back.ok()) {
        ++ok_count;
        EXPECT_TRUE(back->Validate().ok());
      } else {
        EXPECT_EQ(back.status().code(), StatusCode::kDataLoss)
            << "at " << pos << ": " << back.status().ToString();
      }
    }
  }
  // Most rewrites break a checked invariant; only names, semantic types and
  // same-width type changes can pass.
  EXPECT_LT(ok_count, footer_len * std::size(patterns) / 4);
}

// Rewrites the footer of a one-row-group file so that the group and the file
// claim `rows` rows, with a valid footer checksum.
std::string WithClaimedRows(const std::string& file, size_t num_fields_offset_to_rows, uint64_t rows) {
  std::string bad = file;
  uint64_t footer_len;
  std::memcpy(&footer_len, bad.data() + bad.size() - 16, 8);
  const size_t footer_start = bad.size() - 24 - footer_len;
  const size_t num_rows_at = footer_start + num_fields_offset_to_rows;
  std::memcpy(bad.data() + num_rows_at, &rows, 8);       // u64 num_rows
  std::memcpy(bad.data() + num_rows_at + 12, &rows, 8);  // after u32 num_row_groups: u64 rows of group 0
  uint64_t sum = XXH3_64bits(bad.data() + footer_start, footer_len);
  std::memcpy(bad.data() + bad.size() - 24, &sum, 8);
  return bad;
}

TEST(ColumnFileTest, FooterClaimingHugeRowCountsIsRejectedBeforeAllocating) {
  ScratchDir dir;
  // One int64 column "n" without semantic type: the footer is
  // u32 version, u32 num_fields, (u32 1, "n", u8 type, u32 0), u64 num_rows, ...
  Table t(Schema({{"n", DataType::kInt64, {}}}));
  for (int i = 0; i < 10; ++i) {
    t.mutable_column(0).AppendInt64(i);
    t.FinishRow();
  }
  WriteFile(dir.Join("one.cdpc"), t);
  const std::string path = dir.Join("huge.cdpc");
  for (uint64_t rows : {uint64_t{1} << 30, uint64_t{1} << 40}) {
    Spit(path, WithClaimedRows(Slurp(dir.Join("one.cdpc")), 4 + 4 + 4 + 1 + 1 + 4, rows));
    ExpectDataLoss(path, "a claim of " + std::to_string(rows) + " rows");
  }
  // Without columns nothing backs the row count.
  Table empty{Schema()};
  for (int i = 0; i < 3; ++i) empty.FinishRow();
  WriteFile(dir.Join("none.cdpc"), empty);
  Spit(path, WithClaimedRows(Slurp(dir.Join("none.cdpc")), 4 + 4, uint64_t{1} << 40));
  ExpectDataLoss(path, "a claim of 2^40 rows without columns");
  auto w = ColumnFileWriter::Create(env(), dir.Join("many.cdpc"), Schema());
  ASSERT_TRUE(w.ok());
  Table lots{Schema()};
  for (int i = 0; i < (1 << 24) + 1; ++i) lots.FinishRow();
  EXPECT_EQ((*w)->Append(lots).code(), StatusCode::kInvalidArgument);
}

TEST(ColumnFileTest, ConcurrentReadsOfOneReaderAgree) {
  ScratchDir dir;
  Table t = MakeAllTypesTable(2000, 11);
  ColumnFileOptions options;
  options.row_group_rows = 100;
  WriteFile(dir.Join("c.cdpc"), t, options);
  auto r = ColumnFileReader::Open(env(), dir.Join("c.cdpc"));
  ASSERT_TRUE(r.ok());
  const ColumnFileReader& reader = **r;
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (size_t g = static_cast<size_t>(k); g < reader.num_row_groups(); g += 2) {
        auto group = reader.ReadRowGroup(g);
        if (group.ok() && TablesEqual(*group, SliceRows(t, g * 100, g * 100 + 100))) ++ok[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, (std::vector<int>{10, 10, 9, 9}));
}

}  // namespace
}  // namespace cdp
