// Predictions: the stage of the refresh that trains and scores the models
// of the project's `predictions:` section (config/prediction_config.h), and
// the one service behind `cdp predict`, the REST API and the web UI.
//
// For each prediction it builds the model's input from the workspace
// (UnifiedActivity -> predict/TransactionLog, Customer fields, related
// entities), checks the data's readiness, trains with a time-based split
// (features before a cut-off, labels after it), grades the model against its
// baseline on a held-back period, stores the trained model and its
// evaluation in the catalog, and scores every customer into the entity
// Prediction_<name> (keyed by CustomerId, one row per customer; product
// recommendations one row per recommended product). Scoring runs on every
// refresh; training when no model exists, the definition changed, or the
// `retrain` schedule is due. Functions are safe to call from several threads
// on one workspace (the catalog and the data store serialise writes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "config/prediction_config.h"
#include "config/project_config.h"
#include "workspace/definitions.h"
#include "workspace/stage.h"
#include "workspace/workspace.h"

namespace cdp {

// What the service knows about one prediction.
struct PredictionInfo {
  PredictionConfig config;
  std::string output_entity;  // Prediction_<name>
  bool trained = false;       // a model is stored (always true for imported_scores)
  std::string trained_at;     // ISO timestamp of the stored model ("" if none)
  std::string grade;          // "A", "B", "C" or "" (not graded: imported scores, external models)
  int64_t scored_customers = 0;  // rows of the output entity's customers in the current generation
  std::string scored_at;         // generation time of the output ("" if never scored)
};
// {"name", "display_name", "kind", "definition": {...}, "output_entity", "trained", "trained_at", "grade",
//  "scored_customers", "scored_at"}
nlohmann::ordered_json ToJson(const PredictionInfo& info);

StatusOr<std::vector<PredictionInfo>> ListPredictions(Workspace& workspace);
// NotFound naming the prediction.
StatusOr<PredictionInfo> GetPrediction(Workspace& workspace, const std::string& name);

// Checks predictions against the project (activities, entities, fields,
// model files): InvalidArgument naming the prediction and key.
Status ValidatePredictions(const ProjectConfig& project);
// Creates (AlreadyExists) or replaces (NotFound) a prediction, validated with
// the project, in one catalog transaction. Replacing drops its stored model.
Status PutPrediction(Workspace& workspace, const PredictionConfig& prediction, DefinitionWrite write);
// Removes the definition, its stored model and (at the next refresh) its output entity.
Status DeletePrediction(Workspace& workspace, const std::string& name);

struct PredictionRunOptions {
  // Days since 1970-01-01 of "today" (the as-of day of training and scoring);
  // 0 = the day after the last transaction in the data (the demo's data are
  // in the past), or today's date when there are none.
  int32_t run_date = 0;
  std::function<void(double fraction, const std::string& detail)> progress;
};

// The data readiness report of a prediction, before training:
// {"ready": bool, "problems": ["needs at least two windows of history ..."], "profiles", "customers_with_transactions",
//  "transactions", "first_day", "last_day", "history_days", "window_days", "transactions_per_customer": {...},
//  "missing": {...}}. Errors: NotFound, FailedPrecondition when there is no unified data yet.
StatusOr<nlohmann::ordered_json> PredictionReadiness(Workspace& workspace, const std::string& name,
                                                     const PredictionRunOptions& options = {});

struct PredictionTrainReport {
  std::string name;
  std::string kind;
  std::string trained_at;
  std::string grade;  // "" for kinds that are not graded
  nlohmann::ordered_json readiness;   // as PredictionReadiness
  nlohmann::ordered_json evaluation;  // model-specific, see EvaluationJson below
  int64_t duration_micros = 0;
};
// As the fields, with "duration_ms" for the duration.
nlohmann::ordered_json ToJson(const PredictionTrainReport& report);

// Trains the model now (readiness problems that make training impossible are
// FailedPrecondition listing them), stores it with its evaluation and scores
// every customer (a new data generation with Prediction_<name>).
StatusOr<PredictionTrainReport> TrainPrediction(Workspace& workspace, const std::string& name,
                                                const PredictionRunOptions& options = {});

struct PredictionScoreReport {
  std::string name;
  std::string output_entity;
  int64_t rows = 0;
  int64_t customers = 0;
  int64_t duration_micros = 0;
};
nlohmann::ordered_json ToJson(const PredictionScoreReport& report);
// Scores with the stored model (FailedPrecondition when none: train first).
StatusOr<PredictionScoreReport> ScorePrediction(Workspace& workspace, const std::string& name,
                                                const PredictionRunOptions& options = {});

// The stored model's evaluation (NotFound when not trained):
// {"name", "kind", "as_of", "trained_at", "grade", "current" (trained for the current definition),
//  "readiness": {...}, "evaluation": {...}} where "evaluation" is the model's own ToJson: churn
// (predict/churn.h ChurnEvaluation: auc, accuracy, confusion, churn_class_accuracy[_at_baseline_coverage],
// baseline {name, days, accuracy, churn_class_accuracy, auc}, grade_reason, histogram, lift, calibration,
// importance, dropped), CLV (predict/clv.h ClvEvaluation: found counts, correlation, MAE, deciles, holdout),
// recommendations (predict/recommend.h RecommendEvaluation: success_at_k, precision_at_k and the baseline's).
StatusOr<nlohmann::ordered_json> PredictionEvaluation(Workspace& workspace, const std::string& name);

// A page of the output entity's rows: {"total": N, "offset", "limit", "columns": [...], "rows": [[...], ...]}
// sorted by the kind's main score, highest first.
StatusOr<nlohmann::ordered_json> PredictionScores(Workspace& workspace, const std::string& name, int64_t offset,
                                                  int64_t limit);

// Every prediction's values for one customer, for the customer card:
// [{"name", "display_name", "kind", "values": {"ChurnScore": 0.83, "IsChurn": true, "TopFactors": "..."}} or, for
// recommendations, "products": [{"ProductId", "Score", "Reason"}]]. NotFound for an unknown CustomerId.
StatusOr<nlohmann::ordered_json> CustomerPredictions(Workspace& workspace, int64_t customer_id);
// The same for a project and snapshot the caller holds (the server's served
// generation): no catalog read.
StatusOr<nlohmann::ordered_json> CustomerPredictions(Workspace& workspace, const ProjectConfig& project,
                                                     const Snapshot& snapshot, int64_t customer_id);

// The stage: after measures, before segments (segments can use
// Prediction_<name>). Not applicable without predictions.
StageDescriptor PredictionsStage();

}  // namespace cdp
