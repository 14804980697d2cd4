#include "connectors/postgres/postgres_connector.h"

#include <cstdlib>

#include "connectors/postgres/postgres_reader.h"

namespace cdp {

StatusOr<std::string> ResolveConninfo(const SourceConfig& source) {
  if (source.postgres.conninfo_env.empty()) return source.postgres.conninfo;
  const char* v = std::getenv(source.postgres.conninfo_env.c_str());
  if (!v) {
    return FailedPreconditionError("environment variable '" + source.postgres.conninfo_env +
                                   "' (conninfo_env of source '" + source.name + "') is not set");
  }
  return std::string(v);
}

Status RegisterPostgresConnector(SourceRegistry& registry) {
  SourceConnector c;
  c.kind = std::string(SourceKindName(SourceKind::kPostgres));
  c.open = [](const ProjectConfig&, const SourceConfig& source, const SourceOpenOptions&) -> StatusOr<OpenedSource> {
    PostgresSourceOptions pg;
    CDP_ASSIGN_OR_RETURN(pg.conninfo, ResolveConninfo(source));
    pg.table = source.postgres.table;
    pg.query = source.postgres.query;
    OpenedSource out;
    out.location = pg.table.empty() ? "query of source '" + source.name + "'" : "table " + pg.table;
    CDP_ASSIGN_OR_RETURN(out.reader, OpenPostgresSource(pg));
    return out;
  };
  return registry.Register(std::move(c));
}

}  // namespace cdp
