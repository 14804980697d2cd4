#include "demo/demo_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <memory>
#include <system_error>

#include "demo/internal/activity_model.h"
#include "demo/internal/output_file.h"
#include "demo/internal/population.h"
#include "demo/internal/profile_renderer.h"

namespace cdp {
namespace {

using demo_internal::ActivityModel;
using demo_internal::AppendCents;
using demo_internal::AppendCsvField;
using demo_internal::AppendDotDate;
using demo_internal::AppendInt;
using demo_internal::AppendIsoDate;
using demo_internal::AppendIsoTimestamp;
using demo_internal::AppendPadded;
using demo_internal::AppendSqlTimestamp;
using demo_internal::Behaviour;
using demo_internal::ChurnCause;
using demo_internal::Footprint;
using demo_internal::kMaxActivitiesPerAccount;
using demo_internal::Membership;
using demo_internal::OutputFile;
using demo_internal::Person;
using demo_internal::Population;
using demo_internal::ProfileRenderer;
using demo_internal::ProfileSource;
using demo_internal::Purchase;
using demo_internal::Review;
using demo_internal::Rng;
using demo_internal::Stream;
using demo_internal::Subscription;
using demo_internal::Traits;

constexpr int64_t kMaxCustomers = 20000000;
constexpr int64_t kFirstContactId = 10001;
constexpr int64_t kProgressEvery = 65536;

constexpr std::string_view kEcommerceFile = "ecommerce_contacts.csv";
constexpr std::string_view kLoyaltyFile = "loyalty_scheme.csv";
constexpr std::string_view kOnlineFile = "online_purchases.csv";
constexpr std::string_view kStoreFile = "pos_purchases.csv";
constexpr std::string_view kReviewsFile = "website_reviews.csv";
constexpr std::string_view kSurveyFile = "crm_survey.jsonl";
constexpr std::string_view kSubscriptionsFile = "subscriptions.csv";
constexpr std::string_view kProductsFile = "products.csv";
constexpr std::string_view kTruthFile = "truth.csv";
constexpr std::string_view kPredictionsTruthFile = "predictions_truth.csv";
constexpr std::string_view kInsightsTruthFile = "insights_truth.csv";

// Per-person purchase facts gathered while the purchase files are written (for insights_truth.csv).
constexpr uint8_t kBoughtSomething = 1;
constexpr uint8_t kBoughtEspressoMachine = 2;

// One record of a profile source, ordered by creation time; the order gives the record's key.
struct AccountKey {
  int64_t created_seconds;
  uint32_t person;
  uint32_t copy;
  bool operator<(const AccountKey& o) const {
    if (created_seconds != o.created_seconds) return created_seconds < o.created_seconds;
    if (person != o.person) return person < o.person;
    return copy < o.copy;
  }
};

class DemoWriter {
 public:
  explicit DemoWriter(const DemoOptions& options)
      : options_(options),
        population_(options.seed, options.customers, options.today, options.noise),
        renderer_(population_, options.seed, options.noise),
        activities_(options.seed, options.today, options.plant_churn),
        purchases_(kMaxActivitiesPerAccount),
        reviews_(kMaxActivitiesPerAccount),
        subscriptions_(demo_internal::kMaxSubscriptionsPerPerson) {
    row_scratch_.reserve(1024);
  }

  Status Run(DemoSummary* summary) {
    summary->people = options_.customers;
    summary->files.clear();
    BuildPopulation();
    CDP_RETURN_IF_ERROR(OpenFile(kTruthFile, "source,source_key,person_id", &truth_));
    CDP_RETURN_IF_ERROR(WriteEcommerce(summary));
    CDP_RETURN_IF_ERROR(WriteLoyalty(summary));
    CDP_RETURN_IF_ERROR(WriteOnlinePurchases(summary));
    CDP_RETURN_IF_ERROR(WriteStorePurchases(summary));
    CDP_RETURN_IF_ERROR(WriteReviews(summary));
    CDP_RETURN_IF_ERROR(WriteSurvey(summary));
    CDP_RETURN_IF_ERROR(WriteSubscriptions(summary));
    CDP_RETURN_IF_ERROR(WriteProducts(summary));
    CDP_RETURN_IF_ERROR(truth_.Commit());
    summary->files.push_back({std::string(kTruthFile), truth_.path(), truth_.rows()});
    Report(kTruthFile, truth_.rows(), truth_.rows());
    return WritePlantedTruth(summary);
  }

