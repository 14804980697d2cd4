#include "access/role.h"

#include <string>

namespace cdp {

StatusOr<Role> ParseRole(std::string_view text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "contributor") return Role::kContributor;
  if (text == "admin") return Role::kAdmin;
  return InvalidArgumentError("unknown role '" + std::string(text) + "' (expected viewer, contributor or admin)");
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kContributor: return "contributor";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead: return "read";
    case Permission::kWriteDefinitions: return "write_definitions";
    case Permission::kRunRefresh: return "run_refresh";
    case Permission::kManageKeys: return "manage_keys";
  }
  return "unknown";
}

bool Permits(Role role, Permission permission) {
  switch (role) {
    case Role::kAdmin: return true;
    case Role::kContributor: return permission != Permission::kManageKeys;
    case Role::kViewer: return permission == Permission::kRead;
  }
  return false;
}

Role MinimumRole(Permission permission) {
  for (Role r : {Role::kViewer, Role::kContributor}) {
    if (Permits(r, permission)) return r;
  }
  return Role::kAdmin;
}

}  // namespace cdp
