// Synthetic "Contoso Coffee" source data (the Customer Insights lab's data model) with a hidden
// ground truth, for the demo, the unification benchmarks and the prediction models: who is whom
// (truth.csv), a planted behaviour for the prediction models (predictions_truth.csv: people who stop
// buying after a bad review or without a visible cause, favourite product categories, subscriptions
// that are not renewed) and planted patterns for the segment insights and enrichment
// (insights_truth.csv: favourite brands, a subgroup that spends much more, look-alikes of a seed
// group). Functions here are thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

// 2026-11-01 as days since 1970-01-01: the default "today" of the data, so output is reproducible.
inline constexpr int32_t kDefaultDemoToday = 20758;
// Default noise multiplier: realistic dirt that a good matcher still resolves (F1 >= 0.97).
inline constexpr double kDefaultDemoNoise = 1.0;

struct DemoProgress {
  std::string_view stage;  // "population", or the file being written ("ecommerce_contacts.csv")
  int64_t done = 0;
  // Units of `stage`: people for "population"; records of the profile source for a profile file;
  // accounts of the parent source (web accounts, loyalty cards) for an activity file and
  // subscriptions.csv; products for products.csv; rows for truth.csv; people for
  // predictions_truth.csv and insights_truth.csv.
  int64_t total = 0;
};

struct DemoOptions {
  // Number of real people in the population (each appears in at least one profile source).
  int64_t customers = 5000;
  uint64_t seed = 1;
  // Created if missing; existing files of the same names are replaced.
  std::string out_dir;
  // Multiplies every record-level dirt probability (typos, nicknames, missing fields, variant
  // formats, placeholders, duplicates within a source, people who moved). 0 gives clean records
  // (still with each source's own formats); 1 is the default realistic level; at most 3.
  double noise = kDefaultDemoNoise;
  // Days since 1970-01-01 of the data's "today": purchases cover the 730 days before it.
  int32_t today = kDefaultDemoToday;
  // Also list activity rows (purchases, reviews, subscriptions) in truth.csv.
  bool activity_truth = true;
  // Plant churners (people who stop buying, most after a bad review; see predictions_truth.csv).
  // false: nobody stops buying and no bad experience is planted (favourite categories, product
  // affinities, seasons and subscriptions stay).
  bool plant_churn = true;
  // Called at the start and end of each stage and about every 64k units; may be empty.
  std::function<void(const DemoProgress&)> progress;
};

struct DemoFile {
  std::string name;  // file name inside out_dir, e.g. "ecommerce_contacts.csv"
  std::string path;
  int64_t rows = 0;  // data rows (CSV header excluded) or JSON lines
};

struct DemoSummary {
  int64_t people = 0;
  std::vector<DemoFile> files;  // in the order listed below
};

