// `cdp demo generate`: the Contoso Coffee demo sources.
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "demo/demo_generator.h"

namespace cdp {
namespace {

Status CmdDemoGenerate(const Globals& g, int64_t customers, uint64_t seed, const std::string& out) {
  DemoOptions options;
  options.customers = customers;
  options.seed = seed;
  options.out_dir = out;
  std::string stage;
  std::unique_ptr<ProgressBar> bar_stage;
  options.progress = [&](const DemoProgress& p) {
    if (p.stage != stage) {
      stage = std::string(p.stage);
      bar_stage = std::make_unique<ProgressBar>("generate " + stage);
    }
    bar_stage->Update(static_cast<uint64_t>(p.done), static_cast<uint64_t>(p.total), std::to_string(p.done));
  };
  DemoSummary summary;
  Status s = GenerateContosoDemo(options, &summary);
  bar_stage.reset();
  if (!s.ok()) return s;
  if (g.json) {
    Json files = Json::array();
    for (const auto& f : summary.files) files.push_back({{"file", f.path}, {"rows", f.rows}});
    PrintJson({{"out", out}, {"customers", customers}, {"seed", seed}, {"files", files}});
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : summary.files) rows.push_back({f.name, std::to_string(f.rows)});
    PrintTable({"file", "rows"}, rows);
  }
  return Status::Ok();
}

}  // namespace

void AddDemoCommands(CommandLine& cli, CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "Contoso Coffee demo data");
  demo->require_subcommand(1);
  auto* gen = demo->add_subcommand("generate", "write the demo sources and a truth file");
  struct Options {
    int64_t customers = 5000;
    uint64_t seed = 42;
    std::string out;
  };
  auto o = std::make_shared<Options>();
  gen->add_option("--customers", o->customers, "number of real people")->capture_default_str()->check(CLI::PositiveNumber);
  gen->add_option("--seed", o->seed, "random seed")->capture_default_str();
  gen->add_option("--out", o->out, "output directory")->required();
  gen->add_flag("--json", cli.g.json, "print JSON");
  cli.OnRun(gen, [&cli, o] { return CmdDemoGenerate(cli.g, o->customers, o->seed, o->out); });
}

}  // namespace cdp
