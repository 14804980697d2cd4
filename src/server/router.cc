#include "server/router.h"

#include <map>

namespace cdp {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

}  // namespace

std::vector<std::string> Route::path_names() const {
  std::vector<std::string> out;
  for (const auto& s : SplitPath(pattern)) {
    if (IsParam(s)) out.push_back(s.substr(1, s.size() - 2));
  }
  return out;
}

void Router::Add(Route route) {
  split_.push_back(SplitPath(route.pattern));
  routes_.push_back(std::move(route));
}

Router::MatchResult Router::Match(const std::string& method, const std::string& path, const Route** route,
                                  std::vector<std::string>* params, std::string* allowed) const {
  std::vector<std::string> segs = SplitPath(path);
  bool path_found = false;
  allowed->clear();
  // Literal segments win over {params} (e.g. /customers/search vs /customers/{id}):
  // pick the matching route with the most literal segments.
  int best = -1, best_literals = -1;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pat = split_[i];
    if (pat.size() != segs.size()) continue;
    int literals = 0;
    bool ok = true;
    for (size_t k = 0; k < pat.size() && ok; ++k) {
      if (IsParam(pat[k])) continue;
      if (pat[k] != segs[k]) ok = false;
      ++literals;
    }
    if (!ok) continue;
    if (routes_[i].method != method && !(method == "HEAD" && routes_[i].method == "GET")) {
      // Only a wrong method if no route with more literals matches this path.
      path_found = true;
      if (allowed->find(routes_[i].method) == std::string::npos) {
        *allowed += (allowed->empty() ? "" : ", ") + routes_[i].method;
      }
      continue;
    }
    if (literals > best_literals) {
      best = static_cast<int>(i);
      best_literals = literals;
    }
  }
  if (best < 0) return path_found ? MatchResult::kWrongMethod : MatchResult::kNoPath;
  *route = &routes_[static_cast<size_t>(best)];
  params->clear();
  const auto& pat = split_[static_cast<size_t>(best)];
  for (size_t k = 0; k < pat.size(); ++k) {
    if (IsParam(pat[k])) params->push_back(segs[k]);
  }
  return MatchResult::kMatched;
}

nlohmann::ordered_json BuildOpenApi(const std::vector<Route>& routes, const std::string& version) {
  using J = nlohmann::ordered_json;
  J doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", "CDP REST API"},
                 {"version", version},
                 {"description",
                  "Customer Data Platform API. Every route but /api/v1/health needs an API key "
                  "(Authorization: Bearer <key>). Roles: viewer (read), contributor (definitions and runs), "
                  "admin (everything, API keys). Errors are {\"error\":{\"code\",\"message\"}}. Paged lists take "
                  "limit and cursor and return {items, next_cursor}."}};
  doc["servers"] = J::array({{{"url", "/"}}});
  J paths = J::object();
  J schemas = J::object();  // request bodies' named schemas, filled while the paths are emitted
  for (const Route& r : routes) {
    J op;
    op["operationId"] = r.method + " " + r.pattern;
    op["tags"] = J::array({r.tag});
    op["summary"] = r.summary;
    if (r.permission) {
      op["security"] = J::array({{{"bearerAuth", J::array()}}});
      op["x-required-role"] = RoleName(MinimumRole(*r.permission));
    } else {
      op["security"] = J::array();
    }
    J params = J::array();
    for (const auto& name : r.path_names()) {
      params.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
    for (const auto& q : r.query) {
      J schema = q.repeated ? J{{"type", "array"}, {"items", {{"type", q.type}}}} : J{{"type", q.type}};
      J p = {{"name", q.name}, {"in", "query"}, {"required", q.required}, {"schema", schema}};
      if (q.repeated) {
        p["style"] = "form";
        p["explode"] = true;
      }
      if (!q.description.empty()) p["description"] = q.description;
      params.push_back(p);
    }
    if (!params.empty()) op["parameters"] = params;
    if (r.body) {
      op["requestBody"] = {{"required", !r.body_optional},
                           {"content", {{"application/json", {{"schema", r.body->AsRef(&schemas)}}}}}};
    }
    J responses = J::object();
    J ok_content = r.response_type == "application/json"
                       ? J{{"application/json", {{"schema", {{"type", "object"}}}}}}
                       : J{{r.response_type, {{"schema", {{"type", "string"}}}}}};
    responses[std::to_string(r.success_status)] = {{"description", "success"}, {"content", ok_content}};
    auto err = [](const char* d) {
      return J{{"description", d},
               {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    };
    responses["400"] = err("invalid request (bad parameter, malformed or unknown body field)");
    if (r.permission) {
      responses["401"] = err("missing, malformed, wrong or revoked API key");
      responses["403"] = err("the key's role does not allow this");
    }
    if (!r.path_names().empty()) responses["404"] = err("no such resource");
    responses["500"] = err("internal error");
    op["responses"] = responses;
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    paths[r.pattern][method] = op;
  }
  doc["paths"] = paths;
  schemas["Error"] = {{"type", "object"},
                      {"required", J::array({"error"})},
                      {"properties",
                       {{"error",
                         {{"type", "object"},
                          {"required", J::array({"code", "message"})},
                          {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}};
  schemas["Page"] = {{"type", "object"},
                     {"properties",
                      {{"items", {{"type", "array"}, {"items", {{"type", "object"}, {"additionalProperties", true}}}}},
                       {"next_cursor", {{"type", "string"}, {"nullable", true}}},
                       {"total", {{"type", "integer"}}}}}};
  doc["components"] = {{"schemas", schemas},
                       {"securitySchemes", {{"bearerAuth", {{"type", "http"}, {"scheme", "bearer"}}}}}};
  return doc;
}

}  // namespace cdp
