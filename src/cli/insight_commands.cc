// `cdp segment overlap|compare|expand|suggest|rfm|trend|activate|deactivate`
// and `cdp enrich [NAMES] [--list]`: segment insights and enrichment through their
// services (workspace/insight_service.h, workspace/enrichment_runner.h).
// Tables for people, the services' JSON with --json.
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "common/value_text.h"
#include "segment/segment_definition.h"
#include "workspace/definitions.h"
#include "workspace/enrichment_runner.h"
#include "workspace/insight_service.h"

namespace cdp {
namespace {

std::string Num(const Json& v, int digits = 3) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return Fixed(v.get<double>(), digits);
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string Pct(const Json& v) { return v.is_number() ? Fixed(100.0 * v.get<double>(), 1) + "%" : "-"; }

Status CmdOverlap(const Globals& g, const std::vector<std::string>& names, const std::string& breakdown) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, SegmentOverlap(*ws, OverlapRequest{names, breakdown}));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : j["segments"]) {
    rows.push_back({s["name"].get<std::string>(), Num(s["members"]), Num(s["rest"]), Pct(s["rest_share"])});
  }
  PrintTable({"segment", "members", "in no other", "share"}, rows);
  rows.clear();
  for (const auto& p : j["pairs"]) {
    rows.push_back({p["a_name"].get<std::string>(), p["b_name"].get<std::string>(), Num(p["shared"]),
                    Pct(p["share_of_a"]), Pct(p["share_of_b"])});
  }
  PrintTable({"segment A", "segment B", "shared", "% of A", "% of B"}, rows);
  std::cout << "in every segment: " << Num(j["shared_by_all"]) << ", in any: " << Num(j["in_any"]) << " of "
            << Num(j["customers"]) << " customers\n";
  if (j.contains("breakdown")) {
    rows.clear();
    for (const auto& b : j["breakdown"]["buckets"]) {
      rows.push_back({b["label"].get<std::string>(), Num(b["shared"]), Pct(b["shared_share"])});
    }
    PrintTable({j["breakdown"]["attribute"].get<std::string>(), "shared", "share"}, rows);
  }
  return Status::Ok();
}

Status CmdCompare(const Globals& g, const std::string& segment, const std::string& base, int limit) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CompareRequest request;
  request.segment = segment;
  request.base = base;
  request.limit = limit;
  CDP_ASSIGN_OR_RETURN(Json j, CompareSegment(*ws, request));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::cout << segment << " (" << Num(j["segment_members"]) << " members) against " << Num(j["base"]) << " ("
            << Num(j["base_members"]) << ")\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : j["attributes"]) {
    rows.push_back({a["attribute"].get<std::string>(), Num(a["score"]), a["summary"].get<std::string>()});
  }
  PrintTable({"attribute", "difference", "summary"}, rows);
  return Status::Ok();
}

Status CmdExpand(const Globals& g, const ExpandRequest& request) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, ExpandSegment(*ws, request));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  const Json& q = j["quality"];
  std::cout << (request.save ? "saved expansion segment " : "preview of ") << j["segment"].get<std::string>() << ": "
            << Num(j["members"]) << " similar customers from a pool of " << Num(j["pool_size"]) << "\n";
  std::cout << "model quality on held-back customers: AUC " << Num(q["auc"]) << " (best single attribute "
            << Num(q["baseline_attribute"]) << ": " << Num(q["baseline_auc"]) << ")\n"
            << q["verdict"].get<std::string>() << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : j["bands"]) {
    rows.push_back({b["band"].get<std::string>(), Num(b["from"], 2) + "-" + Num(b["to"], 2), Num(b["pool"]),
                    Num(b["members"])});
  }
  PrintTable({"band", "similarity", "pool", "members"}, rows);
  rows.clear();
  for (const auto& d : j["drivers"]) {
    if (rows.size() == 10) break;
    rows.push_back({d["attribute"].get<std::string>(), Pct(d["importance"]), d.value("summary", "")});
  }
  PrintTable({"driver", "importance", ""}, rows);
  if (!j["excluded_attributes"].empty()) {
    std::cout << "left out (they define the source segment): " << j["excluded_attributes"].dump() << "\n";
  }
  return Status::Ok();
}

// What `--save` names: the suggestion or group to save, and the segment name.
struct SaveChoice {
  std::string which;  // suggest: rank 1..N; rfm: group key or name
  std::string as;     // segment name (default: the definition's)
};

