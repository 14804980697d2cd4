// Built-in reference tables for the Contoso Coffee demo population: first names with nicknames, last
// names, US cities with state, ZIP range and area codes, streets, email domains, occupations, products
// with their categories, brands and complements (what an owner of a product buys afterwards).
// Immutable after static initialisation; safe to read from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "demo/internal/random.h"

namespace cdp::demo_internal {

struct FirstName {
  std::string_view formal;
  std::string_view nick1;  // empty when the name has no common nickname
  std::string_view nick2;
  uint16_t weight;
};

struct LastName {
  std::string_view name;
  uint16_t weight;
};

struct City {
  std::string_view name;
  std::string_view alias;  // another spelling seen in the wild ("Saint Louis"), or empty
  std::string_view state;
  std::string_view state_code;
  uint16_t weight;
  int32_t zip_lo;     // first ZIP code of the range used for the city
  uint16_t zip_span;  // number of ZIP codes in the range
  uint16_t area_code[2];
};

struct NamePair {
  std::string_view full;
  std::string_view abbr;
};

struct WeightedName {
  std::string_view name;
  uint16_t weight;
};

enum class AgeGroup : uint8_t { kWorking, kStudent, kRetired };

struct Occupation {
  std::string_view name;
  int32_t median_income;
  double spend_bias;  // shift of the person's latent spend level
  uint16_t weight;
  AgeGroup age_group;
};

enum class Season : uint8_t { kAllYear, kSummer, kHoliday };

// Product categories; the first kFavouriteCategoryCount can be a person's favourite.
enum class ProductCategory : uint8_t { kBeans, kEspresso, kBrewing, kColdBrew, kCupsAccessories, kGifts };
inline constexpr int kProductCategoryCount = 6;
inline constexpr int kFavouriteCategoryCount = 5;

// Coffee brands of the catalogue (products.csv). Every brand makes beans and cups/accessories, and
// one or two of espresso, brewing and cold brew, so brands span categories and every favourite
// category has at least two brands. Contoso Roasters (the house brand) also makes all the gifts.
enum class ProductBrand : uint8_t { kContoso, kFabrikam, kNorthwind, kTailspin, kWingtip, kProseware };
inline constexpr int kProductBrandCount = 6;

struct Product {
  int32_t id;
  std::string_view name;
  double list_price;
  Season season;
  ProductCategory category;
  ProductBrand brand;
};

// Picks an index with probability weight / total weight.
class WeightedPicker {
 public:
  template <typename T, typename WeightOf>
  WeightedPicker(std::span<const T> items, WeightOf weight_of) {
    uint64_t total = 0;
    cumulative_.reserve(items.size());
    for (const T& item : items) {
      total += weight_of(item);
      cumulative_.push_back(total);
    }
  }
  uint32_t Pick(Rng& rng) const;
  uint64_t total() const { return cumulative_.empty() ? 0 : cumulative_.back(); }

 private:
  std::vector<uint64_t> cumulative_;
};

std::span<const FirstName> FemaleFirstNames();
std::span<const FirstName> MaleFirstNames();
std::span<const LastName> LastNames();
std::span<const City> Cities();
std::span<const std::string_view> StreetNames();
std::span<const NamePair> StreetTypes();
std::span<const NamePair> Directions();
std::span<const WeightedName> EmailDomains();
std::span<const std::string_view> WorkDomains();
std::span<const Occupation> Occupations();
std::span<const Product> Products();
// "beans", "espresso", "brewing", "cold_brew", "cups_accessories", "gifts".
std::string_view CategoryName(ProductCategory category);
// "Contoso Roasters", "Fabrikam Espresso", "Northwind Origins", "Tailspin Coffee Co.", "Wingtip Home",
// "Proseware Barista".
std::string_view BrandName(ProductBrand brand);
// Products() indexes an owner of product `index` tends to buy afterwards (beans for a machine,
// filters for a pour-over set); empty for most products.
std::span<const int32_t> ComplementsOf(int32_t index);
// Equipment: a product with complements (machines, brewers, grinders, kettles, frothers); the
// planted brand preference never swaps equipment, so complements follow the same equipment.
inline bool IsEquipment(int32_t index) { return !ComplementsOf(index).empty(); }
// An espresso machine (1002 Espresso Machine, 1040 Super-Automatic Espresso Machine).
bool IsEspressoMachine(int32_t index);

const WeightedPicker& FemaleFirstNamePicker();
const WeightedPicker& MaleFirstNamePicker();
const WeightedPicker& LastNamePicker();
const WeightedPicker& CityPicker();
const WeightedPicker& EmailDomainPicker();

}  // namespace cdp::demo_internal
