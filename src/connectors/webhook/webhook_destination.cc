#include "connectors/webhook/webhook_destination.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/utf8.h"
#include "connectors/http/http_client.h"

namespace cdp {
namespace {

constexpr int64_t kMaxRetryAfterMs = 60000;   // a longer Retry-After ends the retries of the batch
constexpr size_t kMaxResponseBytes = 64 << 10;  // responses are only sampled
constexpr size_t kMaxSamples = 20;
constexpr size_t kMaxDeadLetterPath = 4096;
constexpr size_t kMaxBodyBytes = 256u << 20;  // one request; a larger batch asks for a smaller batch_size

const std::set<std::string, std::less<>> kSettingKeys = {"url",           "timeout_ms", "connect_timeout_ms",
                                                         "max_attempts",  "backoff_ms", "max_backoff_ms",
                                                         "dead_letter"};
const std::set<std::string, std::less<>> kSecretKeys = {"hmac_secret"};

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0, n = s.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < n && s[i] == '-') ++i;
  if (i < n && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == n;
}

StatusOr<int> IntSetting(const ResolvedConnection& c, std::string_view key, int fallback, int min, int max) {
  auto it = c.settings.find(std::string(key));
  if (it == c.settings.end()) return fallback;
  const std::string& v = it->second;
  int value = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
  if (ec != std::errc() || p != v.data() + v.size() || value < min || value > max) {
    return InvalidArgumentError("webhook connection " + Quoted(c.name) + ": setting " + std::string(key) + " is '" +
                                v.substr(0, 40) + "' (expected a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ")");
  }
  return value;
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

class WebhookSession : public DestinationSession {
 public:
  WebhookSession(std::string connection, WebhookSettings settings, ExportRunInfo info)
      : connection_(std::move(connection)), settings_(std::move(settings)), info_(std::move(info)),
        rng_(std::random_device{}()) {}

  Status Prepare() {
    // Every body starts the same way for the run; fields are written in
    // schema order after "change".
    std::set<std::string, std::less<>> seen;
    for (const ExportField& f : info_.schema.fields) {
      if (f.name == "change") {
        return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": export " +
                                    Quoted(info_.export_name) +
                                    " has a field named 'change', which the webhook body uses for the kind of "
                                    "change: rename it (fields: ... as:)");
      }
      if (!IsValidUtf8(f.name)) {
        return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": export " +
                                    Quoted(info_.export_name) + " has a field name that is not valid UTF-8");
      }
      if (!seen.insert(f.name).second) {
        return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": export " +
                                    Quoted(info_.export_name) + " sends field " + Quoted(f.name) + " twice");
      }
      std::string name_json;
      AppendJsonString(name_json, f.name);
      field_prefixes_.push_back("," + name_json + ":");
    }
    if (!info_.schema.fields.empty() && info_.schema.key_field >= info_.schema.fields.size()) {
      return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": export " +
                                  Quoted(info_.export_name) + " has no key field");
    }
    head_ = "{\"export\":";
    AppendJsonString(head_, info_.export_name);
    head_ += ",\"run\":" + std::to_string(info_.export_run_id) + ",\"attempt\":" + std::to_string(info_.attempt) +
             ",\"mode\":" + (info_.delta ? "\"delta\"" : "\"full\"") +
             ",\"total_rows\":" + std::to_string(info_.total_rows) + ",\"target\":";
    AppendJsonString(head_, info_.target);
    head_ += ",\"key\":";
    AppendJsonString(head_, info_.schema.fields.empty() ? "" : info_.schema.fields[info_.schema.key_field].name);
    return Status::Ok();
  }

  Status Write(const ExportBatch& batch) override {
    std::string body;
    CDP_RETURN_IF_ERROR(BuildBody(batch, &body));
    HttpClientRequest req;
    req.method = "POST";
    req.url = settings_.url;
    req.headers = {{"Content-Type", "application/json"}, {"Idempotency-Key", batch.idempotency_key}};
    if (!settings_.hmac_secret.empty()) {
      req.headers.emplace_back("X-CDP-Signature", WebhookSignature(settings_.hmac_secret, body));
    }
    req.body = std::move(body);
    req.connect_timeout_ms = std::min(settings_.connect_timeout_ms, settings_.timeout_ms);
    req.timeout_ms = settings_.timeout_ms;
    req.max_response_bytes = kMaxResponseBytes;
    req.truncate_body = true;

    std::string last_error;
    bool retryable = true;
    int attempt = 0;
    for (attempt = 1; attempt <= settings_.max_attempts; ++attempt) {
      auto resp = client_.Send(req);
      int64_t wait_ms = -1;  // -1: exponential backoff with jitter
      if (resp.ok()) {
        if (resp->status >= 200 && resp->status < 300) {
          rows_delivered_ += static_cast<int64_t>(batch.rows.size());
          if (attempt > 1) Sample(batch, attempt, resp->Summary(120));
          if (samples_.empty()) Sample(batch, attempt, resp->Summary(120));
          return Status::Ok();
        }
        last_error = resp->Summary(300);
        Sample(batch, attempt, resp->Summary(120));
        if (resp->status == 429 || (resp->status >= 500 && resp->status <= 599)) {
          int64_t retry_after = ParseRetryAfterMs(resp->Header("retry-after"), std::time(nullptr));
          if (retry_after > kMaxRetryAfterMs) {
            last_error += " (Retry-After " + std::to_string(retry_after / 1000) + " s is longer than " +
                          std::to_string(kMaxRetryAfterMs / 1000) + " s: not retried now)";
            retryable = false;
            break;
          }
          wait_ms = retry_after;
        } else {
          retryable = false;  // 3xx and 4xx other than 429: the receiver refuses this batch
          break;
        }
      } else {
        last_error = resp.status().message();
        Sample(batch, attempt, std::string(HttpFailureName(client_.last_failure())));
        if (client_.last_failure() == HttpFailure::kInvalidRequest) {
          retryable = false;
          break;
        }
      }
      if (attempt < settings_.max_attempts) Backoff(attempt, wait_ms);
    }
    int attempts_made = std::min(attempt, settings_.max_attempts);
    std::string message = "webhook connection " + Quoted(connection_) + ": batch " + std::to_string(batch.sequence) +
                          " (Idempotency-Key " + batch.idempotency_key + ") of export " +
                          Quoted(info_.export_name) + " was not delivered after " + std::to_string(attempts_made) +
                          (attempts_made == 1 ? " attempt" : " attempts") + ": " + last_error;
    Status dead = AppendDeadLetter(batch, req.body, last_error, attempts_made);
    if (!settings_.dead_letter.empty()) {
      message += dead.ok() ? " (written to the dead-letter file " + settings_.dead_letter + ")"
                           : " (and the dead-letter file could not be written: " + dead.message() + ")";
    }
    return retryable ? UnavailableError(message) : FailedPreconditionError(message);
  }

  Status Commit() override { return Status::Ok(); }  // every batch was acknowledged when it was written
  void Abort() override {}                            // acknowledged batches stay delivered (durable)
  int64_t rows_delivered() const override { return rows_delivered_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  Status BuildBody(const ExportBatch& batch, std::string* out) {
    const auto& fields = info_.schema.fields;
    std::string& body = *out;
    body.reserve(head_.size() + batch.rows.size() * (32 + fields.size() * 24));
    body += head_;
    body += ",\"batch\":" + std::to_string(batch.sequence) + ",\"idempotency_key\":";
    AppendJsonString(body, batch.idempotency_key);
    body += ",\"rows\":[";
    for (size_t r = 0; r < batch.rows.size(); ++r) {
      const ExportRow& row = batch.rows[r];
      if (row.values.size() != fields.size()) {
        return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": batch " +
                                    std::to_string(batch.sequence) + " row " + std::to_string(r) + " has " +
                                    std::to_string(row.values.size()) + " values for " +
                                    std::to_string(fields.size()) + " fields");
      }
      if (r > 0) body += ',';
      body += "{\"change\":\"";
      body += RowChangeName(row.change);
      body += '"';
      for (size_t f = 0; f < fields.size(); ++f) {
        body += field_prefixes_[f];
        const auto& v = row.values[f];
        if (!v.has_value()) {
          body += "null";
          continue;
        }
        DataType t = fields[f].type;
        if ((t == DataType::kInt64 || t == DataType::kDouble) && IsJsonNumber(*v)) {
          body += *v;
        } else if (t == DataType::kBool && (*v == "true" || *v == "false")) {
          body += *v;
        } else {
          if (!IsValidUtf8(*v)) {
            return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": batch " +
                                        std::to_string(batch.sequence) + " field " + Quoted(fields[f].name) +
                                        " holds text that is not valid UTF-8");
          }
          AppendJsonString(body, *v);  // strings, dates, timestamps, NaN/Infinity
        }
      }
      body += '}';
      if (body.size() > kMaxBodyBytes) {
        return InvalidArgumentError("webhook connection " + Quoted(connection_) + ": batch " +
                                    std::to_string(batch.sequence) + " of export " + Quoted(info_.export_name) +
                                    " is larger than " + std::to_string(kMaxBodyBytes >> 20) +
                                    " MiB as JSON: lower the export's batch_size");
      }
    }
    body += "]}";
    return Status::Ok();
  }

  void Backoff(int attempt, int64_t retry_after_ms) {
    int64_t wait = retry_after_ms;
    if (wait < 0) {
      // Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
      int64_t ceiling = settings_.backoff_ms;
      for (int i = 1; i < attempt && ceiling < settings_.max_backoff_ms; ++i) ceiling *= 2;
      ceiling = std::min<int64_t>(ceiling, settings_.max_backoff_ms);
      wait = ceiling <= 0 ? 0 : std::uniform_int_distribution<int64_t>(0, ceiling)(rng_);
    }
    if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }

  void Sample(const ExportBatch& batch, int attempt, const std::string& what) {
    if (samples_.size() >= kMaxSamples) return;
    samples_.push_back("batch " + std::to_string(batch.sequence) + " attempt " + std::to_string(attempt) + ": " +
                       what);
  }

  // One JSON line per failed batch, written with a single append and fsync.
  Status AppendDeadLetter(const ExportBatch& batch, const std::string& body, const std::string& error,
                          int attempts) {
    if (settings_.dead_letter.empty()) return Status::Ok();
    std::string line = "{\"at\":\"" + NowIso8601() + "\",\"connection\":";
    AppendJsonString(line, connection_);
    line += ",\"export\":";
    AppendJsonString(line, info_.export_name);
    line += ",\"run\":" + std::to_string(info_.export_run_id) + ",\"batch\":" + std::to_string(batch.sequence) +
            ",\"idempotency_key\":";
    AppendJsonString(line, batch.idempotency_key);
    line += ",\"attempts\":" + std::to_string(attempts) + ",\"error\":";
    AppendJsonString(line, Utf8Prefix(error, 2000));
    line += ",\"body\":" + body + "}\n";
    std::error_code ec;
    std::filesystem::path path(settings_.dead_letter);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    int fd = ::open(settings_.dead_letter.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return UnavailableError(std::string("cannot open it: ") + std::strerror(errno));
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::write(fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string err = std::strerror(errno);
        ::close(fd);
        return UnavailableError("cannot append to it: " + err);
      }
      rest.remove_prefix(static_cast<size_t>(n));
    }
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return UnavailableError(std::string("cannot sync it: ") + std::strerror(errno));
    return Status::Ok();
  }

  const std::string connection_;
  const WebhookSettings settings_;
  const ExportRunInfo info_;
  std::string head_;                         // {"export":..,"key":..  (without the closing brace)
  std::vector<std::string> field_prefixes_;  // ,"<name>":
  HttpClient client_;
  std::mt19937_64 rng_;
  int64_t rows_delivered_ = 0;
  std::vector<std::string> samples_;
};

