// bench_exports_webhook: the webhook export destination (kind "webhook") on
// generated customer rows (default 1M, 10 fields, batches of 1,000 as the
// export runner sends them), POSTed to a WebhookTestReceiver on loopback in
// this process (it verifies each HMAC signature, parses the JSON body,
// deduplicates by Idempotency-Key and applies the rows to its state by key).
// Prints figures, never pass/fail:
//  1. no faults: seconds, events (rows) per second, batches per second;
//  2. 10% of requests failed by the receiver (4% HTTP 500, 3% 429 with
//     Retry-After: 0, 3% connections closed without an answer; half of the
//     dropped ones after the receiver applied the batch), retried with
//     backoff_ms 50 and full jitter;
//  3. 10% faults including answers delayed past the client's timeout
//     (2.5% each of 500, 429, dropped and late, timeout_ms 200);
//  4. no faults again (the run-to-run spread);
// and for each, the rows the receiver holds after deduplication: every key
// once, rows applied once (the duplicates it received are counted apart).
// The sender and the receiver share the machine's cores, so the figures are
// of both ends; the CPU seconds of each end are printed too (the wall clock
// depends on what else runs). Generating the rows is timed apart and
// subtracted.
//
// Usage: bench_exports_webhook [--rows N] [--batch N] [--seed N]
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/webhook/webhook_destination.h"
#include "connectors/webhook/webhook_test_receiver.h"

using namespace cdp;
using Clock = std::chrono::steady_clock;

