#include "server/request_schemas.h"

#include <string>
#include <vector>

#include "access/role.h"
#include "config/model_config.h"
#include "config/prediction_config.h"
#include "segment/segment_definition.h"
#include "segment/segment_operators.h"
#include "workspace/unify_evaluation.h"

namespace cdp {
namespace {

using S = BodySchema;
using J = nlohmann::ordered_json;

// "YYYY-MM-DD" by shape (the parsers check the calendar).
bool IsIsoDateShape(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

S Text() { return S::String().Nullable(); }
S Flag() { return S::Boolean().Nullable(); }

// A literal of a condition: text, number or true/false.
S Scalar() {
  return S::OneOf({S::String(), S::Number(), S::Boolean()},
                  [](const J& v) { return v.is_string() ? 0 : v.is_number() ? 1 : v.is_boolean() ? 2 : -1; })
      .Describe("a value: text, a number or true/false");
}

// Every unit name a definition may give ("day", "days", ... "years").
std::vector<std::string> UnitNames(bool periods_only) {
  std::vector<std::string> out;
  for (TimeUnit u : {TimeUnit::kDay, TimeUnit::kWeek, TimeUnit::kMonth, TimeUnit::kQuarter, TimeUnit::kYear}) {
    if (periods_only && (u == TimeUnit::kDay || u == TimeUnit::kWeek)) continue;
    std::string n(TimeUnitName(u));
    out.push_back(n);
    out.push_back(n + "s");
  }
  return out;
}

// The time window of an aggregate (segments) or a measure.
S Window() {
  S all_time = S::String().Enum({"all_time"}).Describe("\"all_time\"");
  S last = S::Object({S::Required("last", S::Integer().Range(1, 100000)),
                      S::Optional("unit", S::String().Enum(UnitNames(false)).Nullable())})
               .Describe("{\"last\": N, \"unit\": \"days\"}");
  S between = S::Object({S::Required("between", S::Array(S::String().Pattern(
                                                                 "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date as YYYY-MM-DD", IsIsoDateShape))
                                                        .MinItems(2)
                                                        .MaxItems(2))})
                  .Describe("{\"between\": [FROM, TO]}");
  S this_period = S::Object({S::Required("this", S::String().Enum(UnitNames(true)))}).Describe("{\"this\": \"month\"}");
  S previous = S::Object({S::Required("previous", S::String().Enum(UnitNames(true)))}).Describe("{\"previous\": \"month\"}");
  return S::OneOf({std::move(all_time), std::move(last), std::move(between), std::move(this_period), std::move(previous)},
                  [](const J& v) {
                    if (v.is_string()) return 0;
                    if (!v.is_object()) return -1;
                    if (v.contains("last")) return 1;
                    if (v.contains("between")) return 2;
                    if (v.contains("this")) return 3;
                    if (v.contains("previous")) return 4;
                    return -1;
                  })
      .Named("TimeWindow")
      .Describe("a time window");
}

std::vector<std::string> OperatorNames() {
  std::vector<std::string> out;
  for (const SegmentOperator& o : SegmentOperators()) out.emplace_back(o.name);
  return out;
}

std::vector<S::Property> FieldConditionProperties() {
  std::vector<std::string> ops = OperatorNames();
  ops.emplace_back("");
  return {
      S::Optional("entity", Text().Describe("the entity of `field`; empty: the rule's entity (else Customer or Customer_Measure)")),
      S::Optional("field", Text()),
      S::Optional("op", S::String().Enum(ops).Nullable().Describe(
                            "an operator (GET /api/v1/segment-operators lists them with the field types they fit); "
                            "empty: not chosen yet (a draft)")),
      S::Optional("values", S::Array(Scalar()).Nullable()),
      S::Optional("unit", S::String().Enum(UnitNames(false)).Nullable().Describe(
                              "in_last/in_next: days..years; this_period/last_period: month, quarter or year")),
      S::Optional("case_insensitive", Flag()),
  };
}

S FieldCondition() {
  auto props = FieldConditionProperties();
  props.push_back(S::Optional("aggregate", S::Null()));
  return S::Object(std::move(props)).Named("FieldCondition").Describe("a field compared with values");
}

S AggregateCondition() {
  std::vector<std::string> functions;
  for (AggregateFunction f : {AggregateFunction::kCount, AggregateFunction::kSum, AggregateFunction::kAverage,
                              AggregateFunction::kMin, AggregateFunction::kMax}) {
    functions.emplace_back(AggregateFunctionName(f));
  }
  auto props = FieldConditionProperties();
  props.push_back(S::Required("aggregate", S::String().Enum(functions)));
  props.push_back(S::Optional("filters", S::Array(FieldCondition()).Nullable()));
  props.push_back(S::Optional("window", Window().Nullable()));
  props.push_back(S::Optional("time_field", Text()));
  return S::Object(std::move(props))
      .Named("AggregateCondition")
      .Describe("function(field) over the customer's rows of a related entity, compared with values");
}

S Condition() {
  return S::OneOf({FieldCondition(), AggregateCondition()},
                  [](const J& v) {
                    if (!v.is_object()) return -1;
                    auto it = v.find("aggregate");
                    return it != v.end() && !it->is_null() ? 1 : 0;
                  })
      .Named("Condition")
      .Describe("a field condition, or an aggregate condition (with `aggregate`)");
}

S Term() {
  S group = S::Object({S::Required("any", S::Array(Condition()))})
                .Named("OrGroup")
                .Describe("any of its conditions holds");
  return S::OneOf({Condition(), std::move(group)},
                  [](const J& v) {
                    if (!v.is_object()) return -1;
                    return v.contains("any") ? 1 : 0;
                  })
      .Describe("a condition or an OR group");
}

S Rule() {
  return S::Object({S::Optional("segment", Text().Describe("membership of another segment: the rule's members are that "
                                                          "segment's (then no entity, conditions or all_records)")),
                    S::Optional("entity", Text().Describe("Customer, Customer_Measure or an entity related to Customer")),
                    S::Optional("all_records", Flag()),
                    S::Optional("combine", S::String().Enum({"union", "intersect", "except", "exclude", ""}).Nullable().Describe(
                                               "how this rule joins the rules before it (not on the first rule)")),
                    S::Optional("conditions", S::Array(Term()).Nullable().Describe("ANDed"))})
      .Named("Rule")
      .Describe("customers with a row of `entity` on which every condition holds");
}

// The settings of an expansion segment (find similar customers); their
// ranges are the definition's problems (segment_definition.h), not refusals.
S ExpansionSpecSchema() {
  return S::Object({S::Optional("source", Text().Describe("the source segment")),
                    S::Optional("pool", Text().Describe("a segment; empty = every customer outside the source")),
                    S::Optional("share", S::Number().Nullable().Describe("output size as a share of the pool, (0, 1]")),
                    S::Optional("min_similarity", S::Number().Nullable().Describe("0, or a threshold from 0.4 to below 1")),
                    S::Optional("include_source", Flag()),
                    S::Optional("seed", S::Integer().Range(0, 9007199254740991.0).Nullable())})
      .Named("ExpansionSpec")
      .Nullable()
      .Describe("type expansion: how its members were found (a lookalike of `source`)");
}

S SegmentDefinitionSchema() {
  return S::Object({S::Optional("name", Text().Describe(std::string("the output entity's name: ") +
                                                        std::string(kSegmentNameRule) +
                                                        " (another name keeps the segment a draft)")),
                    S::Optional("display_name", Text()),
                    S::Optional("description", Text()),
                    S::Optional("type", S::String().Enum({"dynamic", "static", "expansion", ""}).Nullable()),
                    S::Optional("schedule", Text().Describe("dynamic segments: a 5-field cron expression")),
                    S::Optional("active", Flag().Describe("dynamic segments: false = deactivated (kept, not evaluated, not exported)")),
                    S::Optional("rules", S::Array(Rule()).Nullable()),
                    S::Optional("expansion", ExpansionSpecSchema())})
      .Named("SegmentDefinition")
      .Describe("a segment definition (src/segment/README.md); incomplete definitions are kept as drafts with their problems");
}

S QuickSegmentSchema() {
  return S::Object({S::Required("name", S::String()
                                            .MaxLength(kMaxSegmentNameLength)
                                            .Pattern(std::string(kSegmentNamePattern),
                                                     "a segment name has " + std::string(kSegmentNameRule),
                                                     IsValidSegmentName)
                                            .Describe("the output entity's name")),
                    S::Optional("entity", S::String()
                                              .Enum({std::string(kCustomerEntity), std::string(kCustomerMeasureEntity)})
                                              .Describe("default Customer")),
                    S::Required("field", S::String().MinLength(1)),
                    S::Required("op", S::String().Enum(OperatorNames())),
                    S::Optional("values", S::Array(Scalar())),
                    S::Optional("static", S::Boolean().Describe("freeze the members now (default false: dynamic)"))})
      .Named("QuickSegment")
      .Describe("a segment of one condition on a profile field or a measure");
}

S MeasureSchema() {
  S filter = S::Object({S::Required("field", S::String()),
                        S::Required("op", S::String().Describe(
                                              "equals, not_equals, less, less_equal, greater, greater_equal, in, not_in, "
                                              "is_empty, is_not_empty, contains, starts_with")),
                        S::Optional("value", Scalar()),
                        S::Optional("values", S::Array(Scalar()))})
                 .Named("MeasureFilter");
  return S::Object({S::Optional("name", S::String().MinLength(1).Describe("an identifier (letters, digits, _); required, except in a PUT, which takes it from the path")),
                    S::Optional("description", Text()),
                    S::Optional("kind", Text().Describe("attribute (default), customer or business")),
                    S::Optional("function", Text().Describe(
                                                "sum, average, count, count_unique, min, max, first, last, argmax, argmin")),
                    S::Optional("activity", Text().Describe("an activity: its rows are measured")),
                    S::Optional("entity", Text().Describe("or an entity with a path to Customer")),
                    S::Optional("field", Text()),
                    S::Optional("order_by", Text()),
                    S::Optional("time_field", Text()),
                    S::Optional("dimensions", S::Array(S::String()).Nullable()),
                    S::Optional("default", S::Number().Nullable().Describe("the value for customers with no rows")),
                    S::Optional("filters", S::Array(std::move(filter)).Nullable().Describe("ANDed")),
                    S::Optional("window", Window().Nullable()),
                    S::Optional("formula", Text().Describe("arithmetic over attribute measures, instead of a function"))})
      .Named("Measure")
      .Describe("a measure definition (docs/project-yaml.md, measures)");
}

S UnifyConfigSchema() {
  const std::string parsed_by = "checked by the unification parser (docs/project-yaml.md, unification)";
  S source = S::Object({S::Required("source", S::String().MinLength(1)),
                        S::Optional("key", Text()),
                        S::Optional("fields", S::Any().Describe("attribute mapping; " + parsed_by)),
                        S::Optional("dedup", S::Object({S::Optional("rules", S::Array(S::Any().Describe(parsed_by)).Nullable()),
                                                        S::Optional("winner", Text().Describe("most_filled, most_recent, least_recent")),
                                                        S::Optional("winner_field", Text())})
                                                 .Nullable())})
                 .Named("UnifySource");
  S rule = S::Object({S::Required("name", S::String()),
                      S::Optional("conditions", S::Array(S::Any().Describe(parsed_by)).Nullable()),
                      S::Optional("guards", S::Array(S::Any().Describe(parsed_by)).Nullable()),
                      S::Optional("exceptions", S::Array(S::Any().Describe(parsed_by)).Nullable()),
                      S::Optional("blocking", S::Any().Describe(parsed_by)),
                      S::Optional("sources", S::Array(S::String()).Nullable())})
               .Named("MatchRule");
  return S::Object({S::Optional("sources", S::Array(std::move(source)).Nullable()),
                    S::Optional("mode", Text().Describe("rules or probabilistic")),
                    S::Optional("rules", S::Array(std::move(rule)).Nullable()),
                    S::Optional("probabilistic", S::Any().Describe(parsed_by)),
                    S::Optional("guards", S::Array(S::Any().Describe(parsed_by)).Nullable()),
                    S::Optional("one_record_per_source", S::Any().Describe("true, false or a list of sources; " + parsed_by)),
                    S::Optional("include_all", Flag()),
                    S::Optional("max_block_size", S::Integer().Range(2, 9.2e18).Nullable()),
                    S::Optional("max_cluster_size", S::Integer().Range(2, 9.2e18).Nullable()),
                    S::Optional("default_region", Text()),
                    S::Optional("default_placeholders", Flag()),
                    S::Optional("placeholders", S::Array(S::String()).Nullable()),
                    S::Optional("merge", S::Any().Describe("merge policies; " + parsed_by))})
      .Named("UnifyConfig")
      .Describe("the unification configuration: map, deduplicate, match, merge");
}

S RefreshRequestSchema() {
  return S::Object({S::Optional("sources", S::Array(S::String()).Nullable().Describe("only these sources (and what depends on them)")),
                    S::Optional("segments", S::Array(S::String()).Nullable().Describe("only these segments")),
                    S::Optional("force", Flag().Describe("run stages whose inputs did not change"))})
      .Named("RefreshRequest")
      .Describe("what to refresh (an empty body: everything whose inputs changed)");
}

S SchedulesSchema() {
  S cron = S::String().Describe("a 5-field cron expression; \"\" removes the schedule");
  return S::Object({S::Optional("refresh", S::String().Nullable().Describe("the whole refresh: cron, \"\" removes it")),
                    S::Optional("sources", S::MapOf(cron).Describe("source name: cron")),
                    S::Optional("segments", S::MapOf(cron).Describe("dynamic segment name: cron")),
                    S::Optional("timezone", Text().Describe("schedules run in UTC"))})
      .Named("Schedules");
}

S ApiKeyRequestSchema() {
  std::vector<std::string> roles;
  for (Role r : {Role::kViewer, Role::kContributor, Role::kAdmin}) roles.emplace_back(RoleName(r));
  return S::Object({S::Required("name", S::String().MinLength(1)), S::Required("role", S::String().Enum(roles))})
      .Named("ApiKeyRequest");
}

S UnifyEvaluateSchema() {
  return S::Object({S::Required("truth", S::String().MinLength(1).MaxLength(kMaxTruthTextBytes).Describe(
                                             "CSV text with a header naming source, key and entity: one line per record")),
                    S::Optional("samples", S::Integer().Range(0, 100).Nullable().Describe(
                                               "largest profiles, false merges and misses to list (default 5)"))})
      .Named("UnifyEvaluateRequest");
}

S ReviewDecisionSchema() {
  S record = S::String().MinLength(3).MaxLength(4096).Describe("a record as SOURCE:KEY");
  return S::Object({S::Required("a", record), S::Required("b", record),
                    S::Optional("note", S::String().MaxLength(1000).Nullable().Describe("why (stored with the override)"))})
      .Named("ReviewDecision");
}

S ExportSchema() {
  auto name = [] { return S::String().MinLength(1).MaxLength(200); };
  S field = S::OneOf({S::String().MinLength(1).MaxLength(200), S::MapOf(S::String().MinLength(1).MaxLength(200))},
                     [](const J& v) { return v.is_string() ? 0 : v.is_object() ? 1 : -1; })
                .Describe("a field name, or {Field: name_at_the_destination}");
  S what = S::Object({S::Optional("segment", S::String().MinLength(1).MaxLength(200)),
                      S::Optional("entity", S::String().MinLength(1).MaxLength(200))})
               .Describe("exactly one of segment (its members) or entity (every row)");
  return S::Object({S::Optional("name", name().Describe("an identifier; required, except in a PUT, which takes it from the path")),
                    S::Required("connection", name()),
                    S::Required("what", std::move(what)),
                    S::Optional("fields", S::Array(std::move(field)).Nullable().Describe("default: every field")),
                    S::Optional("key", Text().Describe("the field identifying a row (default CustomerId)")),
                    S::Optional("mode", Text().Describe("delta (default) or full")),
                    S::Optional("when", Text().Describe("refresh (default), manual, or a 5-field cron text")),
                    S::Optional("purpose", Text().Describe("the consent purpose the export serves")),
                    S::Optional("target", Text().Describe("table, file stem or event type (default: the name)")),
                    S::Optional("batch_size", S::Integer().Describe("rows per batch (default 1000)")),
                    S::Optional("options", S::MapOf(S::OneOf({S::String().MaxLength(4096), S::Number(), S::Boolean()},
                                                             [](const J& v) { return v.is_string() ? 0 : v.is_number() ? 1 : v.is_boolean() ? 2 : -1; }))
                                               .Describe("the destination kind's options (docs/destinations.md)"))})
      .Named("Export")
      .Describe("an export definition (docs/project-yaml.md, exports)");
}

S ExportRunSchema() {
  return S::Object({S::Optional("full", Flag().Describe("send every row (replace) instead of the changes"))}).Named("ExportRun");
}

S SecretSchema() {
  return S::Object({S::Required("value", S::String().MinLength(1).MaxLength(65536).Describe("stored; never returned"))})
      .Named("Secret");
}


// Types and the ranges config/prediction_config.cc checks (so a definition
// it takes is never refused here); the parser checks the rest (names, which
// keys a kind takes and needs) and names the key it refuses.
S PredictionSchema() {
  auto name = [] { return S::String().MinLength(1).MaxLength(200); };
  auto names = [&](std::string what) { return S::Array(name()).MaxItems(10000).Nullable().Describe(std::move(what)); };
  auto count = [](double lo, double hi, std::string what) { return S::Integer().Range(lo, hi).Nullable().Describe(std::move(what)); };
  std::vector<std::string> kinds;
  for (PredictionKind k : {PredictionKind::kTransactionalChurn, PredictionKind::kSubscriptionChurn, PredictionKind::kClv,
                           PredictionKind::kRecommendations, PredictionKind::kImportedScores, PredictionKind::kExternalModel}) {
    kinds.emplace_back(PredictionKindName(k));
  }
  S subscriptions = S::Object({S::Optional("entity", Text().Describe("an entity related to Customer")),
                               S::Optional("start", Text().Describe("date or timestamp field (required)")),
                               S::Optional("end", Text().Describe("date or timestamp field; empty = still running (required)")),
                               S::Optional("recurring", Text().Describe("bool field")),
                               S::Optional("recurrence", Text().Describe("days between renewals")),
                               S::Optional("amount", Text())})
                        .Named("PredictionSubscriptions")
                        .Nullable()
                        .Describe("subscription churn: the subscription entity and its fields");
  S high_value = S::Object({S::Optional("share", S::Number().Range(0.01, 1).Nullable().Describe(
                                                  "the customers making up this share of predicted value (default 0.8)")),
                            S::Optional("top_percent", S::Number().Range(0.1, 100).Nullable().Describe("or the top N% of customers"))})
                     .Named("PredictionHighValue")
                     .Nullable()
                     .Describe("CLV: which customers are high value: one of share and top_percent");
  return S::Object(
             {S::Optional("name", name().Describe("an identifier (letters, digits, _; at most 128); required, except in a PUT, which takes it from the path")),
              S::Optional("display_name", Text()),
              S::Optional("description", Text()),
              S::Required("kind", S::String().Enum(kinds)),
              S::Optional("activities", names("churn, CLV, recommendations: the activities that are transactions")),
              S::Optional("product_field", Text().Describe("the transactions' product field (default ProductId)")),
              S::Optional("other_activities", names("churn: other activities counted as features (default: all the others)")),
              S::Optional("profile_fields", names("churn: Customer fields used as features")),
              S::Optional("window_days", count(7, 730, "churn: the prediction window in days (default 90)")),
              S::Optional("churn_days", count(0, 730, "churn: no transaction for N days is churn (0 = window_days, else at least 7)")),
              S::Optional("threshold", S::Number().Range(0.01, 0.99).Nullable().Describe("churn: IsChurn = ChurnScore >= threshold (default 0.5)")),
              S::Optional("subscriptions", std::move(subscriptions)),
              S::Optional("renewal_days", count(0, 365, "subscription churn: an ended subscription not renewed within N days is churn")),
              S::Optional("horizon_months", count(1, 60, "CLV: months ahead (default 12)")),
              S::Optional("high_value", std::move(high_value)),
              S::Optional("count", count(1, 100, "recommendations: products per customer (default 10)")),
              S::Optional("repeat_purchases", Flag().Describe("recommendations: may recommend products the customer bought")),
              S::Optional("lookback_days", count(0, 3650, "recommendations: 0 = all history")),
              S::Optional("products", names("recommendations: only these product ids (empty = all)")),
              S::Optional("algorithm", S::String().Enum({"als", "item_knn", "popular"}).Nullable().Describe("recommendations (default als)")),
              S::Optional("entity", Text().Describe("imported scores: an entity related to Customer")),
              S::Optional("fields", names("imported scores: the fields copied")),
              S::Optional("time_field", Text().Describe("imported scores: the latest row per customer wins")),
              S::Optional("model_file", Text().Describe("XGBoost model: its JSON file, relative to the project file")),
              S::Optional("features", S::Array(S::String().MinLength(3).MaxLength(400).Describe("ENTITY.FIELD: Customer.X or Customer_Measure.X"))
                                          .MaxItems(10000)
                                          .Nullable()
                                          .Describe("XGBoost model: its features in the model's order")),
              S::Optional("retrain", Text().Describe("a 5-field cron text; empty = retrain when the definition changed or no model exists"))})
      .Named("Prediction")
      .Describe("a prediction definition (docs/project-yaml.md, predictions)");
}

S PredictionRunSchema() {
  return S::Object({S::Optional("as_of", S::String()
                                             .Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date as YYYY-MM-DD", IsIsoDateShape)
                                             .Nullable()
                                             .Describe("the day the model predicts from (default: the day after the last transaction)"))})
      .Named("PredictionRun");
}

// Segment insights (workspace/insight_service.h) and enrichment runs
// (workspace/enrichment_runner.h). Sizes are bounded here, before any work:
// at most 200 segments in an overlap, names of at most 200 characters; the
// service checks the rest (segments and attributes exist, the exclusive
// bounds of share and similarity) and names the parameter it refuses.
S SegmentName(std::string what) { return S::String().MinLength(1).MaxLength(200).Describe(std::move(what)); }

S InsightOverlapSchema() {
  return S::Object({S::Required("segments", S::Array(SegmentName("an evaluated segment")).MinItems(2).MaxItems(200)
                                                .Describe("2 to 200 segment names")),
                    S::Optional("breakdown", Text().Describe("an attribute (profile field or measure) that breaks the shared "
                                                             "members down, e.g. LoyaltyTier"))})
      .Named("InsightOverlap")
      .Describe("overlap of segments: shared members, the rest of each, a matrix");
}

S InsightCompareSchema() {
  return S::Object({S::Required("segment", SegmentName("the segment described")),
                    S::Optional("base", Text().Describe("rest (default: the customers outside the segment), all (every customer) "
                                                        "or another segment")),
                    S::Optional("limit", S::Integer().Range(1, 1000).Nullable().Describe("attributes listed, highest score first (default 50)"))})
      .Named("InsightCompare")
      .Describe("what sets a segment apart: a difference score per attribute");
}

S InsightExpandSchema() {
  return S::Object(
             {S::Required("source", SegmentName("the segment whose look-alikes are wanted")),
              S::Optional("pool", Text().Describe("the segment the look-alikes come from (default: every customer outside the source)")),
              S::Optional("output", Text().Describe("the Expansion segment written (default <source>_Similar)")),
              S::Optional("display_name", Text()),
              S::Optional("share", S::Number().Range(0, 1).Nullable().Describe(
                                       "output size as a share of the pool, above 0 (default 0.2); ignored with min_similarity")),
              S::Optional("min_similarity", S::Number().Range(0, 1).Nullable().Describe(
                                                "0 (use share) or a similarity threshold from 0.4 up to (not including) 1")),
              S::Optional("include_source", Flag().Describe("also list the source's members (similarity 1)")),
              S::Optional("save", Flag().Describe("write the segment (default true); false previews only")),
              S::Optional("seed", S::Integer().Range(0, 9007199254740991.0).Nullable().Describe("the classifier's random seed (default 1)"))})
      .Named("InsightExpand")
      .Describe("find customers similar to a segment (a classifier on the source against the pool)");
}

S InsightSuggestSchema() {
  return S::Object(
             {S::Required("target", S::String().MinLength(1).MaxLength(400).Describe(
                                        "a numeric attribute, or a categorical one with at most 10 values")),
              S::Optional("value", Text().Describe("categorical target: the value whose share should be high")),
              S::Optional("min_lift", S::Number().Range(1, 1000).Nullable().Describe("a group's target over the population's, at least (default 1.2)")),
              S::Optional("min_share", S::Number().Range(0, 1).Nullable().Describe("the smallest group as a share of customers (default 0.01)")),
              S::Optional("max_suggestions", S::Integer().Range(1, 100).Nullable().Describe("default 10")),
              S::Optional("profile_only", S::Boolean().Nullable().Describe(
                                              "rules on Customer fields only, not on measures or other entities")),
              S::Optional("exclude", S::Array(S::String().MaxLength(400)).MaxItems(1000).Nullable().Describe(
                                         "attributes never used in rules"))})
      .Named("InsightSuggest")
      .Describe("suggested segments: groups of customers whose target differs from the population's");
}

S EnrichmentRunSchema() {
  return S::Object({S::Optional("names", S::Array(SegmentName("an enrichment")).MaxItems(1000).Nullable().Describe(
                                             "the enrichments to run (default: all)")),
                    S::Optional("as_of", S::String()
                                             .Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "a date as YYYY-MM-DD", IsIsoDateShape)
                                             .Nullable()
                                             .Describe("the day engagement is computed as of (default: today)"))})
      .Named("EnrichmentRun");
}

}  // namespace

const BodySchema& ExportBody() {
  static const BodySchema s = ExportSchema();
  return s;
}
const BodySchema& ExportRunBody() {
  static const BodySchema s = ExportRunSchema();
  return s;
}
const BodySchema& SecretBody() {
  static const BodySchema s = SecretSchema();
  return s;
}
const BodySchema& PredictionBody() {
  static const BodySchema s = PredictionSchema();
  return s;
}
const BodySchema& PredictionRunBody() {
  static const BodySchema s = PredictionRunSchema();
  return s;
}

const BodySchema& InsightOverlapBody() {
  static const BodySchema s = InsightOverlapSchema();
  return s;
}
const BodySchema& InsightCompareBody() {
  static const BodySchema s = InsightCompareSchema();
  return s;
}
const BodySchema& InsightExpandBody() {
  static const BodySchema s = InsightExpandSchema();
  return s;
}
const BodySchema& InsightSuggestBody() {
  static const BodySchema s = InsightSuggestSchema();
  return s;
}
const BodySchema& EnrichmentRunBody() {
  static const BodySchema s = EnrichmentRunSchema();
  return s;
}

const BodySchema& UnifyEvaluateBody() {
  static const BodySchema s = UnifyEvaluateSchema();
  return s;
}
const BodySchema& ReviewDecisionBody() {
  static const BodySchema s = ReviewDecisionSchema();
  return s;
}

const BodySchema& SegmentDefinitionBody() {
  static const BodySchema s = SegmentDefinitionSchema();
  return s;
}
const BodySchema& QuickSegmentBody() {
  static const BodySchema s = QuickSegmentSchema();
  return s;
}
const BodySchema& MeasureBody() {
  static const BodySchema s = MeasureSchema();
  return s;
}
const BodySchema& UnifyConfigBody() {
  static const BodySchema s = UnifyConfigSchema();
  return s;
}
const BodySchema& RefreshRequestBody() {
  static const BodySchema s = RefreshRequestSchema();
  return s;
}
const BodySchema& SchedulesBody() {
  static const BodySchema s = SchedulesSchema();
  return s;
}
const BodySchema& ApiKeyRequestBody() {
  static const BodySchema s = ApiKeyRequestSchema();
  return s;
}

}  // namespace cdp
