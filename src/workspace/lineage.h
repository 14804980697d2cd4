// Lineage of unified customers, for the CLI and the server alike: whether a
// CustomerId exists (one check, one message), what a customer is made of
// (its source records, the match pairs that joined them, the id merges and
// splits that touched it), and the one loader of the trained unification
// model. Functions read the workspace's current generation (or tables the
// caller already loaded); thread-safe as the catalog and data store are.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/status.h"
#include "config/unify_config.h"
#include "table/column.h"
#include "unify/matcher.h"
#include "unify/probabilistic/fellegi_sunter.h"
#include "workspace/workspace.h"

namespace cdp {

// The newest trained unification model. NotFound when none was trained
// (with what to do about it); DataLoss when the stored one is unreadable.
StatusOr<FsModel> LoadUnifyModel(Workspace& workspace);

// The model explanations use: LoadUnifyModel's in probabilistic mode (its
// errors included), nullopt in rules mode.
StatusOr<std::optional<FsModel>> ModelForExplanations(Workspace& workspace, const UnifyConfig& config);

// NotFound for a CustomerId that is not in the current generation: "there
// is no customer with CustomerId N", plus "(it was merged into M)" when a
// unification merged it, or "(there are no customers yet: run a refresh)".
// The message every interface shows.
Status CustomerNotFound(Workspace& workspace, int64_t customer_id, bool no_customers = false);

// The unification outputs an explanation reads: Customer,
// CustomerSourceKeys, ConflationMatchPairs (the last two may be null).
struct LineageTables {
  std::shared_ptr<const Table> customers;
  std::shared_ptr<const Table> source_keys;
  std::shared_ptr<const Table> match_pairs;
};
// Loads them from the current generation; FailedPrecondition when there is
// no Customer yet.
StatusOr<LineageTables> LoadLineageTables(Workspace& workspace);

// Ok when `customer_id` is a customer of the current generation, else
// CustomerNotFound's error.
Status CheckCustomerExists(Workspace& workspace, int64_t customer_id);

struct SourceRecordRef {
  std::string source;
  std::string key;
  std::string ToString() const { return source + ":" + key; }  // "eCommerce Contacts:C-17"
};

struct LineagePair {
  SourceRecordRef a, b;
  std::string rule;
  double score = 0;
  std::string status;
  std::optional<PairExplanation> explanation;  // when asked for
};

struct CustomerExplanation {
  int64_t customer_id = 0;
  Table profile;  // the customer's Customer row (one row)
  std::vector<SourceRecordRef> records;
  std::vector<LineagePair> pairs;
  std::vector<CustomerIdChangeRecord> id_changes;
};

struct ExplainOptions {
  // Recompute each match pair's conditions from the profile sources (and
  // the model in probabilistic mode), for at most this many pairs; 0 = none.
  size_t explained_pairs = 50;
};

// Explains a customer: columns are read by name. Errors: CustomerNotFound's
// NotFound; FailedPrecondition before the first unification; those of
// LoadUnifyModel in probabilistic mode when pairs are explained.
StatusOr<CustomerExplanation> ExplainCustomer(Workspace& workspace, int64_t customer_id,
                                              const ExplainOptions& options = {});
// The same over tables the caller has loaded (the server's generation).
StatusOr<CustomerExplanation> ExplainCustomer(Workspace& workspace, const LineageTables& tables,
                                              int64_t customer_id, const ExplainOptions& options = {});

// {customer_id, profile, records: ["SOURCE:KEY"], pairs: [{a, b, rule,
// score, status, explanation?}], id_changes: [{run_id, kind, customer_id,
// other_ids}]}: `cdp explain --json` and GET /api/v1/customers/{id}/explain.
nlohmann::ordered_json CustomerExplanationToJson(const CustomerExplanation& e);

}  // namespace cdp
