#include "server/api_server.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "catalog/catalog.h"
#include "common/datetime.h"
#include "common/json_scan.h"
#include "segment/segment_definition.h"
#include "server/internal/api_impl.h"
#include "workspace/export_runner.h"
#include "workspace/search_stage.h"

namespace cdp {
namespace {

std::string ContentTypeOf(const std::string& path) {
  auto ends = [&](const char* s) {
    size_t n = strlen(s);
    return path.size() >= n && path.compare(path.size() - n, n, s) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json";
  if (ends(".woff2")) return "font/woff2";
  return "application/octet-stream";
}

std::string PromLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

// ---- helpers shared by the route files ----

void ThrowError(int status, std::string_view code, std::string_view message) {
  throw RequestError{HttpResponse::Error(status, code, message)};
}

void ThrowStatus(const Status& status) { throw RequestError{HttpResponse::FromStatus(status)}; }

HttpResponse JsonResponse(const OJson& j, int status) {
  return HttpResponse::Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string RouteContext::actor() const {
  if (principal.id == 0) return "anonymous";
  return "key:" + std::to_string(principal.id) + " (" + principal.name + ")";
}

namespace {

// Refuses a JSON object key seen twice in the same object (the parser would
// keep one of them silently).
struct DuplicateKey {
  std::string key;
};
// Refuses nesting deeper than the limit while parsing.
struct TooDeep {};

}  // namespace

OJson ParseBody(const HttpRequest& req, const BodySchema* schema) {
  if (req.body.empty()) ThrowError(400, "invalid_body", "the request needs a JSON object body");
  // The dispatcher already refused bodies nested deeper than --max-json-depth
  // (ApiServerImpl::Handle); this is the backstop for any other caller, so
  // that no later recursive walk of the document (dump, copy) can exhaust the
  // stack.
  if (JsonNestsDeeperThan(req.body, kMaxJsonDepthCeiling)) {
    ThrowError(400, "too_deep", "the body is nested deeper than " + std::to_string(kMaxJsonDepthCeiling) + " levels");
  }
  OJson body;
  // One set of keys per open object, to refuse duplicates.
  std::vector<std::vector<std::string>> keys;
  auto callback = [&](int depth, OJson::parse_event_t event, OJson& parsed) {
    if (depth > kMaxJsonDepthCeiling) throw TooDeep{};
    switch (event) {
      case OJson::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case OJson::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case OJson::parse_event_t::key: {
        if (keys.empty()) break;
        const std::string& k = parsed.get_ref<const std::string&>();
        auto& seen = keys.back();
        if (std::find(seen.begin(), seen.end(), k) != seen.end()) throw DuplicateKey{k};
        seen.push_back(k);
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    body = OJson::parse(req.body, callback);
  } catch (const DuplicateKey& d) {
    ThrowError(400, "duplicate_key", "the key '" + d.key + "' appears more than once in the same object");
  } catch (const TooDeep&) {
    ThrowError(400, "too_deep", "the body is nested deeper than " + std::to_string(kMaxJsonDepthCeiling) + " levels");
  } catch (const nlohmann::json::out_of_range& e) {
    // e.g. a number like 1e999999 that no double can hold.
    ThrowError(400, "invalid_json", std::string("the body has a value out of range: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    ThrowError(400, "invalid_json", std::string("the body is not valid JSON: ") + e.what());
  }
  if (!body.is_object()) ThrowError(400, "invalid_body", "the body must be a JSON object");
  if (schema) {
    if (auto e = schema->Validate(body)) ThrowError(400, e->code, e->message);
  }
  return body;
}

std::string BodyString(const OJson& body, const std::string& field, bool required, const std::string& fallback) {
  if (!body.contains(field) || body[field].is_null()) {
    if (required) ThrowError(400, "missing_field", "field '" + field + "' is required");
    return fallback;
  }
  if (!body[field].is_string()) ThrowError(400, "wrong_type", "field '" + field + "' must be a string");
  return body[field].get<std::string>();
}

bool BodyBool(const OJson& body, const std::string& field, bool fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  if (!body[field].is_boolean()) ThrowError(400, "wrong_type", "field '" + field + "' must be true or false");
  return body[field].get<bool>();
}

std::vector<std::string> BodyStringList(const OJson& body, const std::string& field) {
  std::vector<std::string> out;
  if (!body.contains(field) || body[field].is_null()) return out;
  if (!body[field].is_array()) ThrowError(400, "wrong_type", "field '" + field + "' must be an array of strings");
  for (const auto& v : body[field]) {
    if (!v.is_string()) ThrowError(400, "wrong_type", "field '" + field + "' must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

int64_t QueryInt(const HttpRequest& req, const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  if (!req.HasQuery(name)) return fallback;
  std::string v = req.Query(name);
  char* end = nullptr;
  errno = 0;
  long long n = strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0) ThrowError(400, "invalid_parameter", "parameter '" + name + "' must be an integer, got '" + v + "'");
  if (n < min || n > max) {
    ThrowError(400, "invalid_parameter",
               "parameter '" + name + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return n;
}

PageRequest ParsePage(const HttpRequest& req, size_t default_limit, size_t max_limit) {
  PageRequest p;
  p.limit = static_cast<size_t>(QueryInt(req, "limit", static_cast<int64_t>(default_limit), 1, static_cast<int64_t>(max_limit)));
  if (req.HasQuery("cursor") && !req.Query("cursor").empty()) {
    std::string c = req.Query("cursor");
    // Cursor: "o" + offset in base 10 (opaque to clients).
    char* end = nullptr;
    long long n = c.size() > 1 && c[0] == 'o' ? strtoll(c.c_str() + 1, &end, 10) : -1;
    if (n < 0 || end == nullptr || *end != '\0') ThrowError(400, "invalid_cursor", "cursor '" + c + "' is not one this server returned");
    p.offset = static_cast<size_t>(n);
  }
  return p;
}

OJson PageJson(OJson items, const PageRequest& page, size_t total) {
  OJson j;
  size_t next = page.offset + items.size();
  j["items"] = std::move(items);
  j["next_cursor"] = next < total ? OJson("o" + std::to_string(next)) : OJson(nullptr);
  j["total"] = total;
  return j;
}

std::string IsoTime(int64_t micros) {
  if (micros == 0) return "";
  return FormatTimestamp(micros);
}

OJson RunJson(const RunRecord& run) {
  OJson j = {{"id", run.id}, {"kind", run.kind}, {"status", run.status}, {"error", run.error},
             {"started_at", IsoTime(run.started_at)}, {"finished_at", IsoTime(run.finished_at)}};
  // Runs store their statistics in different shapes (a refresh: an object
  // with "trigger" and "stages"; `cdp segment run`: an array; older or
  // damaged rows: anything): read what is there, never fail the listing.
  OJson stats = OJson::parse(run.stats_json.empty() ? "{}" : run.stats_json, nullptr, false);
  std::string trigger;
  if (stats.is_object()) {
    auto it = stats.find("trigger");
    if (it != stats.end() && it->is_string()) trigger = it->get<std::string>();
  }
  j["trigger"] = trigger;
  OJson stages = OJson::array();
  std::vector<StageResult> results;
  try {
    results = StagesOfRun(run.stats_json);
  } catch (const std::exception&) {
    results.clear();  // a stage entry with fields of the wrong type
  }
  for (const StageResult& s : results) {
    stages.push_back({{"stage", RefreshStageName(s.stage)}, {"status", s.status}, {"duration_micros", s.duration_micros},
                      {"rows_in", s.rows_in}, {"rows_out", s.rows_out}, {"message", s.message}});
  }
  j["stages"] = stages;
  return j;
}

// ---- ApiServerImpl ----

ApiServerImpl::ApiServerImpl(std::unique_ptr<Workspace> ws, ApiServerOptions options)
    : ws_(std::move(ws)), options_(std::move(options)) {}

ApiServerImpl::~ApiServerImpl() { Stop(); }

void ApiServerImpl::AddRoutes() {
  AddSystemRoutes();
  AddDataRoutes();
  AddCustomerRoutes();
  AddModelRoutes();
  AddUnifyRoutes();
  AddExportRoutes();
  AddPredictionRoutes();
  AddInsightRoutes();
  AddAdminRoutes();
}

nlohmann::ordered_json ApiServer::OpenApiDocument() {
  // Registering routes touches neither the workspace nor the network.
  ApiServerImpl impl(nullptr, ApiServerOptions());
  impl.AddRoutes();
  return BuildOpenApi(impl.router().routes(), kApiVersion);
}

Status ApiServerImpl::Init() {
  started_at_ = NowMicros();
  keys_ = std::make_unique<ApiKeyStore>(ws_->catalog());
  AddRoutes();
  CDP_RETURN_IF_ERROR(Reload());
  refresh_thread_ = std::thread([this] { RefreshLoop(); });
  if (options_.run_schedules) ResetSchedules();
  HttpServerOptions http = options_.http;
  if (options_.log_requests) {
    http.request_log = [](const HttpRequest& r, int status, int64_t micros) {
      fprintf(stderr, "%s %s %s %d %.3fms\n", FormatTimestamp(NowMicros()).c_str(), r.method.c_str(), r.path.c_str(),
              status, static_cast<double>(micros) / 1000.0);
    };
  }
  if (options_.max_json_depth < 1 || options_.max_json_depth > kMaxJsonDepthCeiling) {
    return InvalidArgumentError("--max-json-depth must be between 1 and " + std::to_string(kMaxJsonDepthCeiling));
  }
  http.screen = [this](const HttpRequest& req) { return Screen(req); };
  CDP_ASSIGN_OR_RETURN(http_, HttpServer::Start(http, [this](HttpRequest& req) { return Handle(req); }));
  return Status::Ok();
}

void ApiServerImpl::Stop() {
  if (http_) http_->Stop();
  {
    std::lock_guard<std::mutex> l(schedule_mu_);
    if (scheduler_) scheduler_->Stop();
  }
  {
    std::lock_guard<std::mutex> l(run_mu_);
    stopping_ = true;
    cancel_ = true;
    queue_.clear();
  }
  run_cv_.notify_all();
  if (refresh_thread_.joinable()) refresh_thread_.join();
}

std::shared_ptr<const ServingGeneration> ApiServerImpl::generation() const {
  std::lock_guard<std::mutex> l(gen_mu_);
  return gen_;
}

std::shared_ptr<const SearchIndex> ApiServerImpl::search() const {
  std::lock_guard<std::mutex> l(gen_mu_);
  return search_;
}

namespace {

// "12.3 s" since t.
std::string SecondsSince(std::chrono::steady_clock::time_point t) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
  return buf;
}

}  // namespace

void ApiServerImpl::Log(const std::string& message) const {
  if (options_.log_requests) fprintf(stderr, "%s\n", message.c_str());
}

Status ApiServerImpl::Reload() {
  CDP_ASSIGN_OR_RETURN(Snapshot snap, ws_->data().Current());
  auto t = std::chrono::steady_clock::now();
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, ws_->catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(std::shared_ptr<const ServingGeneration> g, ServingGeneration::Load(*ws_, snap, project));
  Log("Loaded data generation " + std::to_string(snap.generation) + " in " + SecondsSince(t));
  std::shared_ptr<const SearchIndex> index;
  if (g->customers()) {
    // The refresh's index stage keeps the index current; this brings it up
    // to date when the data or the search configuration changed without a
    // refresh (`cdp apply`), or the index was lost.
    t = std::chrono::steady_clock::now();
    CDP_ASSIGN_OR_RETURN(SearchIndexUpdate u, UpdateSearchIndex(*ws_, snap, project));
    if (u.updated) Log("Search index updated in " + SecondsSince(t));
    auto opened = SearchIndex::Open(SearchIndexDir(*ws_));
    if (!opened.ok()) {
      CDP_RETURN_IF_ERROR(UpdateSearchIndex(*ws_, snap, project, /*force=*/true).status());
      opened = SearchIndex::Open(SearchIndexDir(*ws_));
    }
    CDP_RETURN_IF_ERROR(opened.status());
    index = std::shared_ptr<const SearchIndex>(std::move(*opened));
  }
  std::lock_guard<std::mutex> l(gen_mu_);
  gen_ = std::move(g);
  search_ = std::move(index);
  return Status::Ok();
}

namespace {

// True when `path` is `root` or below it (both canonical).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& root) {
  const std::string& p = path.native();
  const std::string& r = root.native();
  return p.size() > r.size() && p.compare(0, r.size(), r) == 0 && (r.back() == '/' || p[r.size()] == '/');
}

}  // namespace

HttpResponse ApiServerImpl::ServeStatic(const HttpRequest& req) {
  if (options_.ui_dir.empty()) {
    return HttpResponse::Error(404, "not_found", "no web UI is served (start `cdp serve` with --ui-dir)");
  }
  namespace fs = std::filesystem;
  auto invalid = [] { return HttpResponse::Error(400, "invalid_path", "not a path of the web UI's files"); };
  auto not_found = [&] { return HttpResponse::Error(404, "not_found", "the web UI has no file " + req.path); };
  // Only plain relative names below the UI directory: no encoded separators
  // or NUL in what was sent, and after decoding no NUL, control characters,
  // backslashes, '%' (double encoding), empty segments ("//", which would
  // make the name absolute), "." or "..".
  std::string raw = req.raw_target.substr(0, req.raw_target.find('?'));
  for (char& c : raw) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  for (const char* enc : {"%2f", "%5c", "%00", "%25"}) {
    if (raw.find(enc) != std::string::npos) return invalid();
  }
  const std::string& path = req.path;
  if (path.empty() || path[0] != '/') return invalid();
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == '%' || c == 0x7f) return invalid();
  }
  std::string rel = path == "/" ? std::string("index.html") : path.substr(1);
  for (size_t i = 0; i <= rel.size();) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string_view seg(rel.data() + i, j - i);
    if (seg.empty() || seg == "." || seg == "..") return invalid();
    i = j + 1;
  }
  // The file's real path (symlinks resolved) must be inside the UI
  // directory's real path.
  std::error_code ec;
  fs::path root = fs::canonical(options_.ui_dir, ec);
  if (ec) return HttpResponse::Error(404, "not_found", "the web UI is not built (run `make build`)");
  fs::path file = fs::canonical(root / rel, ec);
  if (ec || !IsWithin(file, root) || !fs::is_regular_file(file, ec)) {
    if (path == "/") return HttpResponse::Error(404, "not_found", "the web UI is not built (run `make build`)");
    return not_found();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found();
  std::ostringstream ss;
  ss << in.rdbuf();
  HttpResponse r;
  r.content_type = ContentTypeOf(file.string());
  r.body = ss.str();
  return r;
}

void ApiServerImpl::Count(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> l(metrics_mu_);
  ++requests_[{route, status}];
  auto& lat = latency_[route];
  lat.first += seconds;
  ++lat.second;
}

namespace {

bool IsApiPath(const std::string& path) { return path.compare(0, 5, "/api/") == 0 || path == "/api"; }

}  // namespace

std::optional<HttpResponse> ApiServerImpl::Screen(const HttpRequest& req) const {
  if (!IsApiPath(req.path)) {
    if (req.method != "GET" && req.method != "HEAD") {
      HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "only GET is served here");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    return std::nullopt;
  }
  if (req.method == "OPTIONS") return std::nullopt;  // CORS preflight, answered by Handle
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  switch (router_.Match(req.method, req.path, &route, &params, &allowed)) {
    case Router::MatchResult::kNoPath:
      return HttpResponse::Error(404, "no_route", "no API route " + req.path + " (see /api/v1/openapi.json)");
    case Router::MatchResult::kWrongMethod: {
      HttpResponse r = HttpResponse::Error(405, "method_not_allowed",
                                           req.method + " is not allowed on " + req.path + "; allowed: " + allowed);
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    case Router::MatchResult::kMatched:
      break;
  }
  if (route->permission && req.Header("authorization").empty()) {
    return HttpResponse::Error(401, "unauthenticated", "this route needs an API key: send 'Authorization: Bearer <key>' (create one with `cdp apikey create`)");
  }
  return std::nullopt;
}

std::optional<std::string> ApiServerImpl::AllowedOrigin(const HttpRequest& req) const {
  std::string origin = req.Header("origin");
  if (origin.empty()) return std::nullopt;
  for (const auto& o : options_.cors_origins) {
    if (o == origin) return origin;
  }
  return std::nullopt;
}

void ApiServerImpl::AddCorsHeaders(const HttpRequest& req, HttpResponse* resp) const {
  if (options_.cors_origins.empty()) return;  // CORS off: no headers at all
  if (auto origin = AllowedOrigin(req)) resp->headers.emplace_back("Access-Control-Allow-Origin", *origin);
  resp->headers.emplace_back("Vary", "Origin");
}

HttpResponse ApiServerImpl::Handle(HttpRequest& req) {
  auto start = std::chrono::steady_clock::now();
  if (!IsApiPath(req.path)) {
    if (req.method != "GET" && req.method != "HEAD") return HttpResponse::Error(405, "method_not_allowed", "only GET is served here");
    return ServeStatic(req);
  }
  if (req.method == "OPTIONS" && AllowedOrigin(req)) {
    // A CORS preflight from an allowed origin: the methods of the path.
    const Route* route = nullptr;
    std::vector<std::string> params;
    std::string allowed;
    if (router_.Match(req.method, req.path, &route, &params, &allowed) == Router::MatchResult::kNoPath) {
      return HttpResponse::Error(404, "no_route", "no API route " + req.path + " (see /api/v1/openapi.json)");
    }
    HttpResponse r;
    r.status = 204;
    r.headers.emplace_back("Access-Control-Allow-Methods", allowed);
    r.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
    AddCorsHeaders(req, &r);
    return r;
  }
  const Route* route = nullptr;
  std::string allowed;
  std::string pattern = "unmatched";
  HttpResponse resp;
  try {
    switch (router_.Match(req.method, req.path, &route, &req.path_params, &allowed)) {
      case Router::MatchResult::kNoPath:
        throw RequestError{HttpResponse::Error(404, "no_route", "no API route " + req.path + " (see /api/v1/openapi.json)")};
      case Router::MatchResult::kWrongMethod: {
        HttpResponse r = HttpResponse::Error(405, "method_not_allowed", req.method + " is not allowed on " + req.path + "; allowed: " + allowed);
        r.headers.emplace_back("Allow", allowed);
        throw RequestError{r};
      }
      case Router::MatchResult::kMatched:
        break;
    }
    pattern = route->pattern;
    ApiKeyPrincipal principal;
    if (route->permission) {
      std::string auth = req.Header("authorization");
      if (auth.empty()) ThrowError(401, "unauthenticated", "this route needs an API key: send 'Authorization: Bearer <key>' (create one with `cdp apikey create`)");
      if (auth.size() < 7 || strncasecmp(auth.c_str(), "Bearer ", 7) != 0) {
        ThrowError(401, "unauthenticated", "the Authorization header must be 'Bearer <key>'");
      }
      auto p = keys_->Authenticate(std::string_view(auth).substr(7));
      if (!p.ok()) ThrowError(401, "unauthenticated", p.status().message());
      principal = *p;
      if (!Permits(principal.role, *route->permission)) {
        // The message names the permission and the role that has it; the
        // route's summary is for the OpenAPI document, not for this sentence.
        ThrowError(403, "permission_denied",
                   "the key '" + principal.name + "' has role " + std::string(RoleName(principal.role)) +
                       ", which lacks the permission " + std::string(PermissionName(*route->permission)) +
                       " (role " + std::string(RoleName(MinimumRole(*route->permission))) + " or above)");
      }
    }
    for (const auto& q : route->query) {
      if (q.required && !req.HasQuery(q.name)) ThrowError(400, "missing_parameter", "query parameter '" + q.name + "' is required");
    }
    // Every body is JSON: refuse deep nesting before any route parses or
    // walks it (a cheap iterative scan).
    if (!req.body.empty() && JsonNestsDeeperThan(req.body, static_cast<size_t>(options_.max_json_depth))) {
      ThrowError(400, "too_deep",
                 "the body is nested deeper than the limit of " + std::to_string(options_.max_json_depth) +
                     " levels (--max-json-depth)");
    }
    RouteContext ctx{req, principal, generation(), *this};
    if (route->body) ctx.body = req.body.empty() && route->body_optional ? OJson::object() : ParseBody(req, route->body);
    resp = route->handler(ctx);
  } catch (const RequestError& e) {
    resp = e.response;
  } catch (const std::exception& e) {
    resp = HttpResponse::Error(500, "internal", std::string("unexpected error: ") + e.what());
  }
  AddCorsHeaders(req, &resp);
  Count(pattern, resp.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return resp;
}

void ApiServerImpl::Audit(const RouteContext& c, const std::string& action, const std::string& target, const OJson& detail) {
  auto s = ws_->catalog().AppendAudit(c.actor(), action, target, detail.dump());
  if (!s.ok()) fprintf(stderr, "audit log write failed: %s\n", s.status().ToString().c_str());
}

// ---- refreshes ----

StatusOr<int64_t> ApiServerImpl::EnqueueRefresh(RefreshOptions options) {
  std::unique_lock<std::mutex> l(run_mu_);
  if (stopping_) return UnavailableError("the server is shutting down");
  std::shared_ptr<RunTicket> ticket;
  for (const auto& q : queue_) {
    if (q.options.sources == options.sources && q.options.segments == options.segments &&
        q.options.force == options.force) {
      ticket = q.ticket;  // the same refresh is already waiting: coalesce
    }
  }
  if (!ticket) {
    ticket = std::make_shared<RunTicket>();
    queue_.push_back({std::move(options), ticket});
    run_cv_.notify_all();
  }
  // Wait until the refresh has started and has a run id (or a short while:
  // 0 = still queued behind another refresh).
  run_cv_.wait_for(l, std::chrono::seconds(10), [&] { return ticket->run_id != 0 || ticket->finished || stopping_; });
  if (ticket->run_id == 0 && ticket->finished) return ticket->error;
  return ticket->run_id;
}

Status ApiServerImpl::CancelRun(int64_t run_id) {
  std::lock_guard<std::mutex> l(run_mu_);
  if (active_run_ != run_id) return FailedPreconditionError("run " + std::to_string(run_id) + " is not running");
  cancel_ = true;
  return Status::Ok();
}

bool ApiServerImpl::RefreshActive() const {
  std::lock_guard<std::mutex> l(run_mu_);
  return active_run_ != 0 || !queue_.empty();
}

void ApiServerImpl::WaitForRefreshes() {
  std::unique_lock<std::mutex> l(run_mu_);
  run_cv_.wait(l, [&] { return stopping_ || (active_run_ == 0 && queue_.empty()); });
}

void ApiServerImpl::RefreshLoop() {
  for (;;) {
    QueuedRefresh next;
    {
      std::unique_lock<std::mutex> l(run_mu_);
      run_cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
      cancel_ = false;
      active_run_ = -1;  // starting
    }
    RefreshOptions opts = std::move(next.options);
    std::shared_ptr<RunTicket> ticket = next.ticket;
    opts.cancel = &cancel_;
    opts.threads = options_.refresh_threads;
    if (opts.run_date == 0) opts.run_date = options_.run_date;
    if (options_.before_refresh_stage) opts.before_stage = options_.before_refresh_stage;
    opts.on_started = [this, ticket](int64_t run_id) {
      std::lock_guard<std::mutex> l(run_mu_);
      active_run_ = run_id;
      ticket->run_id = run_id;
      run_cv_.notify_all();
    };
    auto result = RunRefresh(*ws_, opts);
    std::string status = result.ok() ? result->status : "error";
    if (!result.ok()) fprintf(stderr, "refresh failed to run: %s\n", result.status().ToString().c_str());
    // Serve what the refresh committed (a failed stage keeps the previous
    // outputs, so the current snapshot is always a complete one).
    Status s = Reload();
    if (!s.ok()) fprintf(stderr, "reloading after the refresh failed: %s\n", s.ToString().c_str());
    if (result.ok()) ResetSchedules();
    {
      std::lock_guard<std::mutex> l(metrics_mu_);
      ++refreshes_[status];
    }
    {
      std::lock_guard<std::mutex> l(run_mu_);
      active_run_ = 0;
      ticket->finished = true;
      if (!result.ok()) ticket->error = result.status();
    }
    run_cv_.notify_all();
  }
}

void ApiServerImpl::ResetSchedules() {
  if (!options_.run_schedules) return;
  auto project = ws_->catalog().LoadProject();
  auto segments = ws_->catalog().ListSegments();
  if (!project.ok() || !segments.ok()) return;
  std::vector<ScheduledJob> jobs;
  auto add = [&](const std::string& name, const std::string& cron, RefreshOptions opts) {
    if (cron.empty()) return;
    auto parsed = CronSchedule::Parse(cron);
    if (!parsed.ok()) {
      fprintf(stderr, "schedule %s ignored: %s\n", name.c_str(), parsed.status().ToString().c_str());
      return;
    }
    opts.trigger = "schedule:" + name;
    jobs.push_back(ScheduledJob{name, *parsed, [this, opts] { (void)EnqueueRefresh(opts); }});
  };
  add("refresh", project->refresh_schedule, RefreshOptions{});
  for (const auto& src : project->sources) {
    RefreshOptions o;
    o.sources = {src.name};
    add("source:" + src.name, src.schedule, o);
  }
  for (const auto& seg : *segments) {
    auto d = ParseStoredSegmentJson(seg.definition_json);
    if (!d.ok() || d->type != SegmentType::kDynamic || seg.status != "active") continue;
    RefreshOptions o;
    o.segments = {seg.name};
    add("segment:" + seg.name, d->schedule, o);
  }
  // Exports with a cron `when`: each firing runs the export on the
  // scheduler's worker thread (a failing destination is a failed run in
  // the export's history, never an error of the scheduler).
  for (const auto& e : project->exports) {
    if (e.when.empty() || e.when == "refresh" || e.when == "manual") continue;
    auto parsed = CronSchedule::Parse(e.when);
    if (!parsed.ok()) {
      fprintf(stderr, "schedule export:%s ignored: %s\n", e.name.c_str(), parsed.status().ToString().c_str());
      continue;
    }
    const std::string name = e.name;
    jobs.push_back(ScheduledJob{"export:" + name, *parsed, [this, name] {
                                  ExportRunOptions o;
                                  o.trigger = "schedule";
                                  auto r = RunExport(*ws_, name, o);
                                  if (!r.ok()) {
                                    fprintf(stderr, "scheduled export %s: %s\n", name.c_str(), r.status().ToString().c_str());
                                  }
                                }});
  }
  std::lock_guard<std::mutex> l(schedule_mu_);
  if (!scheduler_) scheduler_ = std::make_unique<Scheduler>(options_.scheduler);
  Status s = scheduler_->Set(std::move(jobs));
  if (!s.ok()) fprintf(stderr, "schedules not set: %s\n", s.ToString().c_str());
}

std::string ApiServerImpl::MetricsText() const {
  std::ostringstream o;
  o << "# HELP cdp_http_requests_total API requests answered, by route and status.\n"
    << "# TYPE cdp_http_requests_total counter\n";
  std::lock_guard<std::mutex> l(metrics_mu_);
  for (const auto& [k, n] : requests_) {
    o << "cdp_http_requests_total{route=\"" << PromLabel(k.first) << "\",status=\"" << k.second << "\"} " << n << "\n";
  }
  o << "# HELP cdp_http_request_duration_seconds Time to answer API requests, by route.\n"
    << "# TYPE cdp_http_request_duration_seconds summary\n";
  for (const auto& [route, v] : latency_) {
    o << "cdp_http_request_duration_seconds_sum{route=\"" << PromLabel(route) << "\"} " << v.first << "\n";
    o << "cdp_http_request_duration_seconds_count{route=\"" << PromLabel(route) << "\"} " << v.second << "\n";
  }
  o << "# HELP cdp_refresh_runs_total Refreshes finished by this server, by status.\n"
    << "# TYPE cdp_refresh_runs_total counter\n";
  for (const auto& [status, n] : refreshes_) o << "cdp_refresh_runs_total{status=\"" << PromLabel(status) << "\"} " << n << "\n";
  auto g = generation();
  o << "# HELP cdp_generation The data generation being served.\n# TYPE cdp_generation gauge\n"
    << "cdp_generation " << (g ? g->generation() : 0) << "\n";
  o << "# HELP cdp_customers Unified customer profiles served.\n# TYPE cdp_customers gauge\n"
    << "cdp_customers " << (g && g->customers() ? g->customers()->num_rows() : 0) << "\n";
  if (g) {
    o << "# HELP cdp_segment_members Members of each segment in the served generation.\n"
      << "# TYPE cdp_segment_members gauge\n";
    for (const auto& [name, m] : g->segment_members()) {
      o << "cdp_segment_members{segment=\"" << PromLabel(name) << "\"} " << m.size() << "\n";
    }
  }
  {
    std::lock_guard<std::mutex> rl(run_mu_);
    o << "# HELP cdp_refresh_running 1 while a refresh runs.\n# TYPE cdp_refresh_running gauge\n"
      << "cdp_refresh_running " << (active_run_ != 0 ? 1 : 0) << "\n";
  }
  o << "# HELP cdp_uptime_seconds Seconds since the server started.\n# TYPE cdp_uptime_seconds gauge\n"
    << "cdp_uptime_seconds " << (NowMicros() - started_at_) / 1000000 << "\n";
  return o.str();
}

// ---- ApiServer ----

ApiServer::ApiServer(std::unique_ptr<ApiServerImpl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const std::string& workspace_dir, const ApiServerOptions& options) {
  CDP_ASSIGN_OR_RETURN(auto ws, Workspace::Open(workspace_dir));
  auto impl = std::make_unique<ApiServerImpl>(std::move(ws), options);
  CDP_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

int ApiServer::port() const { return impl_->http() ? impl_->http()->port() : 0; }
void ApiServer::Stop() {
  if (impl_) impl_->Stop();
}
const std::vector<Route>& ApiServer::routes() const { return impl_->router().routes(); }
void ApiServer::WaitForRefreshes() { impl_->WaitForRefreshes(); }
std::vector<std::string> ApiServer::RunDueSchedulesForTest(int64_t now) { return impl_->RunDueSchedulesForTest(now); }

std::vector<ScheduledJobState> ApiServerImpl::ScheduleStates() const {
  std::lock_guard<std::mutex> l(schedule_mu_);
  return scheduler_ ? scheduler_->Jobs() : std::vector<ScheduledJobState>{};
}

std::vector<std::string> ApiServerImpl::RunDueSchedulesForTest(int64_t now) {
  Scheduler* scheduler = nullptr;  // created once, destroyed with the server
  {
    std::lock_guard<std::mutex> l(schedule_mu_);
    scheduler = scheduler_.get();
  }
  if (scheduler == nullptr) return {};
  std::vector<std::string> fired = scheduler->RunDueForTest(now);
  scheduler->WaitIdle();  // each firing returns once its refresh has a run id
  return fired;
}

}  // namespace cdp
