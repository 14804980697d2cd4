// Internals of ApiServer shared by the route files (routes_*.cc): the
// server state, the per-request context, and helpers for paging, bodies and
// JSON. Not part of the public API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/role.h"
#include "access/api_key_store.h"
#include "schedule/cron.h"
#include "schedule/scheduler.h"
#include "search/search_index.h"
#include "server/api_server.h"
#include "server/router.h"
#include "server/serving_state.h"
#include "workspace/refresh_runner.h"
#include "workspace/workspace.h"

namespace cdp {

using OJson = nlohmann::ordered_json;

struct RouteContext {
  HttpRequest& req;
  ApiKeyPrincipal principal;              // empty name/role viewer when the route needs no key
  std::shared_ptr<const ServingGeneration> gen;
  ApiServerImpl& api;

  // The route's body (Route::body), parsed and validated by the dispatcher;
  // null when the route takes none.
  OJson body = nullptr;

  const std::string& param(size_t i) const { return req.path_params.at(i); }
  std::string actor() const;              // "key:<id> (<name>)" for the audit log
};

// Thrown by helpers to end a request with an error response; caught by the
// dispatcher (the server never dies on a request).
struct RequestError {
  HttpResponse response;
};
[[noreturn]] void ThrowError(int status, std::string_view code, std::string_view message);
[[noreturn]] void ThrowStatus(const Status& status);
template <typename T>
T Unwrap(StatusOr<T> v) {
  if (!v.ok()) ThrowStatus(v.status());
  return std::move(*v);
}
inline void Check(const Status& s) {
  if (!s.ok()) ThrowStatus(s);
}

HttpResponse JsonResponse(const OJson& j, int status = 200);

// The deepest nesting --max-json-depth may allow; ParseBody refuses deeper
// bodies whatever the setting.
inline constexpr int kMaxJsonDepthCeiling = 1000;

// info.version of the OpenAPI document.
inline constexpr const char* kApiVersion = "1";

// The JSON object body of a request; 400 naming the problem if it is not
// valid JSON (numbers out of range included), nested deeper than
// kMaxJsonDepthCeiling, has a key twice in one object, is not an object, or
// does not match `schema` (when given: 400 naming the field path).
OJson ParseBody(const HttpRequest& req, const BodySchema* schema = nullptr);
// Typed field access with 400 errors naming the field.
std::string BodyString(const OJson& body, const std::string& field, bool required, const std::string& fallback = "");
bool BodyBool(const OJson& body, const std::string& field, bool fallback);
std::vector<std::string> BodyStringList(const OJson& body, const std::string& field);

// Paging by cursor: an opaque text cursor holding a row offset into a
// stably ordered list.
struct PageRequest {
  size_t offset = 0;
  size_t limit = 50;
};
PageRequest ParsePage(const HttpRequest& req, size_t default_limit, size_t max_limit);
// {items, next_cursor} for rows [offset, offset + items.size()) of `total`.
OJson PageJson(OJson items, const PageRequest& page, size_t total);
int64_t QueryInt(const HttpRequest& req, const std::string& name, int64_t fallback, int64_t min, int64_t max);

class ApiServerImpl {
 public:
  ApiServerImpl(std::unique_ptr<Workspace> ws, ApiServerOptions options);
  ~ApiServerImpl();

  Status Init();
  HttpResponse Handle(HttpRequest& req);
  void Stop();

  // Registers every route (the functions below; no workspace access).
  void AddRoutes();
  // Route registration, one function per route file.
  void AddSystemRoutes();
  void AddDataRoutes();
  void AddCustomerRoutes();
  void AddModelRoutes();     // measures and segments
  void AddUnifyRoutes();     // evaluation, review queue, trained model
  void AddExportRoutes();    // connections, secrets, exports, triggers
  void AddPredictionRoutes();  // predictions: definitions, readiness, train, score, evaluation, scores
  void AddInsightRoutes();     // segment insights, lifecycle (trend, growth, activate) and enrichments
  void AddAdminRoutes();     // runs, schedules, keys, audit

  std::shared_ptr<const ServingGeneration> generation() const;
  // Reloads the serving generation from the workspace's current snapshot.
  Status Reload();
  std::shared_ptr<const SearchIndex> search() const;

  // Refreshes: queued and run one at a time on the refresh thread. Returns
  // the run id (BeginRun is called before returning).
  StatusOr<int64_t> EnqueueRefresh(RefreshOptions options);
  Status CancelRun(int64_t run_id);
  bool RefreshActive() const;
  void WaitForRefreshes();
  // Re-reads the schedules from the catalog (after a definition change).
  void ResetSchedules();
  // The live schedules (empty when schedules are off).
  std::vector<ScheduledJobState> ScheduleStates() const;
  std::vector<std::string> RunDueSchedulesForTest(int64_t now);

  void Audit(const RouteContext& c, const std::string& action, const std::string& target, const OJson& detail);

  Workspace& workspace() { return *ws_; }
  ApiKeyStore& keys() { return *keys_; }
  const ApiServerOptions& options() const { return options_; }
  Router& router() { return router_; }
  std::unique_ptr<HttpServer>& http() { return http_; }

  // Metrics.
  std::string MetricsText() const;

 private:
  void RefreshLoop();
  // Startup messages (not with --quiet).
  void Log(const std::string& message) const;
  HttpResponse ServeStatic(const HttpRequest& req);
  // Refuses, before the body is read, requests no route takes (404/405) and
  // requests without the key their route needs (401). On an I/O thread.
  std::optional<HttpResponse> Screen(const HttpRequest& req) const;
  // The request's Origin when it is in --cors-origin, else nullopt.
  std::optional<std::string> AllowedOrigin(const HttpRequest& req) const;
  // Access-Control-Allow-Origin for an allowed origin and Vary: Origin; none
  // at all when CORS is off (no --cors-origin).
  void AddCorsHeaders(const HttpRequest& req, HttpResponse* resp) const;

  std::unique_ptr<Workspace> ws_;
  ApiServerOptions options_;
  std::unique_ptr<ApiKeyStore> keys_;
  Router router_;
  std::unique_ptr<HttpServer> http_;

  mutable std::mutex gen_mu_;
  std::shared_ptr<const ServingGeneration> gen_;
  std::shared_ptr<const SearchIndex> search_;

  // Refresh queue.
  struct RunTicket {
    int64_t run_id = 0;     // set when the refresh starts
    bool finished = false;
    Status error;           // when it could not run at all
  };
  struct QueuedRefresh {
    RefreshOptions options;
    std::shared_ptr<RunTicket> ticket;
  };
  mutable std::mutex run_mu_;
  std::condition_variable run_cv_;
  std::deque<QueuedRefresh> queue_;
  int64_t active_run_ = 0;
  std::atomic<bool> cancel_{false};
  bool stopping_ = false;
  std::thread refresh_thread_;
  mutable std::mutex schedule_mu_;  // guards creating scheduler_ (Set/Jobs are thread-safe)
  std::unique_ptr<Scheduler> scheduler_;

  // Metrics (counters by status class and route).
  mutable std::mutex metrics_mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;     // (route pattern, status) -> count
  std::map<std::string, std::pair<double, uint64_t>> latency_;  // route -> (sum seconds, count)
  std::map<std::string, uint64_t> refreshes_;                   // status -> count
  int64_t started_at_ = 0;
  void Count(const std::string& route, int status, double seconds);
};

// JSON helpers shared by routes.
OJson RunJson(const RunRecord& run);
std::string IsoTime(int64_t micros);  // "" for 0

}  // namespace cdp
