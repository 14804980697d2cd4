#include "demo/internal/population.h"

#include <algorithm>
#include <cmath>

#include "common/datetime.h"
#include "demo/internal/output_file.h"
#include "demo/internal/text_noise.h"

namespace cdp::demo_internal {
namespace {

// Sub-streams of Stream::kPersonCore, one per independently regenerated aspect.
enum CoreSub : uint64_t { kIdentity = 0, kHome = 1, kLastName = 2, kPhoneArea = 3, kMove = 4, kEmails = 5 };

// Birth years 1940..2005; 1980-1999 is the heaviest band (the lab's 1981-1996 "millennials"
// are about a third of the population).
int BirthYearWeight(int year) {
  if (year < 1950) return 2;
  if (year < 1960) return 4;
  if (year < 1980) return 6;
  if (year < 2000) return 7;
  return 4;
}

struct YearTable {
  uint32_t cumulative[66];
  uint32_t total = 0;
  YearTable() {
    for (int i = 0; i < 66; ++i) {
      total += static_cast<uint32_t>(BirthYearWeight(1940 + i));
      cumulative[i] = total;
    }
  }
  int Pick(Rng& rng) const {
    const uint32_t target = rng.Below(total);
    const auto* it = std::upper_bound(cumulative, cumulative + 66, target);
    return 1940 + static_cast<int>(it - cumulative);
  }
};

// Email local-part patterns with their popularity.
constexpr uint32_t kPatternWeights[] = {25, 15, 6, 12, 12, 8, 5, 7, 10};
constexpr int kPatternCount = 9;

uint8_t PickPattern(Rng& rng) {
  uint32_t target = rng.Below(100);
  for (int i = 0; i < kPatternCount; ++i) {
    if (target < kPatternWeights[i]) return static_cast<uint8_t>(i);
    target -= kPatternWeights[i];
  }
  return 0;
}

uint16_t PatternNumber(uint8_t pattern, int birth_year, Rng& rng) {
  if (pattern == 5) {
    return static_cast<uint16_t>(rng.Chance(0.5) ? birth_year : rng.Between(100, 9999));
  }
  if (pattern == 4 || pattern == 7 || pattern == 8) {
    return static_cast<uint16_t>(rng.Chance(0.6) ? birth_year % 100 : rng.Between(1, 99));
  }
  return 0;
}

int BirthYearOf(int32_t days) {
  int year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  return year;
}

int32_t DaysFromYear(int year) { return DaysFromCivil(year, 1, 1); }

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

uint64_t HashString(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return Mix64(h) | 1;  // never 0, the empty-slot marker
}

// Open-addressing set of 64-bit hashes (0 marks an empty slot).
class HashSet {
 public:
  explicit HashSet(size_t expected) {
    size_t slots = 16;
    while (slots < expected + expected / 3) slots <<= 1;
    slots_.assign(slots, 0);
    mask_ = slots - 1;
  }
  // Inserts `h`; false if it was already present.
  bool Insert(uint64_t h) {
    size_t i = h & mask_;
    while (slots_[i] != 0) {
      if (slots_[i] == h) return false;
      i = (i + 1) & mask_;
    }
    slots_[i] = h;
    return true;
  }

