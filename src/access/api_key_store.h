// API keys: creation (the full key is shown once; only the SHA-256 of its
// secret is stored in the catalog), authentication of bearer tokens, listing
// and revocation. Thread-safe; Authenticate is served from an in-memory cache
// and reads the catalog at most every kRecheckMicros per key, so a revoke made
// by another process takes effect within that time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/role.h"
#include "catalog/catalog.h"
#include "common/status.h"

namespace cdp {

// Who a request authenticated as.
struct ApiKeyPrincipal {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
};

// The result of Create: the only time the full key text exists.
struct CreatedApiKey {
  int64_t id = 0;
  std::string key;  // cdp_<prefix>_<secret>
};

// A stored key as listed (never the secret or its hash). Times in microseconds
// since the epoch; 0 for never.
struct ApiKeyInfo {
  int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string prefix;
  std::string created_by;
  int64_t created_at = 0;
  int64_t revoked_at = 0;
  int64_t last_used_at = 0;  // updated at most once a minute per key
};

class ApiKeyStore {
 public:
  // Key text: "cdp_" + kPrefixLength base62 chars + "_" + kSecretLength base62 chars.
  static constexpr size_t kPrefixLength = 8;
  static constexpr size_t kSecretLength = 32;
  // A cached verdict older than this is re-read from the catalog.
  static constexpr int64_t kRecheckMicros = 2'000'000;
  // last_used_at is written at most this often per key.
  static constexpr int64_t kTouchIntervalMicros = 60'000'000;

  // `catalog` must outlive the store. `now_micros` (default: the system clock)
  // is the clock for cache ages and last_used_at.
  explicit ApiKeyStore(Catalog& catalog, std::function<int64_t()> now_micros = {});
  ApiKeyStore(const ApiKeyStore&) = delete;
  ApiKeyStore& operator=(const ApiKeyStore&) = delete;

  // Creates a key with random prefix and secret (RAND_bytes). Returns its id and
  // full text, which is not stored anywhere. InvalidArgument for an empty name.
  StatusOr<CreatedApiKey> Create(const std::string& name, Role role, const std::string& created_by);

  // Verifies `bearer_token` (the key text, optionally preceded by "Bearer ").
  // Unauthenticated for a malformed, unknown, wrong or revoked key; other
  // codes only when the catalog fails.
  StatusOr<ApiKeyPrincipal> Authenticate(std::string_view bearer_token);

  // Revokes a key (effective immediately in this store). NotFound for an unknown id.
  Status Revoke(int64_t id);

  // All keys, revoked ones included, by id.
  StatusOr<std::vector<ApiKeyInfo>> List() const;

 private:
  using Hash = std::array<unsigned char, 32>;
  // What the catalog said about one prefix, and when it was read.
  struct CachedKey {
    bool exists = false;
    bool revoked = false;
    int64_t id = 0;
    std::string name;
    Role role = Role::kViewer;
    Hash secret_hash{};
    int64_t last_used_at = 0;
    int64_t checked_at = 0;
  };

  StatusOr<CachedKey> ReadFromCatalog(const std::string& prefix, int64_t now);

  Catalog& catalog_;
  std::function<int64_t()> now_micros_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, CachedKey> cache_;  // by prefix; guarded by mu_
};

}  // namespace cdp
