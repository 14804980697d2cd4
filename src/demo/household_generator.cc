#include "demo/household_generator.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <unordered_set>

#include "common/datetime.h"
#include "demo/internal/output_file.h"
#include "demo/internal/random.h"
#include "demo/internal/reference_data.h"
#include "demo/internal/text_noise.h"

namespace cdp {
namespace {

using demo_internal::AppendCsvField;
using demo_internal::AppendFolded;
using demo_internal::Mix64;
using demo_internal::OutputFile;
using demo_internal::Rng;

constexpr int64_t kMaxPeople = 20000000;
// 2026-11-01: "today" of the data. Records are created between 2014-01-01 and today.
const int32_t kToday = DaysFromCivil(2026, 11, 1);
const int32_t kFirstRecordDay = DaysFromCivil(2014, 1, 1);

enum SourceIndex : int { kCrm = 0, kLoyalty = 1, kWeb = 2, kPos = 3, kNumSources = 4 };
constexpr std::string_view kSourceNames[kNumSources] = {"CRM", "Loyalty", "WebShop", "POS"};
constexpr std::string_view kFileNames[kNumSources] = {"crm_contacts.csv", "loyalty_members.csv",
                                                      "webshop_customers.csv", "store_pos.csv"};

// Independent random streams: structure never shifts because a record drew more noise.
enum class Purpose : uint64_t { kHousehold = 101, kPerson, kEmail, kRecord, kChange };

Rng MakeRng(uint64_t seed, Purpose purpose, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = Mix64(seed + demo_internal::kGolden * static_cast<uint64_t>(purpose));
  s = Mix64(s ^ a);
  s = Mix64(s ^ (b * 0x9fb21c651e98df25ULL));
  s = Mix64(s ^ (c * 0xd6e8feb86659fd93ULL));
  return Rng(s);
}

uint64_t HashText(std::string_view text) {  // FNV-1a, then mixed: the same on every platform
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return Mix64(h);
}

// ---------------------------------------------------------------------------------------------
// Text helpers (this generator's own noise; the demo's typo model is not used).

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

std::string Folded(std::string_view text) {
  std::string out;
  AppendFolded(out, text);
  return out;
}
std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}
std::string UpperAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Upper(c);
  return out;
}

// Sound-alike and OCR-like letter confusions, used for a share of substitutions.
constexpr std::array<std::pair<char, char>, 14> kConfusions = {{{'c', 'k'},
                                                                {'k', 'c'},
                                                                {'s', 'z'},
                                                                {'z', 's'},
                                                                {'i', 'y'},
                                                                {'y', 'i'},
                                                                {'m', 'n'},
                                                                {'n', 'm'},
                                                                {'e', 'a'},
                                                                {'a', 'e'},
                                                                {'o', 'u'},
                                                                {'u', 'o'},
                                                                {'l', 'i'},
                                                                {'t', 'd'}}};

// One edit at a letter position (never the first letter): insert a letter (often a doubled one),
// delete, substitute (sound-alike or random letter) or transpose with the next letter. Text with
// fewer than 3 letters is left alone.
void Typo(std::string& text, Rng& rng) {
  std::vector<size_t> letters;
  for (size_t i = 1; i < text.size(); ++i) {
    if (IsLetter(text[i])) letters.push_back(i);
  }
  if (letters.size() < 2) return;
  const size_t at = letters[rng.Below(static_cast<uint32_t>(letters.size()))];
  const bool upper = text[at] >= 'A' && text[at] <= 'Z';
  auto cased = [upper](char c) { return upper ? Upper(c) : c; };
  switch (rng.Below(4)) {
    case 0:  // insert: doubled letter or a random one
      text.insert(at, 1, rng.Chance(0.6) ? text[at] : cased(static_cast<char>('a' + rng.Below(26))));
      break;
    case 1:
      text.erase(at, 1);
      break;
    case 2: {
      char repl = static_cast<char>('a' + rng.Below(26));
      if (rng.Chance(0.6)) {
        for (const auto& [from, to] : kConfusions) {
          if (Lower(text[at]) == from) {
            repl = to;
            break;
          }
        }
      }
      text[at] = cased(repl);
      break;
    }
    default:
      if (at + 1 < text.size() && IsLetter(text[at + 1])) {
        std::swap(text[at], text[at + 1]);
      } else {
        std::swap(text[at - 1], text[at]);
      }
  }
}

