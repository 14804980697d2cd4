// The `enrichments:` section of the project YAML (docs/project-yaml.md
// "Enrichments"): profile enrichment computed by the enrichments stage
// (workspace/enrichment_runner.h), each written to one entity
// Enrichment_<name> (common/entity_names.h) keyed by CustomerId, usable in
// measures, segments, search filters, exports and the customer card. A
// third-party enrichment may instead run before unification
// (`when: before_unification`): it enriches one unification source's records
// (Enrichment_<name> keyed by the source's primary key) and unification reads
// the source with those columns joined, so match rules and merge can use them.
// Parsing checks shape and ranges (errors name the file, line and key);
// references to activities, entities and fields are checked with the rest of
// the project (ValidateEnrichments). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace cdp {

enum class EnrichmentKind {
  kAffinity,    // "affinity": brand / category / interest affinities from activities and product data
  kEngagement,  // "engagement": a 0-100 score from recency-weighted activity counts
  kThirdParty,  // "third_party": attributes of a third-party entity matched by e-mail, phone or address
};
std::string_view EnrichmentKindName(EnrichmentKind kind);
StatusOr<EnrichmentKind> ParseEnrichmentKind(std::string_view name);

// When a third-party enrichment runs: after unification (the default: it
// matches Customer profiles) or before it (it matches one source's records).
enum class EnrichmentTiming {
  kAfterUnification,   // "after_unification"
  kBeforeUnification,  // "before_unification"
};
std::string_view EnrichmentTimingName(EnrichmentTiming timing);

// A third-party match key: the third-party entity's field, the field it is
// compared with (a Customer field after unification, a field of `source`
// before it; default: the same name) and how both are normalized ("email",
// "phone", "address": the unification normalizers, enrich/third_party.h).
// Exactly one of customer_field / source_field is set, as `when` says.
struct EnrichmentKeyConfig {
  std::string field;
  std::string customer_field;  // after unification
  std::string source_field;    // before unification
  std::string match;
  bool operator==(const EnrichmentKeyConfig&) const = default;
};

// A field copied from the third-party entity: written as a name, or as
// {name, as, semantic}. `as` is the output column (default: name); before
// unification, when the source has a field of that name the enrichment fills
// only its blank values (the source's own value wins), otherwise the column
// is added to the source's records. `semantic` is the column's semantic type
// (default: the third-party field's), e.g. Phone, so unification maps it to
// the attribute Phone like a source field (UnifySourceConfig::fields).
struct EnrichmentFieldConfig {
  std::string name;
  std::string as;
  std::string semantic;
  const std::string& output() const { return as.empty() ? name : as; }
  bool operator==(const EnrichmentFieldConfig&) const = default;
};

struct EnrichmentConfig {
  std::string name;  // identifier [A-Za-z_][A-Za-z0-9_]*, at most 128 characters
  std::string display_name;
  EnrichmentKind kind = EnrichmentKind::kAffinity;

  // Affinity: the activities whose rows name a product (default: every
  // activity whose source has `product_field`), the product entity, its key
  // and the attribute whose values are the affinities (Brand, Category, ...).
  std::vector<std::string> activities;
  std::string product_field = "ProductId";
  std::string products;          // entity of the product catalogue
  std::string product_key = "ProductId";
  std::string attribute;         // e.g. Brand
  std::string weight = "count";  // count | amount
  int top = 3;                   // values kept per customer, 1..20

  // Engagement: weights per activity (name -> weight, default 1 for every
  // activity) and the half-life of an event's weight in days.
  std::map<std::string, double> weights;
  int32_t half_life_days = 90;  // 1..3650

  // Third party: an ingested source entity, its match keys in order and the
  // fields copied to the enrichment entity (default: every other field).
  // Before unification, `source` is the unification source whose records
  // are matched and enriched.
  EnrichmentTiming when = EnrichmentTiming::kAfterUnification;
  std::string source;
  std::string entity;
  std::vector<EnrichmentKeyConfig> keys;
  std::vector<EnrichmentFieldConfig> fields;

  bool before_unification() const { return when == EnrichmentTiming::kBeforeUnification; }

  bool operator==(const EnrichmentConfig&) const = default;
};

// Parses the `enrichments:` list. InvalidArgument naming file (origin), line and key.
Status ParseEnrichments(const YAML::Node& node, const std::string& origin, std::vector<EnrichmentConfig>* out);
// The JSON form (catalog, `cdp export-config`), read back equal by EnrichmentsFromJson.
std::string EnrichmentsToJson(const std::vector<EnrichmentConfig>& enrichments);
StatusOr<std::vector<EnrichmentConfig>> EnrichmentsFromJson(const std::string& json);

}  // namespace cdp
