#include "common/standardize.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace cdp {
namespace {

// One entry per line: the 2-letter code, the standard name, then other
// spellings; '|' separates them. Codes and names match as spellings too.
constexpr std::string_view kStates[] = {
    "AL|Alabama|Ala",
    "AK|Alaska|Alas",
    "AZ|Arizona|Ariz",
    "AR|Arkansas|Ark",
    "CA|California|Calif|Cal|Cali|Califor",
    "CO|Colorado|Colo|Col",
    "CT|Connecticut|Conn",
    "DE|Delaware|Del",
    "DC|District of Columbia|Washington DC|Wash DC|D of C",
    "FL|Florida|Fla|Flor",
    "GA|Georgia",
    "HI|Hawaii|Hawai'i",
    "ID|Idaho|Ida",
    "IL|Illinois|Ill|Ills",
    "IN|Indiana|Ind",
    "IA|Iowa",
    "KS|Kansas|Kan|Kans",
    "KY|Kentucky|Ken|Kent",
    "LA|Louisiana",
    "ME|Maine",
    "MD|Maryland",
    "MA|Massachusetts|Mass",
    "MI|Michigan|Mich",
    "MN|Minnesota|Minn",
    "MS|Mississippi|Miss",
    "MO|Missouri",
    "MT|Montana|Mont",
    "NE|Nebraska|Neb|Nebr",
    "NV|Nevada|Nev",
    "NH|New Hampshire",
    "NJ|New Jersey",
    "NM|New Mexico|N Mex|New M",
    "NY|New York",
    "NC|North Carolina|N Car",
    "ND|North Dakota|N Dak",
    "OH|Ohio",
    "OK|Oklahoma|Okla",
    "OR|Oregon|Ore|Oreg",
    "PA|Pennsylvania|Penn|Penna",
    "RI|Rhode Island",
    "SC|South Carolina|S Car",
    "SD|South Dakota|S Dak",
    "TN|Tennessee|Tenn",
    "TX|Texas|Tex",
    "UT|Utah",
    "VT|Vermont",
    "VA|Virginia|Virg",
    "WA|Washington|Wash",
    "WV|West Virginia|W Va|W Virg",
    "WI|Wisconsin|Wis|Wisc",
    "WY|Wyoming|Wyo",
    "AS|American Samoa",
    "GU|Guam",
    "MP|Northern Mariana Islands|Northern Marianas",
    "PR|Puerto Rico",
    "VI|U.S. Virgin Islands|US Virgin Islands|Virgin Islands|United States Virgin Islands",
    "UM|U.S. Minor Outlying Islands|United States Minor Outlying Islands",
    "AB|Alberta|Alta",
    "BC|British Columbia|Colombie-Britannique",
    "MB|Manitoba|Man",
    "NB|New Brunswick|Nouveau-Brunswick",
    "NL|Newfoundland and Labrador|Newfoundland|Nfld|NF|Terre-Neuve-et-Labrador",
    "NS|Nova Scotia|Nouvelle-Écosse",
    "NT|Northwest Territories|Territoires du Nord-Ouest|NWT",
    "NU|Nunavut",
    "ON|Ontario|Ont",
    "PE|Prince Edward Island|PEI|Île-du-Prince-Édouard",
    "QC|Quebec|Québec|Que|PQ",
    "SK|Saskatchewan|Sask",
    "YT|Yukon|Yukon Territory|Yuk",
};

// ISO 3166-1: alpha-2, alpha-3, a short English name, then other spellings.
constexpr std::string_view kCountries[] = {
    "AD|AND|Andorra",
    "AE|ARE|United Arab Emirates|UAE|Emirates",
    "AF|AFG|Afghanistan",
    "AG|ATG|Antigua and Barbuda|Antigua",
    "AI|AIA|Anguilla",
    "AL|ALB|Albania|Shqipëria",
    "AM|ARM|Armenia",
    "AO|AGO|Angola",
    "AQ|ATA|Antarctica",
    "AR|ARG|Argentina",
    "AS|ASM|American Samoa",
    "AT|AUT|Austria|Österreich|Oesterreich",
    "AU|AUS|Australia",
    "AW|ABW|Aruba",
    "AX|ALA|Åland Islands|Aland",
    "AZ|AZE|Azerbaijan",
    "BA|BIH|Bosnia and Herzegovina|Bosnia|Bosnia-Herzegovina",
    "BB|BRB|Barbados",
    "BD|BGD|Bangladesh",
    "BE|BEL|Belgium|Belgique|België|Belgien",
    "BF|BFA|Burkina Faso",
    "BG|BGR|Bulgaria",
    "BH|BHR|Bahrain",
    "BI|BDI|Burundi",
    "BJ|BEN|Benin",
    "BL|BLM|Saint Barthélemy|St Barthelemy|St Barts",
    "BM|BMU|Bermuda",
    "BN|BRN|Brunei|Brunei Darussalam",
    "BO|BOL|Bolivia|Bolivia, Plurinational State of|Plurinational State of Bolivia",
    "BQ|BES|Caribbean Netherlands|Bonaire, Sint Eustatius and Saba|Bonaire",
    "BR|BRA|Brazil|Brasil",
    "BS|BHS|Bahamas",
    "BT|BTN|Bhutan",
    "BV|BVT|Bouvet Island",
    "BW|BWA|Botswana",
    "BY|BLR|Belarus",
    "BZ|BLZ|Belize",
    "CA|CAN|Canada",
    "CC|CCK|Cocos (Keeling) Islands|Cocos Islands",
    "CD|COD|DR Congo|Congo, Democratic Republic of the|Democratic Republic of the Congo|Congo-Kinshasa|DRC|Zaire",
    "CF|CAF|Central African Republic",
    "CG|COG|Republic of the Congo|Congo|Congo-Brazzaville|Congo, Republic of the",
    "CH|CHE|Switzerland|Schweiz|Suisse|Svizzera",
    "CI|CIV|Côte d'Ivoire|Ivory Coast",
    "CK|COK|Cook Islands",
    "CL|CHL|Chile",
    "CM|CMR|Cameroon",
    "CN|CHN|China|People's Republic of China|PRC",
    "CO|COL|Colombia",
    "CR|CRI|Costa Rica",
    "CU|CUB|Cuba",
    "CV|CPV|Cabo Verde|Cape Verde",
    "CW|CUW|Curaçao",
    "CX|CXR|Christmas Island",
    "CY|CYP|Cyprus",
    "CZ|CZE|Czechia|Czech Republic",
    "DE|DEU|Germany|Deutschland|Federal Republic of Germany",
    "DJ|DJI|Djibouti",
    "DK|DNK|Denmark|Danmark",
    "DM|DMA|Dominica",
    "DO|DOM|Dominican Republic",
    "DZ|DZA|Algeria",
    "EC|ECU|Ecuador",
    "EE|EST|Estonia|Eesti",
    "EG|EGY|Egypt",
    "EH|ESH|Western Sahara",
    "ER|ERI|Eritrea",
    "ES|ESP|Spain|España|Espana",
    "ET|ETH|Ethiopia",
    "FI|FIN|Finland|Suomi",
    "FJ|FJI|Fiji",
    "FK|FLK|Falkland Islands|Falkland Islands (Malvinas)|Falklands",
    "FM|FSM|Micronesia|Micronesia, Federated States of|Federated States of Micronesia",
    "FO|FRO|Faroe Islands|Faroes",
    "FR|FRA|France",
    "GA|GAB|Gabon",
    "GB|GBR|United Kingdom|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland|"
    "United Kingdom of Great Britain and Northern Ireland",
    "GD|GRD|Grenada",
    "GE|GEO|Georgia",
    "GF|GUF|French Guiana",
    "GG|GGY|Guernsey",
    "GH|GHA|Ghana",
    "GI|GIB|Gibraltar",
    "GL|GRL|Greenland",
    "GM|GMB|Gambia",
    "GN|GIN|Guinea",
    "GP|GLP|Guadeloupe",
    "GQ|GNQ|Equatorial Guinea",
    "GR|GRC|Greece|Hellas",
    "GS|SGS|South Georgia and the South Sandwich Islands",
    "GT|GTM|Guatemala",
    "GU|GUM|Guam",
    "GW|GNB|Guinea-Bissau",
    "GY|GUY|Guyana",
    "HK|HKG|Hong Kong",
    "HM|HMD|Heard Island and McDonald Islands",
    "HN|HND|Honduras",
    "HR|HRV|Croatia|Hrvatska",
    "HT|HTI|Haiti",
    "HU|HUN|Hungary|Magyarország",
    "ID|IDN|Indonesia",
    "IE|IRL|Ireland|Éire|Republic of Ireland",
    "IL|ISR|Israel",
    "IM|IMN|Isle of Man",
    "IN|IND|India",
    "IO|IOT|British Indian Ocean Territory",
    "IQ|IRQ|Iraq",
    "IR|IRN|Iran|Iran, Islamic Republic of|Islamic Republic of Iran",
    "IS|ISL|Iceland",
    "IT|ITA|Italy|Italia",
    "JE|JEY|Jersey",
    "JM|JAM|Jamaica",
    "JO|JOR|Jordan",
    "JP|JPN|Japan",
    "KE|KEN|Kenya",
    "KG|KGZ|Kyrgyzstan",
    "KH|KHM|Cambodia",
    "KI|KIR|Kiribati",
    "KM|COM|Comoros",
    "KN|KNA|Saint Kitts and Nevis|St Kitts and Nevis",
    "KP|PRK|North Korea|Korea, Democratic People's Republic of|Democratic People's Republic of Korea|DPRK",
    "KR|KOR|South Korea|Korea, Republic of|Republic of Korea|Korea",
    "KW|KWT|Kuwait",
    "KY|CYM|Cayman Islands",
    "KZ|KAZ|Kazakhstan",
    "LA|LAO|Laos|Lao People's Democratic Republic|Lao PDR",
    "LB|LBN|Lebanon",
    "LC|LCA|Saint Lucia|St Lucia",
    "LI|LIE|Liechtenstein",
    "LK|LKA|Sri Lanka",
    "LR|LBR|Liberia",
    "LS|LSO|Lesotho",
    "LT|LTU|Lithuania",
    "LU|LUX|Luxembourg",
    "LV|LVA|Latvia",
    "LY|LBY|Libya",
    "MA|MAR|Morocco",
    "MC|MCO|Monaco",
    "MD|MDA|Moldova|Moldova, Republic of|Republic of Moldova",
    "ME|MNE|Montenegro",
    "MF|MAF|Saint Martin|Saint Martin (French part)|St Martin",
    "MG|MDG|Madagascar",
    "MH|MHL|Marshall Islands",
    "MK|MKD|North Macedonia|Macedonia|Republic of North Macedonia",
    "ML|MLI|Mali",
    "MM|MMR|Myanmar|Burma",
    "MN|MNG|Mongolia",
    "MO|MAC|Macao|Macau",
    "MP|MNP|Northern Mariana Islands",
    "MQ|MTQ|Martinique",
    "MR|MRT|Mauritania",
    "MS|MSR|Montserrat",
    "MT|MLT|Malta",
    "MU|MUS|Mauritius",
    "MV|MDV|Maldives",
    "MW|MWI|Malawi",
    "MX|MEX|Mexico|México",
    "MY|MYS|Malaysia",
    "MZ|MOZ|Mozambique",
    "NA|NAM|Namibia",
    "NC|NCL|New Caledonia",
    "NE|NER|Niger",
    "NF|NFK|Norfolk Island",
    "NG|NGA|Nigeria",
    "NI|NIC|Nicaragua",
    "NL|NLD|Netherlands|Holland|Nederland|Kingdom of the Netherlands",
    "NO|NOR|Norway|Norge|Noreg",
    "NP|NPL|Nepal",
    "NR|NRU|Nauru",
    "NU|NIU|Niue",
    "NZ|NZL|New Zealand|Aotearoa",
    "OM|OMN|Oman",
    "PA|PAN|Panama",
    "PE|PER|Peru",
    "PF|PYF|French Polynesia",
    "PG|PNG|Papua New Guinea",
    "PH|PHL|Philippines",
    "PK|PAK|Pakistan",
    "PL|POL|Poland|Polska",
    "PM|SPM|Saint Pierre and Miquelon|St Pierre and Miquelon",
    "PN|PCN|Pitcairn Islands|Pitcairn",
    "PR|PRI|Puerto Rico",
    "PS|PSE|Palestine|Palestine, State of|State of Palestine",
    "PT|PRT|Portugal",
    "PW|PLW|Palau",
    "PY|PRY|Paraguay",
    "QA|QAT|Qatar",
    "RE|REU|Réunion",
    "RO|ROU|Romania|România",
    "RS|SRB|Serbia|Srbija",
    "RU|RUS|Russia|Russian Federation",
    "RW|RWA|Rwanda",
    "SA|SAU|Saudi Arabia",
    "SB|SLB|Solomon Islands",
    "SC|SYC|Seychelles",
    "SD|SDN|Sudan",
    "SE|SWE|Sweden|Sverige",
    "SG|SGP|Singapore",
    "SH|SHN|Saint Helena|Saint Helena, Ascension and Tristan da Cunha|St Helena",
    "SI|SVN|Slovenia|Slovenija",
    "SJ|SJM|Svalbard and Jan Mayen",
    "SK|SVK|Slovakia|Slovak Republic|Slovensko",
    "SL|SLE|Sierra Leone",
    "SM|SMR|San Marino",
    "SN|SEN|Senegal",
    "SO|SOM|Somalia",
    "SR|SUR|Suriname|Surinam",
    "SS|SSD|South Sudan",
    "ST|STP|São Tomé and Príncipe|Sao Tome and Principe",
    "SV|SLV|El Salvador",
    "SX|SXM|Sint Maarten|Sint Maarten (Dutch part)",
    "SY|SYR|Syria|Syrian Arab Republic",
    "SZ|SWZ|Eswatini|Swaziland",
    "TC|TCA|Turks and Caicos Islands|Turks and Caicos",
    "TD|TCD|Chad",
    "TF|ATF|French Southern Territories",
    "TG|TGO|Togo",
    "TH|THA|Thailand",
    "TJ|TJK|Tajikistan",
    "TK|TKL|Tokelau",
    "TL|TLS|Timor-Leste|East Timor",
    "TM|TKM|Turkmenistan",
    "TN|TUN|Tunisia",
    "TO|TON|Tonga",
    "TR|TUR|Turkey|Türkiye|Turkiye",
    "TT|TTO|Trinidad and Tobago|Trinidad",
    "TV|TUV|Tuvalu",
    "TW|TWN|Taiwan|Taiwan, Province of China|Republic of China",
    "TZ|TZA|Tanzania|Tanzania, United Republic of|United Republic of Tanzania",
    "UA|UKR|Ukraine",
    "UG|UGA|Uganda",
    "UM|UMI|United States Minor Outlying Islands",
    "US|USA|United States|U.S.|U.S.A.|United States of America|America|US of A",
    "UY|URY|Uruguay",
    "UZ|UZB|Uzbekistan",
    "VA|VAT|Vatican City|Holy See|Vatican",
    "VC|VCT|Saint Vincent and the Grenadines|St Vincent and the Grenadines",
    "VE|VEN|Venezuela|Venezuela, Bolivarian Republic of",
    "VG|VGB|British Virgin Islands|Virgin Islands, British",
    "VI|VIR|U.S. Virgin Islands|Virgin Islands, U.S.|US Virgin Islands",
    "VN|VNM|Vietnam|Viet Nam",
    "VU|VUT|Vanuatu",
    "WF|WLF|Wallis and Futuna",
    "WS|WSM|Samoa",
    "XK|XKX|Kosovo",
    "YE|YEM|Yemen",
    "YT|MYT|Mayotte",
    "ZA|ZAF|South Africa",
    "ZM|ZMB|Zambia",
    "ZW|ZWE|Zimbabwe",
};

// The standard form, then its spellings.
constexpr std::string_view kGenders[] = {
    "Female|F|W|woman|women|girl|feminine|fem|weiblich|mujer|femme|femenino|feminino|femmina|frau",
    "Male|M|H|man|men|boy|masculine|masc|männlich|maennlich|hombre|homme|masculino|maschio|mann",
    "Other|X|O|non-binary|nonbinary|non binary|NB|enby|diverse|divers|D|genderqueer|gender queer|genderfluid|"
    "gender fluid|agender|intersex|third gender|two-spirit",
    "Unknown|U|unk|not known|unspecified|not specified|not stated|prefer not to say|prefer not to answer|"
    "rather not say|declined|declined to answer|n/a|NA|none|not applicable",
};

constexpr size_t kMaxValueBytes = 64;

// Appends the ASCII letter for a Latin-1 supplement letter (the second byte
// of a UTF-8 sequence C3 xx), or returns false for other characters.
bool FoldLatin1(unsigned char b, std::string* out) {
  // U+00C0..U+00FF minus 0x40: b in 0x80..0xBF.
  static constexpr char kFold[64] = {
      'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',   // C0-CF
      'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   0,     // D0-DF
      'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',   // E0-EF
      'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y'};  // F0-FF
  if (b < 0x80 || b > 0xBF) return false;
  const char c = kFold[b - 0x80];
  if (c == 0) {
    if (b == 0x86 || b == 0xA6) {  // Æ æ
      out->append("ae");
      return true;
    }
    if (b == 0x9F) {  // ß
      out->append("ss");
      return true;
    }
    return false;
  }
  out->push_back(c);
  return true;
}

// The lookup key of a spelling (the rules in the header); "" when the value
// cannot be a known one (too long, or other non-ASCII text).
std::string Key(std::string_view v) {
  std::string out;
  if (v.size() > kMaxValueBytes) return out;
  out.reserve(v.size());
  bool space = false;
  auto put = [&](char c) {
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  };
  for (size_t i = 0; i < v.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if (c >= 'A' && c <= 'Z') {
      put(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      put(static_cast<char>(c));
    } else if (c == '.' || c == '\'') {
      // dropped: N.Y. = NY, d'Ivoire = dIvoire
    } else if (c == '&') {
      space = true;
      put('a');
      out.append("nd");
      space = true;
    } else if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '/' || c == ',' || c == '(' || c == ')') {
      space = true;
    } else if (c == 0xC3 && i + 1 < v.size()) {
      std::string folded;
      if (!FoldLatin1(static_cast<unsigned char>(v[i + 1]), &folded)) return std::string();
      for (char f : folded) put(f);
      ++i;
    } else if (c == 0xE2 && i + 2 < v.size() && static_cast<unsigned char>(v[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(v[i + 2]) == 0x99 || static_cast<unsigned char>(v[i + 2]) == 0x98)) {
      i += 2;  // typographic apostrophes, dropped like '
    } else {
      return std::string();
    }
  }
  if (out.compare(0, 4, "the ") == 0) out.erase(0, 4);
  return out;
}

// Spelling key -> standard form, for one standardizer. Built once.
using Table = std::unordered_map<std::string, std::string_view>;

std::vector<std::string_view> SplitBars(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t at = 0;
  for (;;) {
    size_t bar = line.find('|', at);
    parts.push_back(line.substr(at, bar == std::string_view::npos ? std::string_view::npos : bar - at));
    if (bar == std::string_view::npos) break;
    at = bar + 1;
  }
  return parts;
}

// `value_at`: which part of a line is the standard form (0 = code, 1 = name
// for states; 0 / 2 for countries; 0 for genders).
// Spellings whose key is already taken by another standard form are
// appended to *clashes (none: standardize_test checks).
template <size_t N>
Table BuildTable(const std::string_view (&lines)[N], size_t value_at, std::vector<std::string>* clashes = nullptr) {
  Table t;
  for (std::string_view line : lines) {
    std::vector<std::string_view> parts = SplitBars(line);
    for (std::string_view p : parts) {
      std::string key = Key(p);
      auto [it, inserted] = t.emplace(key, parts[value_at]);
      if (clashes && (key.empty() || (!inserted && it->second != parts[value_at]))) {
        clashes->push_back(std::string(p) + " (key '" + key + "': " + std::string(it->second) + " and " +
                           std::string(parts[value_at]) + ")");
      }
    }
  }
  return t;
}

const Table& TableFor(Standardizer s) {
  static const Table state_code = BuildTable(kStates, 0);
  static const Table state_name = BuildTable(kStates, 1);
  static const Table country_code = BuildTable(kCountries, 0);
  static const Table country_name = BuildTable(kCountries, 2);
  static const Table gender = BuildTable(kGenders, 0);
  static const Table none;
  switch (s) {
    case Standardizer::kStateCode: return state_code;
    case Standardizer::kStateName: return state_name;
    case Standardizer::kCountryCode: return country_code;
    case Standardizer::kCountryName: return country_name;
    case Standardizer::kGender: return gender;
    case Standardizer::kNone: break;
  }
  return none;
}

constexpr Standardizer kAll[] = {Standardizer::kStateCode, Standardizer::kStateName, Standardizer::kCountryCode,
                                 Standardizer::kCountryName, Standardizer::kGender};

}  // namespace

std::string_view StandardizerName(Standardizer s) {
  switch (s) {
    case Standardizer::kNone: return "";
    case Standardizer::kStateCode: return "state_code";
    case Standardizer::kStateName: return "state_name";
    case Standardizer::kCountryCode: return "country_code";
    case Standardizer::kCountryName: return "country_name";
    case Standardizer::kGender: return "gender";
  }
  return "";
}

std::optional<Standardizer> ParseStandardizer(std::string_view name) {
  for (Standardizer s : kAll) {
    if (StandardizerName(s) == name) return s;
  }
  return std::nullopt;
}

std::string StandardizerNameList() {
  std::string out;
  for (Standardizer s : kAll) {
    if (!out.empty()) out += ", ";
    out += StandardizerName(s);
  }
  return out;
}

std::vector<std::string> StandardizerTableClashes() {
  std::vector<std::string> clashes;
  BuildTable(kStates, 0, &clashes);
  BuildTable(kStates, 1, &clashes);
  BuildTable(kCountries, 0, &clashes);
  BuildTable(kCountries, 2, &clashes);
  BuildTable(kGenders, 0, &clashes);
  return clashes;
}

std::optional<std::string_view> Standardize(Standardizer s, std::string_view value) {
  if (s == Standardizer::kNone) return std::nullopt;
  std::string key = Key(value);
  if (key.empty()) return std::nullopt;
  const Table& t = TableFor(s);
  auto it = t.find(key);
  if (it == t.end()) return std::nullopt;
  return it->second;
}

}  // namespace cdp
