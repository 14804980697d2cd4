// The data model around Customer: relationships between entities, activity
// definitions and measures (the `relationships:`, `activities:` and
// `measures:` sections of a project YAML file). Value types;
// thread-compatible. Reference: docs/project-yaml.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace cdp {

enum class Cardinality { kManyToOne, kOneToOne };
std::string_view CardinalityName(Cardinality c);

// from.entity.field -> to.entity.field: each `from` row refers to at most one `to` row.
struct RelationshipConfig {
  std::string name;
  std::string from_entity, from_field;
  std::string to_entity, to_field;
  Cardinality cardinality = Cardinality::kManyToOne;
  bool operator==(const RelationshipConfig&) const = default;
};

// Known activity types; any other identifier is a custom type.
const std::vector<std::string>& KnownActivityTypes();

struct ActivityConfig {
  std::string name;             // e.g. "OnlinePurchase"
  std::string entity;           // source entity, e.g. "Online Purchases"
  std::string timestamp;        // date or timestamp field
  std::string type = "Other";   // SalesOrder, SalesOrderLine, Loyalty, Review, Feedback, Subscription, WebVisit, Other or custom
  std::string subject;          // name/subject field (optional)
  std::string amount;           // number field (optional)
  // Relationship names from `entity` to a unified profile source; empty =
  // found automatically (an error lists the choices when there are several).
  std::vector<std::string> path;
  bool operator==(const ActivityConfig&) const = default;
};

enum class MeasureKind { kAttribute, kCustomer, kBusiness };
std::string_view MeasureKindName(MeasureKind k);

enum class AggregateFunction { kSum, kAverage, kCount, kCountUnique, kMin, kMax, kFirst, kLast, kArgMax, kArgMin };
std::string_view AggregateFunctionName(AggregateFunction f);
std::optional<AggregateFunction> ParseAggregateFunction(std::string_view name);

// A condition on a field of the measured rows; values are typed against the
// field's type when the measure is validated.
struct MeasureFilterConfig {
  std::string field;
  std::string op;                   // equals, not_equals, less, less_equal, greater, greater_equal, in, not_in, is_empty, is_not_empty, contains, starts_with
  std::vector<std::string> values;
  bool operator==(const MeasureFilterConfig&) const = default;
};

enum class WindowKind { kAllTime, kLast, kBetween, kThisPeriod, kLastPeriod };
enum class TimeUnit { kDay, kWeek, kMonth, kQuarter, kYear };
std::string_view TimeUnitName(TimeUnit u);

// Rows whose time field falls in the window, relative to the run date.
//  kLast: the last n units up to and including the run date (days: run - n < d <= run;
//         weeks = 7n days; months/quarters/years: since the same day n months/3n months/n years earlier).
//  kBetween: from <= d <= to (dates, inclusive).
//  kThisPeriod / kLastPeriod: the calendar month/quarter/year containing the run date, or the one before.
struct TimeWindowConfig {
  WindowKind kind = WindowKind::kAllTime;
  int64_t n = 0;
  TimeUnit unit = TimeUnit::kDay;
  int32_t from = 0, to = 0;  // kBetween: days since 1970-01-01
  bool operator==(const TimeWindowConfig&) const = default;
};

struct MeasureConfig {
  std::string name;          // identifier, e.g. "AverageWebPurchase"
  std::string description;
  MeasureKind kind = MeasureKind::kAttribute;
  // Aggregate form: function over `field` of the rows of `activity` (an
  // activity name: its entity's rows) or `entity` (any entity with a path to
  // Customer). Count needs no field.
  AggregateFunction function = AggregateFunction::kSum;
  std::string activity;
  std::string entity;
  std::string field;
  std::string order_by;      // First/Last/ArgMax/ArgMin: the ordering field (First/Last default: the time field)
  std::vector<MeasureFilterConfig> filters;  // ANDed
  TimeWindowConfig window;
  std::string time_field;    // default: the activity's timestamp
  std::vector<std::string> dimensions;  // customer / business measures: group by these fields
  std::optional<double> default_value;  // for customers with no rows (attribute measures)
  // Formula form (instead of an aggregate): arithmetic over other attribute
  // measures and numbers, e.g. "WebSpend / (WebSpend + StoreSpend)".
  std::string formula;
  bool operator==(const MeasureConfig&) const = default;
};

Status ParseRelationships(const YAML::Node& node, const std::string& origin, std::vector<RelationshipConfig>* out);
Status ParseActivities(const YAML::Node& node, const std::string& origin, std::vector<ActivityConfig>* out);
Status ParseMeasures(const YAML::Node& node, const std::string& origin, std::vector<MeasureConfig>* out);

// JSON forms (catalog, API); FromJson(ToJson(x)) == x.
std::string RelationshipsToJson(const std::vector<RelationshipConfig>& v);
std::string ActivitiesToJson(const std::vector<ActivityConfig>& v);
std::string MeasuresToJson(const std::vector<MeasureConfig>& v);
StatusOr<std::vector<RelationshipConfig>> RelationshipsFromJson(const std::string& json);
StatusOr<std::vector<ActivityConfig>> ActivitiesFromJson(const std::string& json);
StatusOr<std::vector<MeasureConfig>> MeasuresFromJson(const std::string& json);

}  // namespace cdp
