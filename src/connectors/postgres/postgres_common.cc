#include "connectors/postgres/postgres_common.h"

#include <cstdlib>

namespace cdp {

std::string PgOneLine(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

void PgReplaceAll(std::string* text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = text->find(from); pos != std::string::npos; pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

StatusCode PgCodeForSqlState(std::string_view state) {
  if (state.size() != 5) return StatusCode::kInternal;
  const std::string_view cls = state.substr(0, 2);
  if (state == "42P01" || state == "3F000" || state == "42703" || state == "42883" || state == "42704" ||
      state == "3D000") {
    return StatusCode::kNotFound;  // undefined table/schema/column/function/object, unknown database
  }
  if (state == "42501" || cls == "28") return StatusCode::kFailedPrecondition;  // privilege, authorization
  if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03" || state == "40001" ||
      state == "40P01") {
    return StatusCode::kUnavailable;  // connection, shutdown, retryable conflicts
  }
  if (state == "55P03") return StatusCode::kUnavailable;  // lock_not_available: try again later
  if (state == "57014") return StatusCode::kCancelled;
  if (cls == "53" || cls == "54") return StatusCode::kResourceExhausted;
  if (cls == "42" || cls == "0A" || cls == "22" || cls == "23" || cls == "25" || cls == "21" || cls == "34" ||
      cls == "2B" || cls == "2F" || cls == "38" || cls == "39" || cls == "P0") {
    return StatusCode::kInvalidArgument;  // the statement or its data is at fault (23: a constraint)
  }
  return StatusCode::kInternal;
}

std::string PgDescribeServer(PGconn* conn) {
  std::string host, hostaddr, port, dbname, user;
  if (PQconninfoOption* options = PQconninfo(conn)) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      const std::string_view key = o->keyword;
      if (key == "host") host = o->val;
      if (key == "hostaddr") hostaddr = o->val;
      if (key == "port") port = o->val;
      if (key == "dbname") dbname = o->val;
      if (key == "user") user = o->val;
    }
    PQconninfoFree(options);
  }
  auto fallback = [](std::string* value, const char* from_conn) {
    if (value->empty() && from_conn != nullptr) *value = from_conn;
  };
  fallback(&host, PQhost(conn));
  fallback(&port, PQport(conn));
  fallback(&dbname, PQdb(conn));
  fallback(&user, PQuser(conn));
  if (host.empty()) host = hostaddr;
  std::string out = "host=" + (host.empty() ? std::string("(default socket)") : host);
  if (!hostaddr.empty() && hostaddr != host) out += " hostaddr=" + hostaddr;
  out += " port=" + (port.empty() ? std::string("(default)") : port);
  out += " dbname=" + dbname + " user=" + user;
  return out;
}

Status PgErrorContext::Make(StatusCode code, std::string_view what) const {
  std::string message = "PostgreSQL " + subject + " (" + server + "): " + std::string(what);
  for (const std::string& secret : secrets) PgReplaceAll(&message, secret, "***");
  return Status(code, std::move(message));
}

Status PgErrorContext::FromServer(PGconn* conn, const PGresult* result, std::string_view action,
                                  long query_offset) const {
  const bool lost = PQstatus(conn) == CONNECTION_BAD;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string what(action);
  what += ": ";
  if (primary != nullptr) {
    what += primary;
    if (const char* pos = PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION);
        pos != nullptr && query_offset >= 0) {
      const long at = std::atol(pos) - query_offset;
      if (at > 0) what += " at character " + std::to_string(at) + " of the query";
    }
    if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
      what += "; detail: " + PgOneLine(detail);
    }
    if (const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT)) {
      what += "; hint: " + PgOneLine(hint);
    }
    if (const char* context = PQresultErrorField(result, PG_DIAG_CONTEXT)) {
      what += "; context: " + PgOneLine(context);
    }
    if (state != nullptr) what += std::string(" [SQLSTATE ") + state + "]";
  } else {
    what += PgOneLine(PQerrorMessage(conn));
  }
  if (lost) {
    if (primary != nullptr) what += "; " + PgOneLine(PQerrorMessage(conn));
    return Make(StatusCode::kUnavailable, "connection lost while " + what);
  }
  return Make(state != nullptr ? PgCodeForSqlState(state) : StatusCode::kInternal, what);
}

}  // namespace cdp