Status ValidateWebhook(const ResolvedConnection& c) { return ParseWebhookSettings(c).status(); }

Status ValidateWebhookOptions(const ResolvedConnection& c, const std::map<std::string, std::string>& options) {
  if (options.empty()) return Status::Ok();
  return InvalidArgumentError("webhook connection " + Quoted(c.name) + " takes no export options (got '" +
                              options.begin()->first + "')");
}

StatusOr<std::unique_ptr<DestinationSession>> BeginWebhook(const ResolvedConnection& c, const ExportRunInfo& info) {
  CDP_ASSIGN_OR_RETURN(WebhookSettings settings, ParseWebhookSettings(c));
  auto session = std::make_unique<WebhookSession>(c.name, std::move(settings), info);
  CDP_RETURN_IF_ERROR(session->Prepare());
  return std::unique_ptr<DestinationSession>(std::move(session));
}

// Reaches the URL without sending data: any HTTP answer (even 404 or 405 to
// a HEAD request) means a server listens there.
Status CheckWebhook(const ResolvedConnection& c) {
  CDP_ASSIGN_OR_RETURN(WebhookSettings settings, ParseWebhookSettings(c));
  HttpClient client;
  HttpClientRequest req;
  req.method = "HEAD";
  req.url = settings.url;
  req.connect_timeout_ms = std::min(settings.connect_timeout_ms, settings.timeout_ms);
  req.timeout_ms = settings.timeout_ms;
  req.truncate_body = true;
  auto resp = client.Send(req);
  if (!resp.ok()) {
    return Status(resp.status().code(), "webhook connection " + Quoted(c.name) + ": " + resp.status().message());
  }
  return Status::Ok();
}

}  // namespace