 private:
  void Report(std::string_view stage, int64_t done, int64_t total) const {
    if (options_.progress) options_.progress(DemoProgress{stage, done, total});
  }

  double Rate(double base) const { return std::min(1.0, base * options_.noise); }

  // Creation time of record `copy` of the person in `source`; a duplicate comes after the first.
  int64_t CreatedSeconds(ProfileSource source, uint32_t person, uint32_t copy) const {
    Rng rng(options_.seed, Stream::kAccountCreated, person, static_cast<uint64_t>(source));
    const int32_t today = options_.today;
    const int32_t window_start = today - demo_internal::kActivityWindowDays;
    int32_t day;
    if (source == ProfileSource::kSurvey) {
      day = static_cast<int32_t>(rng.Between(today - 3 * 365, today - 2));
    } else if (rng.Chance(0.65)) {
      day = static_cast<int32_t>(rng.Between(today - 8 * 365, window_start - 1));
    } else {
      day = static_cast<int32_t>(rng.Between(window_start, today - 14));
    }
    int64_t seconds = static_cast<int64_t>(day) * 86400 + rng.Below(86400);
    if (copy == 1) {
      const int32_t hi = today - 1;
      const int32_t lo = std::min(day + 30, hi);
      const int32_t later = static_cast<int32_t>(rng.Between(lo, hi));
      seconds = std::max(seconds + 1, static_cast<int64_t>(later) * 86400 + rng.Below(86400));
    }
    return seconds;
  }

  void BuildPopulation() {
    const int64_t n = options_.customers;
    Report("population", 0, n);
    population_.ResolveEmailCollisions([this, n](int64_t done) { Report("population", done, n); });
    for (auto& keys : keys_) keys.reserve(static_cast<size_t>(n) * 3 / 4);
    for (int64_t p = 0; p < n; ++p) {
      const Membership m = population_.MembershipOf(p);
      for (int s = 0; s < demo_internal::kProfileSourceCount; ++s) {
        if (!m.in[s]) continue;
        const auto source = static_cast<ProfileSource>(s);
        const auto person = static_cast<uint32_t>(p);
        keys_[s].push_back({CreatedSeconds(source, person, 0), person, 0});
        if (m.duplicate[s]) keys_[s].push_back({CreatedSeconds(source, person, 1), person, 1});
      }
    }
    for (auto& keys : keys_) std::sort(keys.begin(), keys.end());
    // The loyalty scheme links to the first web account of the person.
    first_contact_.assign(static_cast<size_t>(n), -1);
    bought_.assign(static_cast<size_t>(n), 0);
    const auto& web = keys_[static_cast<int>(ProfileSource::kEcommerce)];
    for (size_t rank = 0; rank < web.size(); ++rank) {
      if (web[rank].copy == 0) first_contact_[web[rank].person] = static_cast<int32_t>(rank);
    }
    Report("population", n, n);
  }

  Status OpenFile(std::string_view name, std::string_view header, OutputFile* file) {
    const std::filesystem::path path = std::filesystem::path(options_.out_dir) / std::string(name);
    CDP_RETURN_IF_ERROR(file->Open(path.string()));
    if (!header.empty()) {
      file->row().append(header);
      CDP_RETURN_IF_ERROR(file->EndHeader());
    }
    return Status::Ok();
  }

  Status Finish(std::string_view name, OutputFile* file, DemoSummary* summary) {
    CDP_RETURN_IF_ERROR(file->Commit());
    summary->files.push_back({std::string(name), file->path(), file->rows()});
    return Status::Ok();
  }