// A digit in a run of digits replaced by another (keying error), or two neighbours swapped.
void DigitError(std::string& digits, Rng& rng) {
  if (digits.size() < 2) return;
  const size_t at = 3 + rng.Below(static_cast<uint32_t>(digits.size() > 3 ? digits.size() - 3 : 1));
  const size_t i = std::min(at, digits.size() - 1);
  if (rng.Chance(0.7)) {
    digits[i] = static_cast<char>('0' + (digits[i] - '0' + 1 + rng.Below(9)) % 10);
  } else if (i + 1 < digits.size()) {
    std::swap(digits[i], digits[i + 1]);
  } else {
    std::swap(digits[i - 1], digits[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// The population.

struct Address {
  uint32_t city = 0;
  int32_t number = 0;
  int direction = -1;  // index into Directions(), or -1
  uint32_t street = 0;
  uint32_t type = 0;
  std::string unit;  // "4B" or empty
  int32_t zip = 0;
  int32_t plus4 = 0;
};

struct Household {
  int64_t index = 0;
  Address address;
  Address old_address;  // before move_day, when moved
  int32_t move_day = 0;  // 0: never moved in the period
  std::string landline;  // 10 digits or empty
  std::string family_email;
};

struct Person {
  int64_t id = 0;  // 1-based entity number
  bool female = false;
  uint32_t first = 0;  // index into the gender's first-name table
  char middle = 0;     // middle initial or 0
  std::string last;
  std::string suffix;  // "Jr" for a son named after his father, "Sr" for that father
  int32_t dob = 0;
  std::string mobile;  // 10 digits, or empty
  std::string email;   // current personal e-mail, or empty
  std::string old_email;
  int32_t email_change_day = 0;
  bool uses_family_email = false;
  int copies[kNumSources] = {0, 0, 0, 0};
};

const demo_internal::FirstName& FirstOf(const Person& p) {
  return p.female ? demo_internal::FemaleFirstNames()[p.first] : demo_internal::MaleFirstNames()[p.first];
}

int AgeOn(int32_t dob, int32_t day) { return static_cast<int>((day - dob) / 365.25); }

// Long tail of surnames: about half of households carry one of these instead of a name of the
// demo's (frequency-ranked) table, so common names are as common as in the US and rare ones rare.
constexpr std::string_view kSurnameHeads[] = {
    "Ash",  "Bar",   "Bel",  "Ben",  "Black", "Brad",  "Brook", "Bur",  "Carl", "Cham", "Cor",  "Cran",
    "Dal",  "Dun",   "Eld",  "Ell",  "Fair",  "Fen",   "Gar",   "Gold", "Gran", "Hal",  "Hart", "Hol",
    "Kel",  "Kings", "Lang", "Lind", "Mar",  "Mor",   "New",   "Nor",  "Pen",  "Rad",  "Ram",  "Ros",
    "Sel",  "Stan",  "Stock", "Sut", "Thorn", "Trav", "Vel",   "Wal",  "Wes",  "Whit", "Wick", "Yar",
    "Kow",  "Nov",   "Pet",  "Ost",  "Berg",  "Lund",  "Sch",   "Hof",  "Kirch", "Vander", "Mac", "Fitz",
};
constexpr std::string_view kSurnameTails[] = {
    "son", "sen",  "man",   "ley",   "ton",  "berg", "ford", "well", "wood", "er",    "ski",   "ing",
    "by",  "ham",  "ett",   "stein", "field", "ridge", "more", "land", "ock", "ington", "ova",  "ez",
    "aker", "ell", "ins",   "ard",   "ow",   "mann", "ter",  "den",  "wick", "ston",  "holt",  "dale",
};

std::string PickSurname(Rng& rng) {
  if (rng.Chance(0.5)) {
    return std::string(demo_internal::LastNames()[demo_internal::LastNamePicker().Pick(rng)].name);
  }
  std::string s(kSurnameHeads[rng.Below(std::size(kSurnameHeads))]);
  if (rng.Chance(0.3)) s.push_back("aeiou"[rng.Below(5)]);
  std::string tail(kSurnameTails[rng.Below(std::size(kSurnameTails))]);
  if (!s.empty() && !tail.empty() && s.back() == tail.front()) s.pop_back();
  return s + tail;
}

uint32_t PickFirst(bool female, Rng& rng) {
  return female ? demo_internal::FemaleFirstNamePicker().Pick(rng) : demo_internal::MaleFirstNamePicker().Pick(rng);
}

Address PickAddress(Rng& rng) {
  Address a;
  a.city = demo_internal::CityPicker().Pick(rng);
  const auto& city = demo_internal::Cities()[a.city];
  // House numbers: many small, some large.
  const double u = rng.Uniform();
  a.number = u < 0.5 ? static_cast<int32_t>(rng.Between(1, 999)) : static_cast<int32_t>(rng.Between(1000, 19999));
  a.direction = rng.Chance(0.2) ? static_cast<int>(rng.Below(static_cast<uint32_t>(demo_internal::Directions().size()))) : -1;
  a.street = rng.Below(static_cast<uint32_t>(demo_internal::StreetNames().size()));
  a.type = rng.Below(static_cast<uint32_t>(demo_internal::StreetTypes().size()));
  if (rng.Chance(0.18)) {
    a.unit = std::to_string(1 + rng.Below(30));
    if (rng.Chance(0.4)) a.unit.push_back(static_cast<char>('A' + rng.Below(6)));
  }
  a.zip = city.zip_lo + static_cast<int32_t>(rng.Below(city.zip_span));
  a.plus4 = static_cast<int32_t>(rng.Between(1, 9999));
  return a;
}

// Phone numbers: exchange and line come from a bijection of a person's number (mobile) or of
// 7,999,999 - household number (landline), so they never repeat while people + households stay
// below 8,000,000 (beyond that a repeat also needs the same area code). A share is invalid in the
// NANP (exchange starting with 0 or 1, or an unassigned area code) though it looks like any other.
constexpr std::string_view kUnassignedAreaCodes[] = {"237", "238", "291", "324", "355", "429", "453", "532"};

// A bijection of [0, 8,000,000): a 4-round Feistel network on 24 bits with cycle walking, so
// consecutive indices (members of one household) get unrelated numbers.
uint64_t PermuteBelow8M(uint64_t x) {
  do {
    uint64_t left = x >> 12, right = x & 0xfff;
    for (uint64_t round = 0; round < 4; ++round) {
      const uint64_t f = Mix64(right * 0x9e3779b97f4a7c15ULL + round) & 0xfff;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << 12) | right;
  } while (x >= 8000000ULL);
  return x;
}

std::string MakePhone(uint64_t index, uint32_t city, bool invalid, Rng& rng) {
  const auto& c = demo_internal::Cities()[city];
  std::string area = std::to_string(c.area_code[rng.Below(2)]);
  const uint64_t v = PermuteBelow8M(index % 8000000ULL);
  int exchange = 200 + static_cast<int>(v / 10000);
  const int line = static_cast<int>(v % 10000);
  if (invalid) {
    if (rng.Chance(0.6)) {
      exchange = 100 * static_cast<int>(rng.Below(2)) + exchange % 100;  // 0xx or 1xx
    } else {
      area = std::string(kUnassignedAreaCodes[rng.Below(std::size(kUnassignedAreaCodes))]);
    }
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%03d%04d", area.c_str(), exchange, line);
  return buf;
}

// The set of issued e-mail addresses (hashes), so two people never get the same one by chance.
class EmailRegistry {
 public:
  // Returns `local@domain`, adding digits to `local` until the address is unused.
  std::string Issue(std::string local, std::string_view domain, Rng& rng) {
    if (local.empty()) local = "user";
    std::string candidate = local + "@" + std::string(domain);
    for (int attempt = 0; !issued_.insert(HashText(candidate)).second; ++attempt) {
      candidate = local + std::to_string(attempt < 3 ? rng.Between(1, 99) : rng.Between(100, 99999)) + "@" +
                  std::string(domain);
    }
    return candidate;
  }

 private:
  std::unordered_set<uint64_t> issued_;
};

std::string EmailToken(std::string_view text) {
  std::string out;
  for (char c : Folded(text)) {
    if (IsLetter(c)) out.push_back(Lower(c));
  }
  return out;
}

constexpr std::string_view kWords[] = {"coffee", "sunny", "blue", "tiger", "music", "happy", "star", "runner",
                                       "garden", "golf", "book", "pixel", "river", "lucky", "ocean", "wolf"};

std::string PersonalEmail(const Person& p, EmailRegistry& reg, Rng& rng) {
  const auto& fn = FirstOf(p);
  std::string first = EmailToken(fn.formal), last = EmailToken(p.last);
  if (!fn.nick1.empty() && rng.Chance(0.25)) first = EmailToken(fn.nick1);
  int civil_y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(p.dob, &civil_y, &m, &d);
  const std::string yy = std::to_string(civil_y % 100 + 100).substr(1);
  std::string local;
  switch (rng.Below(10)) {
    case 0: local = first + "." + last; break;
    case 1: local = first + last; break;
    case 2: local = first.substr(0, 1) + last; break;
    case 3: local = first + "." + last + yy; break;
    case 4: local = first + "_" + last; break;
    case 5: local = first + std::to_string(rng.Between(1, 999)); break;
    case 6: local = last + first.substr(0, 1) + std::to_string(civil_y); break;
    case 7:
      local = p.middle ? first + "." + std::string(1, Lower(p.middle)) + "." + last : first + "." + last + "1";
      break;
    case 8: local = std::string(kWords[rng.Below(std::size(kWords))]) + yy; break;  // no name in it
    default: local = first + last.substr(0, 1) + std::to_string(rng.Between(10, 99)); break;
  }
  const auto& domain = demo_internal::EmailDomains()[demo_internal::EmailDomainPicker().Pick(rng)].name;
  return reg.Issue(local, domain, rng);
}

struct Population {
  Household household;
  std::vector<Person> members;
};

// Builds household `h`; `next_id` is the first free person number, `max_members` caps the size.
void BuildHousehold(uint64_t seed, int64_t h, int64_t next_id, int64_t max_members, EmailRegistry& emails,
                    Population* out) {
  Rng rng = MakeRng(seed, Purpose::kHousehold, static_cast<uint64_t>(h));
  out->members.clear();
  Household& hh = out->household;
  hh = Household{};
  hh.index = h;
  hh.address = PickAddress(rng);
  if (rng.Chance(0.12)) {
    hh.old_address = rng.Chance(0.5) ? PickAddress(rng) : hh.address;
    if (hh.old_address.city == hh.address.city) {  // moved within the city: another street
      Address other = PickAddress(rng);
      other.city = hh.address.city;
      other.zip = hh.address.zip;
      hh.old_address = other;
    }
    hh.move_day = static_cast<int32_t>(rng.Between(kFirstRecordDay + 200, kToday - 60));
  }

  // Size: US-like distribution of household sizes.
  static constexpr double kSizeCdf[] = {0.28, 0.62, 0.77, 0.90, 0.96, 0.99, 1.0};
  const double u = rng.Uniform();
  int size = 1;
  while (size < 7 && u >= kSizeCdf[size - 1]) ++size;
  size = static_cast<int>(std::min<int64_t>(size, max_members));

  auto add = [&](bool female, int age_lo, int age_hi, const std::string& last) -> Person& {
    Person p;
    p.id = next_id + static_cast<int64_t>(out->members.size());
    p.female = female;
    p.first = PickFirst(female, rng);
    if (rng.Chance(0.35)) p.middle = static_cast<char>('A' + rng.Below(26));
    p.last = last;
    const int age = static_cast<int>(rng.Between(age_lo, age_hi));
    p.dob = kToday - age * 365 - static_cast<int32_t>(rng.Below(365));
    out->members.push_back(std::move(p));
    return out->members.back();
  };
  // A first name no other member has (families do not reuse names, except a junior).
  auto distinct_first = [&](Person& p) {
    for (int tries = 0; tries < 20; ++tries) {
      bool clash = false;
      for (size_t i = 0; i + 1 < out->members.size(); ++i) {
        const Person& o = out->members[i];
        if (o.female == p.female && o.first == p.first) clash = true;
      }
      if (!clash) return;
      p.first = PickFirst(p.female, rng);
    }
  };

  const std::string surname = PickSurname(rng);
  const bool roommates = size >= 2 && rng.Chance(0.1);
  if (roommates) {
    for (int i = 0; i < size; ++i) add(rng.Chance(0.5), 19, 38, PickSurname(rng));
  } else {
    int children = 0;
    bool partner = false;
    if (size >= 2) {
      partner = rng.Chance(0.85);
      children = size - 1 - (partner ? 1 : 0);
    }
    const bool head_female = rng.Chance(partner ? 0.15 : 0.55);
    const int head_lo = children > 0 ? 38 : 20, head_hi = children > 0 ? 64 : 88;
    Person& head = add(head_female, head_lo, head_hi, surname);
    const int head_age = AgeOn(head.dob, kToday);
    if (partner) {
      const bool pf = rng.Chance(0.93) ? !head_female : head_female;
      const int lo = std::max(19, head_age - 7), hi = std::max(lo, head_age + 5);
      std::string last = surname;
      const double r = rng.Uniform();
      if (r < 0.2) last = PickSurname(rng);                 // kept her/his own name
      else if (r < 0.25) last = surname + "-" + PickSurname(rng);  // double-barrelled
      add(pf, lo, hi, last);
      distinct_first(out->members.back());
    }
    int32_t twin_dob = 0;
    for (int c = 0; c < children; ++c) {
      // One extra member of a larger family is sometimes the head's elderly parent instead.
      if (c == children - 1 && children >= 2 && head_age <= 60 && rng.Chance(0.08)) {
        const bool f = rng.Chance(0.6);
        add(f, std::min(99, head_age + 22), std::min(100, head_age + 34), f && rng.Chance(0.5) ? PickSurname(rng) : surname);
        distinct_first(out->members.back());
        continue;
      }
      const int hi = std::max(16, std::min(34, head_age - 20));
      const bool female = rng.Chance(0.5);
      Person& child = add(female, 16, hi, surname);
      distinct_first(child);
      if (c == 1 && rng.Chance(0.03)) {  // twins
        child.dob = twin_dob;
      }
      if (c == 0) twin_dob = child.dob;
      // A son named after his father.
      const Person& father = out->members[0];
      if (!female && c == 0 && !father.female && rng.Chance(0.05)) {
        child.first = father.first;
        child.suffix = "Jr";
        out->members[0].suffix = rng.Chance(0.3) ? "Sr" : "";
      }
    }
  }

  // Phones: a landline for some households (more of the older ones), mobiles for most people.
  const int oldest = AgeOn(std::min_element(out->members.begin(), out->members.end(),
                                            [](const Person& a, const Person& b) { return a.dob < b.dob; })
                               ->dob,
                           kToday);
  if (rng.Chance(0.15 + 0.006 * std::max(0, oldest - 30))) {
    hh.landline = MakePhone(7999999ULL - static_cast<uint64_t>(h), hh.address.city, rng.Chance(0.1), rng);
  }
  for (Person& p : out->members) {
    if (rng.Chance(0.92)) {
      p.mobile = MakePhone(static_cast<uint64_t>(p.id), hh.address.city, rng.Chance(0.18), rng);
    }
  }

  // E-mail: most people have one; some changed it during the period.
  Rng erng = MakeRng(seed, Purpose::kEmail, static_cast<uint64_t>(h));
  for (Person& p : out->members) {
    if (!erng.Chance(AgeOn(p.dob, kToday) > 75 ? 0.6 : 0.9)) continue;
    p.email = PersonalEmail(p, emails, erng);
    if (erng.Chance(0.22)) {
      p.old_email = PersonalEmail(p, emails, erng);
      p.email_change_day = static_cast<int32_t>(erng.Between(kFirstRecordDay + 100, kToday - 30));
    }
  }
  if (out->members.size() >= 2 && erng.Chance(0.15)) {
    const std::string last = EmailToken(out->members[0].last);
    std::string local;
    switch (erng.Below(4)) {
      case 0: local = "the" + last + "s"; break;
      case 1: local = last + "family"; break;
      case 2: local = last + ".home"; break;
      default:
        local = EmailToken(FirstOf(out->members[0]).formal) + "and" + EmailToken(FirstOf(out->members[1]).formal);
    }
    const auto& domain = demo_internal::EmailDomains()[demo_internal::EmailDomainPicker().Pick(erng)].name;
    hh.family_email = emails.Issue(local, domain, erng);
    int users = 0;
    for (Person& p : out->members) {
      if (AgeOn(p.dob, kToday) >= 18 && erng.Chance(0.65)) {
        p.uses_family_email = true;
        ++users;
      }
    }
    if (users == 0) out->members[0].uses_family_email = true;
  }

  // Presence in the sources; each person is in at least one.
  Rng prng = MakeRng(seed, Purpose::kPerson, static_cast<uint64_t>(h));
  for (Person& p : out->members) {
    const int age = AgeOn(p.dob, kToday);
    const double young = age < 18 ? 0.4 : 1.0;
    const double web = age < 35 ? 0.6 : age < 60 ? 0.45 : 0.25;
    const double prob[kNumSources] = {0.5 * young, 0.4 * young, web * young, 0.25};
    const double dup[kNumSources] = {0.04, 0.03, 0.07, 0.1};
    int any = 0;
    for (int s = 0; s < kNumSources; ++s) {
      if (prng.Chance(prob[s])) {
        p.copies[s] = 1 + (prng.Chance(dup[s]) ? 1 + (prng.Chance(0.1) ? 1 : 0) : 0);
        ++any;
      }
    }
    if (!any) p.copies[age < 40 ? kWeb : kCrm] = 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering one record.

struct RecordContext {
  const Household* hh;
  const Person* p;
  int32_t created;
  double noise;
  Rng* rng;
  bool Chance(double p) const { return rng->Chance(std::min(1.0, p * noise)); }
};

constexpr std::string_view kEmailPlaceholders[] = {"test@test.com", "none@none.com", "noemail@noemail.com",
                                                   "na@na.com",     "no@email.com",  "x@x.com"};
constexpr std::string_view kPhonePlaceholders[] = {"000-000-0000", "999-999-9999", "123-456-7890", "111-111-1111",
                                                   "0000000000"};
constexpr std::string_view kTextPlaceholders[] = {"N/A", "NA", "n/a", "none", "-", "UNKNOWN"};

std::string FirstNameText(const RecordContext& r, bool allow_middle) {
  const auto& fn = FirstOf(*r.p);
  std::string name(fn.formal);
  if (!fn.nick1.empty() && r.Chance(0.15)) name = std::string(!fn.nick2.empty() && r.rng->Chance(0.4) ? fn.nick2 : fn.nick1);
  if (r.Chance(0.25)) name = Folded(name);
  if (r.Chance(0.03)) Typo(name, *r.rng);
  if (r.Chance(0.01)) name = name.substr(0, 1) + (r.rng->Chance(0.5) ? "." : "");
  if (allow_middle && r.p->middle && r.Chance(0.03)) name += std::string(" ") + r.p->middle;
  return name;
}

std::string LastNameText(const RecordContext& r) {
  std::string name = r.p->last;
  const size_t dash = name.find('-');
  if (dash != std::string::npos && r.Chance(0.3)) {  // one part of a double-barrelled name
    name = r.rng->Chance(0.6) ? name.substr(0, dash) : name.substr(dash + 1);
  }
  if (r.Chance(0.25)) name = Folded(name);
  if (r.Chance(0.03)) Typo(name, *r.rng);
  if (!r.p->suffix.empty() && r.rng->Chance(0.35)) name += " " + r.p->suffix + (r.rng->Chance(0.5) ? "." : "");
  return name;
}

std::string EmailText(const RecordContext& r) {
  if (r.Chance(0.02)) return std::string(kEmailPlaceholders[r.rng->Below(std::size(kEmailPlaceholders))]);
  if (r.Chance(0.1)) return "";
  const Person& p = *r.p;
  std::string email;
  if (p.uses_family_email && !r.hh->family_email.empty() && r.rng->Chance(0.5)) {
    email = r.hh->family_email;
  } else if (!p.old_email.empty() && r.created < p.email_change_day) {
    email = p.old_email;
  } else {
    email = p.email;
  }
  if (email.empty()) return "";
  if (r.Chance(0.015)) {  // a typo in the domain or in the local part
    const size_t at = email.find('@');
    std::string local = email.substr(0, at), domain = email.substr(at + 1);
    if (r.rng->Chance(0.5)) {
      Typo(local, *r.rng);
    } else {
      Typo(domain, *r.rng);
    }
    email = local + "@" + domain;
  }
  if (r.Chance(0.05)) email[0] = Upper(email[0]);
  if (r.Chance(0.01)) email = UpperAscii(email);
  return email;
}

// Layouts 0..7: (206) 555-0142, 206-555-0142, 2065550142, +1 206-555-0142, 206.555.0142,
// 1-206-555-0142, +12065550142, 206 555 0142.
std::string FormatPhone(const std::string& digits, int layout) {
  const std::string a = digits.substr(0, 3), b = digits.substr(3, 3), c = digits.substr(6);
  switch (layout) {
    case 0: return "(" + a + ") " + b + "-" + c;
    case 1: return a + "-" + b + "-" + c;
    case 2: return digits;
    case 3: return "+1 " + a + "-" + b + "-" + c;
    case 4: return a + "." + b + "." + c;
    case 5: return "1-" + a + "-" + b + "-" + c;
    case 6: return "+1" + digits;
    default: return a + " " + b + " " + c;
  }
}

std::string PhoneText(const RecordContext& r, std::initializer_list<int> layouts, bool prefer_mobile) {
  if (r.Chance(0.02)) return std::string(kPhonePlaceholders[r.rng->Below(std::size(kPhonePlaceholders))]);
  if (r.Chance(0.12)) return "";
  const Person& p = *r.p;
  std::string digits;
  const bool home = !r.hh->landline.empty() && (p.mobile.empty() || r.rng->Chance(prefer_mobile ? 0.15 : 0.4));
  digits = home ? r.hh->landline : p.mobile;
  if (digits.empty()) return "";
  if (r.Chance(0.015)) DigitError(digits, *r.rng);
  const int layout = *(layouts.begin() + r.rng->Below(static_cast<uint32_t>(layouts.size())));
  std::string text = FormatPhone(digits, layout);
  if (r.Chance(0.01)) text += " x" + std::to_string(r.rng->Between(10, 999));
  return text;
}

const Address& AddressAt(const RecordContext& r) {
  return r.hh->move_day != 0 && r.created < r.hh->move_day ? r.hh->old_address : r.hh->address;
}

std::string StreetText(const RecordContext& r, const Address& a) {
  const bool abbreviate = r.rng->Chance(0.55);
  std::string s = std::to_string(a.number);
  if (r.Chance(0.005)) DigitError(s, *r.rng);
  if (a.direction >= 0) {
    const auto& d = demo_internal::Directions()[static_cast<size_t>(a.direction)];
    s += " " + std::string(abbreviate ? d.abbr : d.full);
    if (abbreviate && r.rng->Chance(0.2)) s += ".";
  }
  s += " " + std::string(demo_internal::StreetNames()[a.street]);
  const auto& t = demo_internal::StreetTypes()[a.type];
  s += " " + std::string(r.rng->Chance(0.55) ? t.abbr : t.full);
  if (!a.unit.empty() && !r.Chance(0.2)) {
    static constexpr std::string_view kUnits[] = {"Apt ", "Apt. ", "#", "Unit ", "Ste "};
    s += " " + std::string(kUnits[r.rng->Below(std::size(kUnits))]) + a.unit;
  }
  if (r.Chance(0.02)) Typo(s, *r.rng);
  if (r.Chance(0.03)) s = UpperAscii(s);
  return s;
}

std::string ZipText(const RecordContext& r, const Address& a, bool lose_zero) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", a.zip);
  std::string z = buf;
  if (lose_zero && z[0] == '0' && r.rng->Chance(0.3)) z = std::to_string(a.zip);
  if (r.rng->Chance(0.1)) {
    std::snprintf(buf, sizeof buf, "-%04d", a.plus4);
    z += buf;
  }
  if (r.Chance(0.01)) DigitError(z, *r.rng);
  return z;
}

std::string CityText(const RecordContext& r, const Address& a) {
  const auto& c = demo_internal::Cities()[a.city];
  std::string s(!c.alias.empty() && r.rng->Chance(0.1) ? c.alias : c.name);
  if (r.Chance(0.02)) Typo(s, *r.rng);
  if (r.Chance(0.04)) s = UpperAscii(s);
  return s;
}

// Birth date with noise; false when the record has none.
bool DobValue(const RecordContext& r, double missing, int* y, unsigned* m, unsigned* d) {
  if (r.Chance(missing)) return false;
  if (r.Chance(0.01)) {
    *y = r.rng->Chance(0.8) ? 1900 : 1901;
    *m = 1;
    *d = 1;
    return true;
  }
  int32_t day = r.p->dob;
  if (r.Chance(0.01)) day += r.rng->Chance(0.5) ? 1 : -1;
  CivilFromDays(day, y, m, d);
  if (r.Chance(0.02) && *d <= 12 && *d != *m) std::swap(*m, *d);
  if (r.Chance(0.01)) {  // year keyed wrong: last two digits swapped or off by one
    const int yy = *y % 100;
    const int swapped = (yy % 10) * 10 + yy / 10;
    *y = r.rng->Chance(0.5) && swapped != yy ? *y - yy + swapped : *y + (r.rng->Chance(0.5) ? 1 : -1);
  }
  return true;
}

std::string Iso(int y, unsigned m, unsigned d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string TextOrPlaceholder(const RecordContext& r, std::string value, double missing) {
  if (r.Chance(0.004)) return std::string(kTextPlaceholders[r.rng->Below(std::size(kTextPlaceholders))]);
  if (r.Chance(missing)) return "";
  return value;
}

// Key digits: a bijection of the per-source counter, so keys do not reveal the household order.
std::string KeyOf(int source, int64_t counter) {
  static constexpr uint64_t kMod[kNumSources] = {1000000000ULL, 1000000000ULL, 10000000000ULL, 100000000ULL};
  static constexpr uint64_t kMul[kNumSources] = {387420489ULL, 1162261467ULL, 3486784401ULL, 43046721ULL};
  static constexpr int kWidth[kNumSources] = {9, 9, 10, 8};
  static constexpr char kPrefix[kNumSources] = {'C', 'L', 'w', 'P'};
  const uint64_t v = (static_cast<uint64_t>(counter) * kMul[source] + 7919ULL * (source + 1)) % kMod[source];
  char buf[24];
  std::snprintf(buf, sizeof buf, "%c%0*llu", kPrefix[source], kWidth[source], static_cast<unsigned long long>(v));
  return buf;
}

void RenderCrm(const RecordContext& r, const std::string& key, std::string& row) {
  std::string first = FirstNameText(r, true), last = LastNameText(r);
  if (r.Chance(0.02)) std::swap(first, last);
  first = TextOrPlaceholder(r, first, 0.01);
  last = TextOrPlaceholder(r, last, 0.005);
  const Address& a = AddressAt(r);
  const auto& city = demo_internal::Cities()[a.city];
  std::string state;
  const double u = r.rng->Uniform();
  state = u < 0.55 ? std::string(city.state_code) : u < 0.95 ? std::string(city.state) : LowerAscii(city.state_code);
  std::string gender;
  const double g = r.rng->Uniform();
  const bool female = r.Chance(0.005) ? !r.p->female : r.p->female;
  if (g < 0.5) gender = female ? "F" : "M";
  else if (g < 0.85) gender = female ? "Female" : "Male";
  int y = 0;
  unsigned m = 0, d = 0;
  std::string dob = DobValue(r, 0.12, &y, &m, &d) ? Iso(y, m, d) : "";
  int cy = 0;
  unsigned cm = 0, cd = 0;
  CivilFromDays(r.created, &cy, &cm, &cd);
  const std::string fields[] = {key,
                                first,
                                last,
                                EmailText(r),
                                PhoneText(r, {0, 0, 1, 1, 2, 4, 5, 7}, false),
                                TextOrPlaceholder(r, StreetText(r, a), 0.05),
                                TextOrPlaceholder(r, CityText(r, a), 0.03),
                                r.Chance(0.02) ? "" : state,
                                r.Chance(0.05) ? "" : ZipText(r, a, false),
                                dob,
                                gender,
                                Iso(cy, cm, cd)};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i) row.push_back(',');
    AppendCsvField(row, fields[i]);
  }
}

void RenderLoyalty(const RecordContext& r, const std::string& key, std::string& row) {
  std::string first = FirstNameText(r, false), last = LastNameText(r);
  std::string full;
  const double u = r.rng->Uniform();
  if (u < 0.62) {
    full = first + " " + last;
  } else if (u < 0.72 && r.p->middle) {
    full = first + " " + std::string(1, r.p->middle) + (r.rng->Chance(0.5) ? ". " : " ") + last;
  } else if (u < 0.95) {
    full = last + ", " + first;
  } else {
    full = last + " " + first;  // swapped without a comma
  }
  if (r.Chance(0.1)) full = UpperAscii(full);
  full = TextOrPlaceholder(r, full, 0.005);
  const Address& a = AddressAt(r);
  int cy = 0;
  unsigned cm = 0, cd = 0;
  CivilFromDays(r.created, &cy, &cm, &cd);
  const std::string joined = std::to_string(cm) + "/" + std::to_string(cd) + "/" + std::to_string(cy);
  const std::string fields[] = {key,
                                full,
                                EmailText(r),
                                PhoneText(r, {3, 3, 6, 6, 0, 2}, true),
                                r.Chance(0.04) ? "" : ZipText(r, a, true),
                                joined};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i) row.push_back(',');
    AppendCsvField(row, fields[i]);
  }
}

void RenderWeb(const RecordContext& r, const std::string& key, std::string& row) {
  std::string first = FirstNameText(r, false), last = LastNameText(r);
  if (r.Chance(0.03)) std::swap(first, last);
  if (r.Chance(0.12)) {
    first = LowerAscii(first);
    last = LowerAscii(last);
  }
  first = TextOrPlaceholder(r, first, 0.01);
  last = TextOrPlaceholder(r, last, 0.01);
  const Address& a = AddressAt(r);
  const auto& city = demo_internal::Cities()[a.city];
  std::string address;
  if (!r.Chance(0.1)) {
    const bool commas = !r.Chance(0.15);
    address = StreetText(r, a) + (commas ? ", " : " ") + CityText(r, a) + (commas ? ", " : " ") +
              std::string(r.rng->Chance(0.85) ? city.state_code : city.state) + " " + ZipText(r, a, false);
  }
  int y = 0;
  unsigned m = 0, d = 0;
  std::string dob;
  if (DobValue(r, 0.3, &y, &m, &d)) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02u/%02u/%04d", m, d, y);
    dob = buf;
  }
  int cy = 0;
  unsigned cm = 0, cd = 0;
  CivilFromDays(r.created, &cy, &cm, &cd);
  char created[32];
  std::snprintf(created, sizeof created, "%sT%02d:%02d:%02dZ", Iso(cy, cm, cd).c_str(), static_cast<int>(r.rng->Below(24)),
                static_cast<int>(r.rng->Below(60)), static_cast<int>(r.rng->Below(60)));
  const std::string fields[] = {key,   first, last, EmailText(r), PhoneText(r, {0, 1, 2, 2, 3, 6, 7}, true),
                                address, dob,  created};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i) row.push_back(',');
    AppendCsvField(row, fields[i]);
  }
}

