#include "cli/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "server/api_server.h"

namespace cdp {
namespace {

struct ServeFlags {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 32;     // workers running requests; slow or idle clients hold none
  int io_threads = 2;   // socket reads and writes (asynchronous)
  std::string ui_dir;
  size_t max_page_size = 1000;
  size_t max_body_bytes = 4 << 20;
  size_t max_header_bytes = 16 << 10;
  size_t max_headers = 64;
  size_t max_target_bytes = 8 << 10;
  double header_timeout = 10;
  double body_timeout = 30;
  double keep_alive_timeout = 30;
  double send_timeout = 30;
  size_t max_connections = 2048;
  size_t max_connections_per_client = 256;
  int max_json_depth = 64;
  std::vector<std::string> cors_origins;
  bool quiet = false;
  bool no_schedules = false;
  int refresh_threads = 0;
};

int Millis(double seconds) { return static_cast<int>(seconds * 1000.0 + 0.5); }

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
  o.http.io_threads = f.io_threads;
  o.http.max_body_bytes = f.max_body_bytes;
  o.http.max_header_bytes = f.max_header_bytes;
  o.http.max_headers = f.max_headers;
  o.http.max_target_bytes = f.max_target_bytes;
  o.http.header_timeout_ms = Millis(f.header_timeout);
  o.http.body_timeout_ms = Millis(f.body_timeout);
  o.http.keep_alive_timeout_ms = Millis(f.keep_alive_timeout);
  o.http.send_timeout_ms = Millis(f.send_timeout);
  o.http.max_connections = f.max_connections;
  o.http.max_connections_per_client = f.max_connections_per_client;
  o.max_json_depth = f.max_json_depth;
  o.cors_origins = f.cors_origins;
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
  serve->add_option("--threads", flags->threads, "HTTP worker threads (requests handled at once)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  serve->add_option("--io-threads", flags->io_threads, "HTTP I/O threads (read and write sockets asynchronously)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve->add_option("--ui-dir", flags->ui_dir, "directory of the built web UI (default: web/dist of the source tree)");
  serve->add_option("--max-page-size", flags->max_page_size, "largest `limit` of paged lists")->capture_default_str();
  serve->add_option("--max-body-bytes", flags->max_body_bytes, "largest request body (larger: 413, not read)")
      ->capture_default_str();
  serve->add_option("--max-header-bytes", flags->max_header_bytes, "largest request line + headers (larger: 431)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{256}, size_t{1} << 20));
  serve->add_option("--max-headers", flags->max_headers, "most header fields in a request (more: 431)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10000}));
  serve->add_option("--max-target-bytes", flags->max_target_bytes, "longest request target, path + query (longer: 414)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{16}, size_t{1} << 20));
  serve->add_option("--header-timeout", flags->header_timeout,
                    "seconds to receive a request's whole header (total, not per read)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  serve->add_option("--body-timeout", flags->body_timeout, "seconds to receive a request's whole body (total)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  serve->add_option("--keep-alive-timeout", flags->keep_alive_timeout, "seconds a connection may idle between requests")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  serve->add_option("--send-timeout", flags->send_timeout,
                    "seconds a client has to take a response (each chunk of a streamed one)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  serve->add_option("--max-connections", flags->max_connections, "open connections in all (more: 503, closed)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve->add_option("--max-connections-per-client", flags->max_connections_per_client,
                    "open connections per client address (more: 503, closed)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve->add_option("--max-json-depth", flags->max_json_depth, "deepest nesting of a JSON request body (deeper: 400)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve->add_option("--cors-origin", flags->cors_origins,
                    "an origin (e.g. https://app.example.com) allowed to call the API from a browser; "
                    "repeatable; none = CORS off");
  serve->add_option("--refresh-threads", flags->refresh_threads, "worker threads of refreshes (0 = all cores)");
  serve->add_flag("--quiet", flags->quiet, "no request log");
  serve->add_flag("--no-schedules", flags->no_schedules, "do not run the cron schedules");
  serve->callback([workspace, exit_code, flags] { *exit_code = Serve(*workspace, *flags); });
}

}  // namespace cdp