namespace {

double Sec(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds of this thread (the sender: body, signature, libcurl) and of
// the whole process (sender and receiver), so the figures mean something on
// a machine shared with other work.
double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double ProcessCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

const char* kFirst[] = {"James", "Mary", "Robert",  "Patricia", "John",  "Jennifer", "Michael", "Linda",
                        "David", "Zoë",  "William", "Barbara",  "Renée", "Susan",    "Joseph",  "Jessica"};
const char* kLast[] = {"Smith",   "Johnson", "Williams", "Brown",  "Jones",  "García", "Miller",  "Davis",
                       "O'Brien", "Wilson",  "Anderson", "Thomas", "Taylor", "Moore",  "Jackson", "Martin"};
const char* kCity[] = {"Seattle",     "Redmond", "Portland", "San Francisco",
                       "Los Angeles", "Austin",  "Denver",   "Boston"};

ExportSchema Schema() {
  ExportSchema schema;
  schema.fields = {{"CustomerId", DataType::kString}, {"FirstName", DataType::kString},
                   {"LastName", DataType::kString},   {"Email", DataType::kString},
                   {"City", DataType::kString},       {"LifetimeSpend", DataType::kDouble},
                   {"Orders", DataType::kInt64},      {"IsActive", DataType::kBool},
                   {"BirthDate", DataType::kDate},    {"LastSeen", DataType::kTimestamp}};
  schema.key_field = 0;
  return schema;
}

ExportRow Row(int64_t i) {
  ExportRow r;
  char id[24], email[64], spend[32], date[16], ts[32];
  std::snprintf(id, sizeof(id), "C%08" PRId64, i);
  const char* first = kFirst[i % 16];
  const char* last = kLast[(i / 16) % 16];
  std::snprintf(email, sizeof(email), "customer%" PRId64 "@example.com", i);
  std::snprintf(spend, sizeof(spend), "%" PRId64 ".%02d", (i * 37) % 5000, static_cast<int>(i % 100));
  std::snprintf(date, sizeof(date), "19%02d-%02d-%02d", static_cast<int>(50 + i % 50), static_cast<int>(1 + i % 12),
                static_cast<int>(1 + i % 28));
  std::snprintf(ts, sizeof(ts), "2024-%02d-%02dT%02d:%02d:00Z", static_cast<int>(1 + i % 12),
                static_cast<int>(1 + i % 28), static_cast<int>(i % 24), static_cast<int>(i % 60));
  r.values = {std::string(id), std::string(first), std::string(last), std::string(email),
              i % 11 == 0 ? std::optional<std::string>() : std::string(kCity[i % 8]),
              std::string(spend), std::to_string(i % 40), std::string(i % 3 ? "true" : "false"),
              std::string(date), std::string(ts)};
  return r;
}

std::string LoadAverage() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f (on %ld cores)", l[0], sysconf(_SC_NPROCESSORS_ONLN));
  return buf;
}

struct Scenario {
  const char* name;
  WebhookFaults faults;
  int timeout_ms;
};

void Run(const Scenario& sc, int64_t rows, int64_t batch_size, int64_t run_id) {
  WebhookTestReceiver receiver;
  const std::string secret = "bench-secret";
  if (Status s = receiver.Start(secret, sc.faults, /*keep_events=*/false); !s.ok()) {
    std::fprintf(stderr, "receiver: %s\n", s.message().c_str());
    std::exit(1);
  }
  DestinationRegistry registry;
  if (!RegisterWebhookDestination(registry).ok()) std::exit(1);
  ResolvedConnection c;
  c.name = "bench";
  c.kind = "webhook";
  c.settings = {{"url", receiver.url()},
                {"timeout_ms", std::to_string(sc.timeout_ms)},
                {"max_attempts", "20"},
                {"backoff_ms", "50"},
                {"max_backoff_ms", "2000"}};
  c.secrets = {{"hmac_secret", secret}};
  ExportRunInfo info;
  info.export_name = "bench";
  info.export_run_id = run_id;
  info.target = "bench";
  info.schema = Schema();
  info.total_rows = rows;
  auto session = (*registry.Find("webhook"))->begin(c, info);
  if (!session.ok()) {
    std::fprintf(stderr, "begin: %s\n", session.status().message().c_str());
    std::exit(1);
  }
  double gen_s = 0, sender_cpu = 0;
  int64_t failed_batches = 0;
  const double process_cpu0 = ProcessCpu();
  auto t0 = Clock::now();
  for (int64_t seq = 0, start = 0; start < rows; ++seq, start += batch_size) {
    auto g0 = Clock::now();
    ExportBatch b;
    b.sequence = seq;
    b.idempotency_key = "bench:" + std::to_string(run_id) + ":" + std::to_string(seq);
    b.rows.reserve(static_cast<size_t>(batch_size));
    for (int64_t i = start; i < std::min(rows, start + batch_size); ++i) b.rows.push_back(Row(i));
    gen_s += Sec(g0, Clock::now());
    const double c0 = ThreadCpu();
    Status s = (*session)->Write(b);
    sender_cpu += ThreadCpu() - c0;
    if (!s.ok()) {
      ++failed_batches;
      std::fprintf(stderr, "batch %" PRId64 ": %s\n", seq, s.message().c_str());
    }
  }
  Status commit = (*session)->Commit();
  double total = Sec(t0, Clock::now()) - gen_s;
  double process_cpu = ProcessCpu() - process_cpu0 - gen_s;  // generation is single-threaded CPU work
  WebhookReceiverStats st = receiver.stats();
  std::map<std::string, std::string> state = receiver.State("bench");
  // Exactly once after dedup: each generated key held once, with its row.
  int64_t present = 0;
  for (int64_t i = 0; i < rows; ++i) {
    char id[24];
    std::snprintf(id, sizeof(id), "C%08" PRId64, i);
    present += state.count(id);
  }
  int64_t batches = (rows + batch_size - 1) / batch_size;
  std::printf("%s\n", sc.name);
  std::printf("  %.2f s, %.0f events/s, %.1f batches/s (row generation %.2f s, subtracted)\n", total,
              static_cast<double>(rows) / total, static_cast<double>(batches) / total, gen_s);
  std::printf("  CPU: sender %.2f s (%.0f events per sender CPU second), receiver and rest %.2f s, "
              "load average at the end %s\n",
              sender_cpu, static_cast<double>(rows) / sender_cpu, process_cpu - sender_cpu, LoadAverage().c_str());
  std::printf("  requests %" PRId64 " for %" PRId64 " batches: faults 500=%" PRId64 " 429=%" PRId64
              " dropped=%" PRId64 " late=%" PRId64 "; duplicates received %" PRId64 "\n",
              st.requests, batches, st.faults_500, st.faults_429, st.faults_drop, st.faults_delay,
              st.duplicate_batches);
  std::printf("  delivered: rows_delivered %" PRId64 ", batches failed %" PRId64 ", commit %s\n",
              (*session)->rows_delivered(), failed_batches, commit.ok() ? "ok" : commit.message().c_str());
  std::printf("  receiver after dedup: %zu keys held, %" PRId64 " of %" PRId64 " expected keys present, rows applied %" PRId64
              ", bad signatures %" PRId64 ", order violations %zu => %s\n",
              state.size(), present, rows, st.rows_applied, st.bad_signatures, st.order_violations.size(),
              (present == rows && static_cast<int64_t>(state.size()) == rows && st.rows_applied == rows &&
               st.order_violations.empty())
                  ? "every row exactly once"
                  : "NOT exactly once");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 1000000, batch = 1000;
  uint64_t seed = 17;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--rows N] [--batch N] [--seed N]\n", argv[0]);
      return 2;
    }
  }
  if (rows <= 0 || batch <= 0) return 2;
  std::printf("bench_exports_webhook: %" PRId64 " rows (10 fields) in batches of %" PRId64
              ", signed, to a loopback receiver; seed %" PRIu64 "\n",
              rows, batch, seed);
  Scenario none{"1. no faults", {}, 10000};
  none.faults.seed = seed;
  Scenario ten{"2. 10% faults (4% 500, 3% 429, 3% dropped connections)", {}, 10000};
  ten.faults.share_500 = 0.04;
  ten.faults.share_429 = 0.03;
  ten.faults.share_drop = 0.03;
  ten.faults.seed = seed;
  Scenario late{"3. 10% faults (2.5% each of 500, 429, dropped, late past timeout_ms 200)", {}, 200};
  late.faults.share_500 = 0.025;
  late.faults.share_429 = 0.025;
  late.faults.share_drop = 0.025;
  late.faults.share_delay = 0.025;
  late.faults.delay_ms = 1000;
  late.faults.seed = seed;
  Run(none, rows, batch, 1);
  Run(ten, rows, batch, 2);
  Run(late, rows, batch, 3);
  // The first scenario again: the spread between 1 and 4 is what other work
  // on the machine does to the wall clock (the CPU seconds vary less).
  Scenario again = none;
  again.name = "4. no faults, repeated";
  Run(again, rows, batch, 4);
  return 0;
}
