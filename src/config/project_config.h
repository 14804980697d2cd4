// ProjectConfig: the typed form of a project YAML file (sources today; later
// unification, relationships, measures, segments). Parsing validates and
// reports errors with file, line and key. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/enrichment_config.h"
#include "config/export_config.h"
#include "config/model_config.h"
#include "config/prediction_config.h"
#include "config/search_config.h"
#include "config/unify_config.h"
#include "table/types.h"

namespace cdp {

enum class SourceKind { kCsv, kJsonLines, kPostgres };
std::string_view SourceKindName(SourceKind kind);

// A per-field declaration: a type override, a date/time format, a semantic type.
struct SourceFieldConfig {
  std::string name;                   // name in the entity
  std::string source_field;           // name in the input; empty = same as name
  std::optional<DataType> type;       // empty = inferred
  std::string format;                 // date/timestamp pattern, e.g. "%d.%m.%Y"; empty = auto
  std::string semantic;               // semantic type, e.g. "Email"; empty = none
  std::string standardize;            // a standardizer (common/standardize.h), e.g. "state_code"; empty = none
  bool operator==(const SourceFieldConfig&) const = default;
};

struct RowFilterConfig {
  std::string field;
  std::string op;                     // equals, not_equals, less, ..., in, not_in, is_empty, ...
  std::vector<std::string> values;    // one value, a list for in/not_in, none for is_empty
  bool operator==(const RowFilterConfig&) const = default;
};

// The limit of bad (quarantined) rows before an ingest fails: a count or a
// percentage of rows read. Default: 5% of the rows read (`max_bad_rows`
// unset); a count replaces the percentage; `unlimited` sets both to -1.
struct BadRowLimit {
  int64_t count = -1;                 // -1 = no count limit
  double percent = kDefaultPercent;   // -1 = no percent limit
  static constexpr double kDefaultPercent = 5;
  bool operator==(const BadRowLimit&) const = default;
  bool unlimited() const { return count < 0 && percent < 0; }
  // "100", "5%", or "unlimited".
  std::string ToString() const;
};

// The most lines `csv: {skip_rows}` may skip.
inline constexpr int64_t kMaxCsvSkipRows = 10000;

struct CsvConfig {
  std::string delimiter = ",";
  bool skip_space_after_delimiter = false;
  bool header = true;
  int64_t skip_rows = 0;              // physical lines skipped before the header (or the data), 0..kMaxCsvSkipRows
  bool operator==(const CsvConfig&) const = default;
};

// Options of a JSON Lines source (`jsonl:`).
struct JsonLinesConfig {
  int64_t max_depth = 64;             // objects and arrays nested deeper: the record is quarantined
  bool operator==(const JsonLinesConfig&) const = default;
};

struct PostgresConfig {
  std::string conninfo;               // libpq connection string
  std::string conninfo_env;           // or: name of an environment variable holding it
  std::string table;
  std::string query;
  bool operator==(const PostgresConfig&) const = default;
};

struct SourceConfig {
  std::string name;                   // the entity name, e.g. "eCommerce Contacts"
  SourceKind kind = SourceKind::kCsv;
  std::string path;                   // csv / jsonl: file, relative to the project file
  CsvConfig csv;
  JsonLinesConfig jsonl;
  PostgresConfig postgres;
  std::string primary_key;            // optional here; required by unification
  bool decimal_comma = false;
  bool infer_types = true;            // false: undeclared fields are strings
  std::vector<SourceFieldConfig> fields;
  std::vector<RowFilterConfig> filters;
  BadRowLimit max_bad_rows;
  std::string schedule;               // cron text (5 fields) for ingesting this source alone; "" = none
  bool operator==(const SourceConfig&) const = default;
};

struct ProjectConfig {
  std::string name;
  std::string base_dir;               // directory that relative paths resolve against
  std::vector<SourceConfig> sources;
  UnifyConfig unification;            // empty() when the project has no unification section
  std::vector<RelationshipConfig> relationships;
  std::vector<ActivityConfig> activities;
  std::vector<MeasureConfig> measures;
  // The file's segment definitions as YAML text, one per segment (parsed
  // and validated by the segment module when applied: config does not
  // depend on it). Only the file form: the catalog keeps segments in its
  // segments table, and export-config fills this from there.
  std::vector<std::string> segments;
  SearchConfig search;                // customer search fields and filters
  std::string refresh_schedule;       // cron text (5 fields) for the whole refresh; "" = none
  // Activation (config/export_config.h): destinations, exports, the consent
  // entity, triggers.
  std::vector<ConnectionConfig> connections;
  std::vector<ExportConfig> exports;
  ConsentConfig consent;
  std::vector<TriggerConfig> triggers;
  // Predictions (config/prediction_config.h): models trained and scored by the
  // predictions stage.
  std::vector<PredictionConfig> predictions;
  // Enrichments (config/enrichment_config.h): computed by the enrichments stage.
  std::vector<EnrichmentConfig> enrichments;
  bool operator==(const ProjectConfig&) const = default;

  const SourceConfig* FindSource(std::string_view name) const;
  const ConnectionConfig* FindConnection(std::string_view name) const;
  const ExportConfig* FindExport(std::string_view name) const;
  const TriggerConfig* FindTrigger(std::string_view name) const;
  const PredictionConfig* FindPrediction(std::string_view name) const;
  // The key field of an entity: its unification key for a profile source,
  // else the source's primary_key; "" if it has none.
  std::string KeyOf(std::string_view entity) const;
  // Absolute path of a source file.
  std::string ResolvePath(const std::string& path) const;
};

// Limits of a project file: 4 MiB, 64 levels of nesting, 250,000 values.
inline constexpr size_t kMaxProjectFileBytes = size_t{4} << 20;

// Parses YAML text. `origin` names the file in error messages
// ("project.yaml:12: sources[1].max_bad_rows: ..."). Relative paths resolve
// against `base_dir`. Returns InvalidArgument for unknown keys, wrong types,
// duplicate names, or invalid values, and for what LoadYaml
// (config/yaml_loader.h) refuses: text over the limits, anchors and aliases,
// a key given twice, text that is not UTF-8 or holds a NUL byte.
StatusOr<ProjectConfig> ParseProjectYaml(const std::string& yaml_text, const std::string& origin,
                                         const std::string& base_dir);
// Reads and parses a project file; a file over kMaxProjectFileBytes is
// InvalidArgument naming it (and is not read).
StatusOr<ProjectConfig> LoadProjectFile(const std::string& path);
// Writes the YAML form; ParseProjectYaml(EmitProjectYaml(c)) == c.
std::string EmitProjectYaml(const ProjectConfig& config);

// JSON form used by the catalog and the API.
std::string SourceConfigToJson(const SourceConfig& source);
StatusOr<SourceConfig> SourceConfigFromJson(const std::string& json);

}  // namespace cdp
