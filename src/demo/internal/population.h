// The demo's hidden population of real people. A person is a pure function of (seed, index) plus a
// small table that keeps email addresses unique, so every pass can regenerate a person cheaply
// instead of storing it. Get() and the other const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "demo/internal/reference_data.h"

namespace cdp::demo_internal {

enum class Gender : uint8_t { kFemale, kMale, kNonBinary };
enum class Tier : uint8_t { kBronze, kSilver, kGold, kPlatinum };
enum class Satisfaction : uint8_t { kLow, kMedium, kHigh };
enum class EmailKind : uint8_t { kPrimary, kWork, kAlternate };

// Profile sources in the order they are written.
enum class ProfileSource : uint8_t { kEcommerce, kLoyalty, kSurvey };
inline constexpr int kProfileSourceCount = 3;

struct Address {
  uint16_t city = 0;
  uint16_t number = 0;
  int8_t direction = -1;  // index into Directions(), -1 for none
  uint8_t street_type = 0;
  uint16_t street = 0;
  uint8_t unit_kind = 0;  // 0 none, 1 Apt, 2 Unit, 3 Suite
  uint16_t unit_number = 0;
  char unit_letter = 0;  // 0 for none
  int32_t zip = 0;
  int16_t zip4 = 0;
};

struct Phone {
  uint16_t area = 0;
  uint32_t local = 0;  // 7 digits; the exchange (first three) is 200..999
};

struct EmailSpec {
  uint8_t pattern = 0;
  uint8_t domain = 0;  // EmailDomains() index, or WorkDomains() index for the work address
  uint16_t number = 0;
  uint8_t bump = 0;  // > 0 when a suffix was added to avoid another person's address
};

struct Person {
  int64_t index = 0;
  Gender gender = Gender::kFemale;
  const FirstName* first = nullptr;
  uint8_t goes_by = 0;  // 0 formal name, 1 first nickname, 2 second nickname
  std::string_view last;
  char middle_initial = 'A';
  int32_t birth_days = 0;
  Address address;
  bool moved = false;  // some records still carry `previous`
  Address previous;
  Phone phone;
  bool has_mobile = false;
  Phone mobile;
  EmailSpec email[3];  // by EmailKind
  bool has_work_email = false;
  int64_t household_anchor = -1;  // another person sharing the address, or -1
};

struct Membership {
  bool in[kProfileSourceCount] = {};
  bool duplicate[kProfileSourceCount] = {};  // a second record in the same source
};

struct Traits {
  uint8_t occupation = 0;  // Occupations() index
  int32_t income = 0;
  bool email_subscriber = false;
  Tier tier = Tier::kBronze;
  Satisfaction satisfaction = Satisfaction::kMedium;
  double online_basket = 0;  // median online order value, dollars
  double store_basket = 0;   // median store purchase value, dollars
  double online_rate = 0;    // expected online orders over 730 days (for buyers)
  double store_rate = 0;
  bool online_buyer = false;
  bool store_buyer = false;
  bool reviewer = false;
  // Planted subgroup (insights_truth.csv): income >= kHighSpendIncome and tier Gold or Platinum;
  // both baskets are multiplied by kHighSpendFactor.
  bool high_spender = false;
};

inline constexpr int32_t kHighSpendIncome = 100000;
inline constexpr double kHighSpendFactor = 2.5;

class Population {
 public:
  Population(uint64_t seed, int64_t size, int32_t today, double noise);

  int64_t size() const { return size_; }
  // Makes email addresses unique between people (a deterministic sequential pass). Call once
  // before Get(); `tick(done)` is called every 65536 people.
  void ResolveEmailCollisions(const std::function<void(int64_t)>& tick);
  void Get(int64_t index, Person* out) const;
  Membership MembershipOf(int64_t index) const;
  Traits TraitsOf(const Person& person) const;
  // The name the person goes by (formal name or nickname).
  std::string_view UsualFirstName(const Person& person) const;
  // Appends the canonical lower-case address of `kind` (kWork requires has_work_email).
  void AppendEmail(const Person& person, EmailKind kind, std::string& out) const;

 private:
  bool IsHouseholdMember(int64_t index) const;
  void OwnAddress(int64_t index, uint64_t sub, Address* out) const;
  void HomeAddress(int64_t index, Address* out) const;
  bool Moved(int64_t index, Address* previous) const;
  std::string_view OwnLastName(int64_t index) const;
  Phone OwnPhone(int64_t index) const;
  uint32_t PhoneLocal(int64_t slot) const;
  void AppendEmailWithBump(const Person& person, EmailKind kind, uint8_t bump, std::string& out) const;

  uint64_t seed_;
  int64_t size_;
  int32_t today_;
  double noise_;
  uint64_t phone_offset_;
  std::vector<uint8_t> bumps_;  // 3 per person (EmailKind order); empty until resolved
};

}  // namespace cdp::demo_internal
