// Names of the entities the pipeline writes, in one place: the fixed names,
// the builders of per-definition names ("Segment_<name>", ...) and the parser
// that tells which kind of entity a name is. Everything here is pure and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace cdp {

inline constexpr std::string_view kCustomerEntity = "Customer";
inline constexpr std::string_view kSourceKeysEntity = "CustomerSourceKeys";
inline constexpr std::string_view kMatchPairsEntity = "ConflationMatchPairs";
// Uncertain candidate pairs of the last unify, for review (workspace/unify_review.h).
inline constexpr std::string_view kReviewPairsEntity = "UnificationReviewPairs";
inline constexpr std::string_view kUnifiedActivityEntity = "UnifiedActivity";
inline constexpr std::string_view kCustomerMeasureEntity = "Customer_Measure";

// Prefixes of the per-definition entities.
inline constexpr std::string_view kDedupPrefix = "Dedup_";                      // + profile source
inline constexpr std::string_view kMeasurePrefix = "Measure_";                  // + customer measure
inline constexpr std::string_view kBusinessMeasurePrefix = "BusinessMeasure_";  // + business measure
inline constexpr std::string_view kSegmentPrefix = "Segment_";                  // + segment
inline constexpr std::string_view kQuarantinePrefix = "_quarantine/";           // + source entity
inline constexpr std::string_view kPredictionPrefix = "Prediction_";            // + prediction
inline constexpr std::string_view kEnrichmentPrefix = "Enrichment_";            // + enrichment
// What a unify run leaves for the next one's incremental matching (unify/incremental.h):
// hashes only, no values.
inline constexpr std::string_view kUnifyStateEntity = "_unify/state";
inline constexpr std::string_view kUnifyStatePairsEntity = "_unify/pairs";

// "Dedup_eCommerce Contacts": a profile source's deduplication winners.
inline std::string DedupEntityName(std::string_view source) { return std::string(kDedupPrefix) + std::string(source); }
// "Measure_<name>": a customer measure's values per customer.
inline std::string MeasureEntityName(std::string_view measure) {
  return std::string(kMeasurePrefix) + std::string(measure);
}
// "BusinessMeasure_<name>": a business measure's value(s).
inline std::string BusinessMeasureEntityName(std::string_view measure) {
  return std::string(kBusinessMeasurePrefix) + std::string(measure);
}
// "Segment_<name>": a segment's members (CustomerId).
inline std::string SegmentEntityName(std::string_view segment) {
  return std::string(kSegmentPrefix) + std::string(segment);
}
// "Prediction_<name>": a prediction's scores per customer (CustomerId).
inline std::string PredictionEntityName(std::string_view prediction) {
  return std::string(kPredictionPrefix) + std::string(prediction);
}
// "Enrichment_<name>": an enrichment's values per customer (CustomerId).
inline std::string EnrichmentEntityName(std::string_view enrichment) {
  return std::string(kEnrichmentPrefix) + std::string(enrichment);
}
// "_quarantine/<entity>": a source entity's quarantined rows.
inline std::string QuarantineEntityName(std::string_view entity) {
  return std::string(kQuarantinePrefix) + std::string(entity);
}

// Internal entities (names starting with '_', such as quarantines) are not
// shown as entities and are read by no stage.
inline bool IsInternalEntity(std::string_view name) { return !name.empty() && name[0] == '_'; }

// Which kind of entity a name is. Anything the pipeline does not write is a
// source entity (an ingested source).
enum class EntityKind {
  kSource,
  kCustomer,
  kSourceKeys,
  kMatchPairs,
  kReviewPairs,  // UnificationReviewPairs
  kDedup,
  kUnifiedActivity,
  kCustomerMeasure,  // Customer_Measure
  kMeasure,          // Measure_<name>
  kBusinessMeasure,  // BusinessMeasure_<name>
  kSegment,          // Segment_<name>
  kPrediction,       // Prediction_<name>
  kEnrichment,       // Enrichment_<name>
  kQuarantine,       // _quarantine/<entity>
  kInternal,         // any other name starting with '_'
};

struct ParsedEntityName {
  EntityKind kind = EntityKind::kSource;
  // The definition the entity belongs to: the source of Dedup_ and
  // _quarantine/, the measure or segment name; the whole name for a source;
  // empty for the fixed names.
  std::string_view subject;
};

// Parses `name`; the subject views into `name`.
inline ParsedEntityName ParseEntityName(std::string_view name) {
  struct Prefixed {
    std::string_view prefix;
    EntityKind kind;
  };
  if (name == kCustomerEntity) return {EntityKind::kCustomer, {}};
  if (name == kSourceKeysEntity) return {EntityKind::kSourceKeys, {}};
  if (name == kMatchPairsEntity) return {EntityKind::kMatchPairs, {}};
  if (name == kReviewPairsEntity) return {EntityKind::kReviewPairs, {}};
  if (name == kUnifiedActivityEntity) return {EntityKind::kUnifiedActivity, {}};
  if (name == kCustomerMeasureEntity) return {EntityKind::kCustomerMeasure, {}};
  for (const Prefixed& p : {Prefixed{kDedupPrefix, EntityKind::kDedup}, Prefixed{kMeasurePrefix, EntityKind::kMeasure},
                            Prefixed{kBusinessMeasurePrefix, EntityKind::kBusinessMeasure},
                            Prefixed{kSegmentPrefix, EntityKind::kSegment},
                            Prefixed{kPredictionPrefix, EntityKind::kPrediction},
                            Prefixed{kEnrichmentPrefix, EntityKind::kEnrichment},
                            Prefixed{kQuarantinePrefix, EntityKind::kQuarantine}}) {
    if (name.size() > p.prefix.size() && name.substr(0, p.prefix.size()) == p.prefix) {
      return {p.kind, name.substr(p.prefix.size())};
    }
  }
  if (IsInternalEntity(name)) return {EntityKind::kInternal, name};
  return {EntityKind::kSource, name};
}

inline EntityKind EntityKindOf(std::string_view name) { return ParseEntityName(name).kind; }

// True for the entities a pipeline stage writes (not sources, not internal).
inline bool IsPipelineEntity(std::string_view name) {
  EntityKind k = EntityKindOf(name);
  return k != EntityKind::kSource && k != EntityKind::kQuarantine && k != EntityKind::kInternal;
}

}  // namespace cdp