// Saves a suggested definition (its JSON from the insight service) as a
// dynamic segment through the definitions service; returns the line to print.
StatusOr<std::string> SaveSuggested(Workspace& ws, const Json& definition, const std::string& as) {
  CDP_ASSIGN_OR_RETURN(SegmentDefinition def, ParseSegmentJson(definition.dump()));
  if (!as.empty()) def.name = as;
  auto saved = SaveSegmentDefinition(ws, def, SegmentSaveMode::kCreate);
  if (!saved.ok()) return Status(saved.status().code(), "--save: segment '" + def.name + "': " + saved.status().message());
  std::string line = "saved dynamic segment " + def.name;
  if (saved->saved.evaluation) line += ": " + Num(Json(saved->saved.evaluation->members)) + " members";
  return line + "\n";
}

Status CmdSuggest(const Globals& g, const SuggestRequest& request, const SaveChoice& save) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, SuggestSegments(*ws, request));
  std::string saved_line;
  if (!save.which.empty()) {
    int64_t rank = 0;
    if (!ParseInteger(save.which, &rank) || rank < 1 || static_cast<size_t>(rank) > j["suggestions"].size()) {
      return InvalidArgumentError("--save: '" + save.which + "' is not a suggestion's rank (1.." +
                                  std::to_string(j["suggestions"].size()) + ")");
    }
    CDP_ASSIGN_OR_RETURN(saved_line, SaveSuggested(*ws, j["suggestions"][rank - 1]["definition"], save.as));
  }
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  int rank = 0;
  for (const auto& s : j["suggestions"]) {
    const Json& target = s.contains("target_average") ? s["target_average"] : s["target_share"];
    rows.push_back({std::to_string(++rank), s["rules_text"].get<std::string>(), Num(s["size"]), Pct(s["share"]),
                    Num(target, 2), Num(s["lift"], 2), Num(s["adjusted_p_value"], 4)});
  }
  const Json& population = j["population"];
  std::cout << "target " << request.target << (request.value.empty() ? "" : " = " + request.value) << ": "
            << (population.contains("average") ? "population average " + Num(population["average"], 2)
                                               : "population share " + Pct(population["share"]))
            << " over " << Num(population["customers"]) << " customers with a value\n";
  if (rows.empty()) {
    std::cout << "no group is both large enough and significantly different\n";
  } else {
    PrintTable({"#", "rules", "customers", "share", "target", "lift", "p (adjusted)"}, rows);
    if (save.which.empty()) std::cout << "save one as a dynamic segment with --save RANK [--as NAME]\n";
  }
  std::cout << saved_line;
  return Status::Ok();
}

Status CmdRfm(const Globals& g, const RfmRequest& request, const SaveChoice& save) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, RfmSuggestions(*ws, request));
  std::string saved_line;
  if (!save.which.empty()) {
    const Json* group = nullptr;
    std::string known;
    for (const auto& grp : j["groups"]) {
      const std::string key = grp.value("key", ""), name = grp.value("name", "");
      if (save.which == key || save.which == name) group = &grp;
      known += (known.empty() ? "" : ", ") + key;
    }
    if (!group) return InvalidArgumentError("--save: there is no RFM group '" + save.which + "' (groups: " + known + ")");
    if ((*group)["definition"].is_null()) {
      return FailedPreconditionError("--save: group '" + save.which + "' has no definition: " +
                                     (j.contains("measures_to_add") ? std::string("run with --add-measures")
                                                                    : std::string("it has no members")));
    }
    CDP_ASSIGN_OR_RETURN(saved_line, SaveSuggested(*ws, (*group)["definition"], save.as));
  }
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& grp : j["groups"]) {
    rows.push_back({grp["name"].get<std::string>(), Num(grp["size"]), Pct(grp["share"]), Num(grp["average_spend"], 2),
                    grp.value("rules_text", "")});
  }
  PrintTable({"group", "customers", "share", "average spend", "rules"}, rows);
  if (j.contains("measures_added")) {
    std::cout << "\nadded and computed the measures " << j["measures_added"][0].get<std::string>() << " and "
              << j["measures_added"][1].get<std::string>() << "\n";
  }
  if (j.contains("measures_to_add")) {
    std::cout << "\nto save these groups as segments, the project needs a last-transaction and a transaction-count "
                 "measure over these activities: run again with --add-measures (or name yours with "
                 "--last-date-measure and --frequency-measure)\n";
  } else if (!j.value("last_date_measure", std::string()).empty()) {
    if (save.which.empty()) {
      std::cout << "\nsave a group as a dynamic segment with --save GROUP [--as NAME] (its rules use "
                << j["last_date_measure"].get<std::string>() << " and " << j["frequency_measure"].get<std::string>()
                << ")\n";
    }
  }
  if (!saved_line.empty()) std::cout << "\n" << saved_line;
  return Status::Ok();
}

