// Router: the table of REST routes, each with the role it needs and the
// facts the OpenAPI document is generated from (so the document and the
// server cannot disagree). Path patterns use {name} for one path segment.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/role.h"
#include "server/body_schema.h"
#include "server/http_server.h"

namespace cdp {

struct RouteParam {
  std::string name;
  std::string type = "string";  // OpenAPI type: string, integer, number, boolean
  bool required = false;
  std::string description;
  bool repeated = false;        // may be given several times (an array)
};

struct RouteContext;
using RouteHandler = std::function<HttpResponse(RouteContext&)>;

struct Route {
  std::string method;                    // GET, POST, PUT, DELETE
  std::string pattern;                   // e.g. "/api/v1/segments/{name}"
  std::string tag;                       // OpenAPI tag (group)
  std::string summary;
  std::optional<Permission> permission;  // nullopt: no API key needed
  std::vector<RouteParam> query;
  // The JSON body the route takes (nullptr: none, any body is ignored). The
  // dispatcher validates it before the handler runs (400 naming the field)
  // and the OpenAPI document emits it. A named schema outlives the router.
  const BodySchema* body = nullptr;
  bool body_optional = false;            // an empty body is taken as {}
  int success_status = 200;
  std::string response_type = "application/json";
  RouteHandler handler;

  std::vector<std::string> path_names() const;  // the {name}s in order
};

class Router {
 public:
  void Add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  enum class MatchResult { kMatched, kNoPath, kWrongMethod };
  // Finds the route for method + path and fills `params` with the decoded
  // {name} segments. kWrongMethod when the path exists with other methods
  // (their names in `allowed`).
  MatchResult Match(const std::string& method, const std::string& path, const Route** route,
                    std::vector<std::string>* params, std::string* allowed) const;

 private:
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> split_;  // pattern segments per route
};

// The OpenAPI 3.0 document for `routes` (with the shared error and paging
// schemas and the bearer security scheme).
nlohmann::ordered_json BuildOpenApi(const std::vector<Route>& routes, const std::string& version);

}  // namespace cdp