 private:
  std::vector<uint64_t> slots_;
  size_t mask_;
};

// The email token of `text` (see AppendEmailToken) in `buffer`, using the tail of `scratch` as work
// space; names longer than the buffer are cut.
std::string_view EmailToken(std::string_view text, std::string& scratch, char (&buffer)[48]) {
  const size_t start = scratch.size();
  AppendEmailToken(scratch, text);
  const size_t n = std::min(scratch.size() - start, sizeof(buffer));
  scratch.copy(buffer, n, start);
  scratch.resize(start);
  return {buffer, n};
}

constexpr uint32_t kPhoneSpace = 8000000;       // exchanges 200..999 x 10000 lines
constexpr uint64_t kPhoneMultiplier = 5237111;  // coprime with kPhoneSpace

}  // namespace

Population::Population(uint64_t seed, int64_t size, int32_t today, double noise)
    : seed_(seed), size_(size), today_(today), noise_(noise) {
  phone_offset_ = Rng(seed, Stream::kGlobal, 1).Below(kPhoneSpace);
}

bool Population::IsHouseholdMember(int64_t index) const {
  if (index == 0) return false;
  Rng rng(seed_, Stream::kHousehold, static_cast<uint64_t>(index));
  return rng.Chance(0.12);
}

void Population::OwnAddress(int64_t index, uint64_t sub, Address* a) const {
  Rng rng(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), sub);
  const auto cities = Cities();
  a->city = static_cast<uint16_t>(CityPicker().Pick(rng));
  const City& city = cities[a->city];
  const uint32_t size_class = rng.Below(100);
  a->number = static_cast<uint16_t>(size_class < 50   ? rng.Between(1, 999)
                                    : size_class < 90 ? rng.Between(1000, 9999)
                                                      : rng.Between(10000, 29999));
  a->direction = rng.Chance(0.22) ? static_cast<int8_t>(rng.Below(static_cast<uint32_t>(Directions().size())))
                                  : static_cast<int8_t>(-1);
  a->street = static_cast<uint16_t>(rng.Below(static_cast<uint32_t>(StreetNames().size())));
  a->street_type = static_cast<uint8_t>(rng.Below(static_cast<uint32_t>(StreetTypes().size())));
  const uint32_t unit = rng.Below(100);
  a->unit_kind = unit < 18 ? 1 : unit < 23 ? 2 : unit < 25 ? 3 : 0;
  a->unit_letter = 0;
  a->unit_number = 0;
  if (a->unit_kind == 1) {
    if (rng.Chance(0.5)) {
      a->unit_number = static_cast<uint16_t>(rng.Between(1, 30));
      a->unit_letter = static_cast<char>('A' + rng.Below(6));
    } else {
      a->unit_number = static_cast<uint16_t>(rng.Between(1, 24) * 100 + rng.Between(1, 20));
    }
  } else if (a->unit_kind == 2) {
    a->unit_number = static_cast<uint16_t>(rng.Between(1, 60));
  } else if (a->unit_kind == 3) {
    a->unit_number = static_cast<uint16_t>(rng.Between(1, 6) * 100 + rng.Between(0, 50));
  }
  a->zip = city.zip_lo + static_cast<int32_t>(rng.Below(city.zip_span));
  a->zip4 = static_cast<int16_t>(rng.Between(1, 9999));
}

void Population::HomeAddress(int64_t index, Address* out) const {
  if (IsHouseholdMember(index)) {
    Rng rng(seed_, Stream::kHousehold, static_cast<uint64_t>(index));
    rng.Next();  // the membership draw
    const int64_t anchor = std::max<int64_t>(0, index - 1 - rng.Below(4));
    if (!IsHouseholdMember(anchor)) {
      OwnAddress(anchor, kHome, out);
      return;
    }
  }
  OwnAddress(index, kHome, out);
}

bool Population::Moved(int64_t index, Address* previous) const {
  Rng rng(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), kMove);
  if (!rng.Chance(std::min(1.0, 0.05 * noise_))) return false;
  OwnAddress(index, kMove + 100, previous);
  return true;
}

std::string_view Population::OwnLastName(int64_t index) const {
  Rng rng(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), kLastName);
  return LastNames()[LastNamePicker().Pick(rng)].name;
}

uint32_t Population::PhoneLocal(int64_t slot) const {
  const uint64_t i = static_cast<uint64_t>(slot) % kPhoneSpace;
  return 2000000 + static_cast<uint32_t>((i * kPhoneMultiplier + phone_offset_) % kPhoneSpace);
}

Phone Population::OwnPhone(int64_t index) const {
  Address home, previous;
  HomeAddress(index, &home);
  // People keep their number when they move: the area code is the old city's.
  const uint16_t city = Moved(index, &previous) ? previous.city : home.city;
  Rng rng(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), kPhoneArea);
  Phone phone;
  phone.area = Cities()[city].area_code[rng.Below(2)];
  phone.local = PhoneLocal(index);
  return phone;
}

