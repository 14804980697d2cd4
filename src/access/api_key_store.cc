#include "access/api_key_store.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>

namespace cdp {
namespace {

constexpr std::string_view kKeyTag = "cdp_";
constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
// Negative and stale entries are dropped when the cache grows past this (a
// flood of made-up prefixes must not grow memory without bound).
constexpr size_t kMaxCachedPrefixes = 10000;

bool IsBase62(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

// `n` uniformly random base62 characters (rejection sampling: no modulo bias).
StatusOr<std::string> RandomBase62(size_t n) {
  std::string out;
  out.reserve(n);
  unsigned char buf[64];
  while (out.size() < n) {
    if (RAND_bytes(buf, sizeof buf) != 1) return InternalError("RAND_bytes failed: no secure random source");
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62
      out.push_back(kBase62[b % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

std::array<unsigned char, 32> Sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  // Fetched once: the implicit fetch of EVP_sha256() costs a lookup per call in OpenSSL 3.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(data.data(), data.size(), out.data(), &len, md ? md : EVP_sha256(), nullptr);
  return out;
}

std::string Hex(const std::array<unsigned char, 32>& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : h) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool FromHex(std::string_view hex, std::array<unsigned char, 32>& out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

// Splits "cdp_<prefix>_<secret>"; false if the text is not of that form.
bool SplitKey(std::string_view key, std::string_view& prefix, std::string_view& secret) {
  constexpr size_t kLength = kKeyTag.size() + ApiKeyStore::kPrefixLength + 1 + ApiKeyStore::kSecretLength;
  if (key.size() != kLength || key.substr(0, kKeyTag.size()) != kKeyTag) return false;
  prefix = key.substr(kKeyTag.size(), ApiKeyStore::kPrefixLength);
  if (key[kKeyTag.size() + ApiKeyStore::kPrefixLength] != '_') return false;
  secret = key.substr(kKeyTag.size() + ApiKeyStore::kPrefixLength + 1);
  return IsBase62(prefix) && IsBase62(secret);
}

std::string_view StripBearer(std::string_view token) {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  constexpr std::string_view kBearer = "bearer ";
  if (token.size() > kBearer.size()) {
    bool match = true;
    for (size_t i = 0; i < kBearer.size(); ++i) {
      char c = token[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != kBearer[i]) match = false;
    }
    if (match) {
      token.remove_prefix(kBearer.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    }
  }
  return token;
}

Status InvalidKey() { return UnauthenticatedError("invalid API key"); }

}  // namespace

ApiKeyStore::ApiKeyStore(Catalog& catalog, std::function<int64_t()> now_micros)
    : catalog_(catalog), now_micros_(now_micros ? std::move(now_micros) : std::function<int64_t()>(NowMicros)) {}

StatusOr<CreatedApiKey> ApiKeyStore::Create(const std::string& name, Role role, const std::string& created_by) {
  if (name.empty()) return InvalidArgumentError("an API key needs a name");
  for (int attempt = 0;; ++attempt) {
    CDP_ASSIGN_OR_RETURN(std::string prefix, RandomBase62(kPrefixLength));
    CDP_ASSIGN_OR_RETURN(std::string secret, RandomBase62(kSecretLength));
    ApiKeyRecord record;
    record.name = name;
    record.role = std::string(RoleName(role));
    record.prefix = prefix;
    record.secret_hash = Hex(Sha256(secret));
    record.created_by = created_by;
    auto id = catalog_.AddApiKey(record);
    if (!id.ok() && id.status().code() == StatusCode::kAlreadyExists && attempt < 5) continue;  // prefix collision
    if (!id.ok()) return id.status();
    {
      std::unique_lock l(mu_);
      cache_.erase(prefix);  // may hold a "no such key" verdict
    }
    return CreatedApiKey{*id, std::string(kKeyTag) + prefix + "_" + secret};
  }
}

StatusOr<ApiKeyStore::CachedKey> ApiKeyStore::ReadFromCatalog(const std::string& prefix, int64_t now) {
  CDP_ASSIGN_OR_RETURN(auto record, catalog_.FindApiKeyByPrefix(prefix));
  CachedKey entry;
  entry.checked_at = now;
  if (!record) return entry;
  auto role = ParseRole(record->role);
  if (!role.ok() || !FromHex(record->secret_hash, entry.secret_hash)) {
    return DataLossError("API key " + std::to_string(record->id) + " is damaged in the catalog");
  }
  entry.exists = true;
  entry.revoked = record->revoked_at != 0;
  entry.id = record->id;
  entry.name = record->name;
  entry.role = *role;
  entry.last_used_at = record->last_used_at;
  return entry;
}

StatusOr<ApiKeyPrincipal> ApiKeyStore::Authenticate(std::string_view bearer_token) {
  std::string_view prefix_view, secret;
  if (!SplitKey(StripBearer(bearer_token), prefix_view, secret)) {
    return UnauthenticatedError("malformed API key (expected cdp_<prefix>_<secret>)");
  }
  const Hash presented = Sha256(secret);
  const int64_t now = now_micros_();
  std::string prefix(prefix_view);

  CachedKey entry;
  bool fresh = false;
  {
    std::shared_lock l(mu_);
    auto it = cache_.find(prefix);
    if (it != cache_.end() && now - it->second.checked_at < kRecheckMicros && now >= it->second.checked_at) {
      entry = it->second;
      fresh = true;
    }
  }
  if (!fresh) {
    CDP_ASSIGN_OR_RETURN(entry, ReadFromCatalog(prefix, now));
    std::unique_lock l(mu_);
    if (cache_.size() >= kMaxCachedPrefixes) {
      for (auto it = cache_.begin(); it != cache_.end();) {
        it = (!it->second.exists || now - it->second.checked_at >= kRecheckMicros) ? cache_.erase(it) : std::next(it);
      }
    }
    cache_[prefix] = entry;
  }

  if (!entry.exists || CRYPTO_memcmp(presented.data(), entry.secret_hash.data(), presented.size()) != 0) {
    return InvalidKey();
  }
  if (entry.revoked) return UnauthenticatedError("API key '" + entry.name + "' has been revoked");
  if (!fresh && now - entry.last_used_at >= kTouchIntervalMicros) {
    // Only on a catalog re-read (at most every kRecheckMicros), so the hot path never writes.
    Status s = catalog_.TouchApiKey(entry.id, now);
    if (s.ok()) {
      std::unique_lock l(mu_);
      auto it = cache_.find(prefix);
      if (it != cache_.end()) it->second.last_used_at = now;
    }
    // A failed touch does not fail the request: last_used_at is informational.
  }
  return ApiKeyPrincipal{entry.id, entry.name, entry.role};
}

Status ApiKeyStore::Revoke(int64_t id) {
  CDP_RETURN_IF_ERROR(catalog_.RevokeApiKey(id));
  std::unique_lock l(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = (it->second.exists && it->second.id == id) ? cache_.erase(it) : std::next(it);
  }
  return Status::Ok();
}

StatusOr<std::vector<ApiKeyInfo>> ApiKeyStore::List() const {
  CDP_ASSIGN_OR_RETURN(auto records, catalog_.ListApiKeys());
  std::vector<ApiKeyInfo> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    auto role = ParseRole(r.role);
    if (!role.ok()) return DataLossError("API key " + std::to_string(r.id) + " has unknown role '" + r.role + "'");
    out.push_back(ApiKeyInfo{r.id, r.name, *role, r.prefix, r.created_by, r.created_at, r.revoked_at, r.last_used_at});
  }
  return out;
}

}  // namespace cdp
