// libFuzzer target of the project configuration parsers (config/). Any text
// is read as a project YAML; a project that parses must emit YAML that
// parses back to an equal project (project_config.h promises the round
// trip), and each source must round-trip through its JSON form. The same
// text is also read as the JSON forms the catalog and the API use (sources,
// relationships, activities, measures, unification); a list that parses must round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/model_config.h"
#include "config/project_config.h"
#include "config/unify_config.h"

namespace {

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "project_yaml_fuzz: %s\n", what.c_str());
  abort();
}

template <typename Unused, typename Parse, typename Print>
void RoundTrip(const std::string& text, Parse parse, Print print, const char* what) {
  auto v = parse(text);
  if (!v.ok()) return;
  std::string json = print(*v);
  auto back = parse(json);
  if (!back.ok()) Fail(std::string(what) + ": its JSON does not parse: " + back.status().ToString() + "\n" + json);
  if (!(*back == *v)) Fail(std::string(what) + ": JSON round trip changes the value\n" + json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto project = cdp::ParseProjectYaml(text, "project.yaml", "/fuzz");
  if (project.ok()) {
    std::string yaml = cdp::EmitProjectYaml(*project);
    auto back = cdp::ParseProjectYaml(yaml, "emitted.yaml", "/fuzz");
    if (!back.ok()) Fail("emitted YAML does not parse: " + back.status().ToString() + "\n" + yaml);
    if (!(*back == *project)) Fail("YAML round trip changes the project\n" + yaml);
    for (const auto& source : project->sources) {
      auto s = cdp::SourceConfigFromJson(cdp::SourceConfigToJson(source));
      if (!s.ok()) Fail("a source's JSON does not parse: " + s.status().ToString());
      if (!(*s == source)) Fail("JSON round trip changes source " + source.name);
    }
  }
  using cdp::SourceConfig;
  auto source = cdp::SourceConfigFromJson(text);
  if (source.ok()) {
    auto back = cdp::SourceConfigFromJson(cdp::SourceConfigToJson(*source));
    if (!back.ok() || !(*back == *source)) Fail("source JSON round trip fails");
  }
  RoundTrip<int>(text, cdp::RelationshipsFromJson, cdp::RelationshipsToJson, "relationships");
  RoundTrip<int>(text, cdp::ActivitiesFromJson, cdp::ActivitiesToJson, "activities");
  RoundTrip<int>(text, cdp::MeasuresFromJson, cdp::MeasuresToJson, "measures");
  RoundTrip<int>(text, cdp::UnifyConfigFromJson, cdp::UnifyConfigToJson, "unification");
  return 0;
}
