// PostgreSQL source connector: streams the rows of a table or a query as raw
// text records through RecordReader, holding at most one fetch of rows in memory.
// A reader is not thread-safe (see RecordReader); separate readers are independent.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/status.h"
#include "ingest/record_reader.h"

namespace cdp {

struct PostgresSourceOptions {
  // libpq connection string ("host=db.internal port=5432 dbname=crm user=etl")
  // or URI ("postgresql://etl@db.internal:5432/crm"). The password may be given
  // here, in PGPASSWORD or in ~/.pgpass; it never appears in error messages.
  // Unset parameters take libpq's defaults and PG* environment variables.
  std::string conninfo;
  // Table to read, optionally schema-qualified: "contacts", "crm.contacts".
  // Each part is an exact, case-sensitive name and is quoted before it reaches
  // the server, so "Loyalty Scheme" names the table created as "Loyalty Scheme".
  // A part may itself be double-quoted to contain a dot: "crm.\"v1.2\"".
  std::string table;
  // Alternative to `table`: one SELECT / VALUES / TABLE statement.
  std::string query;
  // Rows fetched per round trip; bounds the reader's memory. Must be > 0.
  size_t fetch_size = 10000;
};

// Connects, starts a read-only transaction and opens a server-side cursor over
// `table` (SELECT * in the table's column order) or `query`; the first fetch
// happens here, so field_names() is valid at once. The connection is closed as
// soon as the last row has been fetched.
//
// Records: one per row, fields are the result columns in PostgreSQL's text
// format, with the session set to DateStyle ISO and TimeZone UTC (date
// "2024-02-29", timestamp "2024-02-29 13:45:00.5", timestamptz
// "2024-02-29 12:45:00.5+00"), floats in shortest exact form, booleans as
// "true"/"false" and SQL NULL as is_null = 1. line is the 1-based row number;
// location is "table <table>" or "query <first characters of the query>".
// In a SQL_ASCII database, a row holding invalid UTF-8 becomes a record error.
// bytes_read() counts value bytes received; total_bytes() is 0 (unknown).
//
// Errors (messages name the server as host, port, database and user, never the
// password, plus the table or query, and carry the server's own message):
//   InvalidArgument    not exactly one of table/query; fetch_size 0; malformed
//                      conninfo or table name; a query the server rejects
//                      (syntax, several statements, writes, bad data).
//   NotFound           the table, its schema, or an object the query names.
//   FailedPrecondition authentication failed (or a password is needed but
//                      none was given); permission denied.
//   Unavailable        the server cannot be reached or refused the connection
//                      (libpq gives no error code there, so an unknown database
//                      or role under trust auth lands here too), or the
//                      connection was lost. From Next(): rows already received
//                      are returned first; once Next() fails it keeps failing.
//   Cancelled / ResourceExhausted / Internal  as reported by the server.
StatusOr<std::unique_ptr<RecordReader>> OpenPostgresSource(const PostgresSourceOptions& options);

}  // namespace cdp
