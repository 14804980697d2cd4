// `cdp apikey create|list|revoke`: API keys for the REST API (access/api_key_store.h).
#include <iostream>

#include "access/api_key_store.h"
#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"

namespace cdp {
namespace {

void AuditFromCli(Workspace& ws, const std::string& action, const std::string& target, const Json& detail) {
  auto id = ws.catalog().AppendAudit("cli", action, target, detail.dump());
  if (!id.ok()) std::cerr << "warning: not recorded in the audit log: " << id.status().ToString() << "\n";
}

Status CmdApiKeyCreate(const Globals& g, const std::string& role_text, const std::string& name_arg) {
  auto role = ParseRole(role_text);
  if (!role.ok()) return role.status();
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  std::string name = name_arg.empty() ? std::string(RoleName(*role)) : name_arg;
  ApiKeyStore store(ws->catalog());
  auto key = store.Create(name, *role, "cli");
  if (!key.ok()) return key.status();
  // The audit detail names the key by its public prefix, never the secret.
  AuditFromCli(*ws, "apikey.create", "apikey:" + std::to_string(key->id),
               {{"name", name}, {"role", RoleName(*role)}, {"prefix", key->key.substr(4, ApiKeyStore::kPrefixLength)}});
  if (g.json) {
    PrintJson({{"id", key->id}, {"name", name}, {"role", RoleName(*role)}, {"key", key->key}});
    return Status::Ok();
  }
  std::cerr << "Created API key " << key->id << " '" << name << "' with role " << RoleName(*role) << ".\n"
            << "Store it now: it is shown only this once and cannot be recovered (only its hash is kept).\n";
  std::cout << key->key << "\n";
  return Status::Ok();
}

Status CmdApiKeyList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  ApiKeyStore store(ws->catalog());
  auto keys = store.List();
  if (!keys.ok()) return keys.status();
  // Whole seconds in the table; the JSON keeps the exact time.
  auto when = [](int64_t micros, const char* none) -> std::string {
    return micros ? FormatTimestamp(micros - micros % kMicrosPerSecond) : none;
  };
  if (g.json) {
    Json arr = Json::array();
    for (const auto& k : *keys) {
      arr.push_back({{"id", k.id}, {"name", k.name}, {"role", RoleName(k.role)}, {"prefix", k.prefix},
                     {"created_at", FormatTimestamp(k.created_at)}, {"created_by", k.created_by},
                     {"last_used_at", k.last_used_at ? Json(FormatTimestamp(k.last_used_at)) : Json(nullptr)},
                     {"revoked_at", k.revoked_at ? Json(FormatTimestamp(k.revoked_at)) : Json(nullptr)},
                     {"status", k.revoked_at ? "revoked" : "active"}});
    }
    PrintJson(arr);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : *keys) {
    rows.push_back({std::to_string(k.id), k.name, std::string(RoleName(k.role)), "cdp_" + k.prefix + "_...",
                    k.revoked_at ? "revoked " + when(k.revoked_at, "") : "active", when(k.created_at, ""), k.created_by,
                    when(k.last_used_at, "never")});
  }
  PrintTable({"id", "name", "role", "key", "status", "created", "by", "last used"}, rows);
  return Status::Ok();
}

Status CmdApiKeyRevoke(const Globals& g, int64_t id) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  ApiKeyStore store(ws->catalog());
  Status s = store.Revoke(id);
  if (!s.ok()) return s;
  AuditFromCli(*ws, "apikey.revoke", "apikey:" + std::to_string(id), Json::object());
  if (g.json) {
    PrintJson({{"id", id}, {"status", "revoked"}});
  } else {
    std::cout << "Revoked API key " << id << " (running servers stop accepting it within "
              << ApiKeyStore::kRecheckMicros / 1'000'000 << " s)\n";
  }
  return Status::Ok();
}

}  // namespace

void AddApiKeyCommands(CommandLine& cli, CLI::App& app) {
  auto* apikey = app.add_subcommand("apikey", "API keys for the REST API: create, list, revoke");
  apikey->require_subcommand(1);
  struct Options {
    std::string role, name;
    int64_t id = 0;
  };
  auto o = std::make_shared<Options>();
  auto* create = apikey->add_subcommand("create", "create a key (printed once: store it)");
  cli.AddWorkspaceOptions(create);
  create->add_option("--role", o->role, "admin, contributor or viewer")
      ->required()
      ->check(CLI::IsMember({"admin", "contributor", "viewer"}));
  create->add_option("--name", o->name, "a label for the key (default: the role)");
  cli.OnRun(create, [&cli, o] { return CmdApiKeyCreate(cli.g, o->role, o->name); });
  auto* list = apikey->add_subcommand("list", "list keys (never their secrets)");
  cli.AddWorkspaceOptions(list);
  cli.OnRun(list, [&cli] { return CmdApiKeyList(cli.g); });
  auto* revoke = apikey->add_subcommand("revoke", "revoke a key");
  cli.AddWorkspaceOptions(revoke);
  revoke->add_option("ID", o->id, "key id (see `cdp apikey list`)")->required();
  cli.OnRun(revoke, [&cli, o] { return CmdApiKeyRevoke(cli.g, o->id); });
}

}  // namespace cdp