void Population::Get(int64_t index, Person* p) const {
  static const YearTable kYears;
  p->index = index;
  Rng rng(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), kIdentity);
  const uint32_t g = rng.Below(1000);
  p->gender = g < 505 ? Gender::kFemale : g < 995 ? Gender::kMale : Gender::kNonBinary;
  const bool female_name =
      p->gender == Gender::kFemale || (p->gender == Gender::kNonBinary && rng.Chance(0.5));
  if (female_name) {
    p->first = &FemaleFirstNames()[FemaleFirstNamePicker().Pick(rng)];
  } else {
    p->first = &MaleFirstNames()[MaleFirstNamePicker().Pick(rng)];
  }
  p->goes_by = 0;
  if (!p->first->nick1.empty() && rng.Chance(0.3)) {
    p->goes_by = (!p->first->nick2.empty() && rng.Chance(0.3)) ? 2 : 1;
  }
  p->middle_initial = static_cast<char>('A' + rng.Below(26));
  const int year = kYears.Pick(rng);
  p->birth_days = DaysFromYear(year) + static_cast<int32_t>(rng.Below(IsLeap(year) ? 366 : 365));

  // Household: shares the anchor's address, often the last name and sometimes the landline.
  p->household_anchor = -1;
  bool shares_last = false, shares_phone = false;
  if (IsHouseholdMember(index)) {
    Rng h(seed_, Stream::kHousehold, static_cast<uint64_t>(index));
    h.Next();
    const int64_t anchor = std::max<int64_t>(0, index - 1 - h.Below(4));
    if (!IsHouseholdMember(anchor)) {
      p->household_anchor = anchor;
      shares_last = h.Chance(0.7);
      shares_phone = h.Chance(0.3);
    }
  }
  p->last = OwnLastName(shares_last ? p->household_anchor : index);
  HomeAddress(index, &p->address);
  p->moved = Moved(index, &p->previous);
  p->phone = OwnPhone(shares_phone ? p->household_anchor : index);

  Rng er(seed_, Stream::kPersonCore, static_cast<uint64_t>(index), kEmails);
  p->has_mobile = er.Chance(0.25);
  if (p->has_mobile) {
    p->mobile.area = Cities()[p->address.city].area_code[er.Below(2)];
    p->mobile.local = PhoneLocal(size_ + index);
  }
  const uint32_t domain_count = static_cast<uint32_t>(EmailDomains().size());
  EmailSpec& primary = p->email[static_cast<int>(EmailKind::kPrimary)];
  primary.pattern = PickPattern(er);
  primary.domain = static_cast<uint8_t>(EmailDomainPicker().Pick(er));
  primary.number = PatternNumber(primary.pattern, year, er);
  EmailSpec& alternate = p->email[static_cast<int>(EmailKind::kAlternate)];
  alternate.pattern =
      static_cast<uint8_t>((primary.pattern + 1 + er.Below(kPatternCount - 1)) % kPatternCount);
  alternate.domain = static_cast<uint8_t>(EmailDomainPicker().Pick(er));
  if (alternate.domain == primary.domain)
    alternate.domain = static_cast<uint8_t>((alternate.domain + 1) % domain_count);
  alternate.number = PatternNumber(alternate.pattern, year, er);
  EmailSpec& work = p->email[static_cast<int>(EmailKind::kWork)];
  const int age = (today_ - p->birth_days) / 365;
  p->has_work_email = age >= 22 && age < 67 && er.Chance(0.2);
  work.pattern = er.Chance(0.6) ? 0 : 3;
  work.domain = static_cast<uint8_t>(er.Below(static_cast<uint32_t>(WorkDomains().size())));
  work.number = 0;
  for (int k = 0; k < 3; ++k) {
    p->email[k].bump = bumps_.empty() ? 0 : bumps_[static_cast<size_t>(index) * 3 + k];
  }
}

