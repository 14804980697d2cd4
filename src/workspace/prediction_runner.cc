#include "workspace/prediction_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include <xxhash.h>

#include "common/datetime.h"
#include "common/entity_names.h"
#include "predict/boosted_clv.h"
#include "predict/churn.h"
#include "predict/clv.h"
#include "predict/readiness.h"
#include "predict/recommend.h"
#include "predict/subscription_churn.h"
#include "predict/transaction_log.h"
#include "schedule/cron.h"
#include "workspace/activity_runner.h"
#include "workspace/customer_rows.h"
#include "workspace/linked_entities.h"

namespace cdp {
namespace {

using Json = nlohmann::ordered_json;

// An external model file is read whole: at most this many bytes.
constexpr uintmax_t kMaxModelFileBytes = 64ull << 20;
// Text and boolean profile fields are one-hot over their most frequent values.
constexpr size_t kMaxCategories = 8;


// Whole seconds, "" for none (0).
std::string IsoTime(int64_t micros) {
  return micros <= 0 ? "" : FormatTimestamp(micros - micros % kMicrosPerSecond);
}

std::string DefinitionHash(const PredictionConfig& p) {
  std::string j = PredictionConfigToJson(p);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(XXH3_64bits(j.data(), j.size())));
  return buf;
}

std::string NameList(const std::vector<PredictionConfig>& v) {
  std::string out;
  for (const auto& p : v) out += (out.empty() ? "" : ", ") + p.name;
  return out.empty() ? "none" : out;
}

StatusOr<const PredictionConfig*> FindPrediction(const ProjectConfig& project, const std::string& name) {
  const PredictionConfig* p = project.FindPrediction(name);
  if (p == nullptr) {
    return NotFoundError("no prediction named '" + name + "' (predictions: " + NameList(project.predictions) + ")");
  }
  return p;
}

bool UsesTransactions(PredictionKind k) {
  return k == PredictionKind::kTransactionalChurn || k == PredictionKind::kClv ||
         k == PredictionKind::kRecommendations || k == PredictionKind::kSubscriptionChurn;
}

bool IsTrainable(PredictionKind k) { return k != PredictionKind::kImportedScores; }

// ---------------------------------------------------------------------------
// Inputs: transactions from UnifiedActivity, profile features from Customer.

struct PredictionData {
  std::unique_ptr<LinkedEntities> owned;  // set when LoadData opened the entities itself
  LinkedEntities* linked = nullptr;       // owned.get() or the stage run's shared one
  TransactionLog log;
  StaticFeatures profile;
  int32_t as_of = 0;
};

// The product of an activity row: `field` of its Fields JSON object (text or number).
std::string ProductOf(std::string_view fields_json, const std::string& field) {
  if (fields_json.empty()) return "";
  Json j = Json::parse(fields_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return it->dump();
}

StatusOr<TransactionLog> BuildLog(LinkedEntities& linked, const ProjectConfig& project, const PredictionConfig& p) {
  TransactionLogBuilder builder(static_cast<int64_t>(linked.customers().size()));
  if (!linked.snapshot().entities.count(std::string(kUnifiedActivityEntity))) return std::move(builder).Build();
  CDP_ASSIGN_OR_RETURN(auto table, linked.Load(std::string(kUnifiedActivityEntity)));
  const Column* ids = table->ColumnByName("CustomerId");
  const Column* activity = table->ColumnByName("Activity");
  const Column* time = table->ColumnByName("Timestamp");
  const Column* amount = table->ColumnByName("Amount");
  const Column* fields = table->ColumnByName("Fields");
  if (!ids || !activity || !time || !amount || !fields) {
    return DataLossError("UnifiedActivity lacks one of CustomerId, Activity, Timestamp, Amount, Fields");
  }
  std::set<std::string, std::less<>> transactions(p.activities.begin(), p.activities.end());
  std::set<std::string, std::less<>> others;
  if (p.other_activities_set) {
    others.insert(p.other_activities.begin(), p.other_activities.end());
  } else if (p.kind == PredictionKind::kTransactionalChurn || p.kind == PredictionKind::kSubscriptionChurn) {
    for (const auto& a : project.activities) {
      if (!transactions.count(a.name)) others.insert(a.name);
    }
  }
  const bool wants_product = p.kind == PredictionKind::kRecommendations || p.kind == PredictionKind::kTransactionalChurn;
  for (size_t r = 0; r < table->num_rows(); ++r) {
    if (ids->IsNull(r) || time->IsNull(r)) continue;
    int64_t c = linked.customers().IndexOf(ids->Int64At(r));
    if (c < 0) continue;
    std::string_view name = activity->StringAt(r);
    int32_t day = DayOfMicros(time->Int64At(r));
    if (transactions.count(name)) {
      double value = amount->IsNull(r) ? std::nan("") : amount->DoubleAt(r);
      std::string product = wants_product && !fields->IsNull(r) ? ProductOf(fields->StringAt(r), p.product_field) : "";
      builder.AddTransaction(c, day, value, product);
    } else if (others.count(name)) {
      builder.AddOther(c, day, name, amount->IsNull(r) ? std::nan("") : amount->DoubleAt(r));
    }
  }
  return std::move(builder).Build();
}

// Customer fields as numeric features: numbers as they are, booleans 0/1,
// dates and timestamps as years before the as-of day, text one-hot over its
// most frequent values ("State = California").
StatusOr<StaticFeatures> BuildProfile(LinkedEntities& linked, const PredictionConfig& p, int32_t as_of) {
  StaticFeatures out;
  if (p.profile_fields.empty()) return out;
  CDP_ASSIGN_OR_RETURN(auto customer, linked.Load(std::string(kCustomerEntity)));
  const size_t n = customer->num_rows();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const auto& name : p.profile_fields) {
    const Column* col = customer->ColumnByName(name);
    if (!col) {
      return InvalidArgumentError("prediction '" + p.name + "': profile_fields names '" + name +
                                  "', which is not a field of Customer");
    }
    switch (col->type()) {
      case DataType::kInt64:
      case DataType::kDouble:
      case DataType::kBool:
      case DataType::kDate:
      case DataType::kTimestamp: {
        std::vector<float> v(n, nan);
        for (size_t r = 0; r < n; ++r) {
          if (col->IsNull(r)) continue;
          switch (col->type()) {
            case DataType::kInt64:
              v[r] = static_cast<float>(col->Int64At(r));
              break;
            case DataType::kDouble:
              v[r] = static_cast<float>(col->DoubleAt(r));
              break;
            case DataType::kBool:
              v[r] = col->BoolAt(r) ? 1.0f : 0.0f;
              break;
            case DataType::kDate:
              v[r] = static_cast<float>((as_of - col->DateAt(r)) / 365.25);
              break;
            default:
              v[r] = static_cast<float>((as_of - DayOfMicros(col->Int64At(r))) / 365.25);
          }
        }
        std::string label = name;
        if (col->type() == DataType::kDate || col->type() == DataType::kTimestamp) label = "years since " + name;
        out.names.push_back(label);
        out.columns.push_back(std::move(v));
        break;
      }
      default: {
        std::map<std::string, int64_t, std::less<>> counts;
        for (size_t r = 0; r < n; ++r) {
          if (!col->IsNull(r)) ++counts[std::string(col->StringAt(r))];
        }
        std::vector<std::pair<int64_t, std::string>> top;
        for (const auto& [v, c] : counts) top.emplace_back(-c, v);
        std::sort(top.begin(), top.end());
        if (top.size() > kMaxCategories) top.resize(kMaxCategories);
        for (const auto& [neg, value] : top) {
          std::vector<float> v(n, nan);
          for (size_t r = 0; r < n; ++r) {
            if (!col->IsNull(r)) v[r] = col->StringAt(r) == value ? 1.0f : 0.0f;
          }
          out.names.push_back(name + " = " + value);
          out.columns.push_back(std::move(v));
        }
      }
    }
  }
  return out;
}

// The as-of day: the requested run date, or the day after the last
// transaction when the data end before it (a demo's or an old extract's
// data), so the last window is not empty only because the data stop.
int32_t AsOfDay(const TransactionLog& log, int32_t run_date) {
  int32_t today = run_date != 0 ? run_date : DayOfMicros(MicrosNow());
  if (log.num_transactions() == 0) return today;
  return std::min(today, log.last_day() + 1);
}

// `shared`, when given, is the stage run's LinkedEntities: its entity cache
// (UnifiedActivity, Customer) is loaded once for all the run's predictions.
StatusOr<PredictionData> LoadData(Workspace& workspace, const ProjectConfig& project, const PredictionConfig& p,
                                  int32_t run_date, LinkedEntities* shared = nullptr) {
  PredictionData d;
  if (shared) {
    d.linked = shared;
  } else {
    CDP_ASSIGN_OR_RETURN(d.owned, LinkedEntities::Open(workspace, project));
    d.linked = d.owned.get();
  }
  if (UsesTransactions(p.kind)) {
    CDP_ASSIGN_OR_RETURN(d.log, BuildLog(*d.linked, project, p));
  } else {
    TransactionLogBuilder empty(static_cast<int64_t>(d.linked->customers().size()));
    CDP_ASSIGN_OR_RETURN(d.log, std::move(empty).Build());
  }
  d.as_of = run_date != 0 && !UsesTransactions(p.kind) ? run_date : AsOfDay(d.log, run_date);
  CDP_ASSIGN_OR_RETURN(d.profile, BuildProfile(*d.linked, p, d.as_of));
  return d;
}

// The subscriptions of subscription churn, grouped by customer.
StatusOr<SubscriptionLog> BuildSubscriptions(LinkedEntities& linked, const PredictionConfig& p) {
  const SubscriptionFieldsConfig& f = p.subscriptions;
  CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, linked.Group(f.entity));
  CDP_ASSIGN_OR_RETURN(auto table, linked.Load(f.entity));
  // An optional field not configured is nullptr; a configured one must exist
  // (start and end are required by the parser).
  auto column = [&](const std::string& field) -> StatusOr<const Column*> {
    if (field.empty()) return static_cast<const Column*>(nullptr);
    const Column* c = table->ColumnByName(field);
    if (!c) {
      return InvalidArgumentError("prediction '" + p.name + "': subscriptions field '" + field + "' is not a field of " +
                                  f.entity);
    }
    return c;
  };
  CDP_ASSIGN_OR_RETURN(const Column* start, column(f.start));
  CDP_ASSIGN_OR_RETURN(const Column* end, column(f.end));
  CDP_ASSIGN_OR_RETURN(const Column* recurring, column(f.recurring));
  CDP_ASSIGN_OR_RETURN(const Column* recurrence, column(f.recurrence));
  CDP_ASSIGN_OR_RETURN(const Column* amount, column(f.amount));
  auto day_of = [&](const Column* c, size_t r, const std::string& field) -> StatusOr<int32_t> {
    if (c->type() == DataType::kDate) return c->DateAt(r);
    if (c->type() == DataType::kTimestamp) return DayOfMicros(c->Int64At(r));
    return InvalidArgumentError("prediction '" + p.name + "': subscriptions field '" + field + "' of " + f.entity +
                                " is " + std::string(DataTypeName(c->type())) + "; declare it as a date or timestamp");
  };
  auto number = [](const Column* c, size_t r) -> float {
    if (!c || c->IsNull(r)) return std::numeric_limits<float>::quiet_NaN();
    if (c->type() == DataType::kDouble) return static_cast<float>(c->DoubleAt(r));
    if (c->type() == DataType::kInt64) return static_cast<float>(c->Int64At(r));
    return std::numeric_limits<float>::quiet_NaN();
  };
  SubscriptionLogBuilder builder(static_cast<int64_t>(linked.customers().size()));
  for (size_t c = 0; c < g->num_customers; ++c) {
    for (uint64_t k = g->offsets[c]; k < g->offsets[c + 1]; ++k) {
      const uint32_t r = g->rows[k];
      if (start->IsNull(r)) continue;
      CDP_ASSIGN_OR_RETURN(int32_t s, day_of(start, r, f.start));
      int32_t e = std::numeric_limits<int32_t>::max();
      if (!end->IsNull(r)) {
        CDP_ASSIGN_OR_RETURN(e, day_of(end, r, f.end));
      }
      bool rec = recurring && !recurring->IsNull(r) && recurring->type() == DataType::kBool && recurring->BoolAt(r);
      builder.Add(static_cast<int64_t>(c), s, e, rec, number(recurrence, r), number(amount, r));
    }
  }
  return std::move(builder).Build();
}

