// PostgreSQL export destination (kind "postgres"): each attempt of an export
// run opens one transaction, creates or checks the target table, COPYs the
// run's batches into a temporary staging table and, at Commit, merges them
// into the target (upsert by key; delete removed keys in delta mode, keys not
// in the run in full mode) and commits. A full run into an empty table (new
// or emptied) COPYs straight into it, in the same transaction. A failure, an Abort or a killed
// process leaves the table as it was before the attempt; repeating a run
// gives exactly its result. Registration is thread-safe (the registry is); a
// session is used by one thread at a time.
//
// Connection (`connections:` entry of kind postgres):
//   settings host (required), port (default 5432), database (required),
//            user (default: libpq's), schema (default public),
//            sslmode (disable|allow|prefer|require|verify-ca|verify-full,
//            default prefer), connect_timeout (seconds, default 30),
//            lock_timeout (seconds to wait for the table's lock, default 300)
//   secrets  password (optional)
// Export options: table (default: the run's target), create (true|false,
// default true: create a missing table and add missing columns; false: a
// missing table or column is an error).
//
// Table: columns named after the export's fields (exact, case-sensitive,
// quoted), typed string text, int64 bigint, double double precision, bool
// boolean, date date, timestamp timestamptz, primary key on the key field.
// An existing table must have a non-partial unique index (or primary key) on
// the key column alone, and each exported column a compatible type (text or
// varchar for strings, bigint or numeric for int64, double precision or
// numeric for doubles, timestamptz or timestamp for timestamps); otherwise
// Begin fails with FailedPrecondition naming the table and the column. Other
// columns of the table are left alone.
#pragma once

#include "common/status.h"
#include "export/destination.h"

namespace cdp {

// Registers the kind "postgres". AlreadyExists if it is registered already.
Status RegisterPostgresDestination(DestinationRegistry& registry);

}  // namespace cdp
