// The `clickhouse` export destination: loads an export run's rows into a
// ClickHouse table over the HTTP interface (connectors/http's HttpClient).
// Every run builds a new table and swaps it in at Commit, so the target table
// always holds exactly the last successful run's result: a full run inserts
// into a fresh staging table `<target>__cdp_<run id>`; a delta run inserts
// the added and changed rows there and at Commit copies the current table's
// other rows (all but removed and changed keys) next to them. Commit renames
// the target to `<target>__cdp_<run id>_old` and the staging table to the
// target in one RENAME statement, then drops the old table (ClickHouse 18.16
// has no EXCHANGE TABLES). Abort drops the staging tables.
// Registration is thread-safe (the registry is); a session is used by one
// thread at a time.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "export/destination.h"

namespace cdp {

// Registers the `clickhouse` kind.
//
// Connection settings: url (e.g. http://127.0.0.1:8123) or host (+ port,
// default 8123); database (default "default", created if missing); user
// (default "default"); timeout_seconds (per statement, default 300).
// Secrets: password.
// Export options: date_type (Date, the default: dates as Date, timestamps as
// DateTime('UTC') in whole seconds; or String: both as their ISO text, for
// values outside what 18.16's Date and DateTime read back, 1970-01-02 to
// 2105-12-31, which otherwise fail the run naming the field).
// AlreadyExists if the kind is registered already.
Status RegisterClickHouseDestination(DestinationRegistry& registry);

// `name` as a ClickHouse identifier in backquotes (backslash and backquote
// escaped).
std::string QuoteClickHouseIdentifier(std::string_view name);
// `value` as a ClickHouse string literal in single quotes (backslash, quote
// and control characters escaped).
std::string QuoteClickHouseString(std::string_view value);

}  // namespace cdp