Membership Population::MembershipOf(int64_t index) const {
  Rng rng(seed_, Stream::kMembership, static_cast<uint64_t>(index));
  Membership m;
  m.in[0] = rng.Chance(0.70);
  m.in[1] = rng.Chance(0.60);
  m.in[2] = rng.Chance(0.40);
  const uint32_t fallback = rng.Below(10);
  if (!m.in[0] && !m.in[1] && !m.in[2]) m.in[fallback < 5 ? 0 : fallback < 8 ? 1 : 2] = true;
  const double dup = std::min(1.0, 0.03 * noise_);
  for (int s = 0; s < kProfileSourceCount; ++s) m.duplicate[s] = m.in[s] && rng.Chance(dup);
  return m;
}

Traits Population::TraitsOf(const Person& person) const {
  Rng rng(seed_, Stream::kPersonTraits, static_cast<uint64_t>(person.index));
  Traits t;
  const double age = (today_ - person.birth_days) / 365.25;
  const double z_income = rng.Normal();
  const double z_value = rng.Normal();
  const double z_tier = rng.Normal();
  const auto occupations = Occupations();
  int occupation = -1;
  if (age < 23 && rng.Chance(0.75)) {
    occupation = static_cast<int>(occupations.size()) - 2;  // Student
  } else if ((age >= 67 && rng.Chance(0.8)) || (age >= 62 && rng.Chance(0.3))) {
    occupation = static_cast<int>(occupations.size()) - 1;  // Retired
  }
  if (occupation < 0) {
    static const WeightedPicker kWorking(occupations, [](const Occupation& o) -> uint32_t {
      return o.age_group == AgeGroup::kWorking ? o.weight : 0;
    });
    occupation = static_cast<int>(kWorking.Pick(rng));
  }
  t.occupation = static_cast<uint8_t>(occupation);
  const Occupation& occ = occupations[t.occupation];
  t.income = static_cast<int32_t>(std::llround(occ.median_income * DetExp(0.33 * z_income) / 500.0) * 500);
  t.email_subscriber = rng.Chance(0.55);
  const double value =
      0.62 * z_value + 0.45 * z_income + occ.spend_bias + (t.email_subscriber ? 0.12 : -0.12);
  const double score = value + 0.5 * z_tier;
  t.tier = score > 1.65   ? Tier::kPlatinum
           : score > 0.9  ? Tier::kGold
           : score > 0.05 ? Tier::kSilver
                          : Tier::kBronze;

  const std::string_view state = Cities()[person.address.city].state_code;
  const bool high_tier = t.tier == Tier::kGold || t.tier == Tier::kPlatinum;
  double p_low = 0.24;
  if (state == "CA") p_low += 0.32;
  if (state == "FL") p_low -= 0.1;
  if (occ.name == "Teacher") p_low -= 0.1;
  if (high_tier) p_low -= 0.12;
  p_low = std::clamp(p_low, 0.03, 0.9);
  const double p_high = (1 - p_low) * (high_tier ? 0.55 : 0.4);
  const double u = rng.Uniform();
  t.satisfaction = u < p_low            ? Satisfaction::kLow
                   : u < p_low + p_high ? Satisfaction::kHigh
                                        : Satisfaction::kMedium;

  const int birth_year = BirthYearOf(person.birth_days);
  const double millennial = (birth_year >= 1981 && birth_year <= 1996) ? 0.08 : 0.0;
  t.online_basket = 100.0 * DetExp(0.38 * value);
  t.store_basket = 83.0 * DetExp(0.36 * value + millennial);
  static constexpr double kTierVisits[] = {1.0, 1.1, 1.25, 1.4};
  t.online_rate = 5.0 * DetExp(0.3 * value);
  t.store_rate = 7.5 * DetExp(0.3 * value) * kTierVisits[static_cast<int>(t.tier)];
  // The planted high-spend subgroup: a crisp rule on two survey answers, on top of the smooth
  // effect of income and tier through `value` (no draw, so nothing else moves).
  t.high_spender = t.income >= kHighSpendIncome && high_tier;
  if (t.high_spender) {
    t.online_basket *= kHighSpendFactor;
    t.store_basket *= kHighSpendFactor;
  }
  t.online_buyer = rng.Chance(0.85);
  t.store_buyer = rng.Chance(0.9);
  // Few people write reviews unprompted, so a review is news (the planted bad experiences add theirs).
  t.reviewer = rng.Chance(t.satisfaction == Satisfaction::kLow ? 0.2 : 0.12);
  return t;
}