// ---------------------------------------------------------------------------
// Readiness.

ReadinessRequirements RequirementsOf(const PredictionConfig& p) {
  ReadinessRequirements req;
  switch (p.kind) {
    case PredictionKind::kTransactionalChurn:
      req.window_days = std::max(p.window_days, p.churn_days);
      break;
    case PredictionKind::kSubscriptionChurn:
      req.window_days = p.window_days;
      break;
    case PredictionKind::kClv:
      req.window_days = static_cast<int32_t>(std::lround(p.horizon_months * 30.4375));
      req.needs_amount = true;
      break;
    case PredictionKind::kRecommendations:
      req.window_days = 30;
      req.needs_product = true;
      break;
    default:
      break;
  }
  return req;
}

Json ReadinessOf(const PredictionConfig& p, const PredictionData& d) {
  if (UsesTransactions(p.kind) && p.kind != PredictionKind::kSubscriptionChurn) {
    return AssessReadiness(d.log, d.as_of, RequirementsOf(p)).ToJson();
  }
  Json j;
  j["ready"] = true;
  j["problems"] = Json::array();
  j["profiles"] = static_cast<int64_t>(d.linked->customers().size());
  j["as_of"] = FormatDate(d.as_of);
  return j;
}

// ---------------------------------------------------------------------------
// Output tables.

