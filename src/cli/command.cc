#include "cli/command.h"

#include "common/text.h"

#include <cstdio>
#include <iostream>

#include "cli/output.h"
#include "common/value_text.h"

namespace cdp {

void CommandLine::AddWorkspaceOptions(CLI::App* sub) {
  sub->add_option("-w,--workspace", g.workspace, "workspace directory")->capture_default_str();
  sub->add_flag("--json", g.json, "print JSON for scripts");
}

void CommandLine::AddThreadsOption(CLI::App* sub, int* threads) {
  sub->add_option("--threads", *threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
}

void CommandLine::OnRun(CLI::App* sub, std::function<Status()> command) {
  sub->callback([this, command = std::move(command)] { exit_code = ReportStatus(command()); });
}

namespace {
// The CLI-only failure code of CommandFailed: the message is printed as it is.
constexpr std::string_view kReportedPrefix = "\x01";
}  // namespace

Status CommandFailed(std::string message) { return InternalError(std::string(kReportedPrefix) + message); }

int ReportStatus(const Status& status) {
  if (status.ok()) return 0;
  const std::string& m = status.message();
  if (status.code() == StatusCode::kInternal && m.rfind(kReportedPrefix, 0) == 0) {
    std::cerr << "error: " << m.substr(kReportedPrefix.size()) << "\n";
  } else {
    std::cerr << "error: " << status.ToString() << "\n";
  }
  return kExitFailure;
}

StatusOr<std::unique_ptr<Workspace>> OpenWorkspace(const Globals& g) { return Workspace::Open(g.workspace); }

void PrintJson(const Json& j) { std::cout << j.dump(2) << "\n"; }

void PrintWarnings(const std::string& prefix, const std::vector<std::string>& warnings) {
  constexpr size_t kShown = 10;
  for (size_t i = 0; i < warnings.size() && i < kShown; ++i) std::cerr << "warning: " << prefix << warnings[i] << "\n";
  if (warnings.size() > kShown) {
    std::cerr << "warning: " << prefix << "... and " << (warnings.size() - kShown) << " more (see --json)\n";
  }
}

std::string Fixed(double v, int digits) { return FormatFixed(v, digits); }

void PrintTableRows(const Table& t, size_t limit) {
  std::vector<std::string> header;
  for (const auto& f : t.schema().fields()) header.push_back(f.name);
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < t.num_rows() && r < limit; ++r) {
    std::vector<std::string> row;
    for (size_t c = 0; c < t.num_columns(); ++c) row.push_back(t.column(c).IsNull(r) ? "" : t.column(c).ValueToString(r));
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
  if (t.num_rows() > limit) std::cout << "... " << (t.num_rows() - limit) << " more row(s)\n";
}

namespace {
StatusOr<int32_t> ParseDayArg(const std::string& text) {
  int32_t days = 0;
  if (!ParseIsoDate(text, &days)) return InvalidArgumentError("'" + text + "' is not a valid date (YYYY-MM-DD)");
  return days;
}
}  // namespace

StatusOr<int64_t> ParseTimeArg(const std::string& text, bool end_of_day) {
  CDP_ASSIGN_OR_RETURN(int32_t days, ParseDayArg(text));
  return static_cast<int64_t>(days) * kMicrosPerDay + (end_of_day ? kMicrosPerDay - 1 : 0);
}

StatusOr<int32_t> ParseAsOf(const std::string& text) {
  if (text.empty()) return 0;
  auto days = ParseDayArg(text);
  if (!days.ok()) return days.status().WithContext("--as-of");
  return *days;
}

}  // namespace cdp
