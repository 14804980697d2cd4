// The segments stage of a workspace: saving definitions (validated against
// the current data: invalid ones are kept as drafts or inactive with their
// problems), evaluating them on the engine (CRoaring sets over the customer
// index), freezing static segments, writing Segment_<name> member entities
// and the member-count history, inspection and export of members.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "segment/segment_definition.h"
#include "segment/segment_evaluator.h"
#include "workspace/workspace.h"

namespace cdp {

enum class SegmentSaveMode { kCreate, kUpdate, kUpsert };

struct SegmentEvaluation {
  std::string name;
  int64_t members = 0;
  std::vector<RuleCount> rules;
};

struct SegmentSaveResult {
  SegmentRecord record;
  std::vector<SegmentProblem> problems;
  std::optional<SegmentEvaluation> evaluation;  // static segments are evaluated (frozen) on save
};

struct SegmentRunOptions {
  int32_t run_date = 0;  // 0 = today (UTC)
  int threads = 0;
  // RunSegments: non-zero = part of this open run (e.g. a refresh's), which
  // the member counts are recorded under; no run row of its own.
  int64_t run_id = 0;
};

// The steps of saving a segment, for the definitions service
// (workspace/definitions.h), which stores the record in its transaction:
// the problems of `definition` against the current data under `project`
// (one "cannot be validated yet" problem while there is no Customer);
StatusOr<std::vector<SegmentProblem>> SegmentProblemsOnData(Workspace& workspace, const ProjectConfig& project,
                                                            const SegmentDefinition& definition);
// evaluating a static segment and freezing its members in Segment_<name>
// (with its member count under a "segment-freeze" run);
StatusOr<SegmentEvaluation> FreezeSegment(Workspace& workspace, const ProjectConfig& project,
                                          const SegmentDefinition& definition, const SegmentRunOptions& options);
// removing Segment_<name> when the current generation has it (members of a
// definition that changed or was deleted).
Status RemoveSegmentMembers(Workspace& workspace, const std::string& name);

// The CustomerIds of a Segment_<name> table, sorted (none when it has no
// int64 CustomerId column).
std::vector<int64_t> SegmentMemberIds(const Table& members);

// A segment record's problems_json: a JSON array of the problems as text.
std::string SegmentProblemsJson(const std::vector<SegmentProblem>& problems);

// SaveSegmentDefinition without evaluating a dynamic segment, and
// DeleteSegmentDefinition (workspace/definitions.h, which defines them: one
// way to save), for setups that save many segments before a refresh.
// kCreate: AlreadyExists if the name is taken; kUpdate: NotFound if not.
StatusOr<SegmentSaveResult> SaveSegment(Workspace& workspace, const SegmentDefinition& definition, SegmentSaveMode mode,
                                        const SegmentRunOptions& options);
Status DeleteSegment(Workspace& workspace, const std::string& name);

// Evaluates the named segments, or (names empty) every dynamic segment and
// every static one not yet frozen, in one new generation. A named segment
// that is a draft or invalid, or a named static segment, is refused with
// its problems; unnamed invalid ones are skipped and listed in `skipped`.
StatusOr<std::vector<SegmentEvaluation>> RunSegments(Workspace& workspace, const std::vector<std::string>& names,
                                                     const SegmentRunOptions& options,
                                                     std::vector<std::string>* skipped = nullptr);

struct SegmentInspection {
  SegmentRecord record;
  SegmentDefinition definition;
  std::vector<SegmentProblem> problems;   // against the current data
  std::vector<SegmentCountRecord> history;
  std::optional<SegmentEvaluation> counts;  // evaluated now ("inspection mode"), when valid
  int64_t stored_members = -1;             // members in Segment_<name>, -1 if never evaluated
  Table preview;                           // first members with their Customer fields
};
StatusOr<SegmentInspection> InspectSegment(Workspace& workspace, const std::string& name, size_t preview_rows,
                                           const SegmentRunOptions& options);

// Streams every member's Customer row (and Customer_Measure columns when
// present) as "csv" or "jsonl"; returns the number of members written.
StatusOr<int64_t> ExportSegmentMembers(Workspace& workspace, const std::string& name, const std::string& format,
                                       std::ostream& out);

// The same for a definition that is not saved: validated and evaluated now.
StatusOr<int64_t> ExportDefinitionMembers(Workspace& workspace, const SegmentDefinition& definition,
                                          const std::string& format, std::ostream& out,
                                          const SegmentRunOptions& options);

}  // namespace cdp
