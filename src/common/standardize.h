// Value standardization at ingest (a source field's `standardize:` option):
// maps the spellings of a US state or Canadian province, a country or a
// gender to one standard form, so that every later stage (the entity,
// unification, Customer, segments, search) sees one value per meaning.
// Tables are static data in standardize.cc; everything here is stateless and
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cdp {

enum class Standardizer {
  kNone,
  kStateCode,    // US states, DC and territories, Canadian provinces and territories -> "CA", "QC"
  kStateName,    // the same -> "California", "Quebec"
  kCountryCode,  // ISO 3166-1 countries -> alpha-2 "US", "DE"
  kCountryName,  // the same -> a short English name: "United States", "Germany", "South Korea"
  kGender,       // -> "Female", "Male", "Other" or "Unknown"
};

// "state_code", "state_name", "country_code", "country_name", "gender"; "" for kNone.
std::string_view StandardizerName(Standardizer s);
// The standardizer of that name (exact, lower case); nullopt for any other text.
std::optional<Standardizer> ParseStandardizer(std::string_view name);
// "state_code, state_name, country_code, country_name, gender" (for error messages).
std::string StandardizerNameList();

// The standard form of `value`, or nullopt when the table does not know it
// (the caller keeps the value as it was). Matching ignores case, accents of
// Latin letters (é = e), surrounding and repeated spaces, dots and
// apostrophes (`N.Y.` = `NY`, `Cote d'Ivoire` = `Côte dIvoire`), a leading
// "the", and treats `-`, `_`, `/`, `,`, `(`, `)` as spaces and `&` as "and".
// What each table accepts:
// - states: the 2-letter postal code, the English name (and the French name
//   of a Canadian province), AP and other common abbreviations ("Calif.",
//   "Mass", "Penn", "Wash. D.C.", "Nfld", "PQ");
// - countries: the ISO alpha-2 and alpha-3 codes, the English short name, the
//   ISO long form ("Korea, Republic of"), common variants ("USA", "UK",
//   "Holland", "Ivory Coast", "Burma") and some native names ("Deutschland");
// - gender: m/male/man/men/boy/masculine (and h, hombre, homme, masculino,
//   männlich, w/weiblich, mujer, femme, femenino, feminine, f/female/woman/
//   women/girl); x/other/non-binary/nonbinary/nb/diverse/divers/d/genderqueer/
//   genderfluid/agender/intersex -> Other; u/unknown/unspecified/not specified/
//   not known/prefer not to say/declined/n/a/na/none -> Unknown. Digits
//   (1/2, 0/1) are not read: systems disagree on what they mean.
// kNone returns nullopt. Input longer than 64 bytes is never known.
std::optional<std::string_view> Standardize(Standardizer s, std::string_view value);

// For tests: spellings that are unreadable (an empty key) or whose key
// leads to two standard forms in one table; empty when the tables are sound.
std::vector<std::string> StandardizerTableClashes();

}  // namespace cdp
