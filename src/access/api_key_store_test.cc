#include "access/api_key_store.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

namespace cdp {
namespace {

std::string HexSha256(const std::string& s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned char b : md) {
    snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

class ApiKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cdp_access_XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto c = Catalog::Open(dir_ + "/catalog.db");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    catalog_ = std::move(*c);
  }
  void TearDown() override {
    catalog_.reset();
    std::filesystem::remove_all(dir_);
  }
  CreatedApiKey MustCreate(ApiKeyStore& store, const std::string& name, Role role) {
    auto k = store.Create(name, role, "test");
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : CreatedApiKey{};
  }

  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  std::atomic<int64_t> now_{1'000'000'000'000};
  std::function<int64_t()> clock_ = [this] { return now_.load(); };
};

TEST_F(ApiKeyStoreTest, CreatedKeyHasTheDocumentedFormatAndAuthenticates) {
  ApiKeyStore store(*catalog_);
  auto key = MustCreate(store, "etl", Role::kContributor);
  EXPECT_GT(key.id, 0);
  ASSERT_EQ(key.key.size(), 45u) << key.key;  // cdp_ + 8 + _ + 32
  EXPECT_EQ(key.key.substr(0, 4), "cdp_");
  EXPECT_EQ(key.key[12], '_');
  for (size_t i : {4, 5, 6, 7, 8, 9, 10, 11}) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(key.key[i]))) << key.key;
  for (size_t i = 13; i < key.key.size(); ++i) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(key.key[i]))) << key.key;
  auto p = store.Authenticate(key.key);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->id, key.id);
  EXPECT_EQ(p->name, "etl");
  EXPECT_EQ(p->role, Role::kContributor);
  // Again (now from the cache), and with an Authorization-style "Bearer " in front.
  EXPECT_TRUE(store.Authenticate(key.key).ok());
  EXPECT_TRUE(store.Authenticate("Bearer " + key.key).ok());
  EXPECT_TRUE(store.Authenticate("bearer  " + key.key).ok());
}

TEST_F(ApiKeyStoreTest, AnotherStoreOnTheSameCatalogAcceptsTheKey) {
  ApiKeyStore a(*catalog_);
  ApiKeyStore b(*catalog_);
  auto key = MustCreate(a, "k", Role::kAdmin);
  auto p = b.Authenticate(key.key);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->role, Role::kAdmin);
}

TEST_F(ApiKeyStoreTest, WrongSecretIsUnauthenticated) {
  ApiKeyStore store(*catalog_);
  auto key = MustCreate(store, "k", Role::kViewer);
  ASSERT_TRUE(store.Authenticate(key.key).ok());  // cached now; the wrong one must still fail
  std::string wrong = key.key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  auto p = store.Authenticate(wrong);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(p.status().message().find(key.key.substr(13)), std::string::npos);  // no secret in messages
}

TEST_F(ApiKeyStoreTest, UnknownPrefixIsUnauthenticated) {
  ApiKeyStore store(*catalog_);
  auto p = store.Authenticate("cdp_AAAAAAAA_" + std::string(32, 'x'));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ApiKeyStoreTest, MalformedKeysAreUnauthenticated) {
  ApiKeyStore store(*catalog_);
  auto key = MustCreate(store, "k", Role::kAdmin);
  for (std::string bad : {std::string(), std::string("Bearer"), std::string("Bearer "), std::string("cdp_"),
                          std::string("not a key"), key.key.substr(0, key.key.size() - 1), key.key + "x",
                          "xyz_" + key.key.substr(4), key.key.substr(0, 12) + "-" + key.key.substr(13),
                          key.key.substr(0, 20) + "!" + key.key.substr(21), key.key.substr(0, 5) + "\xc3" + key.key.substr(6),
                          std::string("Basic ") + key.key}) {
    auto p = store.Authenticate(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated) << bad;
  }
}

TEST_F(ApiKeyStoreTest, RevokedKeyIsRejectedAtOnceByTheRevokingStore) {
  ApiKeyStore store(*catalog_, clock_);
  auto key = MustCreate(store, "k", Role::kAdmin);
  ASSERT_TRUE(store.Authenticate(key.key).ok());
  ASSERT_TRUE(store.Revoke(key.id).ok());
  auto p = store.Authenticate(key.key);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(p.status().message().find("revoked"), std::string::npos);
  EXPECT_EQ(store.Revoke(12345).code(), StatusCode::kNotFound);
}

TEST_F(ApiKeyStoreTest, RevokeThroughAnotherStoreTakesEffectWithinTheRecheckInterval) {
  ApiKeyStore server(*catalog_, clock_);
  ApiKeyStore cli(*catalog_, clock_);
  auto key = MustCreate(cli, "k", Role::kViewer);
  ASSERT_TRUE(server.Authenticate(key.key).ok());
  ASSERT_TRUE(cli.Revoke(key.id).ok());
  now_ += ApiKeyStore::kRecheckMicros / 2;
  EXPECT_TRUE(server.Authenticate(key.key).ok());  // still served from the cache
  now_ += ApiKeyStore::kRecheckMicros;
  auto p = server.Authenticate(key.key);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ApiKeyStoreTest, KeyCreatedElsewhereIsAcceptedAfterTheRecheckInterval) {
  ApiKeyStore server(*catalog_, clock_);
  const std::string secret(32, 'q');
  const std::string text = "cdp_ZZZZZZZZ_" + secret;
  EXPECT_FALSE(server.Authenticate(text).ok());  // unknown: remembered as such
  ApiKeyRecord record;
  record.name = "made elsewhere";
  record.role = "contributor";
  record.prefix = "ZZZZZZZZ";
  record.secret_hash = HexSha256(secret);
  record.created_by = "other process";
  ASSERT_TRUE(catalog_->AddApiKey(record).ok());
  EXPECT_FALSE(server.Authenticate(text).ok());  // the negative verdict is cached too
  now_ += ApiKeyStore::kRecheckMicros;
  auto p = server.Authenticate(text);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->role, Role::kContributor);
}

