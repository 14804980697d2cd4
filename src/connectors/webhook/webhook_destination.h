// The "webhook" export destination: each batch of an export run is one JSON
// POST to the connection's URL, signed with HMAC-SHA256 when the connection
// has an hmac_secret, carrying the batch's idempotency key. Transient
// failures (5xx, 429, timeouts, dropped connections) are retried with
// exponential backoff and full jitter; other 4xx are not. A batch that
// finally fails is appended to the connection's dead-letter file and fails
// the attempt, naming the connection and the last status, so the run is
// recorded as failed and resumed later (batches are durable: a receiver that
// deduplicates by Idempotency-Key holds each acknowledged batch once).
// The receiver's contract is in docs/destinations.md, "## webhook".
// RegisterWebhookDestination is thread-safe as the registry is; a session is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "export/destination.h"

namespace cdp {

// Registers kind "webhook". Connection settings: url (http:// or https://,
// required), timeout_ms (each request, default 10000), connect_timeout_ms
// (default 5000), max_attempts (per batch, default 5), backoff_ms (first
// retry's ceiling, default 500), max_backoff_ms (default 30000), dead_letter
// (a file path; relative paths are relative to the directory cdp runs in;
// optional). Secret: hmac_secret (optional). No export options.
// AlreadyExists when "webhook" is registered.
Status RegisterWebhookDestination(DestinationRegistry& registry);

// The X-CDP-Signature value of `body`: "sha256=" + lower-case hex of
// HMAC-SHA256(secret, body).
std::string WebhookSignature(std::string_view secret, std::string_view body);

// How a webhook connection behaves, from its settings (exposed for tests).
struct WebhookSettings {
  std::string url;
  int timeout_ms = 10000;
  int connect_timeout_ms = 5000;
  int max_attempts = 5;
  int backoff_ms = 500;
  int max_backoff_ms = 30000;
  std::string dead_letter;  // "" = none
  std::string hmac_secret;  // "" = unsigned
};
// InvalidArgument naming the connection and the key for an unknown or
// missing key or a value out of range (timeouts 1..600000 ms, attempts
// 1..100, backoff 0..600000 ms).
StatusOr<WebhookSettings> ParseWebhookSettings(const ResolvedConnection& connection);

// A Retry-After header value in milliseconds (delta-seconds or an HTTP
// date, relative to `now_unix_seconds`), or -1 when absent or unreadable.
int64_t ParseRetryAfterMs(std::string_view value, int64_t now_unix_seconds);

}  // namespace cdp
