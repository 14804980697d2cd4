// ApiServer: `cdp serve`. The REST API under /api/v1 (OpenAPI document at
// /api/v1/openapi.json), API-key auth with roles, the audit log, refreshes
// (one at a time, from the API or cron schedules) with the search index as
// their last stage, Prometheus metrics, and the web UI's static files.
// Reads are answered from the last complete generation (ServingGeneration)
// while a refresh writes the next. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "schedule/scheduler.h"
#include "server/http_server.h"
#include "server/router.h"
#include "workspace/refresh_runner.h"

namespace cdp {

struct ApiServerOptions {
  HttpServerOptions http;
  std::string ui_dir;             // built web UI (index.html ...); "" = no UI
  size_t max_page_size = 1000;    // paged lists: larger `limit` is refused with 400
  size_t default_page_size = 50;
  bool run_schedules = true;      // fire the cron schedules of the project
  SchedulerOptions scheduler;     // the schedules' clock and timer (tests: a fixed clock, no timer thread)
  bool log_requests = true;       // one line per request on stderr
  size_t refresh_threads = 0;     // 0 = all cores
  int32_t run_date = 0;           // "today" for refreshes (days since 1970-01-01); 0 = the real today
  int max_json_depth = 64;        // request bodies nested deeper get 400 (1 ... 1000)
  // Origins allowed to call the API from a browser (CORS): a request from
  // one gets it back in Access-Control-Allow-Origin, and its preflight
  // (OPTIONS) the methods of the path. Empty = CORS off: no CORS headers.
  std::vector<std::string> cors_origins;
  // Called before each refresh stage on the refresh thread (tests: block a
  // refresh or fail a stage).
  std::function<Status(RefreshStage)> before_refresh_stage;
};

class ApiServerImpl;

class ApiServer {
 public:
  ~ApiServer();
  // Opens the workspace in `workspace_dir`, loads the current generation,
  // builds the search index if it is missing, and starts listening.
  static StatusOr<std::unique_ptr<ApiServer>> Start(const std::string& workspace_dir, const ApiServerOptions& options);

  int port() const;
  // Stops taking requests, cancels a running refresh (it ends "cancelled"),
  // and waits for both. Idempotent.
  void Stop();
  // The routes served (for the OpenAPI test).
  const std::vector<Route>& routes() const;
  // The OpenAPI document of the routes `cdp serve` registers, without a
  // workspace or a server (what GET /api/v1/openapi.json answers).
  static nlohmann::ordered_json OpenApiDocument();
  // Blocks until no refresh is running or queued (tests, `cdp serve` shutdown).
  void WaitForRefreshes();
  // Fires the schedules due at `now` as the timer would and returns their
  // names, after the refreshes they queued have started (tests).
  std::vector<std::string> RunDueSchedulesForTest(int64_t now);

 private:
  explicit ApiServer(std::unique_ptr<ApiServerImpl> impl);
  std::unique_ptr<ApiServerImpl> impl_;
};

}  // namespace cdp
