// The built-in stage descriptors (stage.h) of the pipeline before serving:
// ingest, unify, activities, measures, segments. Each says what it reads and
// writes and calls its runner; the index stage is in search_stage.cc.
#include <algorithm>
#include <cstdio>
#include <set>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "engine/run_date.h"
#include "workspace/activity_runner.h"
#include "workspace/enrichment_runner.h"
#include "workspace/ingest_runner.h"
#include "workspace/measure_runner.h"
#include "workspace/refresh_runner.h"
#include "workspace/segment_runner.h"
#include "workspace/stage.h"
#include "workspace/unify_runner.h"

namespace cdp {
namespace {

using NotApplicable = StatusOr<std::optional<std::string>>;

NotApplicable NeedsUnification(const StageContext& c) {
  if (c.project.unification.empty()) return std::optional<std::string>("needs unification");
  return std::optional<std::string>();
}

// Source entities related to customers: profile sources, both ends of every
// relationship, activity and measure entities (pipeline entities such as
// UnifiedActivity, which a measure may read, are added by the stages that
// read them). Sorted, unique.
std::set<std::string> LinkedEntityNames(const ProjectConfig& project) {
  std::set<std::string> out;
  for (const auto& s : project.unification.sources) out.insert(s.source);
  for (const auto& r : project.relationships) {
    out.insert(r.from_entity);
    out.insert(r.to_entity);
  }
  for (const auto& a : project.activities) out.insert(a.entity);
  for (const auto& m : project.measures) {
    if (!m.entity.empty()) out.insert(m.entity);
  }
  for (auto it = out.begin(); it != out.end();) it = IsPipelineEntity(*it) ? out.erase(it) : std::next(it);
  return out;
}

// The linking configuration shared by activities and measures: unification
// (profile sources and keys), relationships, activities, and the key field
// of each linked entity.
void AddLinking(const ProjectConfig& project, const Snapshot& snap, StageInputs* in) {
  in->AddDefinition("unification", UnifyConfigToJson(project.unification));
  in->AddDefinition("relationships", RelationshipsToJson(project.relationships));
  in->AddDefinition("activities", ActivitiesToJson(project.activities));
  for (const auto& e : LinkedEntityNames(project)) {
    in->AddEntity(snap, e);
    in->AddDefinition("key " + e, project.KeyOf(e));
  }
  in->AddEntity(snap, std::string(kCustomerEntity));
  in->AddEntity(snap, std::string(kSourceKeysEntity));
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * v);
  return buf;
}

}  // namespace

// Change detection is per source, by the ingest runner (a file's content
// hash, a query's text): the stage always runs and skips unchanged sources.
StageDescriptor IngestStage() {
  StageDescriptor d;
  d.name = RefreshStage::kIngest.name();
  d.not_applicable = [](const StageContext& c) -> NotApplicable {
    if (c.project.sources.empty()) return std::optional<std::string>("no sources configured");
    return std::optional<std::string>();
  };
  d.is_output = [](const StageContext&, const std::string& n) {
    EntityKind k = EntityKindOf(n);
    return k == EntityKind::kSource || k == EntityKind::kQuarantine;
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    std::vector<const SourceConfig*> todo;
    if (c.options.sources.empty()) {
      for (const auto& s : c.project.sources) todo.push_back(&s);
    } else {
      for (const auto& n : c.options.sources) todo.push_back(c.project.FindSource(n));  // checked by RunRefresh
    }
    IngestOptions io;
    io.force = c.options.force;
    io.threads = static_cast<int>(c.options.threads);
    size_t done = 0;
    io.on_progress = [&](const IngestProgress& p) {
      double f = p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 0;
      c.progress((static_cast<double>(done) + f) / static_cast<double>(todo.size()), p.source);
    };
    StageInputs fingerprints;
    int succeeded = 0, skipped = 0;
    std::string errors;
    for (const SourceConfig* s : todo) {
      if (c.cancelled()) {
        r->status = "cancelled";
        r->message = "cancelled after " + std::to_string(done) + " of " + std::to_string(todo.size()) + " sources";
        return Status::Ok();
      }
      c.progress(static_cast<double>(done) / static_cast<double>(todo.size()), s->name);
      CDP_ASSIGN_OR_RETURN(SourceIngestResult one, IngestSource(c.workspace, c.project, *s, c.run_id, io));
      const SourceIngestRecord& rec = one.record;
      fingerprints.AddDefinition(s->name, rec.fingerprint);
      if (rec.status == "failed") {
        errors += (errors.empty() ? "" : "; ") + ("source '" + s->name + "': " + rec.message);
      } else if (rec.status == "skipped") {
        ++skipped;
      } else {
        ++succeeded;
        r->rows_in += rec.rows_read;
        r->rows_out += rec.rows_stored;
        if (rec.rows_quarantined > 0) {
          r->warnings.push_back("source '" + s->name + "': " + std::to_string(rec.rows_quarantined) +
                                " row(s) quarantined (`cdp quarantine " + s->name + "`)");
        }
      }
      ++done;
    }
    r->fingerprint = fingerprints.Fingerprint();
    if (!errors.empty()) {
      // The failed sources keep their previous data; the others' new data stays.
      r->status = "failed";
      r->message = errors;
      return Status::Ok();
    }
    if (succeeded == 0) r->status = "skipped";
    r->message = std::to_string(succeeded) + " ingested, " + std::to_string(skipped) + " unchanged";
    return Status::Ok();
  };
  return d;
}