Table ChurnTable(const std::vector<ChurnScore>& scores, const CustomerIndex& customers, int top) {
  std::vector<Field> fields = {Field{"CustomerId", DataType::kInt64, {}}, Field{"ChurnScore", DataType::kDouble, {}},
                               Field{"IsChurn", DataType::kBool, {}}, Field{"TopFactors", DataType::kString, {}}};
  for (int i = 1; i <= top; ++i) {
    fields.push_back(Field{"Factor" + std::to_string(i), DataType::kString, {}});
    fields.push_back(Field{"Factor" + std::to_string(i) + "Impact", DataType::kDouble, {}});
  }
  Table t{Schema(fields)};
  for (size_t c = 0; c < scores.size(); ++c) {
    const ChurnScore& s = scores[c];
    if (!s.scored) continue;
    t.mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(c)));
    t.mutable_column(1).AppendDouble(s.probability);
    t.mutable_column(2).AppendBool(s.is_churn);
    std::string text;
    for (const auto& f : s.top) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " (%+.2f)", f.contribution);
      text += (text.empty() ? "" : "; ") + f.feature + buf;
    }
    t.mutable_column(3).AppendString(text);
    for (int i = 0; i < top; ++i) {
      if (i < static_cast<int>(s.top.size())) {
        t.mutable_column(4 + 2 * i).AppendString(s.top[i].feature);
        t.mutable_column(5 + 2 * i).AppendDouble(s.top[i].contribution);
      } else {
        t.mutable_column(4 + 2 * i).AppendNull();
        t.mutable_column(5 + 2 * i).AppendNull();
      }
    }
    t.FinishRow();
  }
  return t;
}

Table ClvTable(const std::vector<ClvCustomerPrediction>& v, const CustomerIndex& customers) {
  Table t{Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"ExpectedTransactions", DataType::kDouble, {}},
                  Field{"ExpectedSpend", DataType::kDouble, {}}, Field{"ProbabilityAlive", DataType::kDouble, {}},
                  Field{"CLV", DataType::kDouble, {}}, Field{"HighValue", DataType::kBool, {}}})};
  for (size_t c = 0; c < v.size(); ++c) {
    if (!v[c].scored) continue;
    t.mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(c)));
    t.mutable_column(1).AppendDouble(v[c].expected_transactions);
    t.mutable_column(2).AppendDouble(v[c].expected_spend);
    t.mutable_column(3).AppendDouble(v[c].probability_alive);
    t.mutable_column(4).AppendDouble(v[c].clv);
    t.mutable_column(5).AppendBool(v[c].high_value);
    t.FinishRow();
  }
  return t;
}

Table RecommendationTable(const RecommendationList& list, const TransactionLog& log, const CustomerIndex& customers) {
  Table t{Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Rank", DataType::kInt64, {}},
                  Field{"ProductId", DataType::kString, {}}, Field{"Score", DataType::kDouble, {}},
                  Field{"Reason", DataType::kString, {}}})};
  for (size_t c = 0; c + 1 < list.offsets.size(); ++c) {
    int64_t rank = 1;
    for (int64_t i = list.offsets[c]; i < list.offsets[c + 1]; ++i) {
      const Recommendation& r = list.items[static_cast<size_t>(i)];
      if (r.product < 0 || r.product >= log.num_products()) continue;
      t.mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(c)));
      t.mutable_column(1).AppendInt64(rank++);
      t.mutable_column(2).AppendString(log.product_names[static_cast<size_t>(r.product)]);
      t.mutable_column(3).AppendDouble(r.score);
      t.mutable_column(4).AppendString(RecommendReasonName(r.reason));
      t.FinishRow();
    }
  }
  return t;
}

// Imported scores: the chosen fields of the latest row per customer.
StatusOr<Table> ImportedTable(LinkedEntities& linked, const PredictionConfig& p) {
  CDP_ASSIGN_OR_RETURN(const EntityByCustomer* g, linked.Group(p.entity));
  CDP_ASSIGN_OR_RETURN(auto table, linked.Load(p.entity));
  std::vector<Field> fields = {Field{"CustomerId", DataType::kInt64, {}}};
  std::vector<const Column*> cols;
  for (const auto& f : p.fields) {
    int i = table->schema().FieldIndex(f);
    if (i < 0) return InvalidArgumentError("prediction '" + p.name + "': '" + f + "' is not a field of " + p.entity);
    if (f == "CustomerId") {
      return InvalidArgumentError("prediction '" + p.name + "': CustomerId is written by the prediction; copy other fields");
    }
    fields.push_back(Field{f, table->schema().field(static_cast<size_t>(i)).type, {}});
    cols.push_back(&table->column(static_cast<size_t>(i)));
  }
  const Column* time = nullptr;
  if (!p.time_field.empty()) {
    time = table->ColumnByName(p.time_field);
    if (!time) return InvalidArgumentError("prediction '" + p.name + "': time_field '" + p.time_field + "' is not a field of " + p.entity);
    if (time->type() != DataType::kDate && time->type() != DataType::kTimestamp) {
      return InvalidArgumentError("prediction '" + p.name + "': time_field '" + p.time_field + "' must be a date or timestamp");
    }
  }
  auto when = [&](uint32_t r) -> int64_t {
    if (time->IsNull(r)) return std::numeric_limits<int64_t>::min();
    return time->type() == DataType::kDate ? static_cast<int64_t>(time->DateAt(r)) * kMicrosPerDay : time->Int64At(r);
  };
  Table t{Schema(fields)};
  for (size_t c = 0; c < g->num_customers; ++c) {
    if (g->offsets[c] == g->offsets[c + 1]) continue;
    uint32_t best = g->rows[g->offsets[c + 1] - 1];
    if (time) {
      for (uint64_t k = g->offsets[c]; k < g->offsets[c + 1]; ++k) {
        if (when(g->rows[k]) >= when(best)) best = g->rows[k];
      }
    }
    t.mutable_column(0).AppendInt64(linked.customers().customer_id(static_cast<uint32_t>(c)));
    for (size_t i = 0; i < cols.size(); ++i) t.mutable_column(i + 1).AppendFrom(*cols[i], best);
    t.FinishRow();
  }
  return t;
}

