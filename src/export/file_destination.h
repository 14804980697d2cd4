// The built-in "files" destination: an export written as a CSV or JSON Lines
// file (optionally gzip), or as an entity of a CDM folder (data files plus a
// Common Data Model `model.json` manifest), in a directory of this machine.
// Every write goes through an Env, so crash tests inject faults at each one.
// Registration is thread-safe; a session is used by one thread at a time.
//
// Connection settings (kind: files):
//   path      the directory (created when missing). Absolute, or relative to
//             `base_dir`, which the export runner sets to the directory of
//             the project file (as source paths are); a relative path without
//             base_dir is an error. No secrets.
// Export options:
//   format    csv (default) | jsonl | cdm
//   gzip      false (default) | true: csv and jsonl files gzip-compressed
//             (RFC 1952, ".gz" appended); not with cdm.
//
// Files (csv, jsonl), for a target T and export run id R:
//   full run:  T.csv / T.jsonl (+ .gz), the whole set, replaced atomically:
//              rows go to a hidden temporary file in the same directory,
//              which Commit fsyncs and renames over T.csv, then fsyncs the
//              directory. A failed or killed attempt leaves the previous T.csv
//              untouched; its temporary file is removed by Abort, or by the
//              next attempt of any run of the same file.
//   delta run: T.delta-R.csv / T.delta-R.jsonl (+ .gz), one file per run with
//              a leading `_change` column (added, changed, removed; a removed
//              row carries only its key), written the same way, so a repeated
//              attempt of run R replaces its own file. Readers apply the delta
//              files in run id order on top of the last full file.
// CSV: a header line, RFC 4180 quoting (export/export_value.h), '\n' line
// ends, UTF-8; null is an empty field, an empty string "". JSON Lines: one
// object per line, fields in schema order, numbers and booleans as JSON
// values, null as null.
//
// CDM folder (format: cdm): `path` is the CDM folder; it holds model.json and
// one subfolder per entity (one entity per export target T):
//   T/T-R.csv  the whole set of run R, CSV without a header (the manifest says
//              columnHeaders: false), quoting as above;
//   model.json {name: "cdp", version: "1.0", entities: [{$type: LocalEntity,
//              name: T, attributes: [{name, dataType}], partitions: [{name:
//              T-R, location: file URI, refreshTime, fileFormatSettings}]}]}
//              with dataType string | int64 | double | boolean | dateTime (dates
//              and timestamps; an annotation cdp:type says which).
// Commit writes and fsyncs the data file under its final name, then replaces
// model.json atomically (under a lock file, .model.json.lock, as several
// exports share it), then deletes T's data files that neither the new nor the
// previous manifest names: at every instant model.json names complete files.
// A delta run to a CDM folder applies its changes (by key) to the rows of the
// partition the manifest names and writes the result as the new partition, so
// the entity always holds the whole set; the manifest's attributes must match
// the run's fields (else FailedPrecondition: run a full export).
#pragma once

#include "common/status.h"
#include "export/destination.h"
#include "storage/env.h"

namespace cdp {

// The "files" destination kind, writing through `env` (which must outlive it).
DestinationKind FileDestinationKind(Env* env = Env::Default());

// Registers FileDestinationKind(env) as kind "files". AlreadyExists when the
// registry has it.
Status RegisterFileDestinations(DestinationRegistry& registry, Env* env = Env::Default());

}  // namespace cdp
