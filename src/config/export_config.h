// Activation definitions of a project (`connections:`, `exports:`,
// `consent:` and `triggers:` in the project YAML): named destinations with
// their secrets given only by reference, what each export sends where and
// when, the consent entity, and the events sent when customers enter or
// leave a segment or a measure crosses a threshold. Value types;
// thread-compatible. Reference: docs/project-yaml.md "Connections and exports".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace cdp {

// Where a connection's secret comes from: an environment variable of the
// process that runs the export, or the workspace's secret store (`cdp secret
// set NAME`). Exactly one of the two is set. The value itself never appears
// in the project, the catalog's definitions, the API or export-config.
struct SecretRef {
  std::string env;     // environment variable name
  std::string secret;  // name in the secret store
  bool operator==(const SecretRef&) const = default;
};

struct ConnectionConfig {
  std::string name;
  std::string kind;  // a registered destination kind: files, postgres, webhook, sftp, clickhouse, ...
  std::map<std::string, std::string> settings;  // host, port, path, url, ... (checked by the kind)
  std::map<std::string, SecretRef> secrets;     // password, hmac_secret, private_key, ...
  bool operator==(const ConnectionConfig&) const = default;
};

// One exported field: `field` of the exported entity (for a segment: a
// Customer field or a measure of Customer_Measure), sent as `as` (empty =
// the same name).
struct ExportFieldConfig {
  std::string field;
  std::string as;
  const std::string& output_name() const { return as.empty() ? field : as; }
  bool operator==(const ExportFieldConfig&) const = default;
};

enum class ExportMode { kFull, kDelta };
std::string_view ExportModeName(ExportMode mode);

// The most rows in one batch.
inline constexpr int64_t kMaxExportBatchSize = 1000000;

struct ExportConfig {
  std::string name;
  std::string connection;
  // What: a segment's members (their Customer rows) or a whole entity.
  // Exactly one is set.
  std::string segment;
  std::string entity;
  // Empty: every field of the entity (a segment: every Customer field).
  std::vector<ExportFieldConfig> fields;
  std::string key;  // the field identifying a row (before renames); "" = CustomerId
  ExportMode mode = ExportMode::kDelta;
  // "refresh" (after each refresh that changed what it sends), "manual", or
  // a 5-field cron text.
  std::string when = "refresh";
  std::string purpose;  // consent purpose the export serves; "" = no consent check
  std::string target;   // table, file stem, event type; "" = the export's name
  int64_t batch_size = 1000;
  std::map<std::string, std::string> options;  // the destination kind's options
  bool operator==(const ExportConfig&) const = default;

  // key, or "CustomerId" when unset.
  std::string KeyField() const { return key.empty() ? "CustomerId" : key; }
  std::string Target() const { return target.empty() ? name : target; }
};

// The consent entity: one row per consent decision. The latest row (by
// date_field) per customer and purpose wins; a customer has consent for a
// purpose when that row's status is one of `granted_values`.
struct ConsentConfig {
  std::string entity;          // a source (or any entity with a path to Customer)
  std::string customer_field;  // a CustomerId field of the entity; "" = through the entity's relationships
  std::string purpose_field;
  std::string status_field;
  std::string date_field;      // "" = the last row in entity order wins
  std::string source_field;    // informational (where the consent was given); may be ""
  std::vector<std::string> granted_values = {"granted"};  // compared case-insensitively
  bool operator==(const ConsentConfig&) const = default;
  bool empty() const { return entity.empty(); }
};

// Events computed from membership changes at each refresh: a segment's
// entered/exited members, or customers whose measure crossed a threshold.
struct TriggerConfig {
  std::string name;
  std::string connection;
  std::string segment;                  // on: {segment: NAME, events: [entered, exited]}
  std::vector<std::string> events;      // subset of entered, exited (segment) / crossed_above, crossed_below (measure)
  std::string measure;                  // on: {measure: NAME, above: X}
  std::optional<double> above;
  std::vector<ExportFieldConfig> fields;  // Customer fields or measures sent with each event
  std::string purpose;                  // consent purpose; "" = none
  std::string target;                   // event type; "" = the trigger's name
  int64_t batch_size = 1000;
  std::map<std::string, std::string> options;
  bool operator==(const TriggerConfig&) const = default;
  std::string Target() const { return target.empty() ? name : target; }
};


// Parse the sections (YAML nodes of the project file); errors are
// InvalidArgument with "file:line: path: message", naming the connection,
// export or trigger. A secret given as a literal value is an error naming
// the connection and the key. Cross references to sources, segments and
// fields are checked later (ValidateActivation, workspace/export_runner.h);
// references between these sections (an export's connection) here.
Status ParseConnections(const YAML::Node& node, const std::string& origin, std::vector<ConnectionConfig>* out);
Status ParseExports(const YAML::Node& node, const std::string& origin, std::vector<ExportConfig>* out);
Status ParseConsent(const YAML::Node& node, const std::string& origin, ConsentConfig* out);
Status ParseTriggers(const YAML::Node& node, const std::string& origin, std::vector<TriggerConfig>* out);
// Checks that exports and triggers name declared connections (InvalidArgument
// naming the export or trigger and listing the connections).
Status CheckConnectionReferences(const std::vector<ConnectionConfig>& connections,
                                 const std::vector<ExportConfig>& exports,
                                 const std::vector<TriggerConfig>& triggers, const std::string& origin);

// JSON forms (catalog, API, YAML emit); FromJson(ToJson(x)) == x. Secrets
// appear only as references.
std::string ConnectionsToJson(const std::vector<ConnectionConfig>& v);
std::string ExportsToJson(const std::vector<ExportConfig>& v);
std::string ConsentToJson(const ConsentConfig& c);
std::string TriggersToJson(const std::vector<TriggerConfig>& v);
std::string ExportConfigToJson(const ExportConfig& e);
StatusOr<std::vector<ConnectionConfig>> ConnectionsFromJson(const std::string& json);
StatusOr<std::vector<ExportConfig>> ExportsFromJson(const std::string& json);
StatusOr<ConsentConfig> ConsentFromJson(const std::string& json);
StatusOr<std::vector<TriggerConfig>> TriggersFromJson(const std::string& json);
// One export from its JSON form (the API's body), validated as in YAML.
StatusOr<ExportConfig> ExportConfigFromJson(const std::string& json);

}  // namespace cdp
