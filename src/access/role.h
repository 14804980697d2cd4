// Roles of API keys and what each may do. Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace cdp {

enum class Role { kViewer, kContributor, kAdmin };

enum class Permission {
  kRead,              // read entities, profiles, segments, measures, runs
  kWriteDefinitions,  // create/update/delete segments, measures, overrides
  kRunRefresh,        // start ingest/unify/refresh runs
  kManageKeys,        // create, list and revoke API keys; read the audit log
};

// "viewer", "contributor" or "admin" (exact, lowercase); InvalidArgument otherwise.
StatusOr<Role> ParseRole(std::string_view text);
std::string_view RoleName(Role role);
std::string_view PermissionName(Permission permission);

// viewer: read; contributor: read, definitions, runs; admin: everything.
bool Permits(Role role, Permission permission);
// The least role that has `permission` (viewer < contributor < admin).
Role MinimumRole(Permission permission);

}  // namespace cdp