Status CmdTrend(const Globals& g, const std::string& name, int days) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, SegmentTrend(*ws, name, days));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : j["points"]) rows.push_back({p["at"].get<std::string>(), Num(p["members"])});
  PrintTable({"evaluated at", "members"}, rows);
  const Json& gr = j["growth"];
  std::cout << "since a week ago: " << (gr["change"].is_null() ? "no count a week old" : Num(gr["change"])) << "\n";
  return Status::Ok();
}

Status CmdActivate(const Globals& g, const std::string& name, bool active) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_RETURN_IF_ERROR(SetSegmentActive(*ws, name, active));
  if (g.json) {
    PrintJson(Json{{"segment", name}, {"active", active}});
  } else {
    std::cout << "segment " << name << (active ? " activated" : " deactivated: refreshes leave its members as they are")
              << "\n";
  }
  return Status::Ok();
}

Status CmdEnrich(const Globals& g, const std::vector<std::string>& names) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(auto reports, RunEnrichments(*ws, names));
  if (g.json) {
    Json a = Json::array();
    for (const auto& r : reports) a.push_back(ToJson(r));
    PrintJson(a);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : reports) {
    std::string detail;
    if (r.details.contains("match_rate")) detail = "match rate " + Pct(r.details["match_rate"]);
    if (r.details.contains("active_customers")) detail = Num(r.details["active_customers"]) + " active customers";
    if (r.details.contains("customers_with_events")) {
      detail = Num(r.details["customers_with_events"]) + " customers with events";
    }
    rows.push_back({r.name, r.kind, r.output_entity, std::to_string(r.rows), std::to_string(r.customers), detail});
  }
  PrintTable({"enrichment", "kind", "output", "rows", "customers", ""}, rows);
  return Status::Ok();
}

Status CmdEnrichList(const Globals& g) {
  CDP_ASSIGN_OR_RETURN(auto ws, OpenWorkspace(g));
  CDP_ASSIGN_OR_RETURN(Json j, ListEnrichments(*ws));
  if (g.json) {
    PrintJson(j);
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : j) {
    std::string when = e.value("when", "");
    if (e.contains("source")) when += " of " + e["source"].get<std::string>();
    rows.push_back({e["name"].get<std::string>(), e["kind"].get<std::string>(), when,
                    e["output_entity"].get<std::string>(), Num(e["rows"]),
                    e.contains("match_rate") ? Pct(e["match_rate"]) : ""});
  }
  PrintTable({"enrichment", "kind", "when", "output", "rows", "match rate"}, rows);
  return Status::Ok();
}

}  // namespace

