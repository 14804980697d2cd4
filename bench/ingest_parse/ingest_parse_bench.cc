// Micro-benchmark of the ingest module: CSV field splitting, range splitting
// and conversion to typed columns on a generated typed CSV.
//
//   ingest_parse_bench [--mb 200] [--file path] [--threads 2] [--keep]
//   ingest_parse_bench --orders path [--mb 200]
//
// Generates a 10-column CSV (3 int64, 2 double, 2 date, 3 string) of about
// --mb megabytes unless --file names an existing one (then with the same
// columns), and prints MB/s for each stage on a warm page cache.
// --orders measures conversion alone on the first --mb megabytes of an orders
// file (OrderId,CustomerId,FirstName,LastName,Email,Amount,Quantity,OrderDate,
// CreatedAt,Active as bench_ingest writes it): ns per value and MiB/s per CPU-s.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ingest/batch_converter.h"
#include "ingest/csv_reader.h"
#include "ingest/jsonl_reader.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU time of the calling thread (user + system), so figures are per core
// even when other processes share the machine.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void Check(const cdp::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

void Generate(const std::string& path, uint64_t bytes) {
  static const char* kNames[] = {"Ann", "Bob", "Carla", "Dmitri", "Eve", "Fatima", "Gustav", "Hiroshi", "Ines",
                                 "Jamal", "Katarzyna", "Liam", "Mohammed", "Nora", "Olivia", "Pedro"};
  static const char* kCities[] = {"Seattle", "Paris", "São Paulo", "München", "Tokyo", "Lagos", "New York",
                                  "Zürich", "Melbourne", "Toronto", "Cape Town", "Kraków"};
  std::mt19937_64 rng(42);
  std::ofstream out(path, std::ios::binary);
  std::string buf = "id,customer_id,quantity,price,discount,order_date,birth_date,first_name,email,city\n";
  uint64_t written = 0;
  char line[512];
  for (uint64_t i = 1; written < bytes; ++i) {
    const int y = 1950 + static_cast<int>(rng() % 60);
    const int m = 1 + static_cast<int>(rng() % 12);
    const int d = 1 + static_cast<int>(rng() % 28);
    const char* name = kNames[rng() % 16];
    int n = std::snprintf(line, sizeof(line), "%llu,%llu,%d,%.2f,%.3f,2023-%02d-%02d,%04d-%02d-%02d,%s,%s.%llu@example.com,%s\n",
                          static_cast<unsigned long long>(i), static_cast<unsigned long long>(rng() % 5000000),
                          static_cast<int>(rng() % 20), static_cast<double>(rng() % 100000) / 100.0,
                          static_cast<double>(rng() % 1000) / 1000.0, m, d, y, m, d, name, name,
                          static_cast<unsigned long long>(rng() % 100000), kCities[rng() % 12]);
    buf.append(line, static_cast<size_t>(n));
    if (buf.size() > (1 << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      written += buf.size();
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

std::vector<cdp::FieldSpec> Specs() {
  using cdp::DataType;
  std::vector<std::pair<const char*, DataType>> cols = {
      {"id", DataType::kInt64},         {"customer_id", DataType::kInt64}, {"quantity", DataType::kInt64},
      {"price", DataType::kDouble},     {"discount", DataType::kDouble},   {"order_date", DataType::kDate},
      {"birth_date", DataType::kDate},  {"first_name", DataType::kString}, {"email", DataType::kString},
      {"city", DataType::kString}};
  std::vector<cdp::FieldSpec> specs;
  for (auto& [name, type] : cols) {
    cdp::FieldSpec f;
    f.name = name;
    f.type = type;
    if (type == DataType::kDate) f.format.date_style = cdp::DateStyle::kIso;
    specs.push_back(f);
  }
  return specs;
}

// The orders file of bench_ingest: int64, int64, 3 strings, double, int64,
// date, timestamp, bool.
std::vector<cdp::FieldSpec> OrderSpecs() {
  using cdp::DataType;
  std::vector<std::pair<const char*, DataType>> cols = {
      {"OrderId", DataType::kInt64},   {"CustomerId", DataType::kInt64},  {"FirstName", DataType::kString},
      {"LastName", DataType::kString}, {"Email", DataType::kString},      {"Amount", DataType::kDouble},
      {"Quantity", DataType::kInt64},  {"OrderDate", DataType::kDate},    {"CreatedAt", DataType::kTimestamp},
      {"Active", DataType::kBool}};
  std::vector<cdp::FieldSpec> specs;
  for (auto& [name, type] : cols) {
    cdp::FieldSpec f;
    f.name = name;
    f.type = type;
    specs.push_back(f);
  }
  return specs;
}

struct RunResult {
  uint64_t records = 0;
  uint64_t fields = 0;
  int64_t converted = 0;
  double convert_seconds = 0;      // wall
  double convert_cpu_seconds = 0;  // thread CPU
};

// Reads `reader` to the end; converts each batch when `converter` is given.
RunResult Run(cdp::RecordReader& reader, const cdp::BatchConverter* converter) {
  RunResult r;
  cdp::RawRecordBatch batch;
  cdp::Table table;
  std::vector<cdp::QuarantinedRecord> quarantine;
  cdp::ConvertStats stats;
  while (true) {
    auto more = reader.Next(&batch, 16384);
    Check(more.status());
    if (!*more) break;
    r.records += batch.num_records();
    r.fields += batch.fields.size();
    if (converter) {
      auto t0 = Clock::now();
      const double c0 = ThreadCpuSeconds();
      table.Clear();  // keep memory bounded, as a writer flushing each batch would
      Check(converter->Convert(batch, &table, &quarantine, &stats));
      r.convert_seconds += Seconds(t0, Clock::now());
      r.convert_cpu_seconds += ThreadCpuSeconds() - c0;
    }
  }
  r.converted = stats.rows_converted;
  return r;
}

// Converts the first `mb` MiB of an orders file (whole records), 3 times,
// reporting conversion CPU alone.
int RunOrders(const std::string& path, uint64_t mb) {
  const std::string head = (std::filesystem::temp_directory_path() / "cdp_ingest_parse_orders.csv").string();
  {
    std::ifstream in(path, std::ios::binary);
    std::string buf(mb << 20, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<size_t>(in.gcount()));
    buf.resize(buf.rfind('\n') + 1);
    std::ofstream out(head, std::ios::binary);
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  }
  const double size_mb = static_cast<double>(std::filesystem::file_size(head)) / (1 << 20);
  cdp::CsvOptions options;
  auto reader = cdp::OpenCsvFile(head, options);
  Check(reader.status());
  auto converter = cdp::BatchConverter::Create(OrderSpecs(), {}, (*reader)->field_names(), head);
  Check(converter.status());
  for (int rep = 0; rep < 3; ++rep) {
    auto r0 = cdp::OpenCsvFile(head, options);
    Check(r0.status());
    RunResult r = Run(**r0, &*converter);
    std::printf("orders convert:      %7.0f MiB/s per CPU-s, %5.2f ns per value  (%.0f MiB, %lld rows, %.3f CPU-s)\n",
                size_mb / r.convert_cpu_seconds, r.convert_cpu_seconds * 1e9 / static_cast<double>(r.fields),
                size_mb, static_cast<long long>(r.converted), r.convert_cpu_seconds);
  }
  std::filesystem::remove(head);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mb = 200;
  std::string file;
  int threads = 2;
  bool keep = false;
  std::string orders;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mb" && i + 1 < argc) mb = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--file" && i + 1 < argc) file = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--keep") keep = true;
    else if (a == "--orders" && i + 1 < argc) orders = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--mb N] [--file path] [--threads N] [--keep] | --orders path [--mb N]\n", argv[0]);
      return 2;
    }
  }
  if (!orders.empty()) return RunOrders(orders, mb);
  const bool generated = file.empty();
  if (generated) {
    file = (std::filesystem::temp_directory_path() / "cdp_ingest_parse_bench.csv").string();
    if (!std::filesystem::exists(file) || std::filesystem::file_size(file) < mb << 20) Generate(file, mb << 20);
  }
  const double size_mb = static_cast<double>(std::filesystem::file_size(file)) / (1 << 20);
  std::printf("file %s: %.1f MiB\n", file.c_str(), size_mb);

  cdp::CsvOptions options;
  {  // warm the page cache
    auto reader = cdp::OpenCsvFile(file, options);
    Check(reader.status());
    Run(**reader, nullptr);
  }
  // 1. Field splitting.
  for (int rep = 0; rep < 2; ++rep) {
    auto t0 = Clock::now();
    const double c0 = ThreadCpuSeconds();
    auto reader = cdp::OpenCsvFile(file, options);
    Check(reader.status());
    RunResult r = Run(**reader, nullptr);
    double s = Seconds(t0, Clock::now());
    double cpu = ThreadCpuSeconds() - c0;
    std::printf("split fields:        %7.0f MiB/s wall, %7.0f MiB/s per CPU-s  (%llu records, %llu fields)\n",
                size_mb / s, size_mb / cpu, static_cast<unsigned long long>(r.records),
                static_cast<unsigned long long>(r.fields));
  }
  // 2. Range splitting.
  auto t0 = Clock::now();
  double c0 = ThreadCpuSeconds();
  auto ranges = cdp::SplitCsvFile(file, options, 16 << 20);
  Check(ranges.status());
  double split_s = Seconds(t0, Clock::now());
  std::printf("SplitCsvFile scan:   %7.0f MiB/s wall, %7.0f MiB/s per CPU-s  (%zu ranges)\n", size_mb / split_s,
              size_mb / (ThreadCpuSeconds() - c0), ranges->size());

  // 3. Read + convert, one thread.
  auto reader = cdp::OpenCsvFile(file, options);
  Check(reader.status());
  auto converter = cdp::BatchConverter::Create(Specs(), {}, (*reader)->field_names(), file);
  Check(converter.status());
  for (int rep = 0; rep < 2; ++rep) {
    auto r0 = cdp::OpenCsvFile(file, options);
    Check(r0.status());
    t0 = Clock::now();
    c0 = ThreadCpuSeconds();
    RunResult r = Run(**r0, &*converter);
    double s = Seconds(t0, Clock::now());
    double cpu = ThreadCpuSeconds() - c0;
    std::printf("read+convert 1 thr:  %7.0f MiB/s wall, %7.0f MiB/s per CPU-s  (convert alone %.0f MiB/s per CPU-s, %lld rows)\n",
                size_mb / s, size_mb / cpu, size_mb / r.convert_cpu_seconds, static_cast<long long>(r.converted));
  }

  // 4. Read + convert over ranges on several threads.
  if (threads > 1) {
    t0 = Clock::now();
    timespec p0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p0);
    auto parallel_ranges = cdp::SplitCsvFile(file, options, std::max<uint64_t>(1, (mb << 20) / (threads * 8)));
    Check(parallel_ranges.status());
    std::atomic<size_t> next{0};
    std::atomic<int64_t> rows{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < parallel_ranges->size();) {
          auto rr = cdp::OpenCsvRange(file, options, (*parallel_ranges)[i]);
          Check(rr.status());
          rows += Run(**rr, &*converter).converted;
        }
      });
    }
    for (auto& th : pool) th.join();
    double s = Seconds(t0, Clock::now());
    timespec p1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p1);
    const double cpu = static_cast<double>(p1.tv_sec - p0.tv_sec) + static_cast<double>(p1.tv_nsec - p0.tv_nsec) * 1e-9;
    std::printf("split+read+convert %d thr: %5.0f MiB/s wall, %5.0f MiB/s per CPU-s  (%lld rows, %.3f s)\n", threads,
                size_mb / s, size_mb / cpu, static_cast<long long>(rows.load()), s);
  }
  // 5. JSON Lines reading, on the first records of the CSV turned into objects.
  {
    const std::string jsonl = file + ".jsonl";
    {
      auto csv = cdp::OpenCsvFile(file, options);
      Check(csv.status());
      const auto names = (*csv)->field_names();
      std::ofstream out(jsonl, std::ios::binary);
      cdp::RawRecordBatch batch;
      uint64_t written = 0;
      std::string line;
      while (written < (mb << 20) / 4 && *(*csv)->Next(&batch, 16384)) {
        for (size_t r = 0; r < batch.num_records(); ++r) {
          line = "{";
          for (size_t f = 0; f < batch.num_fields(r); ++f) {
            if (f > 0) line += ", ";
            const bool number = f < 5;
            line += "\"" + names[f] + "\": ";
            if (f == 7) line += "{\"first\": ";
            if (!number) line += '"';
            line += batch.field(r, f);
            if (!number) line += '"';
            if (f == 7) line += '}';
          }
          line += "}\n";
          out << line;
          written += line.size();
        }
      }
    }
    const double jsonl_mb = static_cast<double>(std::filesystem::file_size(jsonl)) / (1 << 20);
    auto j = cdp::OpenJsonLinesFile(jsonl);
    Check(j.status());
    t0 = Clock::now();
    c0 = ThreadCpuSeconds();
    RunResult r = Run(**j, nullptr);
    double s = Seconds(t0, Clock::now());
    std::printf("JSON Lines read:     %7.0f MiB/s wall, %7.0f MiB/s per CPU-s  (%.0f MiB, %llu records)\n",
                jsonl_mb / s, jsonl_mb / (ThreadCpuSeconds() - c0), jsonl_mb,
                static_cast<unsigned long long>(r.records));
    std::filesystem::remove(jsonl);
  }
  if (generated && !keep) std::filesystem::remove(file);
  return 0;
}
