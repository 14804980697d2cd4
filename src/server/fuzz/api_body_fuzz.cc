// libFuzzer target of the API's request bodies: drives ApiServerImpl::Handle
// in process (no socket) with arbitrary bodies on every route that takes one,
// as an admin, on a small Contoso demo workspace made at startup. The first
// byte chooses the route, the rest is the body. A 500 response (an exception
// escaping a route, or an Internal status) is a finding, as are crashes and
// sanitizer reports. Refreshes that a request queues fail at their first
// stage (before_refresh_stage), and each request waits for them, so requests
// run one at a time; every 1000 inputs the workspace is restored from a
// pristine copy so saved definitions do not pile up.
// CDP_FUZZ_TMPDIR chooses where the workspace is made (default /tmp).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "access/api_key_store.h"
#include "config/project_config.h"
#include "demo/demo_generator.h"
#include "segment/segment_definition.h"
#include "server/internal/api_impl.h"
#include "server/testing/contoso_workspace.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"
#include "workspace/workspace.h"

namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "api_body_fuzz: %s\n", what.c_str());
  abort();
}

template <typename T>
T Must(cdp::StatusOr<T> v, const char* what) {
  if (!v.ok()) Fail(std::string(what) + ": " + v.status().ToString());
  return std::move(*v);
}

struct BodyRoute {
  const char* method;
  const char* path;
};

// Every route with a request body (Route::body in routes_*.cc). The
// {name} routes use a measure and a segment of the Contoso project, and the
// prediction the corpus's predictions_post creates.
const BodyRoute kRoutes[] = {
    {"POST", "/api/v1/runs"},
    {"PUT", "/api/v1/schedules"},
    {"POST", "/api/v1/apikeys"},
    {"PUT", "/api/v1/unification"},
    {"POST", "/api/v1/measures"},
    {"PUT", "/api/v1/measures/AverageWebPurchase"},
    {"POST", "/api/v1/segments"},
    {"POST", "/api/v1/segments/quick"},
    {"POST", "/api/v1/segments/estimate"},
    {"PUT", "/api/v1/segments/CustomersFromCalifornia"},
    {"POST", "/api/v1/unification/evaluate"},
    {"POST", "/api/v1/unification/review/accept"},
    {"POST", "/api/v1/unification/review/reject"},
    {"POST", "/api/v1/exports"},
    {"PUT", "/api/v1/exports/CaliforniaFiles"},
    {"PUT", "/api/v1/secrets/fuzz_secret"},
    {"POST", "/api/v1/predictions"},
    {"PUT", "/api/v1/predictions/FuzzChurn"},
    // Score (not train: a model per input would make fuzzing crawl): the
    // run body, then 404 or 409 (FuzzChurn, when a POST made it, is never trained).
    {"POST", "/api/v1/predictions/FuzzChurn/score"},
    // Insights (read-only but for expand, which may save an expansion segment)
    // and an enrichment run (the project's enrichments, if any).
    {"POST", "/api/v1/insights/overlap"},
    {"POST", "/api/v1/insights/compare"},
    {"POST", "/api/v1/insights/expand"},
    {"POST", "/api/v1/insights/suggest"},
    {"POST", "/api/v1/enrichments/run"},
};
constexpr size_t kNumRoutes = sizeof(kRoutes) / sizeof(kRoutes[0]);

struct Fixture {
  fs::path root;       // sources/, template/ (pristine workspace), ws/
  std::string key;     // admin API key
  std::unique_ptr<cdp::ApiServerImpl> server;
  uint64_t inputs = 0;

  ~Fixture() {
    server.reset();
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  void MakeTemplate() {
    const char* tmp = getenv("CDP_FUZZ_TMPDIR");
    root = fs::path(tmp ? tmp : "/tmp") / ("cdp_api_fuzz_" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    auto ws = Must(cdp::testing::MakeContosoWorkspace(
                       root, {.customers = 40, .seed = 7, .workspace_name = "template", .save_segments = true, .threads = 1}),
                   "Contoso workspace");
    cdp::ApiKeyStore keys(ws->catalog());
    key = Must(keys.Create("fuzz-admin", cdp::Role::kAdmin, "fuzz"), "apikey").key;
  }

  void StartServer() {
    server.reset();
    fs::path ws_dir = root / "ws";
    fs::remove_all(ws_dir);
    fs::copy(root / "template", ws_dir, fs::copy_options::recursive);
    cdp::ApiServerOptions options;
    options.http.port = 0;
    options.http.threads = 1;
    options.run_schedules = false;
    options.log_requests = false;
    options.refresh_threads = 1;
    options.run_date = cdp::kDefaultDemoToday;
    options.before_refresh_stage = [](cdp::RefreshStage) {
      return cdp::CancelledError("fuzz: refreshes are not run");
    };
    auto ws = Must(cdp::Workspace::Open(ws_dir.string()), "Workspace::Open");
    server = std::make_unique<cdp::ApiServerImpl>(std::move(ws), options);
    cdp::Status s = server->Init();
    if (!s.ok()) Fail("server Init: " + s.ToString());
  }
};

Fixture* fixture = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture = new Fixture;
  fixture->MakeTemplate();
  fixture->StartServer();
  atexit([] { delete fixture; });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if (++fixture->inputs % 1000 == 0) fixture->StartServer();
  const BodyRoute& route = kRoutes[data[0] % kNumRoutes];
  cdp::HttpRequest req;
  req.method = route.method;
  req.path = route.path;
  req.headers["authorization"] = "Bearer " + fixture->key;
  req.headers["content-type"] = "application/json";
  req.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  req.remote_addr = "127.0.0.1";
  cdp::HttpResponse resp = fixture->server->Handle(req);
  fixture->server->WaitForRefreshes();
  if (resp.status >= 500 && resp.status != 503) {
    Fail(std::string(route.method) + " " + route.path + " answered " + std::to_string(resp.status) + ": " + resp.body);
  }
  return 0;
}