// External model: its features from Customer / Customer_Measure, in order.
StatusOr<FeatureMatrix> ExternalFeatures(LinkedEntities& linked, const PredictionConfig& p) {
  FeatureMatrix x;
  const size_t n = linked.customers().size();
  x.rows = static_cast<int64_t>(n);
  x.values.assign(n * p.features.size(), std::numeric_limits<float>::quiet_NaN());
  std::map<std::string, std::shared_ptr<const Table>> tables;
  for (size_t f = 0; f < p.features.size(); ++f) {
    const ExternalFeatureConfig& fc = p.features[f];
    x.names.push_back(fc.entity + "." + fc.field);
    if (!linked.snapshot().entities.count(fc.entity)) {
      return FailedPreconditionError("prediction '" + p.name + "': " + fc.entity + " does not exist yet (run the measures first)");
    }
    CDP_ASSIGN_OR_RETURN(auto table, linked.Load(fc.entity));
    const Column* col = table->ColumnByName(fc.field);
    if (!col) return InvalidArgumentError("prediction '" + p.name + "': feature '" + fc.field + "' is not a field of " + fc.entity);
    // Customer rows are in index order; Customer_Measure has a CustomerId column.
    const Column* ids = fc.entity == kCustomerEntity ? nullptr : table->ColumnByName("CustomerId");
    for (size_t r = 0; r < table->num_rows(); ++r) {
      int64_t c = ids ? linked.customers().IndexOf(ids->Int64At(r)) : static_cast<int64_t>(r);
      if (c < 0 || static_cast<size_t>(c) >= n || col->IsNull(r)) continue;
      float v;
      switch (col->type()) {
        case DataType::kInt64:
          v = static_cast<float>(col->Int64At(r));
          break;
        case DataType::kDouble:
          v = static_cast<float>(col->DoubleAt(r));
          break;
        case DataType::kBool:
          v = col->BoolAt(r) ? 1.0f : 0.0f;
          break;
        default:
          return InvalidArgumentError("prediction '" + p.name + "': feature " + fc.entity + "." + fc.field + " is " +
                                      std::string(DataTypeName(col->type())) + "; a model feature must be a number or a boolean");
      }
      x.values[static_cast<size_t>(c) * p.features.size() + f] = v;
    }
  }
  return x;
}

Table ScoreTable(const std::vector<float>& scores, const CustomerIndex& customers) {
  Table t{Schema({Field{"CustomerId", DataType::kInt64, {}}, Field{"Score", DataType::kDouble, {}}})};
  for (size_t c = 0; c < scores.size(); ++c) {
    t.mutable_column(0).AppendInt64(customers.customer_id(static_cast<uint32_t>(c)));
    t.mutable_column(1).AppendDouble(scores[c]);
    t.FinishRow();
  }
  return t;
}

