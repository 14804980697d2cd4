#include "connectors/webhook/webhook_test_receiver.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace cdp {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashText(std::string_view s) {  // FNV-1a, stable across runs and builds
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// A uniform number in [0, 1) from the seed, the key, the request's number
// for that key and a salt.
double Draw(uint64_t seed, std::string_view key, int64_t nth, uint64_t salt) {
  uint64_t h = Mix(Mix(seed ^ HashText(key)) ^ Mix(static_cast<uint64_t>(nth) * 0x100000001b3ULL + salt));
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);
}

// The expected X-CDP-Signature, computed with OpenSSL's EVP_Q_mac (not the
// destination's code path), compared in constant time.
bool SignatureMatches(const std::string& secret, const std::string& body, const std::string& header) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, nullptr, params, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof(mac), &len) == nullptr) {
    return false;
  }
  static const char kHex[] = "0123456789abcdef";
  std::string expected = "sha256=";
  for (size_t i = 0; i < len; ++i) {
    expected += kHex[mac[i] >> 4];
    expected += kHex[mac[i] & 15];
  }
  return header.size() == expected.size() && CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

TestHttpReply Reply(int status, std::string body) {
  TestHttpReply r;
  r.status = status;
  r.headers = {{"Content-Type", "text/plain"}};
  r.body = std::move(body);
  return r;
}

}  // namespace

Status WebhookTestReceiver::Start(std::string hmac_secret, WebhookFaults faults, bool keep_events) {
  secret_ = std::move(hmac_secret);
  keep_events_ = keep_events;
  {
    std::lock_guard<std::mutex> l(mu_);
    faults_ = faults;
  }
  return server_.Start([this](const TestHttpRequest& req) { return Handle(req); });
}

void WebhookTestReceiver::SetFaults(const WebhookFaults& faults) {
  std::lock_guard<std::mutex> l(mu_);
  faults_ = faults;
}

void WebhookTestReceiver::ForceStatus(const std::string& idempotency_key, int status) {
  std::lock_guard<std::mutex> l(mu_);
  if (status == 0) {
    forced_.erase(idempotency_key);
  } else {
    forced_[idempotency_key] = status;
  }
}

void WebhookTestReceiver::ForceStatusForAll(int status) {
  std::lock_guard<std::mutex> l(mu_);
  forced_all_ = status;
  force_after_ = -1;
}

void WebhookTestReceiver::ForceStatusAfterBatches(int64_t batches, int status) {
  std::lock_guard<std::mutex> l(mu_);
  force_after_ = stats_.accepted_batches + batches;
  force_after_status_ = status;
}

WebhookReceiverStats WebhookTestReceiver::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

std::vector<WebhookReceivedBatch> WebhookTestReceiver::batches() const {
  std::lock_guard<std::mutex> l(mu_);
  return batches_;
}

std::map<std::string, std::string> WebhookTestReceiver::State(const std::string& export_name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = state_.find(export_name);
  return it == state_.end() ? std::map<std::string, std::string>{} : it->second;
}

std::vector<std::string> WebhookTestReceiver::Events(const std::string& export_name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = events_.find(export_name);
  return it == events_.end() ? std::vector<std::string>{} : it->second;
}

int64_t WebhookTestReceiver::Attempts(const std::string& idempotency_key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = attempts_.find(idempotency_key);
  return it == attempts_.end() ? 0 : it->second;
}

