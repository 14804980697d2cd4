// Prints the API's OpenAPI document (ApiServer::OpenApiDocument) without a
// workspace or a server: web/scripts/gen-api-types.mjs generates the web UI's
// request types from it, and ctest web_api_types_test checks they are current.
#include <cstdio>

#include "server/api_server.h"

int main() {
  std::string text = cdp::ApiServer::OpenApiDocument().dump(2);
  fwrite(text.data(), 1, text.size(), stdout);
  fputc('\n', stdout);
  return 0;
}
