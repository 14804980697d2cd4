// `cdp activities` and `cdp timeline`: activities linked to customers.
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "table/table_json.h"
#include "workspace/activity_runner.h"

namespace cdp {
namespace {

Status CmdActivities(const Globals& g, const std::string& kind) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  auto r = RunActivities(*ws, kind);
  if (!r.ok()) return r.status();
  if (g.json) {
    Json j = Json::parse(r->StatsJson());
    j["run_id"] = r->run_id;
    j["generation"] = r->generation;
    PrintJson(j);
    return Status::Ok();
  }
  std::cout << "Activities run " << r->run_id << ": " << r->rows << " rows in UnifiedActivity (" << Fixed(r->seconds, 2)
            << " s)\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : r->activities) {
    rows.push_back({a.activity, a.relation.path, std::to_string(a.relation.rows), std::to_string(a.rows_out),
                    std::to_string(a.relation.orphans), std::to_string(a.relation.no_key), std::to_string(a.missing_timestamp)});
  }
  PrintTable({"activity", "path to Customer", "rows", "linked", "orphans", "no key", "no time"}, rows);
  for (const auto& a : r->activities) {
    for (const auto& e : a.relation.orphan_examples) std::cerr << "warning: " << a.activity << ": orphan " << e << "\n";
  }
  return Status::Ok();
}

Status CmdTimeline(const Globals& g, int64_t id, const std::string& type, const std::string& from, const std::string& to,
                int64_t limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  TimelineQuery q;
  q.customer_id = id;
  q.type = type;
  q.limit = limit;
  if (!from.empty()) {
    auto t = ParseTimeArg(from, false);
    if (!t.ok()) return t.status().WithContext("--from");
    q.from_us = *t;
  }
  if (!to.empty()) {
    auto t = ParseTimeArg(to, true);
    if (!t.ok()) return t.status().WithContext("--to");
    q.to_us = *t;
  }
  auto t = ReadTimeline(*ws, q);
  if (!t.ok()) return t.status();
  if (g.json) {
    Json arr = Json::array();
    for (size_t r = 0; r < t->num_rows(); ++r) {
      Json o;
      for (size_t c = 1; c < t->num_columns(); ++c) {
        const std::string& name = t->schema().field(c).name;
        if (name == "Fields" && !t->column(c).IsNull(r)) {
          o[name] = Json::parse(std::string(t->column(c).StringAt(r)), nullptr, false);
        } else {
          o[name] = ValueToJson(t->column(c), r);
        }
      }
      arr.push_back(o);
    }
    PrintJson({{"customer_id", id}, {"activities", arr}});
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < t->num_rows(); ++r) {
    rows.push_back({t->column(3).ValueToString(r), t->column(1).ValueToString(r), t->column(2).ValueToString(r),
                    t->column(4).IsNull(r) ? "" : t->column(4).ValueToString(r),
                    t->column(5).IsNull(r) ? "" : t->column(5).ValueToString(r), t->column(6).ValueToString(r) + ":" + t->column(7).ValueToString(r)});
  }
  std::cout << "Customer " << id << ": " << t->num_rows() << " activit" << (t->num_rows() == 1 ? "y" : "ies") << "\n";
  PrintTable({"time", "type", "activity", "subject", "amount", "source record"}, rows);
  return Status::Ok();
}

}  // namespace

void AddActivityCommands(CommandLine& cli, CLI::App& app) {
  auto* activities = app.add_subcommand("activities", "link activity rows to customers and build UnifiedActivity");
  cli.AddWorkspaceOptions(activities);
  cli.OnRun(activities, [&cli] { return CmdActivities(cli.g, "activities"); });

  struct Options {
    int64_t customer_id = 0;
    std::string type, from, to;
    int64_t limit = -1;
  };
  auto o = std::make_shared<Options>();
  auto* timeline = app.add_subcommand("timeline", "a customer's activities in time order");
  cli.AddWorkspaceOptions(timeline);
  timeline->add_option("CUSTOMERID", o->customer_id, "a CustomerId")->required();
  timeline->add_option("--type", o->type, "activity type (e.g. SalesOrder) or activity name");
  timeline->add_option("--from", o->from, "first day, YYYY-MM-DD");
  timeline->add_option("--to", o->to, "last day, YYYY-MM-DD");
  timeline->add_option("--limit", o->limit, "only the newest N");
  cli.OnRun(timeline, [&cli, o] { return CmdTimeline(cli.g, o->customer_id, o->type, o->from, o->to, o->limit); });
}

}  // namespace cdp
