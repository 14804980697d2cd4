// The request body schemas of the REST API, one per kind of body. Routes
// declare theirs on registration (Route::body); the dispatcher validates each
// body against it before the handler runs and the OpenAPI document emits it.
// Built once on first use; thread-safe.
#pragma once

#include "server/body_schema.h"

namespace cdp {

// A segment definition as JSON (src/segment/README.md): rules of conditions,
// OR groups, aggregates with filters and windows; operators, units and
// functions from the segment module's tables. Mirrors ParseSegmentJson's
// shape rules (which still run after it): a definition that parses is never
// refused here (segment_schema_test.cc checks both on the same inputs).
const BodySchema& SegmentDefinitionBody();
const BodySchema& QuickSegmentBody();
const BodySchema& MeasureBody();
const BodySchema& UnifyConfigBody();
const BodySchema& RefreshRequestBody();
const BodySchema& SchedulesBody();
const BodySchema& ApiKeyRequestBody();
// POST /api/v1/unification/evaluate: {truth: CSV text, samples?}.
const BodySchema& UnifyEvaluateBody();
// POST /api/v1/unification/review/accept|reject: {a: SOURCE:KEY, b: SOURCE:KEY, note?}.
const BodySchema& ReviewDecisionBody();
// POST /api/v1/exports, PUT /api/v1/exports/{name}: an export definition
// (docs/project-yaml.md, exports), checked again by ExportConfigFromJson.
const BodySchema& ExportBody();
// POST /api/v1/exports/{name}/run, /api/v1/triggers/{name}/run: {full?}.
const BodySchema& ExportRunBody();
// PUT /api/v1/secrets/{name}: {value}.
const BodySchema& SecretBody();
// POST /api/v1/predictions, PUT /api/v1/predictions/{name}: a prediction
// definition (docs/project-yaml.md, predictions), checked again by
// PredictionConfigFromJson and, against the project, by PutPrediction.
const BodySchema& PredictionBody();
// POST /api/v1/predictions/{name}/train|score: {as_of?: YYYY-MM-DD}.
const BodySchema& PredictionRunBody();
// POST /api/v1/insights/overlap: {segments: 2..200 names, breakdown?}.
const BodySchema& InsightOverlapBody();
// POST /api/v1/insights/compare: {segment, base?, limit?}.
const BodySchema& InsightCompareBody();
// POST /api/v1/insights/expand: {source, pool?, output?, display_name?, share?,
// min_similarity?, include_source?, save?, seed?}.
const BodySchema& InsightExpandBody();
// POST /api/v1/insights/suggest: {target, value?, min_lift?, min_share?, max_suggestions?}.
const BodySchema& InsightSuggestBody();
// POST /api/v1/enrichments/run: {names?, as_of?}.
const BodySchema& EnrichmentRunBody();

}  // namespace cdp
