// Helpers shared by the PostgreSQL source (postgres_reader.h) and export
// destination (postgres_destination.h): libpq handle ownership, error
// messages that name the server but never a password, and the mapping of a
// server's SQLSTATE to our status codes. Internal to connectors/postgres.
// Stateless functions; an ErrorContext is immutable once filled in.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdp {

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultClearer>;

// Replaces runs of whitespace (including libpq's "\n\t") by one space and trims.
std::string PgOneLine(std::string_view text);

// Replaces every occurrence of `from` in `text` by `to`.
void PgReplaceAll(std::string* text, std::string_view from, std::string_view to);

// Canonical code for a server error, from its SQLSTATE.
StatusCode PgCodeForSqlState(std::string_view state);

// "host=... port=... dbname=... user=..." from what libpq actually used.
std::string PgDescribeServer(PGconn* conn);

// What an error message says about where it happened. Passwords in `secrets`
// are masked out of every message, whatever produced it.
struct PgErrorContext {
  std::string subject;  // table "crm.contacts" / query "SELECT ..." / connection 'crm' table "x"
  std::string server;   // host=... port=... dbname=... user=...
  std::vector<std::string> secrets;

  // "PostgreSQL <subject> (<server>): <what>", secrets masked.
  Status Make(StatusCode code, std::string_view what) const;

  // A failed command: the server's message, detail, hint and SQLSTATE, or
  // libpq's message; Unavailable when the connection is lost. `query_offset`
  // is where the user's query starts within the statement sent (for error
  // positions), or -1 when the statement is ours.
  Status FromServer(PGconn* conn, const PGresult* result, std::string_view action,
                    long query_offset = -1) const;
};

}  // namespace cdp
