// `cdp serve`: runs the REST API server (src/server) until SIGTERM/SIGINT.
#pragma once

#include <CLI/CLI.hpp>

namespace cdp {

// Adds the `serve` subcommand to `app`; its exit code goes to *exit_code.
void AddServeCommand(CLI::App& app, std::string* workspace, int* exit_code);

}  // namespace cdp
