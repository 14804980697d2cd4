// Renders one profile record of a person as a given source would hold it: the source's own
// formats plus record-level dirt (typos, nicknames, variants, missing values, placeholders).
// Keeps scratch buffers between calls, so rendering does not allocate; one instance per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "demo/internal/population.h"

namespace cdp::demo_internal {

class ProfileRenderer {
 public:
  ProfileRenderer(const Population& population, uint64_t seed, double noise);
  ProfileRenderer(const ProfileRenderer&) = delete;
  ProfileRenderer& operator=(const ProfileRenderer&) = delete;

  // Each Append* writes one CSV row / JSON object (without the line end) for record `copy`
  // (0 the first record of the person in the source, 1 a duplicate).
  void AppendEcommerce(const Person& person, int copy, int64_t contact_id, int64_t created_seconds,
                       std::string& row);
  // `contact_id` < 0 leaves ContactId empty.
  void AppendLoyalty(const Person& person, int copy, int64_t loyalty_number, int64_t contact_id,
                     int64_t rewards_points, int64_t created_seconds, std::string& row);
  void AppendSurvey(const Person& person, const Traits& traits, int copy, int64_t survey_id,
                    int32_t submitted_day, std::string& row);

 private:
  enum class PhoneLayout : uint8_t { kParen, kDash, kIntl, kDigits, kDots, kOneDash };
  enum class AddressStyle : uint8_t { kFull, kAbbreviated, kDotted };

  double Rate(double base) const;
  void RenderNames(const Person& person, Rng& rng, bool allow_last_first);
  void RenderEmail(const Person& person, int copy, bool new_account_email, Rng& rng);
  void RenderPhone(const Person& person, PhoneLayout usual, double missing_rate, Rng& rng);
  // Returns false when the date is missing; *days receives the (possibly mistyped) date.
  bool RenderBirthDate(const Person& person, Rng& rng, int32_t* days);
  // Fills street_, city_, zip_; state stays the person's.
  void RenderAddress(const Person& person, AddressStyle usual, Rng& rng);

  const Population& population_;
  uint64_t seed_;
  double noise_;
  std::string first_, last_, full_, email_, phone_, street_, city_, zip_, scratch_;
  const Address* address_used_ = nullptr;
};

}  // namespace cdp::demo_internal