std::string_view Population::UsualFirstName(const Person& person) const {
  if (person.goes_by == 1) return person.first->nick1;
  if (person.goes_by == 2) return person.first->nick2;
  return person.first->formal;
}

void Population::AppendEmail(const Person& person, EmailKind kind, std::string& out) const {
  AppendEmailWithBump(person, kind, person.email[static_cast<int>(kind)].bump, out);
}

void Population::AppendEmailWithBump(const Person& person, EmailKind kind, uint8_t bump,
                                     std::string& out) const {
  const EmailSpec& spec = person.email[static_cast<int>(kind)];
  // A work address uses the formal name; personal ones the name the person goes by.
  const std::string_view first = kind == EmailKind::kWork ? person.first->formal : UsualFirstName(person);
  char first_buffer[48], last_buffer[48];
  std::string_view first_token = EmailToken(first, out, first_buffer);
  std::string_view last_token = EmailToken(person.last, out, last_buffer);
  if (first_token.empty()) first_token = "user";
  if (last_token.empty()) last_token = "x";
  switch (spec.pattern) {
    case 0:
      out.append(first_token).append(".").append(last_token);
      break;
    case 1:
      out.append(first_token).append(last_token);
      break;
    case 2:
      out.append(first_token).append("_").append(last_token);
      break;
    case 3:
      out.append(first_token.substr(0, 1)).append(last_token);
      break;
    case 4:
      out.append(first_token).append(".").append(last_token);
      break;
    case 5:
      out.append(first_token);
      break;
    case 6:
      out.append(last_token).append(".").append(first_token);
      break;
    case 7:
      out.append(first_token).append(last_token.substr(0, 1));
      break;
    default:
      out.append(first_token).append(last_token);
      break;
  }
  if (spec.number != 0) AppendPadded(out, spec.number, spec.pattern == 5 ? 1 : 2);
  if (bump != 0) {
    const uint64_t mix =
        Mix64(static_cast<uint64_t>(person.index) * 3 + static_cast<uint64_t>(kind) + bump * kGolden);
    AppendPadded(out, static_cast<int64_t>(mix % 9000 + 100 * bump), 1);
  }
  out.push_back('@');
  out.append(kind == EmailKind::kWork ? WorkDomains()[spec.domain] : EmailDomains()[spec.domain].name);
}

void Population::ResolveEmailCollisions(const std::function<void(int64_t)>& tick) {
  bumps_.clear();
  std::vector<uint8_t> bumps(static_cast<size_t>(size_) * 3, 0);
  HashSet seen(static_cast<size_t>(size_) * 3);
  Person person;
  std::string email;
  email.reserve(128);
  for (int64_t i = 0; i < size_; ++i) {
    Get(i, &person);
    for (int k = 0; k < 3; ++k) {
      const auto kind = static_cast<EmailKind>(k);
      if (kind == EmailKind::kWork && !person.has_work_email) continue;
      uint8_t bump = 0;
      while (true) {
        email.clear();
        AppendEmailWithBump(person, kind, bump, email);
        // Gmail ignores dots in the local part: john.smith@ and johnsmith@ are one mailbox.
        if (email.ends_with("@gmail.com")) {
          const size_t at = email.find('@');
          email.erase(std::remove(email.begin(), email.begin() + static_cast<std::ptrdiff_t>(at), '.'),
                      email.begin() + static_cast<std::ptrdiff_t>(at));
        }
        if (seen.Insert(HashString(email)) || bump == 255) break;
        ++bump;
      }
      bumps[static_cast<size_t>(i) * 3 + k] = bump;
    }
    if (tick && (i + 1) % 65536 == 0) tick(i + 1);
  }
  bumps_ = std::move(bumps);
}

}  // namespace cdp::demo_internal
