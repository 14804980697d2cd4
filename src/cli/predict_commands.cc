// `cdp predict list|readiness|train|run|show|evaluate|scores`: the
// predictions of the project's `predictions:` section through the predictions
// service (workspace/prediction_runner.h). Training prints the grade and the
// evaluation's headline figures; `--json` prints the service's JSON.
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "common/datetime.h"
#include "common/value_text.h"
#include "workspace/prediction_runner.h"

namespace cdp {
namespace {

StatusOr<int32_t> RunDateOption(const std::string& text) {
  if (text.empty()) return 0;
  int32_t day = 0;
  if (!ParseIsoDate(text, &day)) return InvalidArgumentError("--as-of: '" + text + "' is not a date (YYYY-MM-DD)");
  return day;
}

std::string Num(const Json& v, int digits = 3) {
  if (v.is_number()) return Fixed(v.get<double>(), digits);
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The figures a person reads first, from any kind's evaluation.
void PrintHeadline(const Json& evaluation) {
  const Json& e = evaluation.contains("evaluation") ? evaluation["evaluation"] : evaluation;
  std::vector<std::vector<std::string>> rows;
  for (const char* key : {"auc", "accuracy", "churn_class_accuracy", "churn_class_accuracy_at_baseline_coverage",
                          "base_rate", "success_at_k", "baseline_success_at_k", "precision_at_k",
                          "model_high_value_found", "baseline_high_value_found", "correlation", "train_rows",
                          "eval_rows", "customers"}) {
    if (e.contains(key)) rows.push_back({key, Num(e[key])});
  }
  if (e.contains("metrics") && e["metrics"].is_object()) {
    for (const auto& [k, v] : e["metrics"].items()) rows.push_back({k, Num(v)});
  }
  if (e.contains("baseline") && e["baseline"].is_object()) {
    for (const auto& [k, v] : e["baseline"].items()) {
      if (v.is_primitive()) rows.push_back({"baseline " + k, Num(v)});
    }
  }
  if (!rows.empty()) PrintTable({"figure", "value"}, rows);
  for (const char* key : {"dropped", "dropped_features"}) {
    if (e.contains(key) && e[key].is_array()) {
      for (const auto& d : e[key]) std::cout << "left out: " << d.dump() << "\n";
    }
  }
  if (e.contains("grade_reason") && e["grade_reason"].is_string()) {
    std::cout << "grade: " << e["grade_reason"].get<std::string>() << "\n";
  }
}

void PrintReadiness(const Json& r) {
  std::cout << (r.value("ready", false) ? "Ready to train" : "Not ready") << "\n";
  for (const auto& p : r["problems"]) std::cout << "  problem: " << p.get<std::string>() << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : r.items()) {
    if (k == "ready" || k == "problems" || !v.is_primitive()) continue;
    rows.push_back({k, Num(v, 2)});
  }
  if (!rows.empty()) PrintTable({"fact", "value"}, rows);
}

Status CmdList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto list, ListPredictions(*ws));
  if (g.json) {
    Json a = Json::array();
    for (const auto& p : list) a.push_back(ToJson(p));
    PrintJson(a);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : list) {
    rows.push_back({p.config.name, std::string(PredictionKindName(p.config.kind)), p.trained ? "yes" : "no",
                    p.trained_at.empty() ? "-" : p.trained_at, p.grade.empty() ? "-" : p.grade,
                    std::to_string(p.scored_customers), p.output_entity});
  }
  PrintTable({"prediction", "kind", "trained", "trained at", "grade", "customers scored", "output"}, rows);
  return Status::Ok();
}

Status CmdReadiness(const Globals& g, const std::string& name, const std::string& as_of) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  PredictionRunOptions o;
  CDP_ASSIGN_OR_RETURN(o.run_date, RunDateOption(as_of));
  CDP_ASSIGN_OR_RETURN(Json r, PredictionReadiness(*ws, name, o));
  if (g.json) {
    PrintJson(r);
  } else {
    PrintReadiness(r);
  }
  return Status::Ok();
}

Status CmdTrain(const Globals& g, const std::string& name, const std::string& as_of) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  PredictionRunOptions o;
  CDP_ASSIGN_OR_RETURN(o.run_date, RunDateOption(as_of));
  std::unique_ptr<ProgressBar> bar;
  o.progress = [&](double f, const std::string& detail) {
    if (!bar) bar = std::make_unique<ProgressBar>("train " + name);
    bar->Update(static_cast<uint64_t>(f * 100), 100, detail);
  };
  auto r = TrainPrediction(*ws, name, o);
  bar.reset();
  if (!r.ok()) return r.status();
  if (g.json) {
    PrintJson(ToJson(*r));
    return Status::Ok();
  }
  std::cout << "Prediction '" << r->name << "' (" << r->kind << ") trained as of "
            << r->evaluation.value("as_of", std::string("-")) << " in "
            << Fixed(static_cast<double>(r->duration_micros) / 1e6, 2) << " s"
            << (r->grade.empty() ? std::string() : ": grade " + r->grade) << "\n";
  PrintHeadline(r->evaluation);
  return Status::Ok();
}

Status CmdRun(const Globals& g, const std::string& name, const std::string& as_of) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  PredictionRunOptions o;
  CDP_ASSIGN_OR_RETURN(o.run_date, RunDateOption(as_of));
  CDP_ASSIGN_OR_RETURN(auto r, ScorePrediction(*ws, name, o));
  if (g.json) {
    PrintJson(ToJson(r));
  } else {
    std::cout << "Prediction '" << r.name << "' scored " << r.customers << " customers into " << r.output_entity << " ("
              << r.rows << " rows) in " << Fixed(static_cast<double>(r.duration_micros) / 1e6, 2) << " s\n";
  }
  return Status::Ok();
}

