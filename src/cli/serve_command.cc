#include "cli/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "server/api_server.h"

namespace cdp {
namespace {

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 64;  // civetweb serves a keep-alive connection on one thread for its life
  std::string ui_dir;
  size_t max_page_size = 1000;
  size_t max_body_bytes = 4 << 20;
  bool quiet = false;
  bool no_schedules = false;
  int refresh_threads = 0;
};

std::string DefaultUiDir() {
#ifdef CDP_DEFAULT_UI_DIR
  if (std::filesystem::exists(std::string(CDP_DEFAULT_UI_DIR) + "/index.html")) return CDP_DEFAULT_UI_DIR;
#endif
  return "";
}

int Serve(const std::string& workspace, const ServeFlags& f) {
  // Block the stop signals in every thread (the server's threads inherit the
  // mask) and wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ApiServerOptions o;
  o.http.host = f.host;
  o.http.port = f.port;
  o.http.threads = f.threads;
  o.http.max_body_bytes = f.max_body_bytes;
  o.ui_dir = f.ui_dir.empty() ? DefaultUiDir() : f.ui_dir;
  o.max_page_size = f.max_page_size;
  o.log_requests = !f.quiet;
  o.run_schedules = !f.no_schedules;
  o.refresh_threads = static_cast<size_t>(f.refresh_threads);
  if (!f.quiet) std::cerr << "Loading workspace " << workspace << " ...\n";
  auto server = ApiServer::Start(workspace, o);
  if (!server.ok()) {
    std::cerr << "error: " << server.status().ToString() << "\n";
    return 1;
  }
  std::string host = f.host.find(':') != std::string::npos ? "[" + f.host + "]" : f.host;
  std::cout << "Serving http://" << host << ":" << (*server)->port() << "/ (API: /api/v1, OpenAPI: /api/v1/openapi.json"
            << (o.ui_dir.empty() ? ", no web UI" : ", web UI from " + o.ui_dir) << ")" << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  std::cout << "Received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ": finishing requests and stopping" << std::endl;
  (*server)->Stop();
  std::cout << "Stopped." << std::endl;
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, std::string* workspace, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  auto* serve = app.add_subcommand("serve", "serve the REST API and the web UI until SIGTERM/SIGINT");
  serve->add_option("-w,--workspace", *workspace, "workspace directory")->capture_default_str();
  serve->add_option("--host", flags->host, "address to listen on")->capture_default_str();
  serve->add_option("--port", flags->port, "TCP port (0 = any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  serve->add_option("--threads", flags->threads, "HTTP worker threads (connections served at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  serve->add_option("--ui-dir", flags->ui_dir, "directory of the built web UI (default: web/dist of the source tree)");
  serve->add_option("--max-page-size", flags->max_page_size, "largest `limit` of paged lists")->capture_default_str();
  serve->add_option("--max-body-bytes", flags->max_body_bytes, "largest request body")->capture_default_str();
  serve->add_option("--refresh-threads", flags->refresh_threads, "worker threads of refreshes (0 = all cores)");
  serve->add_flag("--quiet", flags->quiet, "no request log");
  serve->add_flag("--no-schedules", flags->no_schedules, "do not run the cron schedules");
  serve->callback([workspace, exit_code, flags] { *exit_code = Serve(*workspace, *flags); });
}

}  // namespace cdp
