// `cdp measures`: compute the measures and print them.
#include <algorithm>
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "common/entity_names.h"
#include "table/table_json.h"
#include "workspace/measure_runner.h"

namespace cdp {
namespace {

Status CmdMeasures(const Globals& g, const std::string& name, const std::string& as_of, int threads, const std::string& kind) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  MeasureRunOptions options;
  options.threads = threads;
  CDP_ASSIGN_OR_RETURN(options.run_date, ParseAsOf(as_of));
  auto r = RunMeasures(*ws, options, kind);
  if (!r.ok()) return r.status();
  const Table& attrs = r->results.attributes;
  for (const auto& w : r->warnings) std::cerr << "warning: " << w << "\n";
  if (!name.empty()) {
    const Table* t = nullptr;
    Table attr_view;
    int c = attrs.schema().FieldIndex(name);
    if (c >= 0) {
      // CustomerId and the value, from the written entity.
      auto snap = ws->data().Current();
      if (!snap.ok()) return snap.status();
      auto reader = ws->data().OpenEntity(*snap, std::string(kCustomerMeasureEntity));
      if (!reader.ok()) return reader.status();
      std::vector<int> cols = {0, c + 1};
      auto all = (*reader)->ReadAll(&cols);
      if (!all.ok()) return all.status();
      attr_view = std::move(*all);
      t = &attr_view;
    } else if (r->results.customer.count(name)) {
      t = &r->results.customer.at(name);
    } else if (r->results.business.count(name)) {
      t = &r->results.business.at(name);
    } else {
      return NotFoundError("no measure named '" + name + "'");
    }
    if (g.json) {
      Json rows = Json::array();
      for (size_t i = 0; i < t->num_rows(); ++i) {
        rows.push_back(Json(RowToJson(*t, i)));
      }
      PrintJson({{"measure", name}, {"run_date", FormatDate(r->run_date)}, {"rows", rows}});
    } else {
      PrintTableRows(*t, 50);
    }
    return Status::Ok();
  }
  // Summary of every measure.
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (size_t c = 0; c < attrs.num_columns(); ++c) {
    const Column& col = attrs.column(c);
    int64_t filled = static_cast<int64_t>(col.size() - col.null_count());
    double sum = 0, mn = 0, mx = 0;
    bool numeric = col.type() == DataType::kDouble || col.type() == DataType::kInt64;
    bool any = false;
    for (size_t i = 0; numeric && i < col.size(); ++i) {
      if (col.IsNull(i)) continue;
      double v = col.type() == DataType::kDouble ? col.DoubleAt(i) : static_cast<double>(col.Int64At(i));
      sum += v;
      mn = any ? std::min(mn, v) : v;
      mx = any ? std::max(mx, v) : v;
      any = true;
    }
    Json o = {{"measure", attrs.schema().field(c).name}, {"kind", "attribute"}, {"customers_with_value", filled}};
    if (numeric && any) {
      o["min"] = mn;
      o["average"] = sum / static_cast<double>(filled);
      o["max"] = mx;
    }
    arr.push_back(o);
    rows.push_back({attrs.schema().field(c).name, "attribute", std::to_string(filled),
                    numeric && any ? Fixed(mn, 2) : "", numeric && any ? Fixed(sum / static_cast<double>(filled), 2) : "",
                    numeric && any ? Fixed(mx, 2) : ""});
  }
  for (const auto& [n, t] : r->results.customer) {
    arr.push_back({{"measure", n}, {"kind", "customer"}, {"rows", t.num_rows()}});
    rows.push_back({n, "customer", std::to_string(t.num_rows()) + " rows", "", "", ""});
  }
  for (const auto& [n, t] : r->results.business) {
    arr.push_back({{"measure", n}, {"kind", "business"}, {"rows", t.num_rows()}});
    std::string v = t.num_rows() == 1 && t.num_columns() == 1 ? t.column(0).ValueToString(0) : std::to_string(t.num_rows()) + " rows";
    rows.push_back({n, "business", v, "", "", ""});
  }
  if (g.json) {
    PrintJson({{"run_id", r->run_id}, {"run_date", FormatDate(r->run_date)}, {"customers", r->customers},
               {"rows_scanned", r->rows_scanned}, {"seconds_evaluate", r->seconds_evaluate}, {"measures", arr}});
    return Status::Ok();
  }
  std::cout << "Measures run " << r->run_id << " as of " << FormatDate(r->run_date) << ": " << r->customers
            << " customers, " << r->rows_scanned << " rows scanned, evaluated in " << Fixed(r->seconds_evaluate, 3) << " s\n";
  PrintTable({"measure", "kind", "customers with a value", "min", "average", "max"}, rows);
  return Status::Ok();
}

}  // namespace

void AddMeasureCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    std::string name, as_of;
    int threads = 0;
  };
  auto o = std::make_shared<Options>();
  auto* measures = app.add_subcommand("measures", "compute the measures (all; print one with NAME)");
  cli.AddWorkspaceOptions(measures);
  measures->add_option("NAME", o->name, "a measure to print");
  measures->add_option("--as-of", o->as_of, "run date for time windows, YYYY-MM-DD (default: today)");
  CommandLine::AddThreadsOption(measures, &o->threads);
  cli.OnRun(measures, [&cli, o] { return CmdMeasures(cli.g, o->name, o->as_of, o->threads, "measures"); });
}

}  // namespace cdp