TestHttpReply WebhookTestReceiver::Handle(const TestHttpRequest& req) {
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.requests;
  if (req.method != "POST") return Reply(405, "POST a batch\n");
  if (req.target != "/hook") return Reply(404, "not here\n");
  const std::string key = req.Header("idempotency-key");
  if (key.empty()) {
    ++stats_.rejected;
    return Reply(400, "Idempotency-Key missing\n");
  }
  int64_t nth = ++attempts_[key];
  if (force_after_ >= 0 && stats_.accepted_batches >= force_after_) {
    forced_all_ = force_after_status_;
    force_after_ = -1;
  }

  if (forced_all_ != 0 || forced_.count(key)) {
    int status = forced_all_ != 0 ? forced_all_ : forced_[key];
    if (status >= 400 && status < 500 && status != 429) ++stats_.rejected;
    return Reply(status, "forced status " + std::to_string(status) + "\n");
  }
  const std::string signature = req.Header("x-cdp-signature");
  if (!secret_.empty() || !signature.empty()) {
    if (secret_.empty() || !SignatureMatches(secret_, req.body, signature)) {
      ++stats_.bad_signatures;
      ++stats_.rejected;
      return Reply(401, "bad signature\n");
    }
  }
  if (req.Header("content-type") != "application/json") {
    ++stats_.rejected;
    return Reply(415, "send application/json\n");
  }

  // Fault injection, decided before anything is applied.
  enum class Fault { kNone, k500, k429, kDelay, kDrop } fault = Fault::kNone;
  bool apply_before_fault = Draw(faults_.seed, key, nth, 2) < 0.5;
  int& faults_so_far = faults_by_key_[key];
  if (faults_.max_faults_per_key < 0 || faults_so_far < faults_.max_faults_per_key) {
    double u = Draw(faults_.seed, key, nth, 1);
    double edge = faults_.share_500;
    if (u < edge) {
      fault = Fault::k500;
    } else if (u < (edge += faults_.share_429)) {
      fault = Fault::k429;
    } else if (u < (edge += faults_.share_delay)) {
      fault = Fault::kDelay;
    } else if (u < (edge += faults_.share_drop)) {
      fault = Fault::kDrop;
    }
  }
  if (fault != Fault::kNone) ++faults_so_far;
  if (fault == Fault::k500) {
    ++stats_.faults_500;
    return Reply(500, "injected failure\n");
  }
  if (fault == Fault::k429) {
    ++stats_.faults_429;
    TestHttpReply r = Reply(429, "slow down\n");
    r.headers.emplace_back("Retry-After", faults_.retry_after);
    return r;
  }
  bool apply = fault == Fault::kNone || apply_before_fault;

  if (apply && !applied_.count(key)) {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(req.body);
    } catch (const std::exception& e) {
      ++stats_.rejected;
      return Reply(400, std::string("body is not JSON: ") + e.what() + "\n");
    }
    if (!doc.is_object() || !doc.contains("rows") || !doc["rows"].is_array() || !doc.contains("export") ||
        !doc["export"].is_string() || !doc.contains("batch") || !doc["batch"].is_number_integer() ||
        !doc.contains("run") || !doc["run"].is_number_integer() || !doc.contains("key") || !doc["key"].is_string() ||
        doc.value("idempotency_key", std::string()) != key) {
      ++stats_.rejected;
      return Reply(400, "body lacks export, run, batch, key, rows or a matching idempotency_key\n");
    }
    WebhookReceivedBatch b;
    b.idempotency_key = key;
    b.export_name = doc["export"].get<std::string>();
    b.run = doc["run"].get<int64_t>();
    b.batch = doc["batch"].get<int64_t>();
    b.mode = doc.value("mode", std::string());
    b.target = doc.value("target", std::string());
    b.total_rows = doc.contains("total_rows") && doc["total_rows"].is_number_integer()
                       ? doc["total_rows"].get<int64_t>()
                       : -1;
    const std::string key_field = doc["key"].get<std::string>();
    auto& state = state_[b.export_name];
    auto& events = events_[b.export_name];
    for (auto& row : doc["rows"]) {
      if (!row.is_object() || !row.contains(key_field) || !row.contains("change")) {
        ++stats_.rejected;
        return Reply(400, "a row lacks its key field or change\n");
      }
    }
    for (auto& row : doc["rows"]) {
      const auto& k = row[key_field];
      std::string key_value = k.is_string() ? k.get<std::string>() : k.dump();
      std::string change = row["change"].is_string() ? row["change"].get<std::string>() : "";
      if (keep_events_) events.push_back(row.dump());
      row.erase("change");
      if (change == "removed") {
        state.erase(key_value);
      } else {
        state[key_value] = row.dump();
      }
      if (b.mode == "full") full_run_keys_[{b.export_name, b.run}].insert(key_value);
      ++b.rows;
    }
    if (b.mode == "full") {
      auto run_keys = full_run_keys_.find({b.export_name, b.run});
      if (run_keys != full_run_keys_.end() && static_cast<int64_t>(run_keys->second.size()) == b.total_rows) {
        for (auto it = state.begin(); it != state.end();) {
          it = run_keys->second.count(it->first) ? std::next(it) : state.erase(it);
        }
        full_run_keys_.erase(run_keys);
        ++stats_.full_runs_completed;
      }
    }
    auto& next = next_batch_[{b.export_name, b.run}];
    if (b.batch != next) {
      stats_.order_violations.push_back("export " + b.export_name + " run " + std::to_string(b.run) + ": batch " +
                                        std::to_string(b.batch) + " applied when batch " + std::to_string(next) +
                                        " was expected");
    }
    next = std::max(next, b.batch + 1);
    applied_.insert(key);
    ++stats_.accepted_batches;
    stats_.rows_applied += b.rows;
    batches_.push_back(std::move(b));
  } else if (apply) {
    ++stats_.duplicate_batches;
  }

  if (fault == Fault::kDelay) {
    ++stats_.faults_delay;
    // Applied: a late 200 (the sender has given up by then). Not applied: a late 503.
    TestHttpReply r = apply ? Reply(200, "ok (late)\n") : Reply(503, "failed (late)\n");
    r.delay_ms = faults_.delay_ms;
    return r;
  }
  if (fault == Fault::kDrop) {
    ++stats_.faults_drop;
    TestHttpReply r;
    r.close_without_response = true;
    return r;
  }
  return Reply(200, "ok\n");
}

}  // namespace cdp
