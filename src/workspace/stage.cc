#include "workspace/stage.h"

#include <xxhash.h>

#include <cstdio>
#include <cstdlib>

#include "workspace/enrichment_runner.h"
#include "workspace/export_runner.h"
#include "workspace/prediction_runner.h"
#include "workspace/search_stage.h"

namespace cdp {

void StageInputs::AddDefinition(std::string_view name, std::string_view value) {
  text_ += std::to_string(name.size()) + ":" + std::string(name) + "=" + std::to_string(value.size()) + ":" +
           std::string(value) + "\n";
}

void StageInputs::AddEntity(const Snapshot& snapshot, const std::string& entity) {
  auto it = snapshot.entities.find(entity);
  AddDefinition("entity " + entity, it == snapshot.entities.end() ? "-" : it->second.file);
}

void StageInputs::AddRunDate(int32_t run_date) { AddDefinition("run_date", std::to_string(run_date)); }

std::string StageInputs::Fingerprint() const {
  XXH128_hash_t h = XXH3_128bits(text_.data(), text_.size());
  char out[40];
  std::snprintf(out, sizeof(out), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return out;
}

Status StageRegistry::Register(StageDescriptor stage) {
  if (stage.name.empty() || !stage.run) return InvalidArgumentError("a stage needs a name and a run function");
  if (Find(stage.name)) return AlreadyExistsError("a stage named '" + stage.name + "' is already registered");
  stages_.push_back(std::move(stage));
  return Status::Ok();
}

const StageDescriptor* StageRegistry::Find(std::string_view name) const {
  for (const auto& s : stages_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const StageRegistry& StageRegistry::Default() {
  static const StageRegistry* registry = [] {
    auto* r = new StageRegistry();
    for (StageDescriptor d : {IngestStage(), SourceEnrichmentsStage(), UnifyStage(), ActivitiesStage(), EnrichmentsStage(), MeasuresStage(), PredictionsStage(), SegmentsStage(),
                              ExportsStage(), IndexStage()}) {
      Status s = r->Register(std::move(d));
      if (!s.ok()) std::abort();  // the built-in names are distinct
    }
    return r;
  }();
  return *registry;
}

}  // namespace cdp