StageDescriptor UnifyStage() {
  StageDescriptor d;
  d.name = RefreshStage::kUnify.name();
  d.not_applicable = [](const StageContext& c) -> NotApplicable {
    if (c.project.unification.empty()) return std::optional<std::string>("no unification configured");
    return std::optional<std::string>();
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    CDP_ASSIGN_OR_RETURN(auto overrides, c.workspace.catalog().ListMatchOverrides());
    StageInputs in;
    in.AddDefinition("unification", UnifyConfigToJson(c.project.unification));
    for (const auto& s : c.project.unification.sources) {
      in.AddEntity(snap, s.source);
      in.AddDefinition("key " + s.source, c.project.KeyOf(s.source));
    }
    AddSourceEnrichmentInputs(c.project, snap, &in);  // columns joined to the sources' records
    for (const auto& o : overrides) {
      in.AddDefinition("override", o.source_a + "\x1f" + o.key_a + "\x1f" + o.source_b + "\x1f" + o.key_b + "\x1f" +
                                       (o.always ? "always" : "never"));
    }
    return in;
  };
  d.is_output = [](const StageContext&, const std::string& n) {
    EntityKind k = EntityKindOf(n);
    return k == EntityKind::kCustomer || k == EntityKind::kSourceKeys || k == EntityKind::kMatchPairs ||
           k == EntityKind::kReviewPairs || k == EntityKind::kDedup;
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    UnifyRunOptions uo;
    uo.threads = static_cast<int>(c.options.threads);
    uo.run_id = c.run_id;
    uo.on_progress = [&](std::string_view step, int64_t done, int64_t total) {
      c.progress(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0, std::string(step));
    };
    CDP_ASSIGN_OR_RETURN(UnifyRunResult u, RunUnify(c.workspace, uo));
    r->rows_in = u.stats.records_in;
    r->rows_out = u.stats.profiles_out;
    r->message = "profiles out " + std::to_string(u.stats.profiles_out) + ", merge rate " + Percent(u.stats.merge_rate);
    r->warnings = u.stats.warnings;
    return Status::Ok();
  };
  return d;
}

StageDescriptor ActivitiesStage() {
  StageDescriptor d;
  d.name = RefreshStage::kActivities.name();
  d.not_applicable = [](const StageContext& c) -> NotApplicable {
    CDP_ASSIGN_OR_RETURN(auto reason, NeedsUnification(c));
    if (!reason && c.project.activities.empty()) reason = "no activities configured";
    return reason;
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    AddLinking(c.project, snap, &in);
    return in;
  };
  d.is_output = [](const StageContext&, const std::string& n) {
    return EntityKindOf(n) == EntityKind::kUnifiedActivity;
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    ActivityRunOptions ao;
    ao.run_id = c.run_id;
    ao.threads = static_cast<int>(c.options.threads);
    CDP_ASSIGN_OR_RETURN(ActivityRunResult a, RunActivities(c.workspace, ao));
    for (const auto& s : a.activities) {
      r->rows_in += s.relation.rows;
      for (const auto& e : s.relation.orphan_examples) r->warnings.push_back(s.activity + ": orphan " + e);
    }
    r->rows_out = a.rows;
    r->message = std::to_string(a.rows) + " rows in UnifiedActivity";
    return Status::Ok();
  };
  return d;
}