StatusOr<std::string> ReadModelFile(const ProjectConfig& project, const PredictionConfig& p) {
  std::filesystem::path path(p.model_file);
  if (path.is_relative() && !project.base_dir.empty()) path = std::filesystem::path(project.base_dir) / path;
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return NotFoundError("prediction '" + p.name + "': cannot read model_file '" + path.string() + "'");
  if (size > kMaxModelFileBytes) {
    return InvalidArgumentError("prediction '" + p.name + "': model_file '" + path.string() + "' is " +
                                std::to_string(size) + " bytes, more than the limit of 64 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) return DataLossError("prediction '" + p.name + "': reading model_file '" + path.string() + "' failed");
  return text;
}

StatusOr<Booster> LoadExternalModel(const std::string& json, const PredictionConfig& p) {
  auto b = Booster::LoadJson(json);
  if (!b.ok()) return b.status().WithContext("prediction '" + p.name + "': model_file");
  if (b->num_features() != static_cast<int64_t>(p.features.size())) {
    return InvalidArgumentError("prediction '" + p.name + "': the model expects " + std::to_string(b->num_features()) +
                                " features but 'features' lists " + std::to_string(p.features.size()));
  }
  return std::move(*b);
}

// ---------------------------------------------------------------------------
// Training and scoring of one prediction.

struct Trained {
  std::string model;  // JSON
  Json evaluation;
  std::string grade;
};

ChurnOptions ChurnOptionsOf(const PredictionConfig& p) {
  ChurnOptions o;
  o.window_days = p.window_days;
  o.churn_days = p.churn_days;
  o.threshold = p.threshold;
  return o;
}

SubscriptionChurnOptions SubscriptionOptionsOf(const PredictionConfig& p) {
  SubscriptionChurnOptions o;
  o.window_days = p.window_days;
  o.renewal_days = p.renewal_days;
  o.threshold = p.threshold;
  return o;
}

ClvOptions ClvOptionsOf(const PredictionConfig& p) {
  ClvOptions o;
  o.horizon_days = static_cast<int32_t>(std::lround(p.horizon_months * 30.4375));
  o.high_value_share = p.high_value_share;
  o.high_value_top_percent = p.high_value_top_percent;
  return o;
}

StatusOr<RecommendOptions> RecommendOptionsOf(const PredictionConfig& p) {
  RecommendOptions o;
  CDP_ASSIGN_OR_RETURN(o.algorithm, ParseRecommendAlgorithm(p.algorithm));
  o.count = p.count;
  o.allow_repeat = p.repeat_purchases;
  o.lookback_days = p.lookback_days;
  o.products = p.products;
  return o;
}

Json EvaluationHeader(const PredictionConfig& p, const PredictionData& d) {
  Json j;
  j["name"] = p.name;
  j["kind"] = PredictionKindName(p.kind);
  j["as_of"] = FormatDate(d.as_of);
  return j;
}

StatusOr<Trained> Train(const ProjectConfig& project, const PredictionConfig& p, PredictionData& d) {
  Trained t;
  Json eval = EvaluationHeader(p, d);
  switch (p.kind) {
    case PredictionKind::kTransactionalChurn: {
      CDP_ASSIGN_OR_RETURN(ChurnModel m, TrainTransactionalChurn(d.log, d.profile, d.as_of, ChurnOptionsOf(p)));
      t.model = m.ToJson();
      t.grade = std::string(ModelGradeName(m.evaluation.grade));
      eval["evaluation"] = m.evaluation.ToJson();
      break;
    }
    case PredictionKind::kSubscriptionChurn: {
      CDP_ASSIGN_OR_RETURN(SubscriptionLog subs, BuildSubscriptions(*d.linked, p));
      CDP_ASSIGN_OR_RETURN(ChurnModel m, TrainSubscriptionChurn(subs, d.log, d.profile, d.as_of, SubscriptionOptionsOf(p)));
      t.model = m.ToJson();
      t.grade = std::string(ModelGradeName(m.evaluation.grade));
      eval["evaluation"] = m.evaluation.ToJson();
      break;
    }
    case PredictionKind::kClv: {
      // BG/NBD + Gamma-Gamma, or the boosted model where the data support it
      // and it does better on the hold-back (boosted_clv.h's rule, fixed a priori).
      ClvOptions o = ClvOptionsOf(p);
      CDP_ASSIGN_OR_RETURN(ClvEvaluation e, EvaluateClv(d.log, d.as_of, o));
      CDP_ASSIGN_OR_RETURN(ClvComparison c, CompareClvModels(d.log, d.as_of, o, e));
      CDP_ASSIGN_OR_RETURN(ClvModel m, FitClv(d.log, d.as_of, o));
      Json ej = e.ToJson();
      if (c.use_boosted) {
        CDP_ASSIGN_OR_RETURN(BoostedClvModel b, FitBoostedClv(d.log, d.as_of - o.horizon_days, o, m));
        CDP_ASSIGN_OR_RETURN(t.model, b.ToJson());
        ModelGrade g =
            GradeAgainstBaseline(static_cast<double>(c.boosted.found), static_cast<double>(c.baseline.found), 0.05);
        t.grade = std::string(ModelGradeName(g));
        ej["grade"] = t.grade;
        ej["model_found"] = c.boosted.found;
        ej["relative_to_baseline"] =
            c.baseline.found > 0 ? static_cast<double>(c.boosted.found) / static_cast<double>(c.baseline.found) - 1 : 0.0;
        ej["model_found_share"] =
            c.actual_high_value > 0 ? static_cast<double>(c.boosted.found) / static_cast<double>(c.actual_high_value) : 0.0;
        ej["mae"] = c.boosted.mae;
        ej["bgnbd_grade"] = std::string(ModelGradeName(e.grade));
        ej["figures_of"] = "grade, model_found, model_found_share, relative_to_baseline and mae are the boosted model's; "
                           "correlation, total_predicted, deciles and holdout are BG/NBD + Gamma-Gamma's "
                           "(model_comparison has both)";
      } else {
        t.model = m.ToJson();
        t.grade = std::string(ModelGradeName(e.grade));
      }
      ej["model_used"] = c.use_boosted ? "boosted" : "bgnbd_gamma_gamma";
      ej["model_comparison"] = c.ToJson();
      eval["evaluation"] = std::move(ej);
      break;
    }
    case PredictionKind::kRecommendations: {
      CDP_ASSIGN_OR_RETURN(RecommendOptions o, RecommendOptionsOf(p));
      CDP_ASSIGN_OR_RETURN(RecommendEvaluation e, EvaluateRecommender(d.log, d.as_of, 30, o));
      CDP_ASSIGN_OR_RETURN(RecommenderModel m, FitRecommender(d.log, d.as_of, o));
      t.model = m.ToJson();
      t.grade = std::string(ModelGradeName(e.grade));
      eval["evaluation"] = e.ToJson();
      break;
    }
    case PredictionKind::kExternalModel: {
      CDP_ASSIGN_OR_RETURN(std::string json, ReadModelFile(project, p));
      CDP_ASSIGN_OR_RETURN(Booster b, LoadExternalModel(json, p));
      (void)b;
      t.model = std::move(json);
      eval["evaluation"] = Json{{"note", "trained elsewhere; imported from " + p.model_file},
                                {"features", static_cast<int64_t>(p.features.size())}};
      break;
    }
    case PredictionKind::kImportedScores:
      return FailedPreconditionError("prediction '" + p.name + "' imports its scores: there is no model to train");
  }
  t.evaluation = std::move(eval);
  return t;
}

StatusOr<Table> Score(const PredictionConfig& p, const std::string& model_json, PredictionData& d) {
  const CustomerIndex& customers = d.linked->customers();
  switch (p.kind) {
    case PredictionKind::kTransactionalChurn: {
      CDP_ASSIGN_OR_RETURN(ChurnModel m, ChurnModel::FromJson(model_json));
      CDP_ASSIGN_OR_RETURN(auto scores, ScoreTransactionalChurn(m, d.log, d.profile, d.as_of));
      return ChurnTable(scores, customers, m.options.top_factors);
    }
    case PredictionKind::kSubscriptionChurn: {
      CDP_ASSIGN_OR_RETURN(ChurnModel m, ChurnModel::FromJson(model_json));
      CDP_ASSIGN_OR_RETURN(SubscriptionLog subs, BuildSubscriptions(*d.linked, p));
      CDP_ASSIGN_OR_RETURN(auto scores, ScoreSubscriptionChurn(m, subs, d.log, d.profile, d.as_of));
      return ChurnTable(scores, customers, SubscriptionOptionsOf(p).top_factors);
    }
    case PredictionKind::kClv: {
      if (model_json.starts_with(kBoostedClvJsonPrefix)) {
        CDP_ASSIGN_OR_RETURN(BoostedClvModel m, BoostedClvModel::FromJson(model_json));
        CDP_ASSIGN_OR_RETURN(auto v, PredictClvBoosted(m, d.log, d.as_of, ClvOptionsOf(p)));
        return ClvTable(v, customers);
      }
      CDP_ASSIGN_OR_RETURN(ClvModel m, ClvModel::FromJson(model_json));
      CDP_ASSIGN_OR_RETURN(auto v, PredictClv(m, d.log, d.as_of, ClvOptionsOf(p)));
      return ClvTable(v, customers);
    }
    case PredictionKind::kRecommendations: {
      CDP_ASSIGN_OR_RETURN(RecommenderModel m, RecommenderModel::FromJson(model_json));
      CDP_ASSIGN_OR_RETURN(RecommendOptions o, RecommendOptionsOf(p));
      CDP_ASSIGN_OR_RETURN(RecommendationList list, RecommendProducts(m, d.log, d.as_of, o));
      return RecommendationTable(list, d.log, customers);
    }
    case PredictionKind::kImportedScores:
      return ImportedTable(*d.linked, p);
    case PredictionKind::kExternalModel: {
      CDP_ASSIGN_OR_RETURN(Booster b, LoadExternalModel(model_json, p));
      CDP_ASSIGN_OR_RETURN(FeatureMatrix x, ExternalFeatures(*d.linked, p));
      CDP_ASSIGN_OR_RETURN(std::vector<float> scores, b.Predict(x));
      return ScoreTable(scores, customers);
    }
  }
  return InternalError("unknown prediction kind");
}

// Writes the outputs (and removes those of `removed`) as one generation.
Status CommitOutputs(Workspace& workspace, const std::vector<std::pair<std::string, Table>>& outputs,
                     const std::vector<std::string>& removed) {
  return CommitEntities(workspace, outputs, removed, "predictions");
}

StatusOr<PredictionModelRecord> TrainAndStore(Workspace& workspace, const ProjectConfig& project,
                                              const PredictionConfig& p, PredictionData& d, Json* readiness) {
  *readiness = ReadinessOf(p, d);
  if (!(*readiness)["ready"].get<bool>()) {
    std::string problems;
    for (const auto& x : (*readiness)["problems"]) problems += (problems.empty() ? "" : "; ") + x.get<std::string>();
    return FailedPreconditionError("prediction '" + p.name + "' cannot be trained: " + problems);
  }
  CDP_ASSIGN_OR_RETURN(Trained t, Train(project, p, d));
  PredictionModelRecord rec;
  rec.name = p.name;
  rec.kind = std::string(PredictionKindName(p.kind));
  rec.definition_hash = DefinitionHash(p);
  rec.trained_at = MicrosNow();
  rec.as_of_day = d.as_of;
  rec.grade = t.grade;
  rec.model = std::move(t.model);
  t.evaluation["trained_at"] = IsoTime(rec.trained_at);
  t.evaluation["grade"] = rec.grade;
  rec.evaluation = t.evaluation.dump();
  rec.readiness = readiness->dump();
  CDP_RETURN_IF_ERROR(workspace.catalog().PutPredictionModel(rec));
  return rec;
}

// Whether the stored model must be trained again: none, another definition,
// or the retrain schedule fired since it was trained.
bool NeedsTraining(const PredictionConfig& p, const std::optional<PredictionModelRecord>& rec, int64_t now) {
  if (!IsTrainable(p.kind)) return false;
  if (!rec || rec->definition_hash != DefinitionHash(p)) return true;
  if (p.retrain.empty()) return false;
  auto cron = CronSchedule::Parse(p.retrain);
  return cron.ok() && cron->Next(rec->trained_at) <= now;
}

void Progress(const PredictionRunOptions& o, double f, const std::string& detail) {
  if (o.progress) o.progress(f, detail);
}

}  // namespace

// ---------------------------------------------------------------------------
// Service.

Json ToJson(const PredictionInfo& info) {
  Json j;
  j["name"] = info.config.name;
  j["display_name"] = info.config.display_name.empty() ? info.config.name : info.config.display_name;
  j["kind"] = PredictionKindName(info.config.kind);
  j["definition"] = Json::parse(PredictionConfigToJson(info.config));
  j["output_entity"] = info.output_entity;
  j["trained"] = info.trained;
  j["trained_at"] = info.trained_at;
  j["grade"] = info.grade;
  j["scored_customers"] = info.scored_customers;
  j["scored_at"] = info.scored_at;
  return j;
}

namespace {

// Customers with at least one row (a recommendation has several per customer).
int64_t DistinctCustomers(const Table& t) {
  const Column* ids = t.ColumnByName("CustomerId");
  std::set<int64_t> s;
  for (size_t r = 0; ids && r < ids->size(); ++r) s.insert(ids->Int64At(r));
  return static_cast<int64_t>(s.size());
}

StatusOr<PredictionInfo> InfoOf(Workspace& workspace, const Snapshot& snap, const PredictionConfig& p) {
  PredictionInfo info;
  info.config = p;
  info.output_entity = PredictionEntityName(p.name);
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetPredictionModel(p.name));
  if (!IsTrainable(p.kind)) {
    info.trained = true;
  } else if (rec && rec->definition_hash == DefinitionHash(p)) {
    info.trained = true;
    info.trained_at = IsoTime(rec->trained_at);
    info.grade = rec->grade;
  }
  auto it = snap.entities.find(info.output_entity);
  if (it != snap.entities.end()) {
    CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(workspace, snap, info.output_entity));
    info.scored_customers = DistinctCustomers(*table);
    info.scored_at = IsoTime(it->second.written_at_micros);
  }
  return info;
}

}  // namespace