  Status AddTruth(std::string_view source, std::string_view key, uint32_t person) {
    std::string& row = truth_.row();
    row.append(source);
    row.push_back(',');
    row.append(key);
    row.push_back(',');
    AppendInt(row, static_cast<int64_t>(person) + 1);
    return truth_.EndRow();
  }

  // Keys as text for truth.csv.
  std::string_view ContactKey(int64_t rank) {
    key_.clear();
    AppendInt(key_, kFirstContactId + rank);
    return key_;
  }
  std::string_view LoyaltyKey(int64_t rank) {
    key_.assign("LY");
    AppendPadded(key_, rank + 1, 8);
    return key_;
  }

  const std::vector<AccountKey>& Keys(ProfileSource source) const { return keys_[static_cast<int>(source)]; }

  bool HasDuplicate(uint32_t person, ProfileSource source) const {
    return population_.MembershipOf(person).duplicate[static_cast<int>(source)];
  }

  // The person's first web account and loyalty card (where the planted behaviour can show).
  Footprint FootprintOf(uint32_t person) const {
    const Membership m = population_.MembershipOf(person);
    Footprint f;
    f.web = m.in[static_cast<int>(ProfileSource::kEcommerce)];
    if (f.web) {
      f.web_created_day = static_cast<int32_t>(CreatedSeconds(ProfileSource::kEcommerce, person, 0) / 86400);
    }
    f.card = m.in[static_cast<int>(ProfileSource::kLoyalty)];
    if (f.card) {
      f.card_created_day = static_cast<int32_t>(CreatedSeconds(ProfileSource::kLoyalty, person, 0) / 86400);
    }
    return f;
  }
  Behaviour BehaviourOf(uint32_t person, const Traits& traits) const {
    return activities_.BehaviourOf(person_, traits, FootprintOf(person));
  }

  Status WriteEcommerce(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(kEcommerceFile,
                                 "ContactId,FirstName,LastName,FullName,DateOfBirth,Gender,Email,Telephone,"
                                 "PostCode,StreetAddress,City,State,Country,CreatedOn",
                                 &file));
    const auto& keys = Keys(ProfileSource::kEcommerce);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kEcommerceFile, 0, total);
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      renderer_.AppendEcommerce(person_, static_cast<int>(k.copy),
                                kFirstContactId + static_cast<int64_t>(rank), k.created_seconds, file.row());
      CDP_RETURN_IF_ERROR(file.EndRow());
      CDP_RETURN_IF_ERROR(AddTruth("ecommerce_contacts", ContactKey(static_cast<int64_t>(rank)), k.person));
      if ((rank + 1) % kProgressEvery == 0) Report(kEcommerceFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kEcommerceFile, total, total);
    return Finish(kEcommerceFile, &file, summary);
  }

