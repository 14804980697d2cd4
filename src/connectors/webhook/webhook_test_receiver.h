// WebhookTestReceiver: a webhook receiver for tests and benchmarks (of the
// webhook destination, the export runner, triggers): a real HTTP server on a
// free loopback port that does what docs/destinations.md asks of a receiver
// (verifies X-CDP-Signature, deduplicates batches by Idempotency-Key, applies
// each new batch's rows to its state by key) and injects faults: a share of
// 500s, 429s, answers delayed past the client's timeout and connections
// closed without an answer. Whether a request gets a fault depends only on
// the seed, the batch's idempotency key and how often that key was seen, so
// a run is repeatable. Half of the delayed and dropped requests are applied
// before the fault (the receiver got the batch, the sender never heard), so
// deduplication is exercised too.
// Thread-safe: requests arrive on several connections at once; every
// accessor takes the lock and returns a copy.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/http/http_test_server.h"

namespace cdp {

struct WebhookFaults {
  double share_500 = 0;      // answer 500
  double share_429 = 0;      // answer 429 with Retry-After: retry_after
  double share_delay = 0;    // answer 200 after delay_ms (set it above the client's timeout_ms)
  double share_drop = 0;     // close the connection without answering
  int delay_ms = 1500;
  std::string retry_after = "0";
  uint64_t seed = 1;
  // A key gets at most this many faults, then is accepted (-1: no limit), so
  // a test with max_attempts above it knows every batch gets through.
  int max_faults_per_key = -1;
};

struct WebhookReceiverStats {
  int64_t requests = 0;            // every request that reached the handler
  int64_t accepted_batches = 0;    // distinct idempotency keys applied
  int64_t duplicate_batches = 0;   // requests for a key already applied (answered 200, not applied)
  int64_t rows_applied = 0;        // rows of accepted batches
  int64_t faults_500 = 0, faults_429 = 0, faults_delay = 0, faults_drop = 0;
  int64_t rejected = 0;            // 4xx answered on purpose (forced status, bad signature, bad body)
  int64_t bad_signatures = 0;
  int64_t full_runs_completed = 0;  // full runs whose rows all arrived (the set was replaced)
  std::vector<std::string> order_violations;  // a batch applied out of sequence within its run
};

// One accepted batch, in the order batches were applied.
struct WebhookReceivedBatch {
  std::string idempotency_key;
  std::string export_name;
  int64_t run = 0;
  int64_t batch = 0;
  std::string mode;    // "full" or "delta"
  std::string target;
  int64_t rows = 0;
  int64_t total_rows = 0;  // of the whole run
};

class WebhookTestReceiver {
 public:
  WebhookTestReceiver() = default;
  ~WebhookTestReceiver() { Stop(); }
  WebhookTestReceiver(const WebhookTestReceiver&) = delete;
  WebhookTestReceiver& operator=(const WebhookTestReceiver&) = delete;

  // `hmac_secret` empty: signatures are not required (but a request with a
  // wrong one is still refused when a secret is set).
  // `keep_events` false: Events() stays empty (benchmarks of many rows).
  Status Start(std::string hmac_secret = "", WebhookFaults faults = {}, bool keep_events = true);
  void Stop() { server_.Stop(); }
  std::string url() const { return server_.base_url() + "/hook"; }

  void SetFaults(const WebhookFaults& faults);
  // Answers every request carrying `idempotency_key` with `status` (e.g. 400,
  // or 503 for a batch that never gets through); 0 removes the override.
  void ForceStatus(const std::string& idempotency_key, int status);
  // Answers every request with `status` (0: back to normal).
  void ForceStatusForAll(int status);
  // Applies `batches` more batches, then answers every request with
  // `status` (as ForceStatusForAll) until ForceStatusForAll(0).
  void ForceStatusAfterBatches(int64_t batches, int status);

  WebhookReceiverStats stats() const;
  std::vector<WebhookReceivedBatch> batches() const;
  // The rows an export left after applying every accepted batch in order:
  // key value -> the row's fields as a compact JSON object (keys sorted,
  // without "change"). "added" and "changed" set the row, "removed" erases
  // it; once a full run's batches brought its total_rows rows, keys that run
  // did not send are erased (a full run replaces the set).
  std::map<std::string, std::string> State(const std::string& export_name) const;
  // Every row received for an export, in order, as compact JSON (with
  // "change"): for event streams such as triggers.
  std::vector<std::string> Events(const std::string& export_name) const;
  // Keys of the requests for `idempotency_key` seen so far (attempts).
  int64_t Attempts(const std::string& idempotency_key) const;

 private:
  TestHttpReply Handle(const TestHttpRequest& req);

  TestHttpServer server_;
  std::string secret_;
  bool keep_events_ = true;
  mutable std::mutex mu_;
  WebhookFaults faults_;                                   // GUARDED_BY(mu_)
  std::map<std::string, int> forced_;                      // GUARDED_BY(mu_)
  int forced_all_ = 0;                                     // GUARDED_BY(mu_)
  int64_t force_after_ = -1;                               // GUARDED_BY(mu_) accepted_batches that arms it
  int force_after_status_ = 0;                             // GUARDED_BY(mu_)
  WebhookReceiverStats stats_;                             // GUARDED_BY(mu_)
  std::map<std::string, int64_t> attempts_;                // GUARDED_BY(mu_) key -> requests seen
  std::map<std::string, int> faults_by_key_;               // GUARDED_BY(mu_)
  std::set<std::string> applied_;                          // GUARDED_BY(mu_) idempotency keys
  std::vector<WebhookReceivedBatch> batches_;              // GUARDED_BY(mu_)
  std::map<std::pair<std::string, int64_t>, int64_t> next_batch_;  // GUARDED_BY(mu_) (export, run) -> next seq
  std::map<std::string, std::map<std::string, std::string>> state_;  // GUARDED_BY(mu_)
  std::map<std::string, std::vector<std::string>> events_;          // GUARDED_BY(mu_)
  // Keys sent so far by each full run, until it is complete.
  std::map<std::pair<std::string, int64_t>, std::set<std::string>> full_run_keys_;  // GUARDED_BY(mu_)
};

}  // namespace cdp