// Writes the demo sources into options.out_dir. The same options give byte-identical files.
//
// Common rules: UTF-8 without BOM, LF line endings, one header row per CSV; a CSV field is quoted
// (RFC 4180, "" escapes a quote) when it holds a comma, quote or line break or has leading or
// trailing blanks; an empty field is a missing value. Timestamps are UTC. Values are dirty on
// purpose (see DemoOptions::noise): names with typos, nicknames (Bob/Robert), accents folded
// (José/Jose), changed case or blanks; email variants (case, gmail dots, +tags, domain typos,
// alternative or work addresses); six phone layouts ((206) 555-0142, 206-555-0142,
// +1 206 555 0142, 2065550142, 206.555.0142, 1-206-555-0142), a second (mobile) number for some;
// street abbreviations (North/N/N., Street/St/St.), units (Apt 4B, Apt. 4B, #4B, Unit 12,
// Suite 210); ZIP or ZIP+4; missing fields; placeholders meant to tempt over-merging
// ("test@test.com", "noemail@example.com", "n/a", "000-000-0000", "555-555-5555", "1234567890",
// birth date 1900-01-01); people of one household share address, often last name and sometimes
// phone; ~3% of members appear twice in a source (an eCommerce duplicate always has another email).
//
// 1. ecommerce_contacts.csv (eCommerce Contacts), key ContactId:
//    ContactId      integer, 10001.. in CreatedOn order
//    FirstName, LastName, FullName ("First Last", sometimes with a middle initial)
//    DateOfBirth    YYYY-MM-DD (1940..2005)
//    Gender         Female | Male | Non-binary | empty
//    Email, Telephone
//    PostCode       5-digit ZIP with leading zeros kept (02108) or ZIP+4 (02108-1234)
//    StreetAddress  "1234 N Oak St Apt 4B" style
//    City           e.g. Los Angeles; sometimes an alias (LA, Saint Louis, Washington, D.C.)
//    State          full US state name (California); ~13% of people live in California
//    Country        United States | USA | US | United States of America
//    CreatedOn      YYYY-MM-DDTHH:MM:SSZ
// 2. loyalty_scheme.csv (Loyalty Scheme), key LoyaltyId:
//    LoyaltyId      "LY" + 8 digits, in CreatedOn order
//    ContactId      the person's eCommerce ContactId when the membership is linked to an online
//                   account (most holders of one), else empty
//    FirstName, LastName, FullName ("First Last", or "Last, First")
//    DateOfBirth    M/D/YYYY
//    Gender         F | M | X | empty
//    EMail, Telephone (mostly +1 206 555 0142 layout)
//    RewardsPoints  integer: points earned in pos_purchases.csv on this card, minus redemptions
//    CreditCard     ****-****-****-1234, or empty
//    CreatedOn      M/D/YYYY h:MM:SS AM|PM
// 3. online_purchases.csv (Online Purchases), key PurchaseId:
//    PurchaseId     "WEB-" + 9 digits
//    ContactId      FK to ecommerce_contacts.ContactId
//    ProductId      integer 1001..1040
//    PurchasedOn    YYYY-MM-DDTHH:MM:SSZ, within the 730 days before today, after account creation
//    TotalPrice     decimal with 2 places
//    ActivityTypeDisplay  "Online Purchase"
//    Subject        "Bought <product name>" (some names hold commas)
// 4. pos_purchases.csv (PoS Purchases), key PurchaseId:
//    PurchaseId     integer 1..
//    LoyaltyId      FK to loyalty_scheme.LoyaltyId
//    ProductId, PurchasedOn (YYYY-MM-DD HH:MM:SS, UTC), TotalPrice as above
//    RewardsPointsAdded  integer: whole dollars x tier factor (1, 1.25, 1.5, 2)
//    ActivityTypeDisplay  "In-Store Purchase"
//    Subject        "Bought <product name>"
//    Spend is log-normal per person and purchase, with summer and December peaks; per person the
//    average online purchase > 138 and the average store purchase >= 113 (the lab's segments)
//    each hold a minority of buyers.
//    Products (online and in store) follow the person: a favourite category (beans, espresso,
//    brewing, cold_brew, cups_accessories; gifts are never a favourite) with a staple product of
//    at most $40 bought again and again, and after equipment its complements (an espresso machine,
//    then espresso roast beans, a milk frother, a descaling kit...), plus seasonal products in
//    summer and November-December. A churner (predictions_truth.csv) buys nothing, online or in
//    store, on or after the churn day; for 60% of churners purchases thin out over the 90 days
//    before it.
//    Planted for the segment insights and enrichment (truth in insights_truth.csv):
//    - Favourite brands: 30% of people have one, drawn uniformly among the brands that make
//      non-equipment products in their favourite category (products.csv). Their staple is that
//      brand's (a product of at most $40 in the favourite category), and any other pick of a
//      product that is not equipment (see products.csv) and not a complement of owned equipment
//      becomes, with chance 0.85, the favourite brand's product of the closest list price in the
//      same category, when the brand makes one there. So favourite categories, seasons, equipment
//      and complements stay as above, and a brand lover's purchases are about 50-70% of the
//      brand against 13-20% for people without a favourite brand.
//    - The high-spend subgroup: Income >= 100,000 and LoyaltyTier Gold or Platinum (the true
//      values, which crm_survey.jsonl shows for surveyed people; 8% of survey records withhold
//      Income). Its online and store baskets are multiplied by 2.5 on top of the smooth effect of
//      income and tier, so its average purchase is about 3.5x the rest's (and 2.8x that of the
//      next income/tier cell of the survey, Gold/Platinum below 100,000, on seed 7).
//    - Espresso machines (1002 Espresso Machine, 1040 Super-Automatic Espresso Machine) are bought
//      by people whose favourite category is espresso only (anyone else's pick of one becomes a
//      Milk Frother, 1006): the buyers are the look-alike seed ("espresso enthusiasts"), and the
//      other espresso lovers with purchases are its planted look-alikes (about 45% of their
//      purchases are espresso products, as for the seed, against about 3% for other buyers).
// 5. website_reviews.csv (Website Reviews), key ReviewId:
//    ReviewId       "RV" + 8 digits
//    UserId         FK to ecommerce_contacts.ContactId of the reviewer
//    ReviewText     free text with commas, quotes, sometimes line breaks and non-ASCII
//    ActivityTypeDisplay  "Website Review"
//    ReviewRating   integer 1..5 (follows the person's satisfaction)
//    ReviewDate     D.M.YYYY
//    A bad experience is a review rated 1 or 2 on the person's first web account (planted; more
//    likely for unsatisfied people: 35% low, 15% medium, 6% high satisfaction, web customers with
//    at least 30 days of history); 80% of those people stop buying 7 to 42 days after it (if that
//    is before today). Other reviews are rated 1-2 less often (25% / 8% / 3% of them for low /
//    medium / high satisfaction). No review is on or after a churn day.
// 6. crm_survey.jsonl (CRM survey), one JSON object per line, key SurveyId:
//    {"SurveyId":123,"SubmittedOn":"2025-06-04",
//     "Name":{"First":"Bob","Last":"Smith"},"Email":"bob.smith@gmail.com"|null,
//     "Phone":"206-555-0142"|null,
//     "Address":{"Street":"1234 North Oak Street"|null,"City":"Seattle","State":"WA",
//                "PostCode":"98101"|null},
//     "Income":85000|null,"Occupation":"Teacher"|null,
//     "LoyaltyTier":"Bronze"|"Silver"|"Gold"|"Platinum","EmailSubscriber":true|false,
//     "CustomerSatisfaction":"low"|"medium"|"high"}
//    State is the 2-letter code here. Income, tier, subscription and occupation drive spend
//    (LifetimeSpend), and Income >= 100000 with LoyaltyTier Gold or Platinum is the planted
//    high-spend subgroup (2.5x baskets, see 4.); California, lower tiers, non-teachers,
//    non-Floridians are less satisfied.
// 7. subscriptions.csv (Coffee subscription), key SubscriptionId:
//    SubscriptionId  integer 1.., in ContactId order, then StartDate order
//    ContactId       FK to ecommerce_contacts.ContactId: the person's first web account
//    StartDate       YYYY-MM-DD, after the account's creation, within the 730 days before today
//    EndDate         YYYY-MM-DD (before today), or empty while running
//    IsRecurring     true | false (false: one period; true: renews itself period after period)
//    RecurrenceDays  30 | 90 | 365
//    Amount          per period, 2 decimals (14.90, 19.90 or 24.90 a month; 5% off quarterly,
//                    15% off yearly)
//    About 22% of web customers subscribe (34% of bean lovers, 17% of others). A subscription that
//    ends is renewed (a new one starting 0-30 days after the end) with chance 45% / 72% / 85% for
//    low / medium / high satisfaction, 10% after a bad review in it or the 30 days before, and
//    never by a churner whose churn day is within 30 days after the end. A bad review ends a
//    recurring subscription at its next renewal date; a churner's ends at the first renewal date
//    on or after the churn day.
// 8. products.csv (Products), key ProductId: the catalogue, the same for every seed (40 rows)
//    ProductId      integer 1001..1040, as in the purchase files
//    ProductName    the name used in the purchases' Subject ("Bought <ProductName>"); some hold
//                   commas and are quoted ("Paper Filters, 200 ct")
//    Category       beans | espresso | brewing | cold_brew | cups_accessories | gifts
//    Brand          Contoso Roasters | Fabrikam Espresso | Northwind Origins | Tailspin Coffee Co. |
//                   Wingtip Home | Proseware Barista: every brand makes beans and cups/accessories
//                   and one or two of espresso, brewing, cold brew; Contoso Roasters (the house
//                   brand) also makes all the gifts
//    ListPrice      decimal with 2 places (a purchase's TotalPrice varies around it)
//    Equipment (products whose owners buy complements afterwards) are 1001 Cold Brew Kit, 1002
//    Espresso Machine, 1003 French Press, 1004 Pour Over Set, 1005 Burr Coffee Grinder, 1006 Milk
//    Frother, 1018 Gooseneck Kettle, 1027 Moka Pot, 1028 AeroPress, 1029 Chemex 8-Cup, 1039 Cold
//    Brew Pitcher, 1040 Super-Automatic Espresso Machine.
// 9. truth.csv: source,source_key,person_id — never a pipeline input. One row per record of the
//    profile sources (source = ecommerce_contacts | loyalty_scheme | crm_survey, source_key =
//    ContactId | LoyaltyId | SurveyId) and, if activity_truth, per activity row (online_purchases
//    | pos_purchases | website_reviews | subscriptions with PurchaseId | ReviewId |
//    SubscriptionId). person_id is 1..customers.
// 10. predictions_truth.csv — never a pipeline input: the planted truth of the prediction models,
//    one row per person (person_id 1..customers, as in truth.csv):
//    person_id             integer
//    churned               1 when the person stops buying before today, else 0
//    churn_day             YYYY-MM-DD: the first day without purchases (empty when churned = 0)
//    cause                 bad_review (a 1-2 star review 7-42 days before churn_day) | none
//                          (churn without a visible cause: 15% of the people with a web
//                          account or loyalty card and no planted bad review, churn day uniform
//                          from 45 days after the first day they could buy (within the 730
//                          days) to the day before today) | empty when churned = 0
//    favourite_category    beans | espresso | brewing | cold_brew | cups_accessories
//    subscription_churned  1 when the person's last subscription ended and was not renewed, 0
//                          when it runs or was renewed (a renewal starting after today counts),
//                          empty for people without a subscription
//    Churn days spread over the whole history, so every 90-day window has churners.
// 11. insights_truth.csv — never a pipeline input: the planted truth of the segment insights and
//    enrichment (see 4. and 6.), one row per person (person_id as in truth.csv):
//    person_id              integer
//    favourite_brand        a Brand of products.csv, or empty (70% of people)
//    in_high_spend_subgroup 1 when Income >= 100000 and LoyaltyTier is Gold or Platinum (true
//                           values; visible in crm_survey.jsonl when surveyed = 1 and Income is
//                           given), else 0
//    lookalike_seed         1 when the person bought an espresso machine (1002 or 1040, online or
//                           in store): exactly the customers a segment "bought ProductId 1002 or
//                           1040" holds; all of them have favourite_category espresso
//    lookalike_planted      1 when favourite_category is espresso, lookalike_seed is 0 and the
//                           person bought something (people without purchases cannot be told apart)
//    favourite_category     as in predictions_truth.csv
//    surveyed               1 when the person has a crm_survey.jsonl record (Income and
//                           LoyaltyTier are then visible), else 0
//
// Scale: a person (and the planted behaviour) is regenerated from (seed, index) in each pass, so
// memory stays ~50 bytes per person; 1,000,000 people take ~11 s of CPU and ~1.3 GB of output.
// Phone numbers are unique between people up to 4,000,000 people (beyond that a few repeat, as do
// some in households on purpose).
//
// Errors: InvalidArgument for customers outside 1..20,000,000, noise outside [0, 3], an empty
// out_dir, a null summary or today outside 1990-01-01..2199-12-31; Unavailable if out_dir or a
// file cannot be created; DataLoss / ResourceExhausted on write errors. Files are written as
// "<name>.tmp" and renamed when complete.
Status GenerateContosoDemo(const DemoOptions& options, DemoSummary* summary);

}  // namespace cdp