StatusOr<std::vector<PredictionInfo>> ListPredictions(Workspace& workspace) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  std::vector<PredictionInfo> out;
  for (const auto& p : project.predictions) {
    CDP_ASSIGN_OR_RETURN(auto info, InfoOf(workspace, snap, p));
    out.push_back(std::move(info));
  }
  return out;
}

StatusOr<PredictionInfo> GetPrediction(Workspace& workspace, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  return InfoOf(workspace, snap, *p);
}

Status ValidatePredictions(const ProjectConfig& project) {
  std::set<std::string> activities;
  for (const auto& a : project.activities) activities.insert(a.name);
  for (const auto& p : project.predictions) {
    const std::string owner = "prediction '" + p.name + "'";
    for (const auto* list : {&p.activities, &p.other_activities}) {
      for (const auto& a : *list) {
        if (!activities.count(a)) {
          return InvalidArgumentError(owner + ": activity '" + a + "' is not defined in 'activities'");
        }
      }
    }
    for (const auto& a : p.activities) {
      if (std::find(p.other_activities.begin(), p.other_activities.end(), a) != p.other_activities.end()) {
        return InvalidArgumentError(owner + ": activity '" + a + "' is both a transaction and another activity");
      }
    }
    if (p.kind == PredictionKind::kSubscriptionChurn && !project.FindSource(p.subscriptions.entity)) {
      return InvalidArgumentError(owner + ": subscriptions entity '" + p.subscriptions.entity + "' is not a declared source");
    }
    if (p.kind == PredictionKind::kImportedScores && !project.FindSource(p.entity)) {
      return InvalidArgumentError(owner + ": entity '" + p.entity + "' is not a declared source");
    }
    if (p.kind == PredictionKind::kExternalModel) {
      for (const auto& f : p.features) {
        if (f.entity == "Customer_Measure") {
          bool found = std::any_of(project.measures.begin(), project.measures.end(),
                                   [&](const MeasureConfig& m) { return m.name == f.field; });
          if (!found) return InvalidArgumentError(owner + ": feature Customer_Measure." + f.field + " is not a measure");
        }
      }
      std::filesystem::path path(p.model_file);
      if (path.is_relative() && !project.base_dir.empty()) path = std::filesystem::path(project.base_dir) / path;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        return InvalidArgumentError(owner + ": model_file '" + path.string() + "' does not exist");
      }
    }
  }
  return Status::Ok();
}

Status PutPrediction(Workspace& workspace, const PredictionConfig& prediction, DefinitionWrite write) {
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, txn.LoadProject());
    auto it = std::find_if(project.predictions.begin(), project.predictions.end(),
                           [&](const PredictionConfig& p) { return p.name == prediction.name; });
    if (write == DefinitionWrite::kCreate && it != project.predictions.end()) {
      return AlreadyExistsError("a prediction named '" + prediction.name + "' already exists");
    }
    if (write == DefinitionWrite::kUpdate && it == project.predictions.end()) {
      return NotFoundError("no prediction named '" + prediction.name + "'");
    }
    if (it == project.predictions.end()) {
      project.predictions.push_back(prediction);
    } else {
      *it = prediction;
    }
    CDP_RETURN_IF_ERROR(ValidatePredictions(project));
    return txn.ReplaceProject(project);
  }));
  // A changed definition trains again (its stored model no longer matches).
  return Status::Ok();
}

Status DeletePrediction(Workspace& workspace, const std::string& name) {
  CDP_RETURN_IF_ERROR(workspace.catalog().UpdateDefinitions([&](DefinitionsTxn& txn) -> Status {
    CDP_ASSIGN_OR_RETURN(ProjectConfig project, txn.LoadProject());
    auto it = std::find_if(project.predictions.begin(), project.predictions.end(),
                           [&](const PredictionConfig& p) { return p.name == name; });
    if (it == project.predictions.end()) return NotFoundError("no prediction named '" + name + "'");
    project.predictions.erase(it);
    return txn.ReplaceProject(project);
  }));
  CDP_RETURN_IF_ERROR(workspace.catalog().DeletePredictionModel(name));
  return CommitOutputs(workspace, {}, [&] {
    std::vector<std::string> v;
    auto snap = workspace.data().Current();
    if (snap.ok() && snap->entities.count(PredictionEntityName(name))) v.push_back(PredictionEntityName(name));
    return v;
  }());
}

StatusOr<Json> PredictionReadiness(Workspace& workspace, const std::string& name, const PredictionRunOptions& options) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  CDP_ASSIGN_OR_RETURN(PredictionData d, LoadData(workspace, project, *p, options.run_date));
  return ReadinessOf(*p, d);
}

