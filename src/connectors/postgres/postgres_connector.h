// The PostgreSQL source connector for the workspace's source registry: a
// source of kind `postgres` reads a table or query through libpq
// (postgres_reader.h). The cdp binary and tests register it explicitly.
#pragma once

#include "common/status.h"
#include "config/project_config.h"
#include "workspace/source_registry.h"

namespace cdp {

// Registers the `postgres` kind. AlreadyExists if it is registered already.
Status RegisterPostgresConnector(SourceRegistry& registry);

// The connection string of a postgres source: `conninfo_env`'s value when
// set (FailedPrecondition naming the variable and the source when it is not
// in the environment), else `conninfo`.
StatusOr<std::string> ResolveConninfo(const SourceConfig& source);

}  // namespace cdp