std::string WebhookSignature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

StatusOr<WebhookSettings> ParseWebhookSettings(const ResolvedConnection& c) {
  for (const auto& [key, value] : c.settings) {
    if (!kSettingKeys.count(key)) {
      return InvalidArgumentError("webhook connection " + Quoted(c.name) + ": unknown setting " + Quoted(key) +
                                  " (known: url, timeout_ms, connect_timeout_ms, max_attempts, backoff_ms, "
                                  "max_backoff_ms, dead_letter)");
    }
  }
  for (const auto& [key, value] : c.secrets) {
    if (!kSecretKeys.count(key)) {
      return InvalidArgumentError("webhook connection " + Quoted(c.name) + ": unknown secret " + Quoted(key) +
                                  " (known: hmac_secret)");
    }
  }
  WebhookSettings s;
  s.url = c.Setting("url");
  if (s.url.empty()) {
    return InvalidArgumentError("webhook connection " + Quoted(c.name) + ": setting url is missing");
  }
  CDP_RETURN_IF_ERROR(ValidateHttpUrl(s.url, "webhook connection " + Quoted(c.name) + ": setting url"));
  CDP_ASSIGN_OR_RETURN(s.timeout_ms, IntSetting(c, "timeout_ms", s.timeout_ms, 1, 600000));
  CDP_ASSIGN_OR_RETURN(s.connect_timeout_ms, IntSetting(c, "connect_timeout_ms", s.connect_timeout_ms, 1, 600000));
  CDP_ASSIGN_OR_RETURN(s.max_attempts, IntSetting(c, "max_attempts", s.max_attempts, 1, 100));
  CDP_ASSIGN_OR_RETURN(s.backoff_ms, IntSetting(c, "backoff_ms", s.backoff_ms, 0, 600000));
  CDP_ASSIGN_OR_RETURN(s.max_backoff_ms, IntSetting(c, "max_backoff_ms", s.max_backoff_ms, 0, 600000));
  s.dead_letter = c.Setting("dead_letter");
  if (c.settings.count("dead_letter") &&
      (s.dead_letter.empty() || s.dead_letter.size() > kMaxDeadLetterPath ||
       s.dead_letter.find('\0') != std::string::npos || s.dead_letter.back() == '/')) {
    return InvalidArgumentError("webhook connection " + Quoted(c.name) +
                                ": setting dead_letter must be a file path (at most 4096 bytes)");
  }
  s.hmac_secret = c.Secret("hmac_secret");
  if (c.secrets.count("hmac_secret") && s.hmac_secret.empty()) {
    return InvalidArgumentError("webhook connection " + Quoted(c.name) + ": secret hmac_secret is empty");
  }
  return s;
}

int64_t ParseRetryAfterMs(std::string_view value, int64_t now_unix_seconds) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 64) return -1;
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && p == value.data() + value.size()) {
    if (seconds < 0) return -1;
    return seconds > 86400 * 365 ? 86400LL * 365 * 1000 : seconds * 1000;
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return -1;
  int64_t at = timegm(&tm);
  return at <= now_unix_seconds ? 0 : (at - now_unix_seconds) * 1000;
}

Status RegisterWebhookDestination(DestinationRegistry& registry) {
  DestinationKind kind;
  kind.kind = "webhook";
  kind.durable_batches = true;
  kind.validate = ValidateWebhook;
  kind.validate_options = ValidateWebhookOptions;
  kind.begin = BeginWebhook;
  kind.check = CheckWebhook;
  return registry.Register(std::move(kind));
}

}  // namespace cdp
