// Routes: unification quality: evaluation against a known truth, the review
// queue of uncertain pairs (accept / reject as match overrides), and the
// trained probabilistic model for the match-weight chart.
#include "server/internal/api_impl.h"
#include "server/request_schemas.h"
#include "workspace/lineage.h"
#include "workspace/unify_evaluation.h"
#include "workspace/unify_review.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

OJson ReviewPairJson(const ReviewQueuePair& p) {
  return {{"a", p.source_a + ":" + p.key_a}, {"b", p.source_b + ":" + p.key_b}, {"probability", p.probability}, {"weight", p.weight}, {"rule", p.rule}};
}

// Accept or reject: an always / never override, audited; 404 outside the queue.
HttpResponse Decide(RouteContext& c, bool accept) {
  const std::string a = c.body.value("a", std::string()), b = c.body.value("b", std::string());
  const std::string note = c.body.contains("note") && c.body["note"].is_string() ? c.body["note"].get<std::string>() : "";
  auto d = DecideReviewPair(c.api.workspace(), a, b, accept, note);
  if (!d.ok() && d.status().code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_parameter", d.status().message());
  ReviewDecision decision = Unwrap(std::move(d));
  OJson j = ReviewPairJson(decision.pair);
  j["override_id"] = decision.override_id;
  j["kind"] = accept ? "always" : "never";
  c.api.Audit(c, accept ? "review.accept" : "review.reject", "override:" + std::to_string(decision.override_id), j);
  auto q = ListReviewQueue(c.api.workspace(), 0);
  if (q.ok()) j["remaining"] = q->total;
  return JsonResponse(j);
}

}  // namespace

void ApiServerImpl::AddUnifyRoutes() {
  router_.Add({.method = "POST", .pattern = "/api/v1/unification/evaluate", .tag = "unification",
               .summary = "evaluate the current unification against a known truth (CSV text: source,key,entity)",
               .permission = Permission::kRead,
               .body = &UnifyEvaluateBody(),
               .handler = [](RouteContext& c) {
                 EvaluationOptions o;
                 if (c.body.contains("samples") && c.body["samples"].is_number_integer()) o.samples = c.body["samples"].get<int>();
                 auto e = EvaluateUnificationText(c.api.workspace(), c.body.value("truth", std::string()), o);
                 if (!e.ok() && e.status().code() == StatusCode::kInvalidArgument) ThrowError(400, "invalid_truth", e.status().message());
                 OJson j = UnifyEvaluationToJson(Unwrap(std::move(e)));
                 Check(SaveLastEvaluation(c.api.workspace(), j));
                 return JsonResponse(j);
               }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/evaluation", .tag = "unification",
               .summary = "read the last evaluation (404 when none was run)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) { return JsonResponse(Unwrap(LoadLastEvaluation(c.api.workspace()))); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/review", .tag = "unification",
               .summary = "read the review queue: uncertain pairs of the last unify without an override, most uncertain first",
               .permission = Permission::kRead,
               .query = {{.name = "limit", .type = "integer", .description = "pairs to return (default 50)"},
                         {.name = "offset", .type = "integer", .description = "open pairs to skip (a page; default 0)"},
                         {.name = "explain", .type = "integer", .description = "1: add both records' values and each pair's explanation"}},
               .handler = [](RouteContext& c) {
                 size_t limit = static_cast<size_t>(QueryInt(c.req, "limit", 50, 0, 1000));
                 bool explain = QueryInt(c.req, "explain", 0, 0, 1) == 1;
                 size_t offset = static_cast<size_t>(QueryInt(c.req, "offset", 0, 0, 100000000));
                 ReviewQueue q = Unwrap(ListReviewQueue(c.api.workspace(), limit, offset));
                 std::vector<ReviewPairDetail> details;
                 if (explain) details = Unwrap(DescribeReviewPairs(c.api.workspace(), q.pairs));
                 OJson items = OJson::array();
                 for (size_t i = 0; i < q.pairs.size(); ++i) {
                   OJson j = ReviewPairJson(q.pairs[i]);
                   if (explain) {
                     auto fields = [](const std::vector<std::pair<std::string, std::string>>& v) {
                       OJson o = OJson::object();
                       for (const auto& [k, x] : v) o[k] = x;
                       return o;
                     };
                     j["values_a"] = fields(details[i].values_a);
                     j["values_b"] = fields(details[i].values_b);
                     j["explanation"] = details[i].explanation;
                   }
                   items.push_back(j);
                 }
                 return JsonResponse({{"total", q.total}, {"decided", q.decided}, {"offset", offset}, {"items", items}});
               }});
  router_.Add({.method = "POST", .pattern = "/api/v1/unification/review/accept", .tag = "unification",
               .summary = "accept a pair of the review queue: an always-match override (applied at the next unify)",
               .permission = Permission::kWriteDefinitions,
               .body = &ReviewDecisionBody(),
               .handler = [](RouteContext& c) { return Decide(c, true); }});
  router_.Add({.method = "POST", .pattern = "/api/v1/unification/review/reject", .tag = "unification",
               .summary = "reject a pair of the review queue: a never-match override (applied at the next unify)",
               .permission = Permission::kWriteDefinitions,
               .body = &ReviewDecisionBody(),
               .handler = [](RouteContext& c) { return Decide(c, false); }});
  router_.Add({.method = "GET", .pattern = "/api/v1/unification/model", .tag = "unification",
               .summary = "read the trained probabilistic model: m, u and weight per comparison level (404 when none was trained)",
               .permission = Permission::kRead,
               .handler = [](RouteContext& c) {
                 FsModel model = Unwrap(LoadUnifyModel(c.api.workspace()));
                 return JsonResponse(OJson(model.ToJson()));
               }});
}

}  // namespace cdp
