#include "demo/internal/profile_renderer.h"

#include <algorithm>

#include "common/datetime.h"
#include "demo/internal/output_file.h"
#include "demo/internal/text_noise.h"

namespace cdp::demo_internal {
namespace {

constexpr std::string_view kPlaceholderEmails[] = {"test@test.com", "noemail@example.com", "n/a",
                                                   "none@none.com"};
constexpr std::string_view kPlaceholderPhones[] = {"000-000-0000", "555-555-5555", "1234567890", "n/a"};
constexpr std::string_view kPlaceholderStreets[] = {"n/a", "Unknown", "N/A"};
constexpr int32_t kPlaceholderBirthDays = -25567;  // 1900-01-01

struct DomainTypo {
  std::string_view domain;
  std::string_view typo;
};
constexpr DomainTypo kDomainTypos[] = {
    {"gmail.com", "gmial.com"},    {"gmail.com", "gmail.co"},   {"gmail.com", "gmal.com"},
    {"yahoo.com", "yahooo.com"},   {"yahoo.com", "yaho.com"},   {"hotmail.com", "hotmial.com"},
    {"outlook.com", "outlok.com"}, {"icloud.com", "iclod.com"}, {"aol.com", "aol.co"},
};

void AppendDigits(std::string& out, uint32_t value, int width) { AppendPadded(out, value, width); }

char UpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// "bob.smith@gmail.com" -> "Bob.Smith@Gmail.com".
void CapitalizeWords(std::string& text) {
  bool start = true;
  for (char& c : text) {
    if (start) c = UpperAscii(c);
    start = c == '.' || c == '@' || c == '_';
  }
}

std::string_view Pick(Rng& rng, std::span<const std::string_view> items) {
  return items[rng.Below(static_cast<uint32_t>(items.size()))];
}

}  // namespace

ProfileRenderer::ProfileRenderer(const Population& population, uint64_t seed, double noise)
    : population_(population), seed_(seed), noise_(noise) {
  for (std::string* s : {&first_, &last_, &full_, &email_, &phone_, &street_, &city_, &zip_, &scratch_}) {
    s->reserve(256);
  }
}

double ProfileRenderer::Rate(double base) const { return std::min(1.0, base * noise_); }

void ProfileRenderer::RenderNames(const Person& person, Rng& rng, bool allow_last_first) {
  const FirstName& name = *person.first;
  std::string_view given = population_.UsualFirstName(person);
  if (person.goes_by != 0) {
    if (rng.Chance(Rate(0.25))) given = name.formal;
  } else if (!name.nick1.empty() && rng.Chance(Rate(0.08))) {
    given = (!name.nick2.empty() && rng.Chance(0.4)) ? name.nick2 : name.nick1;
  }
  // A system without accent support folds every name of the record.
  const bool fold = rng.Chance(Rate(0.35));
  first_.clear();
  last_.clear();
  if (fold) {
    AppendFolded(first_, given);
    AppendFolded(last_, person.last);
  } else {
    first_.append(given);
    last_.append(person.last);
  }
  if (rng.Chance(Rate(0.025))) ApplyTypo(first_, rng);
  if (rng.Chance(Rate(0.025))) ApplyTypo(last_, rng);
  if (rng.Chance(Rate(0.03))) {
    if (rng.Chance(0.5)) {
      ToUpperInPlace(first_);
      ToUpperInPlace(last_);
    } else {
      ToLowerInPlace(first_);
      ToLowerInPlace(last_);
    }
  }
  const bool missing_first = rng.Chance(Rate(0.005));
  const uint32_t full_style = rng.Below(1000);
  full_.clear();
  if (allow_last_first && full_style < Rate(0.06) * 1000) {
    full_.append(last_).append(", ").append(first_);
  } else if (full_style >= 500 && full_style < 500 + Rate(0.06) * 1000) {
    full_.append(first_).append(" ");
    full_.push_back(person.middle_initial);
    full_.append(". ").append(last_);
  } else {
    full_.append(first_).append(rng.Chance(Rate(0.01)) ? "  " : " ").append(last_);
  }
  if (rng.Chance(Rate(0.015))) first_.push_back(' ');
  if (missing_first) first_.clear();
}

void ProfileRenderer::RenderEmail(const Person& person, int copy, bool new_account_email, Rng& rng) {
  email_.clear();
  if (rng.Chance(Rate(0.005))) {
    email_.append(Pick(rng, kPlaceholderEmails));
    return;
  }
  if (rng.Chance(Rate(0.03))) return;
  EmailKind kind = EmailKind::kPrimary;
  if (new_account_email && copy == 1) {
    // A second web account needs another login address.
    kind = person.has_work_email && rng.Chance(0.5) ? EmailKind::kWork : EmailKind::kAlternate;
  } else if (person.has_work_email && rng.Chance(Rate(0.15))) {
    kind = EmailKind::kWork;
  } else if (rng.Chance(Rate(0.04))) {
    kind = EmailKind::kAlternate;
  }
  population_.AppendEmail(person, kind, email_);
  const size_t at = email_.find('@');
  const std::string_view domain = std::string_view(email_).substr(at + 1);
  if (domain == "gmail.com" && rng.Chance(Rate(0.04))) {
    // Gmail ignores dots: same mailbox, different string.
    email_.erase(std::remove(email_.begin(), email_.begin() + static_cast<std::ptrdiff_t>(at), '.'),
                 email_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  if (rng.Chance(Rate(0.01))) {
    const size_t pos = email_.find('@');
    email_.insert(pos, rng.Chance(0.5) ? "+coffee" : "+shop");
  }
  if (rng.Chance(Rate(0.008))) {
    const size_t pos = email_.find('@');
    const std::string_view current = std::string_view(email_).substr(pos + 1);
    bool replaced = false;
    const uint32_t start = rng.Below(std::size(kDomainTypos));
    for (size_t i = 0; i < std::size(kDomainTypos) && !replaced; ++i) {
      const DomainTypo& typo = kDomainTypos[(start + i) % std::size(kDomainTypos)];
      if (typo.domain == current) {
        email_.resize(pos + 1);
        email_.append(typo.typo);
        replaced = true;
      }
    }
    if (!replaced) {
      scratch_.assign(email_, 0, pos);
      ApplyTypo(scratch_, rng);
      scratch_.append(email_, pos, std::string::npos);
      email_.swap(scratch_);
    }
  }
  const uint32_t case_roll = rng.Below(1000);
  if (case_roll < Rate(0.04) * 1000) {
    CapitalizeWords(email_);
  } else if (case_roll < Rate(0.06) * 1000) {
    ToUpperInPlace(email_);
  }
  if (rng.Chance(Rate(0.01))) email_.push_back(' ');
}

void ProfileRenderer::RenderPhone(const Person& person, PhoneLayout usual, double missing_rate, Rng& rng) {
  phone_.clear();
  if (rng.Chance(Rate(0.005))) {
    phone_.append(Pick(rng, kPlaceholderPhones));
    return;
  }
  if (rng.Chance(Rate(missing_rate))) return;
  Phone phone = person.phone;
  if (person.has_mobile && rng.Chance(Rate(0.35))) phone = person.mobile;
  uint32_t local = phone.local;
  if (rng.Chance(Rate(0.004))) {
    // One mistyped digit of the line number.
    const uint32_t line = local % 10000;
    const uint32_t power = rng.Below(4);
    uint32_t scale = 1;
    for (uint32_t i = 0; i < power; ++i) scale *= 10;
    const uint32_t digit = line / scale % 10;
    const uint32_t replacement = (digit + 1 + rng.Below(9)) % 10;
    local = local - digit * scale + replacement * scale;
  }
  PhoneLayout layout = usual;
  if (rng.Chance(Rate(0.3))) layout = static_cast<PhoneLayout>(rng.Below(6));
  const uint32_t exchange = local / 10000;
  const uint32_t line = local % 10000;
  switch (layout) {
    case PhoneLayout::kParen:
      phone_.push_back('(');
      AppendDigits(phone_, phone.area, 3);
      phone_.append(") ");
      AppendDigits(phone_, exchange, 3);
      phone_.push_back('-');
      AppendDigits(phone_, line, 4);
      break;
    case PhoneLayout::kDash:
    case PhoneLayout::kOneDash:
      if (layout == PhoneLayout::kOneDash) phone_.append("1-");
      AppendDigits(phone_, phone.area, 3);
      phone_.push_back('-');
      AppendDigits(phone_, exchange, 3);
      phone_.push_back('-');
      AppendDigits(phone_, line, 4);
      break;
    case PhoneLayout::kIntl:
      phone_.append("+1 ");
      AppendDigits(phone_, phone.area, 3);
      phone_.push_back(' ');
      AppendDigits(phone_, exchange, 3);
      phone_.push_back(' ');
      AppendDigits(phone_, line, 4);
      break;
    case PhoneLayout::kDigits:
      AppendDigits(phone_, phone.area, 3);
      AppendDigits(phone_, exchange, 3);
      AppendDigits(phone_, line, 4);
      break;
    case PhoneLayout::kDots:
      AppendDigits(phone_, phone.area, 3);
      phone_.push_back('.');
      AppendDigits(phone_, exchange, 3);
      phone_.push_back('.');
      AppendDigits(phone_, line, 4);
      break;
  }
}

bool ProfileRenderer::RenderBirthDate(const Person& person, Rng& rng, int32_t* days) {
  if (rng.Chance(Rate(0.04))) return false;
  *days = person.birth_days;
  if (rng.Chance(Rate(0.003))) {
    *days = kPlaceholderBirthDays;
    return true;
  }
  if (rng.Chance(Rate(0.012))) {
    int year;
    unsigned month, day;
    CivilFromDays(person.birth_days, &year, &month, &day);
    if (rng.Chance(0.6) && day <= 12 && day != month) {
      *days = DaysFromCivil(year, day, month);  // day and month swapped
    } else {
      const int shifted = year + (rng.Chance(0.5) ? 1 : -1);
      *days = DaysFromCivil(shifted, month, std::min(day, DaysInMonth(shifted, month)));
    }
  }
  return true;
}

void ProfileRenderer::RenderAddress(const Person& person, AddressStyle usual, Rng& rng) {
  const Address& a = (person.moved && rng.Chance(0.5)) ? person.previous : person.address;
  address_used_ = &a;
  const City& city = Cities()[a.city];
  street_.clear();
  city_.clear();
  zip_.clear();
  AddressStyle style = usual;
  if (rng.Chance(Rate(0.3))) style = static_cast<AddressStyle>(rng.Below(3));
  const bool missing_street = rng.Chance(Rate(0.02));
  const bool placeholder_street = rng.Chance(Rate(0.003));
  const bool omit_unit = rng.Chance(Rate(0.1));
  const bool unit_comma = rng.Chance(0.3);
  const bool hash_unit = rng.Chance(0.4);
  const bool upper = rng.Chance(Rate(0.03));
  if (placeholder_street) {
    street_.append(Pick(rng, kPlaceholderStreets));
  } else if (!missing_street) {
    AppendInt(street_, a.number);
    if (a.direction >= 0) {
      const NamePair& dir = Directions()[static_cast<size_t>(a.direction)];
      street_.push_back(' ');
      street_.append(style == AddressStyle::kFull ? dir.full : dir.abbr);
      if (style == AddressStyle::kDotted) street_.push_back('.');
    }
    street_.push_back(' ');
    street_.append(StreetNames()[a.street]);
    const NamePair& type = StreetTypes()[a.street_type];
    street_.push_back(' ');
    street_.append(style == AddressStyle::kFull ? type.full : type.abbr);
    if (style == AddressStyle::kDotted && type.abbr != type.full) street_.push_back('.');
    if (a.unit_kind != 0 && !omit_unit) {
      street_.append(unit_comma ? ", " : " ");
      if (a.unit_kind == 1 && style != AddressStyle::kFull && hash_unit) {
        street_.push_back('#');
      } else if (a.unit_kind == 1) {
        street_.append(style == AddressStyle::kDotted ? "Apt. " : "Apt ");
      } else if (a.unit_kind == 2) {
        street_.append("Unit ");
      } else {
        street_.append(style == AddressStyle::kFull     ? "Suite "
                       : style == AddressStyle::kDotted ? "Ste. "
                                                        : "Ste ");
      }
      AppendInt(street_, a.unit_number);
      if (a.unit_letter != 0) street_.push_back(a.unit_letter);
    }
    if (upper) ToUpperInPlace(street_);
  }
  city_.append((!city.alias.empty() && rng.Chance(Rate(0.1))) ? city.alias : city.name);
  if (rng.Chance(Rate(0.02))) ToUpperInPlace(city_);
  if (!rng.Chance(Rate(0.02))) {
    AppendPadded(zip_, a.zip, 5);
    if (rng.Chance(Rate(0.05))) {
      zip_.push_back('-');
      AppendPadded(zip_, a.zip4, 4);
    }
  }
}

void ProfileRenderer::AppendEcommerce(const Person& person, int copy, int64_t contact_id,
                                      int64_t created_seconds, std::string& row) {
  Rng rng(seed_, Stream::kEcommerceRecord, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  RenderNames(person, rng, false);
  int32_t birth = 0;
  const bool has_birth = RenderBirthDate(person, rng, &birth);
  RenderEmail(person, copy, true, rng);
  RenderPhone(person, PhoneLayout::kParen, 0.06, rng);
  RenderAddress(person, AddressStyle::kAbbreviated, rng);
  const bool missing_gender = rng.Chance(Rate(0.05));
  const uint32_t country = rng.Below(1000);

  AppendInt(row, contact_id);
  row.push_back(',');
  AppendCsvField(row, first_);
  row.push_back(',');
  AppendCsvField(row, last_);
  row.push_back(',');
  AppendCsvField(row, full_);
  row.push_back(',');
  if (has_birth) AppendIsoDate(row, birth);
  row.push_back(',');
  if (!missing_gender) {
    row.append(person.gender == Gender::kFemale ? "Female"
               : person.gender == Gender::kMale ? "Male"
                                                : "Non-binary");
  }
  row.push_back(',');
  AppendCsvField(row, email_);
  row.push_back(',');
  AppendCsvField(row, phone_);
  row.push_back(',');
  row.append(zip_);
  row.push_back(',');
  AppendCsvField(row, street_);
  row.push_back(',');
  AppendCsvField(row, city_);
  row.push_back(',');
  row.append(Cities()[address_used_->city].state);
  row.push_back(',');
  const double variant = Rate(0.15) * 1000;
  row.append(country >= variant         ? "United States"
             : country < variant * 0.45 ? "USA"
             : country < variant * 0.8  ? "US"
                                        : "United States of America");
  row.push_back(',');
  AppendIsoTimestamp(row, created_seconds);
}

void ProfileRenderer::AppendLoyalty(const Person& person, int copy, int64_t loyalty_number,
                                    int64_t contact_id, int64_t rewards_points, int64_t created_seconds,
                                    std::string& row) {
  Rng rng(seed_, Stream::kLoyaltyRecord, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  RenderNames(person, rng, true);
  int32_t birth = 0;
  const bool has_birth = RenderBirthDate(person, rng, &birth);
  RenderEmail(person, copy, false, rng);
  RenderPhone(person, PhoneLayout::kIntl, 0.05, rng);
  const bool missing_gender = rng.Chance(Rate(0.05));
  const bool has_card = rng.Chance(0.9);
  const uint32_t card_last4 = rng.Below(10000);

  row.append("LY");
  AppendPadded(row, loyalty_number, 8);
  row.push_back(',');
  if (contact_id >= 0) AppendInt(row, contact_id);
  row.push_back(',');
  AppendCsvField(row, first_);
  row.push_back(',');
  AppendCsvField(row, last_);
  row.push_back(',');
  AppendCsvField(row, full_);
  row.push_back(',');
  if (has_birth) AppendUsDate(row, birth);
  row.push_back(',');
  if (!missing_gender)
    row.append(person.gender == Gender::kFemale ? "F" : person.gender == Gender::kMale ? "M" : "X");
  row.push_back(',');
  AppendCsvField(row, email_);
  row.push_back(',');
  AppendCsvField(row, phone_);
  row.push_back(',');
  AppendInt(row, rewards_points);
  row.push_back(',');
  if (has_card) {
    row.append("****-****-****-");
    AppendPadded(row, card_last4, 4);
  }
  row.push_back(',');
  AppendUsTimestamp(row, created_seconds);
}

void ProfileRenderer::AppendSurvey(const Person& person, const Traits& traits, int copy, int64_t survey_id,
                                   int32_t submitted_day, std::string& row) {
  Rng rng(seed_, Stream::kSurveyRecord, static_cast<uint64_t>(person.index), static_cast<uint64_t>(copy));
  RenderNames(person, rng, false);
  RenderEmail(person, copy, false, rng);
  RenderPhone(person, PhoneLayout::kDash, 0.08, rng);
  RenderAddress(person, AddressStyle::kFull, rng);
  const bool income_given = rng.Chance(0.92);
  const bool occupation_given = rng.Chance(0.97);

  row.append("{\"SurveyId\":");
  AppendInt(row, survey_id);
  row.append(",\"SubmittedOn\":\"");
  AppendIsoDate(row, submitted_day);
  row.append("\",\"Name\":{\"First\":");
  AppendJsonString(row, first_);
  row.append(",\"Last\":");
  AppendJsonString(row, last_);
  row.append("},\"Email\":");
  if (email_.empty()) {
    row.append("null");
  } else {
    AppendJsonString(row, email_);
  }
  row.append(",\"Phone\":");
  if (phone_.empty()) {
    row.append("null");
  } else {
    AppendJsonString(row, phone_);
  }
  row.append(",\"Address\":{\"Street\":");
  if (street_.empty()) {
    row.append("null");
  } else {
    AppendJsonString(row, street_);
  }
  row.append(",\"City\":");
  AppendJsonString(row, city_);
  row.append(",\"State\":");
  AppendJsonString(row, Cities()[address_used_->city].state_code);
  row.append(",\"PostCode\":");
  if (zip_.empty()) {
    row.append("null");
  } else {
    AppendJsonString(row, zip_);
  }
  row.append("},\"Income\":");
  if (income_given) {
    AppendInt(row, traits.income);
  } else {
    row.append("null");
  }
  row.append(",\"Occupation\":");
  if (occupation_given) {
    AppendJsonString(row, Occupations()[traits.occupation].name);
  } else {
    row.append("null");
  }
  static constexpr std::string_view kTiers[] = {"Bronze", "Silver", "Gold", "Platinum"};
  static constexpr std::string_view kSatisfaction[] = {"low", "medium", "high"};
  row.append(",\"LoyaltyTier\":\"");
  row.append(kTiers[static_cast<int>(traits.tier)]);
  row.append("\",\"EmailSubscriber\":");
  row.append(traits.email_subscriber ? "true" : "false");
  row.append(",\"CustomerSatisfaction\":\"");
  row.append(kSatisfaction[static_cast<int>(traits.satisfaction)]);
  row.append("\"}");
}

}  // namespace cdp::demo_internal