Json ToJson(const PredictionTrainReport& r) {
  Json j;
  j["name"] = r.name;
  j["kind"] = r.kind;
  j["trained_at"] = r.trained_at;
  j["grade"] = r.grade;
  j["readiness"] = r.readiness;
  j["evaluation"] = r.evaluation;
  j["duration_ms"] = r.duration_micros / 1000;
  return j;
}

Json ToJson(const PredictionScoreReport& r) {
  Json j;
  j["name"] = r.name;
  j["output_entity"] = r.output_entity;
  j["rows"] = r.rows;
  j["customers"] = r.customers;
  j["duration_ms"] = r.duration_micros / 1000;
  return j;
}


StatusOr<PredictionTrainReport> TrainPrediction(Workspace& workspace, const std::string& name,
                                                const PredictionRunOptions& options) {
  const int64_t start = MicrosNow();
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  if (!IsTrainable(p->kind)) {
    return FailedPreconditionError("prediction '" + name + "' imports its scores: there is no model to train (use score)");
  }
  Progress(options, 0.05, "loading data");
  CDP_ASSIGN_OR_RETURN(PredictionData d, LoadData(workspace, project, *p, options.run_date));
  Progress(options, 0.2, "training");
  Json readiness;
  CDP_ASSIGN_OR_RETURN(PredictionModelRecord rec, TrainAndStore(workspace, project, *p, d, &readiness));
  Progress(options, 0.8, "scoring");
  CDP_ASSIGN_OR_RETURN(Table t, Score(*p, rec.model, d));
  CDP_RETURN_IF_ERROR(CommitOutputs(workspace, {{PredictionEntityName(p->name), std::move(t)}}, {}));
  Progress(options, 1.0, "done");
  PredictionTrainReport r;
  r.name = p->name;
  r.kind = rec.kind;
  r.trained_at = IsoTime(rec.trained_at);
  r.grade = rec.grade;
  r.readiness = std::move(readiness);
  r.evaluation = Json::parse(rec.evaluation);
  r.duration_micros = MicrosNow() - start;
  return r;
}

StatusOr<PredictionScoreReport> ScorePrediction(Workspace& workspace, const std::string& name,
                                                const PredictionRunOptions& options) {
  const int64_t start = MicrosNow();
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  std::string model;
  if (IsTrainable(p->kind)) {
    CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetPredictionModel(name));
    if (!rec || rec->definition_hash != DefinitionHash(*p)) {
      return FailedPreconditionError("prediction '" + name + "' has no model for its current definition: train it first");
    }
    model = std::move(rec->model);
  }
  Progress(options, 0.1, "loading data");
  CDP_ASSIGN_OR_RETURN(PredictionData d, LoadData(workspace, project, *p, options.run_date));
  Progress(options, 0.5, "scoring");
  CDP_ASSIGN_OR_RETURN(Table t, Score(*p, model, d));
  PredictionScoreReport r;
  r.name = p->name;
  r.output_entity = PredictionEntityName(p->name);
  r.rows = static_cast<int64_t>(t.num_rows());
  r.customers = DistinctCustomers(t);
  CDP_RETURN_IF_ERROR(CommitOutputs(workspace, {{r.output_entity, std::move(t)}}, {}));
  Progress(options, 1.0, "done");
  r.duration_micros = MicrosNow() - start;
  return r;
}

StatusOr<Json> PredictionEvaluation(Workspace& workspace, const std::string& name) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  CDP_ASSIGN_OR_RETURN(auto rec, workspace.catalog().GetPredictionModel(name));
  if (!rec) return NotFoundError("prediction '" + name + "' is not trained yet");
  Json j = Json::parse(rec->evaluation, nullptr, false);
  if (j.is_discarded()) return DataLossError("the stored evaluation of prediction '" + name + "' is not JSON");
  j["current"] = rec->definition_hash == DefinitionHash(*p);
  j["readiness"] = Json::parse(rec->readiness, nullptr, false);
  return j;
}

namespace {

// The column the scores page sorts by, highest first ("" = stored order).
std::string MainScore(PredictionKind k, const Table& t) {
  switch (k) {
    case PredictionKind::kTransactionalChurn:
    case PredictionKind::kSubscriptionChurn:
      return "ChurnScore";
    case PredictionKind::kClv:
      return "CLV";
    case PredictionKind::kExternalModel:
      return "Score";
    case PredictionKind::kImportedScores:
      return t.num_columns() > 1 && (t.column(1).type() == DataType::kDouble || t.column(1).type() == DataType::kInt64)
                 ? t.schema().field(1).name
                 : "";
    case PredictionKind::kRecommendations:
      return "";
  }
  return "";
}

Json CellJson(const Column& c, size_t r) {
  if (c.IsNull(r)) return nullptr;
  switch (c.type()) {
    case DataType::kInt64:
      return c.Int64At(r);
    case DataType::kDouble:
      return std::isfinite(c.DoubleAt(r)) ? Json(c.DoubleAt(r)) : Json(nullptr);
    case DataType::kBool:
      return c.BoolAt(r);
    case DataType::kDate:
      return FormatDate(c.DateAt(r));
    case DataType::kTimestamp:
      return IsoTime(c.Int64At(r));
    default:
      return std::string(c.StringAt(r));
  }
}

double SortValue(const Column& c, size_t r) {
  if (c.IsNull(r)) return -std::numeric_limits<double>::infinity();
  return c.type() == DataType::kDouble ? c.DoubleAt(r) : static_cast<double>(c.Int64At(r));
}

}  // namespace

StatusOr<Json> PredictionScores(Workspace& workspace, const std::string& name, int64_t offset, int64_t limit) {
  if (offset < 0) return InvalidArgumentError("offset must be 0 or more");
  if (limit < 1 || limit > 500) return InvalidArgumentError("limit must be from 1 to 500");
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(const PredictionConfig* p, FindPrediction(project, name));
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  const std::string entity = PredictionEntityName(name);
  if (!snap.entities.count(entity)) {
    return NotFoundError("prediction '" + name + "' has no scores yet: train it or run a refresh");
  }
  CDP_ASSIGN_OR_RETURN(auto table, LoadEntity(workspace, snap, entity));
  std::vector<size_t> order(table->num_rows());
  std::iota(order.begin(), order.end(), size_t{0});
  std::string by = MainScore(p->kind, *table);
  if (!by.empty() && table->ColumnByName(by)) {
    const Column& c = *table->ColumnByName(by);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return SortValue(c, a) > SortValue(c, b); });
  }
  Json j;
  j["total"] = static_cast<int64_t>(order.size());
  j["offset"] = offset;
  j["limit"] = limit;
  Json cols = Json::array();
  for (size_t i = 0; i < table->num_columns(); ++i) cols.push_back(table->schema().field(i).name);
  j["columns"] = cols;
  Json rows = Json::array();
  for (int64_t k = offset; k < offset + limit && k < static_cast<int64_t>(order.size()); ++k) {
    Json row = Json::array();
    for (size_t i = 0; i < table->num_columns(); ++i) row.push_back(CellJson(table->column(i), order[static_cast<size_t>(k)]));
    rows.push_back(std::move(row));
  }
  j["rows"] = std::move(rows);
  return j;
}

