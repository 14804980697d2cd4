// Routes: predictions (issue 18). Definitions (create, replace, delete),
// the data readiness report, training and scoring now, the stored model's
// evaluation and the per-customer scores, paged. Every route calls the
// predictions service (workspace/prediction_runner.h); none holds model
// logic. Training and scoring write a new data generation, which the server
// then serves (Reload), so cards, segments and entity reads see the scores.
#include "common/value_text.h"
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "workspace/prediction_runner.h"

namespace cdp {
namespace {

// The body's prediction (its name from the path in a PUT): 400 naming the key
// the prediction parser refuses.
PredictionConfig ParsePredictionBody(const OJson& body, const std::string& path_name) {
  OJson b = body;
  if (!path_name.empty() && !b.contains("name")) b["name"] = path_name;
  if (!b.contains("name") || b["name"].is_null()) ThrowError(400, "missing_field", "the body must name the prediction ('name')");
  auto p = PredictionConfigFromJson(b.dump());
  if (!p.ok()) ThrowError(400, "invalid_definition", p.status().message());
  if (!path_name.empty() && p->name != path_name) {
    ThrowError(400, "invalid_definition",
               "the body's name '" + p->name + "' differs from the path's '" + path_name + "'");
  }
  return *std::move(p);
}

HttpResponse SavePrediction(RouteContext& c, const PredictionConfig& p, DefinitionWrite write) {
  Status s = PutPrediction(c.api.workspace(), p, write);
  if (s.code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_definition", s.message());
  Check(s);
  c.api.Audit(c, write == DefinitionWrite::kCreate ? "prediction.create" : "prediction.update", "prediction:" + p.name,
              OJson::parse(PredictionConfigToJson(p)));
  c.api.ResetSchedules();  // a `retrain` cron is scheduled at once
  return JsonResponse(ToJson(Unwrap(GetPrediction(c.api.workspace(), p.name))),
                      write == DefinitionWrite::kCreate ? 201 : 200);
}

// Options of a run from the request: the body's as_of, else the server's
// run date (ApiServerOptions::run_date, set by tests; 0 = the service's
// default, the day after the last transaction).
PredictionRunOptions RunOptions(const RouteContext& c) {
  PredictionRunOptions o;
  o.run_date = c.api.options().run_date;
  if (c.body.is_object() && c.body.contains("as_of") && c.body["as_of"].is_string()) {
    const std::string& text = c.body["as_of"].get_ref<const std::string&>();
    int32_t days = 0;
    if (!ParseIsoDate(text, &days)) {
      ThrowError(400, "invalid_value", "field 'as_of' must be a calendar date YYYY-MM-DD, got '" + text + "'");
    }
    o.run_date = days;
  }
  return o;
}

// Serves the generation a run wrote (its Prediction_<name> entity). A failed
// reload keeps serving the previous generation; the run itself succeeded.
void ServeNewGeneration(RouteContext& c) {
  Status s = c.api.Reload();
  if (!s.ok()) fprintf(stderr, "reloading after a prediction run failed: %s\n", s.ToString().c_str());
}

}  // namespace

void ApiServerImpl::AddPredictionRoutes() {
  router_.Add({.method = "GET", .pattern = "/api/v1/predictions", .tag = "predictions",
               .summary = "list the predictions with their kind, grade, training time and scored customers",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 OJson items = OJson::array();
                 for (const auto& p : Unwrap(ListPredictions(c.api.workspace()))) items.push_back(ToJson(p));
                 return JsonResponse({{"items", std::move(items)}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/predictions", .tag = "predictions",
               .summary = "create a prediction (churn, CLV, recommendations, imported scores or an XGBoost model)",
               .permission = Permission::kWriteDefinitions,
               .body = &PredictionBody(), .success_status = 201,
               .handler = [](RouteContext& c) {
                 return SavePrediction(c, ParsePredictionBody(c.body, ""), DefinitionWrite::kCreate);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/predictions/{name}", .tag = "predictions",
               .summary = "read a prediction: its definition, output entity, grade, training and scoring times "
                          "(the readiness report is its own route: it reads every transaction)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse(ToJson(Unwrap(GetPrediction(c.api.workspace(), c.param(0)))));
               }});
  router_.Add({.method = "PUT", .pattern = "/api/v1/predictions/{name}", .tag = "predictions",
               .summary = "replace a prediction definition (its stored model is dropped: train again)",
               .permission = Permission::kWriteDefinitions,
               .body = &PredictionBody(),
               .handler = [](RouteContext& c) {
                 return SavePrediction(c, ParsePredictionBody(c.body, c.param(0)), DefinitionWrite::kUpdate);
               }});
  router_.Add({.method = "DELETE", .pattern = "/api/v1/predictions/{name}", .tag = "predictions",
               .summary = "delete a prediction and its stored model (its output entity goes at the next refresh)",
               .permission = Permission::kWriteDefinitions,
               .handler = [](RouteContext& c) {
                 Check(DeletePrediction(c.api.workspace(), c.param(0)));
                 c.api.ResetSchedules();
                 c.api.Audit(c, "prediction.delete", "prediction:" + c.param(0), OJson::object());
                 return JsonResponse({{"deleted", c.param(0)}});
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/predictions/{name}/readiness", .tag = "predictions",
               .summary = "check the data before training: history, transactions per customer, missing values, "
                          "and the problems in plain language",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 PredictionRunOptions o;
                 o.run_date = c.api.options().run_date;
                 return JsonResponse(Unwrap(PredictionReadiness(c.api.workspace(), c.param(0), o)));
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/predictions/{name}/train", .tag = "predictions",
               .summary = "train the model now, grade it against its baseline on a held-back period, and score "
                          "every customer (may take seconds); 409 listing the readiness problems that prevent it",
               .permission = Permission::kRunRefresh,
               .body = &PredictionRunBody(), .body_optional = true,
               .handler = [](RouteContext& c) {
                 PredictionTrainReport r = Unwrap(TrainPrediction(c.api.workspace(), c.param(0), RunOptions(c)));
                 ServeNewGeneration(c);
                 c.api.Audit(c, "prediction.train", "prediction:" + c.param(0),
                             {{"grade", r.grade}, {"trained_at", r.trained_at}, {"duration_ms", r.duration_micros / 1000}});
                 return JsonResponse(ToJson(r));
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/predictions/{name}/score", .tag = "predictions",
               .summary = "score every customer with the stored model now (409 when it was never trained)",
               .permission = Permission::kRunRefresh,
               .body = &PredictionRunBody(), .body_optional = true,
               .handler = [](RouteContext& c) {
                 PredictionScoreReport r = Unwrap(ScorePrediction(c.api.workspace(), c.param(0), RunOptions(c)));
                 ServeNewGeneration(c);
                 c.api.Audit(c, "prediction.score", "prediction:" + c.param(0),
                             {{"rows", r.rows}, {"customers", r.customers}});
                 return JsonResponse(ToJson(r));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/predictions/{name}/evaluation", .tag = "predictions",
               .summary = "the stored model's evaluation on its held-back period: metrics, baseline, grade and the "
                          "charts' data (histogram, lift, calibration, factor importance, ...); 404 when not trained",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 return JsonResponse(Unwrap(PredictionEvaluation(c.api.workspace(), c.param(0))));
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/predictions/{name}/scores", .tag = "predictions",
               .summary = "a page of the per-customer scores (the output entity's rows), highest score first",
               .permission = Permission::kRead,
               .query = {{.name = "offset", .type = "integer", .description = "rows to skip (default 0)"},
                         {.name = "limit", .type = "integer", .description = "rows to return (default 50, at most 500)"}},
               .handler = [](RouteContext& c) {
                 int64_t offset = QueryInt(c.req, "offset", 0, 0, INT64_MAX);
                 int64_t limit = QueryInt(c.req, "limit", 50, 1, 500);
                 return JsonResponse(Unwrap(PredictionScores(c.api.workspace(), c.param(0), offset, limit)));
               }});
}

}  // namespace cdp