TEST_F(ApiKeyStoreTest, OnlyTheHashOfTheSecretIsStored) {
  ApiKeyStore store(*catalog_);
  auto key = MustCreate(store, "k", Role::kAdmin);
  std::string prefix = key.key.substr(4, 8);
  std::string secret = key.key.substr(13);
  auto rec = catalog_->FindApiKeyByPrefix(prefix);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->secret_hash, HexSha256(secret));
  EXPECT_EQ((*rec)->secret_hash.find(secret), std::string::npos);
  // Nowhere in the database files either.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream f(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(secret), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(key.key), std::string::npos) << entry.path();
  }
}

TEST_F(ApiKeyStoreTest, KeysAreDistinct) {
  ApiKeyStore store(*catalog_);
  std::set<std::string> prefixes, secrets;
  for (int i = 0; i < 50; ++i) {
    auto key = MustCreate(store, "k" + std::to_string(i), Role::kViewer);
    prefixes.insert(key.key.substr(4, 8));
    secrets.insert(key.key.substr(13));
  }
  EXPECT_EQ(prefixes.size(), 50u);
  EXPECT_EQ(secrets.size(), 50u);
}

TEST_F(ApiKeyStoreTest, CreateNeedsAName) {
  ApiKeyStore store(*catalog_);
  EXPECT_EQ(store.Create("", Role::kAdmin, "test").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ApiKeyStoreTest, ListShowsRolesRevocationAndUse) {
  ApiKeyStore store(*catalog_, clock_);
  auto a = MustCreate(store, "reader", Role::kViewer);
  auto b = MustCreate(store, "ops", Role::kAdmin);
  ASSERT_TRUE(store.Authenticate(b.key).ok());
  ASSERT_TRUE(store.Revoke(a.id).ok());
  auto list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "reader");
  EXPECT_EQ((*list)[0].role, Role::kViewer);
  EXPECT_EQ((*list)[0].created_by, "test");
  EXPECT_EQ((*list)[0].prefix, a.key.substr(4, 8));
  EXPECT_GT((*list)[0].revoked_at, 0);
  EXPECT_EQ((*list)[0].last_used_at, 0);
  EXPECT_EQ((*list)[1].role, Role::kAdmin);
  EXPECT_EQ((*list)[1].revoked_at, 0);
  EXPECT_EQ((*list)[1].last_used_at, now_.load());
}

TEST_F(ApiKeyStoreTest, LastUsedIsWrittenAtMostOncePerInterval) {
  ApiKeyStore store(*catalog_, clock_);
  auto key = MustCreate(store, "k", Role::kViewer);
  ASSERT_TRUE(store.Authenticate(key.key).ok());
  int64_t first = now_.load();
  now_ += 10 * ApiKeyStore::kRecheckMicros;  // recheck, but within the touch interval
  ASSERT_TRUE(store.Authenticate(key.key).ok());
  EXPECT_EQ((*catalog_->ListApiKeys())[0].last_used_at, first);
  now_ += ApiKeyStore::kTouchIntervalMicros;
  ASSERT_TRUE(store.Authenticate(key.key).ok());
  EXPECT_EQ((*catalog_->ListApiKeys())[0].last_used_at, now_.load());
}

TEST_F(ApiKeyStoreTest, ConcurrentAuthenticationAndRevocation) {
  ApiKeyStore store(*catalog_, clock_);
  auto keep = MustCreate(store, "keep", Role::kViewer);
  auto drop = MustCreate(store, "drop", Role::kViewer);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (!store.Authenticate(keep.key).ok()) failures++;
        (void)store.Authenticate(drop.key);
        if (t == 0 && i % 500 == 0) now_ += ApiKeyStore::kRecheckMicros;
      }
    });
  }
  ASSERT_TRUE(store.Revoke(drop.id).ok());
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_FALSE(store.Authenticate(drop.key).ok());
}

TEST(RoleTest, ParsesAndNamesRoles) {
  for (Role r : {Role::kViewer, Role::kContributor, Role::kAdmin}) {
    auto parsed = ParseRole(RoleName(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
  auto bad = ParseRole("root");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("root"), std::string::npos);
  EXPECT_FALSE(ParseRole("Admin").ok());
}

TEST(RoleTest, PermissionMatrix) {
  struct Row {
    Role role;
    bool read, write, run, manage;
  };
  for (const Row& row : {Row{Role::kViewer, true, false, false, false}, Row{Role::kContributor, true, true, true, false},
                         Row{Role::kAdmin, true, true, true, true}}) {
    SCOPED_TRACE(std::string(RoleName(row.role)));
    EXPECT_EQ(Permits(row.role, Permission::kRead), row.read);
    EXPECT_EQ(Permits(row.role, Permission::kWriteDefinitions), row.write);
    EXPECT_EQ(Permits(row.role, Permission::kRunRefresh), row.run);
    EXPECT_EQ(Permits(row.role, Permission::kManageKeys), row.manage);
  }
}

}  // namespace
}  // namespace cdp