Status CmdShow(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto info, GetPrediction(*ws, name));
  if (g.json) {
    PrintJson(ToJson(info));
    return Status::Ok();
  }
  Json j = ToJson(info);
  std::cout << "Prediction '" << info.config.name << "' (" << PredictionKindName(info.config.kind) << ")\n"
            << "  output: " << info.output_entity << ", " << info.scored_customers << " customers scored"
            << (info.scored_at.empty() ? "" : " at " + info.scored_at) << "\n"
            << "  model: " << (info.trained ? (info.trained_at.empty() ? "not needed" : "trained " + info.trained_at) : "not trained")
            << (info.grade.empty() ? "" : ", grade " + info.grade) << "\n"
            << "  definition: " << j["definition"].dump() << "\n";
  return Status::Ok();
}

Status CmdEvaluate(const Globals& g, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json e, PredictionEvaluation(*ws, name));
  if (g.json) {
    PrintJson(e);
    return Status::Ok();
  }
  std::cout << "Prediction '" << name << "' trained " << e.value("trained_at", std::string("-")) << " as of "
            << e.value("as_of", std::string("-")) << ", grade " << e.value("grade", std::string("-"))
            << (e.value("current", true) ? "" : " (the definition changed since: train again)") << "\n";
  PrintHeadline(e);
  return Status::Ok();
}

Status CmdScores(const Globals& g, const std::string& name, int64_t offset, int64_t limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json page, PredictionScores(*ws, name, offset, limit));
  if (g.json) {
    PrintJson(page);
    return Status::Ok();
  }
  std::vector<std::string> header;
  for (const auto& c : page["columns"]) header.push_back(c.get<std::string>());
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : page["rows"]) {
    std::vector<std::string> row;
    for (const auto& v : r) row.push_back(Num(v));
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
  std::cout << "rows " << offset + 1 << "-" << offset + static_cast<int64_t>(rows.size()) << " of "
            << page["total"].get<int64_t>() << "\n";
  return Status::Ok();
}

}  // namespace

void AddPredictCommands(CommandLine& cli, CLI::App& app) {
  struct Options {
    std::string name;
    std::string as_of;
    int64_t offset = 0;
    int64_t limit = 20;
  };
  auto o = std::make_shared<Options>();
  auto* pr = app.add_subcommand(
      "predict", "predictions (churn, CLV, recommendations, imported models): list, readiness, train, run, show, evaluate, scores");
  pr->require_subcommand(1);
  auto* list = pr->add_subcommand("list", "list predictions with their grade and scored customers");
  cli.AddWorkspaceOptions(list);
  cli.OnRun(list, [&cli] { return CmdList(cli.g); });
  auto add_as_of = [o](CLI::App* c) {
    c->add_option("--as-of", o->as_of,
                  "the day predictions are made on (YYYY-MM-DD; default: today, or the day after the last "
                  "transaction when the data end earlier)");
  };
  auto* ready = pr->add_subcommand("readiness", "check whether the data can train a prediction, in plain language");
  cli.AddWorkspaceOptions(ready);
  ready->add_option("NAME", o->name, "prediction name")->required();
  add_as_of(ready);
  cli.OnRun(ready, [&cli, o] { return CmdReadiness(cli.g, o->name, o->as_of); });
  auto* train = pr->add_subcommand("train", "train (time-based split), grade against the baseline, store, then score");
  cli.AddWorkspaceOptions(train);
  train->add_option("NAME", o->name, "prediction name")->required();
  add_as_of(train);
  cli.OnRun(train, [&cli, o] { return CmdTrain(cli.g, o->name, o->as_of); });
  auto* run = pr->add_subcommand("run", "score every customer with the stored model into Prediction_<name>");
  cli.AddWorkspaceOptions(run);
  run->add_option("NAME", o->name, "prediction name")->required();
  add_as_of(run);
  cli.OnRun(run, [&cli, o] { return CmdRun(cli.g, o->name, o->as_of); });
  auto* show = pr->add_subcommand("show", "a prediction's definition, model and output");
  cli.AddWorkspaceOptions(show);
  show->add_option("NAME", o->name, "prediction name")->required();
  cli.OnRun(show, [&cli, o] { return CmdShow(cli.g, o->name); });
  auto* eval = pr->add_subcommand("evaluate", "the stored model's evaluation on its held-back period");
  cli.AddWorkspaceOptions(eval);
  eval->add_option("NAME", o->name, "prediction name")->required();
  cli.OnRun(eval, [&cli, o] { return CmdEvaluate(cli.g, o->name); });
  auto* scores = pr->add_subcommand("scores", "a page of the scores, highest first");
  cli.AddWorkspaceOptions(scores);
  scores->add_option("NAME", o->name, "prediction name")->required();
  scores->add_option("--offset", o->offset, "rows to skip (default 0)")->check(CLI::NonNegativeNumber);
  scores->add_option("--limit", o->limit, "rows to show, 1-500 (default 20)")->check(CLI::Range(1, 500));
  cli.OnRun(scores, [&cli, o] { return CmdScores(cli.g, o->name, o->offset, o->limit); });
}

}  // namespace cdp