void RenderPos(const RecordContext& r, const std::string& key, std::string& row) {
  std::string first = FirstNameText(r, false), last = LastNameText(r);
  std::string name = r.rng->Chance(0.85) ? first + " " + last : last + " " + first;
  name = UpperAscii(Folded(name));
  if (r.Chance(0.01)) name = UpperAscii(first);  // only a first name given at the till
  const std::string fields[] = {key, TextOrPlaceholder(r, name, 0.005), PhoneText(r, {2, 2, 2, 1, 0}, true),
                                std::to_string(100 + (r.hh->address.city * 7 + r.rng->Below(3)) % 400)};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (i) row.push_back(',');
    AppendCsvField(row, fields[i]);
  }
}

constexpr std::string_view kHeaders[kNumSources] = {
    "ContactId,FirstName,LastName,Email,Phone,Street,City,State,Zip,DOB,Gender,CreatedAt",
    "MemberId,FullName,Email,Mobile,Zip,JoinedOn",
    "customer_id,given_name,family_name,email,phone,address,birth_date,created_at",
    "PosCustomerId,Name,Phone,StoreNo",
};

}  // namespace

Status GenerateHouseholdSources(const HouseholdOptions& options, HouseholdSummary* summary) {
  if (summary == nullptr) return InvalidArgumentError("GenerateHouseholdSources: summary is null");
  if (options.people < 1 || options.people > kMaxPeople) {
    return InvalidArgumentError("people must be in 1.." + std::to_string(kMaxPeople) + ", got " +
                                std::to_string(options.people));
  }
  if (!(options.noise >= 0 && options.noise <= 3)) {
    return InvalidArgumentError("noise must be in [0, 3], got " + std::to_string(options.noise));
  }
  if (!(options.changed_fraction >= 0 && options.changed_fraction <= 1)) {
    return InvalidArgumentError("changed_fraction must be in [0, 1], got " + std::to_string(options.changed_fraction));
  }
  if (options.out_dir.empty()) return InvalidArgumentError("out_dir is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return UnavailableError("cannot create directory " + options.out_dir + ": " + ec.message());

  *summary = HouseholdSummary{};
  OutputFile files[kNumSources];
  OutputFile truth;
  for (int s = 0; s < kNumSources; ++s) {
    CDP_RETURN_IF_ERROR(files[s].Open(options.out_dir + "/" + std::string(kFileNames[s])));
    files[s].row().append(kHeaders[s]);
    CDP_RETURN_IF_ERROR(files[s].EndHeader());
  }
  CDP_RETURN_IF_ERROR(truth.Open(options.out_dir + "/truth.csv"));
  truth.row().append("source,key,entity");
  CDP_RETURN_IF_ERROR(truth.EndHeader());

  EmailRegistry emails;
  Population pop;
  int64_t counters[kNumSources] = {0, 0, 0, 0};
  int64_t next_id = 1;
  int64_t h = 0;
  while (next_id <= options.people) {
    BuildHousehold(options.seed, h, next_id, options.people - next_id + 1, emails, &pop);
    for (const Person& p : pop.members) {
      const int32_t adult_day = std::max(kFirstRecordDay, p.dob + 16 * 365);
      for (int s = 0; s < kNumSources; ++s) {
        for (int c = 0; c < p.copies[s]; ++c) {
          const int64_t counter = counters[s]++;
          const std::string key = KeyOf(s, counter);
          // The record's version: 0, or a fresh draw for the changed share.
          uint64_t version = 0;
          if (options.changed_fraction > 0) {
            Rng pick = MakeRng(options.change_seed, Purpose::kChange, static_cast<uint64_t>(s),
                               static_cast<uint64_t>(counter));
            if (pick.Uniform() < options.changed_fraction) {
              version = 1 + options.change_seed;
              ++summary->changed_records;
            }
          }
          Rng rng = MakeRng(options.seed, Purpose::kRecord, static_cast<uint64_t>(p.id),
                            static_cast<uint64_t>(s * 16 + c), version);
          RecordContext r{&pop.household, &p, 0, options.noise, &rng};
          r.created = adult_day >= kToday ? kToday : static_cast<int32_t>(rng.Between(adult_day, kToday));
          std::string& row = files[s].row();
          switch (s) {
            case kCrm: RenderCrm(r, key, row); break;
            case kLoyalty: RenderLoyalty(r, key, row); break;
            case kWeb: RenderWeb(r, key, row); break;
            default: RenderPos(r, key, row); break;
          }
          CDP_RETURN_IF_ERROR(files[s].EndRow());
          std::string& t = truth.row();
          t.append(kSourceNames[s]);
          t.push_back(',');
          t.append(key);
          t.push_back(',');
          t.append(std::to_string(p.id));
          CDP_RETURN_IF_ERROR(truth.EndRow());
        }
      }
    }
    next_id += static_cast<int64_t>(pop.members.size());
    ++h;
  }
  for (int s = 0; s < kNumSources; ++s) {
    CDP_RETURN_IF_ERROR(files[s].Commit());
    summary->files.push_back({std::string(kSourceNames[s]), files[s].path(), files[s].rows()});
    summary->records += files[s].rows();
  }
  CDP_RETURN_IF_ERROR(truth.Commit());
  summary->files.push_back({"truth", truth.path(), truth.rows()});
  summary->people = next_id - 1;
  summary->households = h;
  return Status::Ok();
}

}  // namespace cdp