StageDescriptor MeasuresStage() {
  StageDescriptor d;
  d.name = RefreshStage::kMeasures.name();
  d.not_applicable = [](const StageContext& c) -> NotApplicable {
    CDP_ASSIGN_OR_RETURN(auto reason, NeedsUnification(c));
    if (!reason && c.project.measures.empty()) reason = "no measures configured";
    return reason;
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    AddLinking(c.project, snap, &in);
    in.AddEntity(snap, std::string(kUnifiedActivityEntity));
    in.AddDefinition("measures", MeasuresToJson(c.project.measures));
    if (DependsOnRunDate(c.project.measures)) in.AddRunDate(c.run_date);
    return in;
  };
  d.is_output = [](const StageContext&, const std::string& n) {
    EntityKind k = EntityKindOf(n);
    return k == EntityKind::kCustomerMeasure || k == EntityKind::kMeasure || k == EntityKind::kBusinessMeasure;
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    MeasureRunOptions mo;
    mo.threads = static_cast<int>(c.options.threads);
    mo.run_date = c.run_date;
    mo.run_id = c.run_id;
    CDP_ASSIGN_OR_RETURN(MeasureRunResult m, RunMeasures(c.workspace, mo));
    r->rows_in = m.rows_scanned;
    r->rows_out = m.customers;
    r->message = "Measures run as of " + FormatDate(m.run_date);
    r->warnings = m.warnings;
    return Status::Ok();
  };
  return d;
}

// A refresh of named segments (RefreshOptions::segments) evaluates only
// those, under a state of its own ("segments:A,B").
StageDescriptor SegmentsStage() {
  StageDescriptor d;
  d.name = RefreshStage::kSegments.name();
  d.runs_in_segment_refresh = true;
  d.not_applicable = [](const StageContext& c) -> NotApplicable {
    CDP_ASSIGN_OR_RETURN(auto reason, NeedsUnification(c));
    if (reason) return reason;
    CDP_ASSIGN_OR_RETURN(auto all, c.workspace.catalog().ListSegments());
    if (all.empty()) return std::optional<std::string>("no segments defined");
    return std::optional<std::string>();
  };
  d.state_key = [](const StageContext& c) {
    std::set<std::string> named(c.options.segments.begin(), c.options.segments.end());
    std::string key = "segments";
    for (const auto& n : named) key += (key == "segments" ? ":" : ",") + n;
    return key;
  };
  // Segments may read any entity linked to customers, and measures: every
  // entity but their own outputs and internal ones.
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    CDP_ASSIGN_OR_RETURN(auto all, c.workspace.catalog().ListSegments());
    std::set<std::string> named(c.options.segments.begin(), c.options.segments.end());
    StageInputs in;
    in.AddDefinition("unification", UnifyConfigToJson(c.project.unification));
    in.AddDefinition("relationships", RelationshipsToJson(c.project.relationships));
    in.AddDefinition("activities", ActivitiesToJson(c.project.activities));
    for (const auto& [name, info] : snap.entities) {
      EntityKind k = EntityKindOf(name);
      if (k == EntityKind::kSegment || k == EntityKind::kQuarantine || k == EntityKind::kInternal) continue;
      in.AddEntity(snap, name);
      in.AddDefinition("key " + name, c.project.KeyOf(name));
    }
    for (const auto& s : all) {
      if (named.empty() || named.count(s.name)) in.AddDefinition("segment " + s.name, s.definition_json);
    }
    in.AddRunDate(c.run_date);  // relative dates and windows
    return in;
  };
  d.is_output = [](const StageContext& c, const std::string& n) {
    ParsedEntityName p = ParseEntityName(n);
    if (p.kind != EntityKind::kSegment) return false;
    const auto& named = c.options.segments;
    return named.empty() || std::find(named.begin(), named.end(), p.subject) != named.end();
  };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    SegmentRunOptions so;
    so.threads = static_cast<int>(c.options.threads);
    so.run_date = c.run_date;
    so.run_id = c.run_id;
    std::vector<std::string> skipped;
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    auto customer = snap.entities.find(std::string(kCustomerEntity));
    if (customer != snap.entities.end()) r->rows_in = static_cast<int64_t>(customer->second.num_rows);
    CDP_ASSIGN_OR_RETURN(std::vector<SegmentEvaluation> evaluated,
                         RunSegments(c.workspace, c.options.segments, so, &skipped));
    for (const auto& e : evaluated) r->rows_out += e.members;
    for (const auto& s : skipped) r->warnings.push_back("skipped segment " + s);
    r->message = std::to_string(evaluated.size()) + " evaluated";
    if (!skipped.empty()) r->message += ", " + std::to_string(skipped.size()) + " invalid skipped";
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