StatusOr<Json> CustomerPredictions(Workspace& workspace, int64_t customer_id) {
  CDP_ASSIGN_OR_RETURN(ProjectConfig project, workspace.catalog().LoadProject());
  CDP_ASSIGN_OR_RETURN(Snapshot snap, workspace.data().Current());
  return CustomerPredictions(workspace, project, snap, customer_id);
}

StatusOr<Json> CustomerPredictions(Workspace& workspace, const ProjectConfig& project, const Snapshot& snap,
                                   int64_t customer_id) {
  Json out = Json::array();
  for (const auto& p : project.predictions) {
    const std::string entity = PredictionEntityName(p.name);
    if (!snap.entities.count(entity)) continue;
    auto indexed = LoadCustomerRows(workspace, snap, entity);
    if (!indexed.ok() && indexed.status().code() == StatusCode::kFailedPrecondition) continue;  // no CustomerId
    CDP_RETURN_IF_ERROR(indexed.status());
    const Table* table = (*indexed)->table.get();
    const std::vector<uint32_t> rows = (*indexed)->Of(customer_id);
    Json item;
    item["name"] = p.name;
    item["display_name"] = p.display_name.empty() ? p.name : p.display_name;
    item["kind"] = PredictionKindName(p.kind);
    bool found = false;
    if (p.kind == PredictionKind::kRecommendations) {
      Json products = Json::array();
      for (uint32_t r : rows) {
        products.push_back(Json{{"ProductId", CellJson(*table->ColumnByName("ProductId"), r)},
                                {"Score", CellJson(*table->ColumnByName("Score"), r)},
                                {"Reason", CellJson(*table->ColumnByName("Reason"), r)}});
        found = true;
      }
      item["products"] = std::move(products);
    } else {
      for (uint32_t r : rows) {
        Json values;
        for (size_t i = 0; i < table->num_columns(); ++i) {
          if (table->schema().field(i).name == "CustomerId") continue;
          values[table->schema().field(i).name] = CellJson(table->column(i), r);
        }
        item["values"] = std::move(values);
        found = true;
      }
    }
    if (found) out.push_back(std::move(item));
  }
  return out;
}

// ---------------------------------------------------------------------------
// The stage.

StageDescriptor PredictionsStage() {
  StageDescriptor d;
  d.name = "predictions";
  d.not_applicable = [](const StageContext& c) -> StatusOr<std::optional<std::string>> {
    if (c.project.predictions.empty()) return std::optional<std::string>("no predictions configured");
    return std::optional<std::string>();
  };
  d.inputs = [](const StageContext& c, const Snapshot& snap) -> StatusOr<StageInputs> {
    StageInputs in;
    in.AddDefinition("predictions", PredictionsToJson(c.project.predictions));
    in.AddDefinition("activities", ActivitiesToJson(c.project.activities));
    in.AddDefinition("relationships", RelationshipsToJson(c.project.relationships));
    for (const auto& [name, info] : snap.entities) {
      EntityKind k = EntityKindOf(name);
      if (k == EntityKind::kCustomer || k == EntityKind::kUnifiedActivity || k == EntityKind::kCustomerMeasure ||
          k == EntityKind::kSourceKeys || k == EntityKind::kSource) {
        in.AddEntity(snap, name);
      }
    }
    // A due retrain runs the stage. (A model trained by hand was scored by
    // `cdp predict train` itself; a missing model trains when the stage runs
    // for any other reason, or by hand.)
    const int64_t now = MicrosNow();
    for (const auto& p : c.project.predictions) {
      CDP_ASSIGN_OR_RETURN(auto rec, c.workspace.catalog().GetPredictionModel(p.name));
      if (rec && NeedsTraining(p, rec, now)) in.AddDefinition("retrain due " + p.name, std::to_string(now));
    }
    in.AddRunDate(c.run_date);
    return in;
  };
  d.is_output = [](const StageContext&, const std::string& n) { return EntityKindOf(n) == EntityKind::kPrediction; };
  d.run = [](const StageContext& c, StageResult* r) -> Status {
    std::vector<std::pair<std::string, Table>> outputs;
    std::vector<std::string> removed;
    CDP_ASSIGN_OR_RETURN(Snapshot snap, c.workspace.data().Current());
    std::set<std::string> wanted;
    for (const auto& p : c.project.predictions) wanted.insert(PredictionEntityName(p.name));
    for (const auto& [name, info] : snap.entities) {
      if (EntityKindOf(name) == EntityKind::kPrediction && !wanted.count(name)) removed.push_back(name);
    }
    const int64_t now = MicrosNow();
    int trained = 0;
    const size_t n = c.project.predictions.size();
    // One LinkedEntities (and so one load of UnifiedActivity and Customer)
    // for all the run's predictions. If it cannot be opened, each prediction
    // tries itself and reports the failure as its warning, as before.
    std::unique_ptr<LinkedEntities> linked;
    if (n > 0) {
      auto opened = LinkedEntities::Open(c.workspace, c.project);
      if (opened.ok()) linked = std::move(opened).value();
    }
    for (size_t i = 0; i < n; ++i) {
      if (c.cancelled && c.cancelled()) {
        r->status = "cancelled";
        return Status::Ok();
      }
      const PredictionConfig& p = c.project.predictions[i];
      if (c.progress) c.progress(static_cast<double>(i) / static_cast<double>(n), p.name);
      auto one = [&]() -> Status {
        CDP_ASSIGN_OR_RETURN(auto rec, c.workspace.catalog().GetPredictionModel(p.name));
        CDP_ASSIGN_OR_RETURN(PredictionData data, LoadData(c.workspace, c.project, p, c.run_date, linked.get()));
        std::string model;
        if (NeedsTraining(p, rec, now)) {
          Json readiness;
          CDP_ASSIGN_OR_RETURN(PredictionModelRecord fresh, TrainAndStore(c.workspace, c.project, p, data, &readiness));
          model = std::move(fresh.model);
          ++trained;
        } else if (rec) {
          model = std::move(rec->model);
        }
        CDP_ASSIGN_OR_RETURN(Table t, Score(p, model, data));
        r->rows_out += static_cast<int64_t>(t.num_rows());
        outputs.emplace_back(PredictionEntityName(p.name), std::move(t));
        return Status::Ok();
      };
      Status s = one();
      if (!s.ok()) {
        // One prediction's failure (e.g. data not ready) is a warning: the
        // others are scored and its last output stays.
        r->warnings.push_back("prediction '" + p.name + "': " + s.message());
      }
    }
    CDP_RETURN_IF_ERROR(CommitOutputs(c.workspace, outputs, removed));
    r->message = std::to_string(outputs.size()) + " of " + std::to_string(n) + " prediction(s) scored, " +
                 std::to_string(trained) + " trained";
    return Status::Ok();
  };
  return d;
}

}  // namespace cdp
