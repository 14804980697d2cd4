// cdp: the command-line interface. Each command group registers its
// subcommands (cli/command.h); a command returns a Status that ReportStatus
// turns into a message and an exit code: 0 success, 1 failure, 2 usage error.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/command.h"
#include "cli/serve_command.h"
#include "connectors/clickhouse/clickhouse_destination.h"
#include "connectors/postgres/postgres_connector.h"
#include "connectors/postgres/postgres_destination.h"
#include "connectors/sftp/sftp_destination.h"
#include "connectors/webhook/webhook_destination.h"
#include "export/file_destination.h"
#include "workspace/source_registry.h"

namespace cdp {
namespace {

int Main(int argc, char** argv) {
  // Optional integrations register their connectors here; the workspace
  // knows only the file kinds.
  if (Status s = RegisterPostgresConnector(SourceRegistry::Global()); !s.ok()) return ReportStatus(s);
  if (Status s = RegisterPostgresDestination(DestinationRegistry::Global()); !s.ok()) return ReportStatus(s);
  if (Status s = RegisterWebhookDestination(DestinationRegistry::Global()); !s.ok()) return ReportStatus(s);
  if (Status s = RegisterSftpDestination(DestinationRegistry::Global()); !s.ok()) return ReportStatus(s);
  if (Status s = RegisterClickHouseDestination(DestinationRegistry::Global()); !s.ok()) return ReportStatus(s);
  if (Status s = RegisterFileDestinations(DestinationRegistry::Global()); !s.ok()) return ReportStatus(s);
  CLI::App app{"cdp: an open-source Customer Data Platform"};
  app.require_subcommand(1);
  CommandLine cli;
  AddProjectCommands(cli, app);
  AddDataCommands(cli, app);
  AddRunCommands(cli, app);
  AddUnifyCommands(cli, app);
  AddActivityCommands(cli, app);
  AddMeasureCommands(cli, app);
  AddSegmentCommands(cli, app);
  AddDemoCommands(cli, app);
  AddApiKeyCommands(cli, app);
  AddExportCommands(cli, app);
  AddPredictCommands(cli, app);
  AddEnrichCommands(cli, app);
  AddServeCommand(app, &cli.g.workspace, &cli.exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  return cli.exit_code;
}

}  // namespace
}  // namespace cdp

int main(int argc, char** argv) {
  try {
    return cdp::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: Internal: " << e.what() << "\n";
    return 1;
  }
}