  Status WriteLoyalty(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(kLoyaltyFile,
                                 "LoyaltyId,ContactId,FirstName,LastName,FullName,DateOfBirth,Gender,EMail,"
                                 "Telephone,RewardsPoints,CreditCard,CreatedOn",
                                 &file));
    const auto& keys = Keys(ProfileSource::kLoyalty);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kLoyaltyFile, 0, total);
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const int count = activities_.StorePurchases(
          person_, traits, BehaviourOf(k.person, traits), HasDuplicate(k.person, ProfileSource::kLoyalty),
          static_cast<int>(k.copy), k.created_seconds, purchases_.data());
      int64_t earned = 0;
      for (int i = 0; i < count; ++i) earned += purchases_[static_cast<size_t>(i)].points;
      Rng rng(options_.seed, Stream::kLoyaltyRecord, k.person, 100 + k.copy);
      const int64_t welcome_bonus = 100;
      const int64_t redeemed = (earned * rng.Below(70) / 100) / 100 * 100;  // whole 100-point vouchers
      const int64_t points = welcome_bonus + earned - redeemed;
      int64_t contact = -1;
      const int32_t first_contact = first_contact_[k.person];
      if (first_contact >= 0 && !rng.Chance(Rate(0.12))) contact = kFirstContactId + first_contact;
      renderer_.AppendLoyalty(person_, static_cast<int>(k.copy), static_cast<int64_t>(rank) + 1, contact,
                              points, k.created_seconds, file.row());
      CDP_RETURN_IF_ERROR(file.EndRow());
      CDP_RETURN_IF_ERROR(AddTruth("loyalty_scheme", LoyaltyKey(static_cast<int64_t>(rank)), k.person));
      if ((rank + 1) % kProgressEvery == 0) Report(kLoyaltyFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kLoyaltyFile, total, total);
    return Finish(kLoyaltyFile, &file, summary);
  }

  // Records the first `count` entries of purchases_ in bought_.
  void NoteBought(uint32_t person, int count) {
    uint8_t& flags = bought_[person];
    if (count > 0) flags |= kBoughtSomething;
    for (int i = 0; i < count; ++i) {
      if (demo_internal::IsEspressoMachine(purchases_[static_cast<size_t>(i)].product)) {
        flags |= kBoughtEspressoMachine;
      }
    }
  }

  void AppendSubject(std::string& row, int32_t product) {
    row_scratch_.assign("Bought ");
    row_scratch_.append(demo_internal::Products()[static_cast<size_t>(product)].name);
    AppendCsvField(row, row_scratch_);
  }

  Status WriteOnlinePurchases(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(
        OpenFile(kOnlineFile,
                 "PurchaseId,ContactId,ProductId,PurchasedOn,TotalPrice,ActivityTypeDisplay,Subject", &file));
    const auto& keys = Keys(ProfileSource::kEcommerce);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kOnlineFile, 0, total);
    int64_t next_id = 1;
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const int count = activities_.OnlinePurchases(
          person_, traits, BehaviourOf(k.person, traits), HasDuplicate(k.person, ProfileSource::kEcommerce),
          static_cast<int>(k.copy), k.created_seconds, purchases_.data());
      NoteBought(k.person, count);
      for (int i = 0; i < count; ++i) {
        const Purchase& p = purchases_[static_cast<size_t>(i)];
        std::string& row = file.row();
        const size_t key_start = row.size();
        row.append("WEB-");
        AppendPadded(row, next_id++, 9);
        key_.assign(row, key_start, std::string::npos);
        row.push_back(',');
        AppendInt(row, kFirstContactId + static_cast<int64_t>(rank));
        row.push_back(',');
        AppendInt(row, demo_internal::Products()[static_cast<size_t>(p.product)].id);
        row.push_back(',');
        AppendIsoTimestamp(row, p.seconds);
        row.push_back(',');
        AppendCents(row, p.cents);
        row.append(",Online Purchase,");
        AppendSubject(row, p.product);
        CDP_RETURN_IF_ERROR(file.EndRow());
        if (options_.activity_truth) CDP_RETURN_IF_ERROR(AddTruth("online_purchases", key_, k.person));
      }
      if ((rank + 1) % kProgressEvery == 0) Report(kOnlineFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kOnlineFile, total, total);
    return Finish(kOnlineFile, &file, summary);
  }

  Status WriteStorePurchases(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(kStoreFile,
                                 "PurchaseId,LoyaltyId,ProductId,PurchasedOn,TotalPrice,RewardsPointsAdded,"
                                 "ActivityTypeDisplay,Subject",
                                 &file));
    const auto& keys = Keys(ProfileSource::kLoyalty);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kStoreFile, 0, total);
    int64_t next_id = 1;
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const int count = activities_.StorePurchases(
          person_, traits, BehaviourOf(k.person, traits), HasDuplicate(k.person, ProfileSource::kLoyalty),
          static_cast<int>(k.copy), k.created_seconds, purchases_.data());
      NoteBought(k.person, count);
      for (int i = 0; i < count; ++i) {
        const Purchase& p = purchases_[static_cast<size_t>(i)];
        std::string& row = file.row();
        const size_t key_start = row.size();
        AppendInt(row, next_id++);
        key_.assign(row, key_start, std::string::npos);
        row.append(",LY");
        AppendPadded(row, static_cast<int64_t>(rank) + 1, 8);
        row.push_back(',');
        AppendInt(row, demo_internal::Products()[static_cast<size_t>(p.product)].id);
        row.push_back(',');
        AppendSqlTimestamp(row, p.seconds);
        row.push_back(',');
        AppendCents(row, p.cents);
        row.push_back(',');
        AppendInt(row, p.points);
        row.append(",In-Store Purchase,");
        AppendSubject(row, p.product);
        CDP_RETURN_IF_ERROR(file.EndRow());
        if (options_.activity_truth) CDP_RETURN_IF_ERROR(AddTruth("pos_purchases", key_, k.person));
      }
      if ((rank + 1) % kProgressEvery == 0) Report(kStoreFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kStoreFile, total, total);
    return Finish(kStoreFile, &file, summary);
  }

  Status WriteReviews(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(
        kReviewsFile, "ReviewId,UserId,ReviewText,ActivityTypeDisplay,ReviewRating,ReviewDate", &file));
    const auto& keys = Keys(ProfileSource::kEcommerce);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kReviewsFile, 0, total);
    int64_t next_id = 1;
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const int count = activities_.Reviews(person_, traits, BehaviourOf(k.person, traits),
                                            static_cast<int>(k.copy), k.created_seconds, reviews_.data());
      for (int i = 0; i < count; ++i) {
        const Review& r = reviews_[static_cast<size_t>(i)];
        std::string& row = file.row();
        const size_t key_start = row.size();
        row.append("RV");
        AppendPadded(row, next_id++, 8);
        key_.assign(row, key_start, std::string::npos);
        row.push_back(',');
        AppendInt(row, kFirstContactId + static_cast<int64_t>(rank));
        row.push_back(',');
        row_scratch_.clear();
        activities_.AppendReviewText(r, row_scratch_);
        AppendCsvField(row, row_scratch_);
        row.append(",Website Review,");
        AppendInt(row, r.rating);
        row.push_back(',');
        AppendDotDate(row, static_cast<int32_t>(r.seconds / 86400));
        CDP_RETURN_IF_ERROR(file.EndRow());
        if (options_.activity_truth) CDP_RETURN_IF_ERROR(AddTruth("website_reviews", key_, k.person));
      }
      if ((rank + 1) % kProgressEvery == 0) Report(kReviewsFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kReviewsFile, total, total);
    return Finish(kReviewsFile, &file, summary);
  }

  Status WriteSurvey(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(kSurveyFile, "", &file));
    const auto& keys = Keys(ProfileSource::kSurvey);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kSurveyFile, 0, total);
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      population_.Get(k.person, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const auto survey_id = static_cast<int64_t>(rank) + 1;
      renderer_.AppendSurvey(person_, traits, static_cast<int>(k.copy), survey_id,
                             static_cast<int32_t>(k.created_seconds / 86400), file.row());
      CDP_RETURN_IF_ERROR(file.EndRow());
      key_.clear();
      AppendInt(key_, survey_id);
      CDP_RETURN_IF_ERROR(AddTruth("crm_survey", key_, k.person));
      if ((rank + 1) % kProgressEvery == 0) Report(kSurveyFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kSurveyFile, total, total);
    return Finish(kSurveyFile, &file, summary);
  }

  // One chain of subscriptions per person, on the person's first web account, in ContactId order.
  Status WriteSubscriptions(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(
        OpenFile(kSubscriptionsFile,
                 "SubscriptionId,ContactId,StartDate,EndDate,IsRecurring,RecurrenceDays,Amount", &file));
    const auto& keys = Keys(ProfileSource::kEcommerce);
    const auto total = static_cast<int64_t>(keys.size());
    Report(kSubscriptionsFile, 0, total);
    int64_t next_id = 1;
    for (size_t rank = 0; rank < keys.size(); ++rank) {
      const AccountKey& k = keys[rank];
      if (k.copy == 0) {
        population_.Get(k.person, &person_);
        const Traits traits = population_.TraitsOf(person_);
        const Footprint footprint = FootprintOf(k.person);
        const Behaviour behaviour = activities_.BehaviourOf(person_, traits, footprint);
        bool churned = false;
        const int count =
            activities_.Subscriptions(person_, traits, behaviour, footprint, subscriptions_.data(), &churned);
        for (int i = 0; i < count; ++i) {
          const Subscription& sub = subscriptions_[static_cast<size_t>(i)];
          std::string& row = file.row();
          const size_t key_start = row.size();
          AppendInt(row, next_id++);
          key_.assign(row, key_start, std::string::npos);
          row.push_back(',');
          AppendInt(row, kFirstContactId + static_cast<int64_t>(rank));
          row.push_back(',');
          AppendIsoDate(row, sub.start_day);
          row.push_back(',');
          if (sub.end_day >= 0) AppendIsoDate(row, sub.end_day);
          row.append(sub.recurring ? ",true," : ",false,");
          AppendInt(row, sub.recurrence_days);
          row.push_back(',');
          AppendCents(row, sub.cents);
          CDP_RETURN_IF_ERROR(file.EndRow());
          if (options_.activity_truth) CDP_RETURN_IF_ERROR(AddTruth("subscriptions", key_, k.person));
        }
      }
      if ((rank + 1) % kProgressEvery == 0) Report(kSubscriptionsFile, static_cast<int64_t>(rank + 1), total);
    }
    Report(kSubscriptionsFile, total, total);
    return Finish(kSubscriptionsFile, &file, summary);
  }

  // The product catalogue the purchase files refer to by ProductId.
  Status WriteProducts(DemoSummary* summary) {
    OutputFile file;
    CDP_RETURN_IF_ERROR(OpenFile(kProductsFile, "ProductId,ProductName,Category,Brand,ListPrice", &file));
    const auto products = demo_internal::Products();
    const auto total = static_cast<int64_t>(products.size());
    Report(kProductsFile, 0, total);
    for (const demo_internal::Product& p : products) {
      std::string& row = file.row();
      AppendInt(row, p.id);
      row.push_back(',');
      AppendCsvField(row, p.name);
      row.push_back(',');
      row.append(demo_internal::CategoryName(p.category));
      row.push_back(',');
      AppendCsvField(row, demo_internal::BrandName(p.brand));
      row.push_back(',');
      AppendCents(row, std::llround(p.list_price * 100.0));
      CDP_RETURN_IF_ERROR(file.EndRow());
    }
    Report(kProductsFile, total, total);
    return Finish(kProductsFile, &file, summary);
  }

  // The planted truth of the prediction models (predictions_truth.csv) and of the segment insights
  // and enrichment (insights_truth.csv), one row per person each, in one pass over the people.
  Status WritePlantedTruth(DemoSummary* summary) {
    OutputFile predictions, insights;
    CDP_RETURN_IF_ERROR(OpenFile(kPredictionsTruthFile,
                                 "person_id,churned,churn_day,cause,favourite_category,subscription_churned",
                                 &predictions));
    CDP_RETURN_IF_ERROR(OpenFile(kInsightsTruthFile,
                                 "person_id,favourite_brand,in_high_spend_subgroup,lookalike_seed,"
                                 "lookalike_planted,favourite_category,surveyed",
                                 &insights));
    const int64_t total = options_.customers;
    Report(kPredictionsTruthFile, 0, total);
    Report(kInsightsTruthFile, 0, total);
    for (int64_t p = 0; p < total; ++p) {
      const auto person = static_cast<uint32_t>(p);
      population_.Get(p, &person_);
      const Traits traits = population_.TraitsOf(person_);
      const Footprint footprint = FootprintOf(person);
      const Behaviour b = activities_.BehaviourOf(person_, traits, footprint);
      bool subscription_churned = false;
      const int subscriptions = activities_.Subscriptions(person_, traits, b, footprint,
                                                          subscriptions_.data(), &subscription_churned);
      std::string& row = predictions.row();
      AppendInt(row, p + 1);
      if (b.churn_day >= 0) {
        row.append(",1,");
        AppendIsoDate(row, b.churn_day);
        row.append(b.cause == ChurnCause::kBadReview ? ",bad_review," : ",none,");
      } else {
        row.append(",0,,,");
      }
      row.append(demo_internal::CategoryName(b.favourite));
      row.push_back(',');
      if (subscriptions > 0) row.push_back(subscription_churned ? '1' : '0');
      CDP_RETURN_IF_ERROR(predictions.EndRow());

      const uint8_t bought = bought_[person];
      const bool seed = (bought & kBoughtEspressoMachine) != 0;
      const bool planted = !seed && (bought & kBoughtSomething) != 0 &&
                           b.favourite == demo_internal::ProductCategory::kEspresso;
      std::string& line = insights.row();
      AppendInt(line, p + 1);
      line.push_back(',');
      if (b.brand >= 0)
        AppendCsvField(line, demo_internal::BrandName(static_cast<demo_internal::ProductBrand>(b.brand)));
      line.append(traits.high_spender ? ",1," : ",0,");
      line.append(seed ? "1," : "0,");
      line.append(planted ? "1," : "0,");
      line.append(demo_internal::CategoryName(b.favourite));
      line.append(population_.MembershipOf(p).in[static_cast<int>(ProfileSource::kSurvey)] ? ",1" : ",0");
      CDP_RETURN_IF_ERROR(insights.EndRow());
      if ((p + 1) % kProgressEvery == 0) Report(kPredictionsTruthFile, p + 1, total);
    }
    Report(kPredictionsTruthFile, total, total);
    CDP_RETURN_IF_ERROR(Finish(kPredictionsTruthFile, &predictions, summary));
    Report(kInsightsTruthFile, total, total);
    return Finish(kInsightsTruthFile, &insights, summary);
  }

  const DemoOptions& options_;
  Population population_;
  ProfileRenderer renderer_;
  ActivityModel activities_;
  std::array<std::vector<AccountKey>, demo_internal::kProfileSourceCount> keys_;
  std::vector<int32_t> first_contact_;  // per person: rank of the first web account, or -1
  std::vector<uint8_t> bought_;         // per person: kBoughtSomething | kBoughtEspressoMachine
  OutputFile truth_;
  Person person_;
  std::vector<Purchase> purchases_;
  std::vector<Review> reviews_;
  std::vector<Subscription> subscriptions_;
  std::string key_;
  std::string row_scratch_;
};

}  // namespace

Status GenerateContosoDemo(const DemoOptions& options, DemoSummary* summary) {
  if (summary == nullptr) return InvalidArgumentError("summary must not be null");
  if (options.customers < 1 || options.customers > kMaxCustomers) {
    return InvalidArgumentError("customers must be between 1 and " + std::to_string(kMaxCustomers) +
                                ", got " + std::to_string(options.customers));
  }
  if (!(options.noise >= 0.0 && options.noise <= 3.0)) {
    return InvalidArgumentError("noise must be between 0 and 3, got " + std::to_string(options.noise));
  }
  if (options.out_dir.empty()) return InvalidArgumentError("an output directory is required");
  if (options.today < 7305 || options.today >= 84006) {
    return InvalidArgumentError("today must be between 1990-01-01 and 2199-12-31");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return UnavailableError("cannot create directory " + options.out_dir + ": " + ec.message());
  if (!std::filesystem::is_directory(options.out_dir, ec)) {
    return UnavailableError(options.out_dir + " is not a directory");
  }
  DemoSummary local;
  auto writer = std::make_unique<DemoWriter>(options);
  CDP_RETURN_IF_ERROR(writer->Run(&local));
  *summary = std::move(local);
  return Status::Ok();
}

}  // namespace cdp