void AddSegmentInsightCommands(CommandLine& cli, CLI::App& segment) {
  struct Options {
    std::vector<std::string> names;
    std::string name, breakdown, base, as_of;
    int limit = 30;
    int days = 30;
    ExpandRequest expand;
    SuggestRequest suggest;
    RfmRequest rfm;
    SaveChoice save;
    bool preview = false;
  };
  auto o = std::make_shared<Options>();
  auto* overlap = segment.add_subcommand("overlap", "shared members of two or more segments, with a matrix");
  cli.AddWorkspaceOptions(overlap);
  overlap->add_option("NAMES", o->names, "segments (2 to 200)")->required();
  overlap->add_option("--breakdown", o->breakdown, "attribute to break the shared members down by");
  cli.OnRun(overlap, [&cli, o] { return CmdOverlap(cli.g, o->names, o->breakdown); });

  auto* compare = segment.add_subcommand("compare", "differentiators: attributes where a segment differs most");
  cli.AddWorkspaceOptions(compare);
  compare->add_option("NAME", o->name, "segment")->required();
  compare->add_option("--base", o->base, "rest (default), all, or another segment");
  compare->add_option("--limit", o->limit, "attributes listed")->capture_default_str();
  cli.OnRun(compare, [&cli, o] { return CmdCompare(cli.g, o->name, o->base, o->limit); });

  auto* expand = segment.add_subcommand("expand", "find similar customers: an expansion segment from a lookalike model");
  cli.AddWorkspaceOptions(expand);
  expand->add_option("SOURCE", o->expand.source, "source segment")->required();
  expand->add_option("--pool", o->expand.pool, "pool segment (default: every customer outside the source)");
  expand->add_option("--output", o->expand.output, "name of the expansion segment (default SOURCE_Similar)");
  expand->add_option("--display-name", o->expand.display_name, "display name");
  expand->add_option("--share", o->expand.share, "output size as a share of the pool")->capture_default_str();
  expand->add_option("--min-similarity", o->expand.min_similarity, "every pool customer at or above it (0.4..1)");
  expand->add_flag("--include-source", o->expand.include_source, "the source's members are members too");
  expand->add_flag("--preview", o->preview, "show the result without saving");
  cli.OnRun(expand, [&cli, o] {
    o->expand.save = !o->preview;
    return CmdExpand(cli.g, o->expand);
  });

  auto* suggest = segment.add_subcommand("suggest", "suggested segments: groups that differ on a target attribute");
  cli.AddWorkspaceOptions(suggest);
  suggest->add_option("--target", o->suggest.target, "numeric or categorical attribute (e.g. LifetimeSpend)")->required();
  suggest->add_option("--value", o->suggest.value, "categorical target: the value whose share should be high");
  suggest->add_option("--min-lift", o->suggest.min_lift, "group average >= this x the population's")->capture_default_str();
  suggest->add_option("--min-share", o->suggest.min_share, "smallest group, share of customers")->capture_default_str();
  suggest->add_option("--max", o->suggest.max_suggestions, "suggestions listed")->capture_default_str();
  suggest->add_flag("--profile-only", o->suggest.profile_only, "rules on Customer fields only (not on measures)");
  suggest->add_option("--exclude", o->suggest.exclude, "attributes never used in rules");
  suggest->add_option("--save", o->save.which, "save the suggestion of this rank as a dynamic segment");
  suggest->add_option("--as", o->save.as, "name of the saved segment (default: the suggestion's)");
  cli.OnRun(suggest, [&cli, o] { return CmdSuggest(cli.g, o->suggest, o->save); });

  auto* rfm = segment.add_subcommand("rfm", "RFM groups (champions, at risk, lost, ...) from the transactions");
  cli.AddWorkspaceOptions(rfm);
  rfm->add_option("--activity", o->rfm.activities, "activities that are transactions (default: type SalesOrder)");
  rfm->add_option("--last-date-measure", o->rfm.last_date_measure, "measure with the last transaction's date");
  rfm->add_option("--frequency-measure", o->rfm.frequency_measure, "measure with the transaction count");
  rfm->add_option("--save", o->save.which, "save this group (Champions, AtRisk, ...) as a dynamic segment");
  rfm->add_option("--as", o->save.as, "name of the saved segment (default: Rfm_<group>)");
  rfm->add_flag("--add-measures", o->rfm.add_measures,
                "add and compute the measures RFM segments need when the project has none (RfmLastTransaction, "
                "RfmTransactions)");
  rfm->add_option("--as-of", o->as_of, "recency as of YYYY-MM-DD (default: the day after the last transaction)");
  cli.OnRun(rfm, [&cli, o] {
    CDP_ASSIGN_OR_RETURN(o->rfm.run_date, ParseAsOf(o->as_of));
    if (o->as_of.empty()) o->rfm.run_date = 0;
    return CmdRfm(cli.g, o->rfm, o->save);
  });

  auto* trend = segment.add_subcommand("trend", "member counts over time and growth since last week");
  cli.AddWorkspaceOptions(trend);
  trend->add_option("NAME", o->name, "segment")->required();
  trend->add_option("--days", o->days, "time scope in days")->capture_default_str();
  cli.OnRun(trend, [&cli, o] { return CmdTrend(cli.g, o->name, o->days); });

  for (bool active : {true, false}) {
    auto* sub = segment.add_subcommand(active ? "activate" : "deactivate",
                                       active ? "activate a dynamic segment (evaluated again)"
                                              : "deactivate a dynamic segment (refreshes keep its last members)");
    cli.AddWorkspaceOptions(sub);
    sub->add_option("NAME", o->name, "segment")->required();
    cli.OnRun(sub, [&cli, o, active] { return CmdActivate(cli.g, o->name, active); });
  }
}

void AddEnrichCommands(CommandLine& cli, CLI::App& app) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto list = std::make_shared<bool>(false);
  auto* enrich = app.add_subcommand("enrich", "compute the project's enrichments now (all, or those named)");
  cli.AddWorkspaceOptions(enrich);
  enrich->add_option("NAMES", *names, "enrichments");
  enrich->add_flag("--list", *list, "list the enrichments and their outputs instead");
  cli.OnRun(enrich, [&cli, names, list] {
    if (*list) return CmdEnrichList(cli.g);
    return CmdEnrich(cli.g, *names);
  });
}

}  // namespace cdp
