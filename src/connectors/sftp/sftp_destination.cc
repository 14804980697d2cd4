#include "connectors/sftp/sftp_destination.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/value_text.h"
#include "export/export_value.h"

namespace cdp {
namespace {

constexpr char kKind[] = "sftp";
constexpr size_t kWriteChunk = 32 * 1024;     // bytes per SFTP write request (servers accept >= 32 KiB)
constexpr size_t kMaxTargetLength = 200;      // bytes of a file stem
constexpr long kConnectTimeoutSeconds = 30;
constexpr size_t kMaxSecretBytes = 64 * 1024;  // a private key is a few KiB
constexpr size_t kMaxSamples = 10;
constexpr std::string_view kChangeColumn = "_change";

const std::set<std::string, std::less<>> kSettings = {"host", "port", "user", "path", "known_hosts",
                                                      "host_key_sha256"};
const std::set<std::string, std::less<>> kSecrets = {"private_key", "private_key_passphrase", "password"};

std::string Prefix(const ResolvedConnection& connection) {
  return "sftp connection '" + connection.name + "'";
}

// ---------------------------------------------------------------- formatting

enum class FileFormat { kCsv, kJsonl };

// The record layout is the files destination's (export/file_destination.h):
// a delta file's first column is `_change`.
std::vector<ExportField> FileFields(const ExportSchema& schema, bool delta) {
  std::vector<ExportField> fields;
  if (delta) fields.push_back(ExportField{std::string(kChangeColumn), DataType::kString});
  fields.insert(fields.end(), schema.fields.begin(), schema.fields.end());
  return fields;
}

std::string Header(const std::vector<ExportField>& fields, FileFormat format) {
  std::string out;
  if (format == FileFormat::kCsv) AppendCsvHeader(&out, fields);
  return out;
}

// Streaming gzip (RFC 1952) of everything passed to Add.
class GzipStream {
 public:
  GzipStream() = default;
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  ~GzipStream() {
    if (initialized_) deflateEnd(&z_);
  }

  Status Init() {
    std::memset(&z_, 0, sizeof(z_));
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return InternalError("cannot start a gzip stream");
    }
    initialized_ = true;
    return Status::Ok();
  }

  // Compresses `in` and appends the output that is ready to `out`; `finish`
  // ends the stream.
  Status Add(std::string_view in, bool finish, std::string& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buffer[64 * 1024];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buffer);
      z_.avail_out = sizeof(buffer);
      const int rc = deflate(&z_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) return InternalError("gzip compression failed");
      out.append(buffer, sizeof(buffer) - z_.avail_out);
      if (finish ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) break;
    }
    return Status::Ok();
  }

 private:
  z_stream z_;
  bool initialized_ = false;
};

// ---------------------------------------------------------------- ssh

std::string SftpErrorText(sftp_session sftp, ssh_session ssh) {
  std::string code;
  switch (sftp_get_error(sftp)) {
    case SSH_FX_OK: code = ""; break;
    case SSH_FX_EOF: code = "end of file"; break;
    case SSH_FX_NO_SUCH_FILE: code = "no such file or directory"; break;
    case SSH_FX_PERMISSION_DENIED: code = "permission denied"; break;
    case SSH_FX_FAILURE: code = "failure"; break;
    case SSH_FX_BAD_MESSAGE: code = "bad message"; break;
    case SSH_FX_NO_CONNECTION: code = "no connection"; break;
    case SSH_FX_CONNECTION_LOST: code = "connection lost"; break;
    case SSH_FX_OP_UNSUPPORTED: code = "operation unsupported"; break;
    case SSH_FX_INVALID_HANDLE: code = "invalid handle"; break;
    case SSH_FX_NO_SUCH_PATH: code = "no such path"; break;
    case SSH_FX_FILE_ALREADY_EXISTS: code = "file already exists"; break;
    case SSH_FX_WRITE_PROTECT: code = "write protected"; break;
    case SSH_FX_NO_MEDIA: code = "no media"; break;
    default: code = "error " + std::to_string(sftp_get_error(sftp)); break;
  }
  const char* detail = ssh_get_error(ssh);
  std::string out = code;
  if (detail != nullptr && *detail != '\0') out += (out.empty() ? "" : "; ") + std::string(detail);
  return out.empty() ? "unknown error" : out;
}

// "SHA256:<base64 without padding>" for a value given with or without the
// prefix and padding.
std::string NormalizeFingerprint(std::string_view value) {
  std::string v(value);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  size_t start = 0;
  while (start < v.size() && std::isspace(static_cast<unsigned char>(v[start]))) ++start;
  v = v.substr(start);
  if (v.size() >= 7 && strncasecmp(v.c_str(), "SHA256:", 7) == 0) v = v.substr(7);
  while (!v.empty() && v.back() == '=') v.pop_back();
  return "SHA256:" + v;
}

// One authenticated SSH connection with its SFTP channel.
class SftpConnection {
 public:
  SftpConnection() = default;
  SftpConnection(const SftpConnection&) = delete;
  SftpConnection& operator=(const SftpConnection&) = delete;
  ~SftpConnection() {
    if (sftp_ != nullptr) sftp_free(sftp_);
    if (ssh_ != nullptr) {
      if (ssh_is_connected(ssh_)) ssh_disconnect(ssh_);
      ssh_free(ssh_);
    }
  }

  static StatusOr<std::unique_ptr<SftpConnection>> Open(const ResolvedConnection& connection);

  sftp_session sftp() const { return sftp_; }
  ssh_session ssh() const { return ssh_; }
  std::string Error() const { return SftpErrorText(sftp_, ssh_); }
  const std::string& where() const { return where_; }

 private:
  Status VerifyHostKey(const ResolvedConnection& connection);
  Status Authenticate(const ResolvedConnection& connection);

  ssh_session ssh_ = nullptr;
  sftp_session sftp_ = nullptr;
  std::string where_;  // "user@host:port"
};

Status SftpConnection::VerifyHostKey(const ResolvedConnection& connection) {
  const std::string prefix = Prefix(connection);
  ssh_key server_key = nullptr;
  if (ssh_get_server_publickey(ssh_, &server_key) != SSH_OK || server_key == nullptr) {
    return UnavailableError(prefix + ": the server " + where_ + " sent no host key: " + ssh_get_error(ssh_));
  }
  unsigned char* hash = nullptr;
  size_t hash_length = 0;
  const int hashed = ssh_get_publickey_hash(server_key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hash_length);
  const char* key_type = ssh_key_type_to_char(ssh_key_type(server_key));
  const std::string type_name = key_type != nullptr ? key_type : "unknown";
  ssh_key_free(server_key);
  if (hashed != SSH_OK) return InternalError(prefix + ": cannot hash the server's host key");
  char* fingerprint_c = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hash_length);
  ssh_clean_pubkey_hash(&hash);
  if (fingerprint_c == nullptr) return InternalError(prefix + ": cannot format the host key's fingerprint");
  const std::string fingerprint = NormalizeFingerprint(fingerprint_c);
  ssh_string_free_char(fingerprint_c);

  const std::string pinned = connection.Setting("host_key_sha256");
  if (!pinned.empty() && NormalizeFingerprint(pinned) != fingerprint) {
    return PermissionDeniedError(prefix + ": the server " + where_ + " presented host key " + fingerprint +
                                 " (" + type_name + "), which does not match host_key_sha256 " +
                                 NormalizeFingerprint(pinned) +
                                 "; refusing to connect (if the server's key changed on purpose, update "
                                 "host_key_sha256)");
  }
  const std::string known_hosts = connection.Setting("known_hosts");
  if (!known_hosts.empty()) {
    switch (ssh_session_is_known_server(ssh_)) {
      case SSH_KNOWN_HOSTS_OK:
        break;
      case SSH_KNOWN_HOSTS_CHANGED:
        return PermissionDeniedError(prefix + ": the host key of " + where_ + " (" + fingerprint + ", " +
                                     type_name + ") differs from the one in known_hosts file " + known_hosts +
                                     "; refusing to connect (possible man-in-the-middle attack)");
      case SSH_KNOWN_HOSTS_OTHER:
        return PermissionDeniedError(prefix + ": known_hosts file " + known_hosts + " holds a key of another "
                                     "type for " + where_ + " than the server's " + type_name + " key " +
                                     fingerprint + "; refusing to connect");
      case SSH_KNOWN_HOSTS_UNKNOWN:
      case SSH_KNOWN_HOSTS_NOT_FOUND:
        return PermissionDeniedError(prefix + ": the host key of " + where_ + " (" + fingerprint + ", " +
                                     type_name + ") is not in known_hosts file " + known_hosts +
                                     "; refusing an unknown host (add the key, e.g. with ssh-keyscan, after "
                                     "checking its fingerprint, or pin it with host_key_sha256)");
      case SSH_KNOWN_HOSTS_ERROR:
      default:
        return FailedPreconditionError(prefix + ": cannot check the host key against known_hosts file " +
                                       known_hosts + ": " + ssh_get_error(ssh_));
    }
  }
  return Status::Ok();
}

Status SftpConnection::Authenticate(const ResolvedConnection& connection) {
  const std::string prefix = Prefix(connection);
  const std::string user = connection.Setting("user");
  std::string tried;
  // The "none" method is required first by some servers and lists the others.
  int rc = ssh_userauth_none(ssh_, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return Status::Ok();
  const std::string private_key = connection.Secret("private_key");
  if (!private_key.empty()) {
    const std::string passphrase = connection.Secret("private_key_passphrase");
    ssh_key key = nullptr;
    if (ssh_pki_import_privkey_base64(private_key.c_str(), passphrase.empty() ? nullptr : passphrase.c_str(),
                                      nullptr, nullptr, &key) != SSH_OK ||
        key == nullptr) {
      return InvalidArgumentError(prefix + ": secret private_key is not a readable OpenSSH or PEM private key" +
                                  (passphrase.empty() ? " (an encrypted key needs private_key_passphrase)"
                                                      : " (or private_key_passphrase is wrong)"));
    }
    rc = ssh_userauth_publickey(ssh_, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS) return Status::Ok();
    if (rc == SSH_AUTH_ERROR) {
      return UnavailableError(prefix + ": authentication with the private key failed: " + ssh_get_error(ssh_));
    }
    tried = "private_key";
  }
  const std::string password = connection.Secret("password");
  if (!password.empty()) {
    rc = ssh_userauth_password(ssh_, nullptr, password.c_str());
    if (rc == SSH_AUTH_SUCCESS) return Status::Ok();
    if (rc == SSH_AUTH_ERROR) {
      return UnavailableError(prefix + ": password authentication failed: " + ssh_get_error(ssh_));
    }
    tried += tried.empty() ? "password" : " and password";
  }
  return UnauthenticatedError(prefix + ": the server " + where_ + " refused user '" + user + "' with the " +
                              tried + " given (check the key is in the user's authorized_keys)");
}

StatusOr<std::unique_ptr<SftpConnection>> SftpConnection::Open(const ResolvedConnection& connection) {
  const std::string prefix = Prefix(connection);
  auto out = std::make_unique<SftpConnection>();
  out->ssh_ = ssh_new();
  if (out->ssh_ == nullptr) return InternalError(prefix + ": cannot create an SSH session");
  ssh_session s = out->ssh_;
  const std::string host = connection.Setting("host");
  const std::string user = connection.Setting("user");
  int64_t port = 22;
  if (const std::string p = connection.Setting("port"); !p.empty()) (void)ParseInteger(p, &port);
  const unsigned int port_value = static_cast<unsigned int>(port);
  const long timeout = kConnectTimeoutSeconds;
  const int no = 0;
  const int yes = 1;
  out->where_ = user + "@" + host + ":" + std::to_string(port);
  // No ~/.ssh/config or /etc/ssh/ssh_config: the connection's settings are all there is.
  if (ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_HOST, host.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_PORT, &port_value) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_USER, user.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout) != SSH_OK ||
      // Without TCP_NODELAY each synchronous SFTP write waits out the
      // peer's delayed ACK: 1.2 MB/s on loopback instead of tens.
      ssh_options_set(s, SSH_OPTIONS_NODELAY, &yes) != SSH_OK) {
    return InvalidArgumentError(prefix + ": invalid host, port or user: " + ssh_get_error(s));
  }
  const std::string known_hosts = connection.Setting("known_hosts");
  // Only the configured file is consulted (not ~/.ssh/known_hosts nor the
  // system-wide one); without one the pinned fingerprint decides.
  const std::string hosts_file = known_hosts.empty() ? "/dev/null" : known_hosts;
  if (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, hosts_file.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, hosts_file.c_str()) != SSH_OK) {
    return InternalError(prefix + ": cannot set the known_hosts file: " + ssh_get_error(s));
  }
  if (!known_hosts.empty() && ::access(known_hosts.c_str(), R_OK) != 0) {
    return FailedPreconditionError(prefix + ": cannot read known_hosts file " + known_hosts + ": " +
                                   std::strerror(errno));
  }
  if (ssh_connect(s) != SSH_OK) {
    return UnavailableError(prefix + ": cannot connect to " + host + ":" + std::to_string(port) + ": " +
                            ssh_get_error(s));
  }
  CDP_RETURN_IF_ERROR(out->VerifyHostKey(connection));
  CDP_RETURN_IF_ERROR(out->Authenticate(connection));
  out->sftp_ = sftp_new(s);
  if (out->sftp_ == nullptr) {
    return UnavailableError(prefix + ": cannot open an SFTP channel: " + ssh_get_error(s));
  }
  if (sftp_init(out->sftp_) != SSH_OK) {
    return UnavailableError(prefix + ": the server " + out->where_ +
                            " does not speak SFTP: " + out->Error());
  }
  return out;
}

// The remote directory without trailing slashes ("/" stays "/").
std::string RemoteDirectory(const ResolvedConnection& connection) {
  std::string dir = connection.Setting("path");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

std::string JoinRemote(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Creates `dir` and its missing parents.
Status MakeRemoteDirectories(SftpConnection& conn, const ResolvedConnection& connection,
                             const std::string& dir) {
  std::string current;
  size_t pos = 0;
  if (!dir.empty() && dir[0] == '/') {
    current = "/";
    pos = 1;
  }
  while (pos <= dir.size()) {
    size_t next = dir.find('/', pos);
    if (next == std::string::npos) next = dir.size();
    const std::string part = dir.substr(pos, next - pos);
    pos = next + 1;
    if (part.empty() || part == ".") continue;
    current = current.empty() || current == "/" ? current + part : current + "/" + part;
    sftp_attributes attributes = sftp_stat(conn.sftp(), current.c_str());
    if (attributes != nullptr) {
      const bool is_dir = attributes->type == SSH_FILEXFER_TYPE_DIRECTORY;
      sftp_attributes_free(attributes);
      if (!is_dir) {
        return FailedPreconditionError(Prefix(connection) + ": remote path " + current +
                                       " exists and is not a directory (setting path)");
      }
      continue;
    }
    if (sftp_get_error(conn.sftp()) != SSH_FX_NO_SUCH_FILE && sftp_get_error(conn.sftp()) != SSH_FX_NO_SUCH_PATH) {
      return UnavailableError(Prefix(connection) + ": cannot stat remote path " + current + ": " + conn.Error());
    }
    if (sftp_mkdir(conn.sftp(), current.c_str(), 0755) != SSH_OK) {
      return UnavailableError(Prefix(connection) + ": cannot create remote directory " + current + ": " +
                              conn.Error());
    }
  }
  return Status::Ok();
}

bool RemoteExists(SftpConnection& conn, const std::string& path) {
  sftp_attributes attributes = sftp_lstat(conn.sftp(), path.c_str());
  if (attributes == nullptr) return false;
  sftp_attributes_free(attributes);
  return true;
}

// ---------------------------------------------------------------- validation

Status ValidateConnection(const ResolvedConnection& connection) {
  const std::string prefix = Prefix(connection);
  for (const auto& [key, value] : connection.settings) {
    if (!kSettings.count(key)) {
      std::string known;
      for (const std::string& k : kSettings) known += (known.empty() ? "" : ", ") + k;
      if (kSecrets.count(key)) {
        return InvalidArgumentError(prefix + ": '" + key + "' is a secret, not a setting (take it from an " +
                                    "environment variable or the secret store)");
      }
      return InvalidArgumentError(prefix + ": unknown setting '" + key + "' (known: " + known + ")");
    }
  }
  for (const auto& [key, value] : connection.secrets) {
    if (!kSecrets.count(key)) {
      return InvalidArgumentError(prefix + ": unknown secret '" + key +
                                  "' (known: password, private_key, private_key_passphrase)");
    }
    if (value.size() > kMaxSecretBytes) {
      return InvalidArgumentError(prefix + ": secret '" + key + "' is longer than " +
                                  std::to_string(kMaxSecretBytes) + " bytes");
    }
    if (value.find('\0') != std::string::npos) {
      return InvalidArgumentError(prefix + ": secret '" + key + "' holds a NUL byte");
    }
  }
  for (const char* required : {"host", "user", "path"}) {
    if (connection.Setting(required).empty()) {
      return InvalidArgumentError(prefix + ": setting '" + std::string(required) + "' is missing");
    }
  }
  for (const auto& [key, value] : connection.settings) {
    if (value.find('\0') != std::string::npos || value.size() > 4096) {
      return InvalidArgumentError(prefix + ": setting '" + key + "' is not a valid value");
    }
  }
  if (const std::string port = connection.Setting("port"); !port.empty()) {
    int64_t p = 0;
    if (!ParseInteger(port, &p) || p < 1 || p > 65535) {
      return InvalidArgumentError(prefix + ": setting 'port' must be a number from 1 to 65535, not '" + port +
                                  "'");
    }
  }
  const std::string pinned = connection.Setting("host_key_sha256");
  if (connection.Setting("known_hosts").empty() && pinned.empty()) {
    return InvalidArgumentError(prefix +
                                ": set 'known_hosts' (an OpenSSH known_hosts file with the server's key) or "
                                "'host_key_sha256' (its fingerprint, as `ssh-keygen -lf KEY.pub` prints it): "
                                "unknown host keys are never accepted");
  }
  if (!pinned.empty()) {
    const std::string normalized = NormalizeFingerprint(pinned);
    const std::string body = normalized.substr(7);
    const bool base64 = body.size() == 43 && std::all_of(body.begin(), body.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
                        });
    if (!base64) {
      return InvalidArgumentError(prefix + ": setting 'host_key_sha256' must be a SHA-256 fingerprint like "
                                  "SHA256:2Mhx7q556gfDVZ1oOCsRR8xAyvDaJ7aAwwhqdHrbhvE (43 base64 characters), "
                                  "not '" + pinned + "'");
    }
  }
  if (connection.Secret("private_key").empty() && connection.Secret("password").empty()) {
    return InvalidArgumentError(prefix + ": secret 'private_key' or 'password' is missing");
  }
  return Status::Ok();
}

struct FileOptions {
  FileFormat format = FileFormat::kCsv;
  bool gzip = false;
};

StatusOr<FileOptions> ParseOptions(const ResolvedConnection& connection,
                                   const std::map<std::string, std::string>& options) {
  FileOptions out;
  for (const auto& [key, value] : options) {
    if (key == "format") {
      if (value == "csv") {
        out.format = FileFormat::kCsv;
      } else if (value == "jsonl") {
        out.format = FileFormat::kJsonl;
      } else {
        return InvalidArgumentError("export option 'format' for " + Prefix(connection) +
                                    " must be csv or jsonl, not '" + value + "'");
      }
    } else if (key == "gzip") {
      if (value == "true") {
        out.gzip = true;
      } else if (value == "false") {
        out.gzip = false;
      } else {
        return InvalidArgumentError("export option 'gzip' for " + Prefix(connection) +
                                    " must be true or false, not '" + value + "'");
      }
    } else {
      return InvalidArgumentError("unknown export option '" + key + "' for " + Prefix(connection) +
                                  " (known: format, gzip)");
    }
  }
  return out;
}

// A target is a file stem in the remote directory: no separators, no
// leading dot (that is how temporary files are hidden), no control bytes.
Status ValidateTarget(const ExportRunInfo& run) {
  const std::string& t = run.target;
  const std::string what = "export '" + run.export_name + "': target '" + t + "'";
  if (t.empty()) return InvalidArgumentError("export '" + run.export_name + "': the target file name is empty");
  if (t.size() > kMaxTargetLength) {
    return InvalidArgumentError(what + " is longer than " + std::to_string(kMaxTargetLength) + " bytes");
  }
  if (t[0] == '.') return InvalidArgumentError(what + " must not start with '.'");
  for (char c : t) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgumentError(what + " must be a file name (no '/', '\\' or control characters)");
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- session

class SftpSession final : public DestinationSession {
 public:
  SftpSession(const ResolvedConnection& connection, const ExportRunInfo& run, FileOptions options,
              std::unique_ptr<SftpConnection> conn)
      : connection_(connection), run_(run), options_(options), conn_(std::move(conn)) {}
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;
  ~SftpSession() override {
    if (state_ == State::kOpen) Abort();
  }

  Status Open();
  Status Write(const ExportBatch& batch) override;
  Status Commit() override;
  void Abort() override;
  int64_t rows_delivered() const override { return rows_; }
  std::vector<std::string> response_samples() const override { return samples_; }

 private:
  enum class State { kOpen, kCommitted, kAborted };

  Status Send(std::string_view text, bool finish);
  Status SendRaw(std::string_view bytes);
  Status Fail(Status status) {
    if (samples_.size() < kMaxSamples) samples_.push_back(status.message());
    return status;
  }

  ResolvedConnection connection_;
  ExportRunInfo run_;
  FileOptions options_;
  std::unique_ptr<SftpConnection> conn_;
  std::vector<ExportField> fields_;  // of the file: `_change` first in delta runs
  GzipStream gzip_;
  sftp_file file_ = nullptr;
  std::string directory_;
  std::string final_path_;
  std::string temp_path_;
  State state_ = State::kOpen;
  int64_t rows_ = 0;
  int64_t bytes_ = 0;
  std::vector<std::string> samples_;
};

Status SftpSession::Open() {
  const std::string prefix = Prefix(connection_);
  for (const ExportField& f : run_.schema.fields) {
    if (run_.delta && f.name == kChangeColumn) {
      return InvalidArgumentError("export '" + run_.export_name + "': field '_change' collides with the change "
                                  "column of delta files; rename it (fields: ... as:)");
    }
  }
  fields_ = FileFields(run_.schema, run_.delta);
  directory_ = RemoteDirectory(connection_);
  CDP_RETURN_IF_ERROR(MakeRemoteDirectories(*conn_, connection_, directory_));
  std::string name = run_.target;
  if (run_.delta) name += ".delta-" + std::to_string(run_.export_run_id);
  name += options_.format == FileFormat::kCsv ? ".csv" : ".jsonl";
  if (options_.gzip) name += ".gz";
  final_path_ = JoinRemote(directory_, name);
  // Hidden, so readers listing *.csv never pick it up; named per attempt.
  const std::string temp_prefix = "." + name + ".cdp-tmp-";
  temp_path_ = JoinRemote(directory_, temp_prefix + std::to_string(run_.export_run_id) + "-" +
                                          std::to_string(run_.attempt));

  // Temporary files that interrupted attempts of this file left behind.
  if (sftp_dir dir = sftp_opendir(conn_->sftp(), directory_.c_str()); dir != nullptr) {
    std::vector<std::string> stale;
    while (sftp_attributes entry = sftp_readdir(conn_->sftp(), dir)) {
      if (entry->name != nullptr && std::string_view(entry->name).starts_with(temp_prefix)) {
        stale.push_back(entry->name);
      }
      sftp_attributes_free(entry);
      if (stale.size() > 1000) break;
    }
    sftp_closedir(dir);
    for (const std::string& s : stale) (void)sftp_unlink(conn_->sftp(), JoinRemote(directory_, s).c_str());
  }

  file_ = sftp_open(conn_->sftp(), temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (file_ == nullptr) {
    return UnavailableError(prefix + ": cannot create remote file " + temp_path_ + ": " + conn_->Error());
  }
  if (options_.gzip) CDP_RETURN_IF_ERROR(gzip_.Init());
  return Send(Header(fields_, options_.format), false);
}

Status SftpSession::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), kWriteChunk);
    const ssize_t written = sftp_write(file_, bytes.data(), n);
    if (written <= 0) {
      return UnavailableError(Prefix(connection_) + ": writing remote file " + temp_path_ + " failed after " +
                              std::to_string(bytes_) + " bytes: " + conn_->Error());
    }
    bytes_ += written;
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  return Status::Ok();
}

Status SftpSession::Send(std::string_view text, bool finish) {
  if (!options_.gzip) return SendRaw(text);
  std::string compressed;
  CDP_RETURN_IF_ERROR(gzip_.Add(text, finish, compressed));
  return SendRaw(compressed);
}

Status SftpSession::Write(const ExportBatch& batch) {
  if (state_ != State::kOpen) {
    return FailedPreconditionError(Prefix(connection_) + ": Write after Commit or Abort");
  }
  std::string text;
  std::vector<std::optional<std::string>> values;
  for (const ExportRow& row : batch.rows) {
    if (row.values.size() != run_.schema.fields.size()) {
      return InvalidArgumentError("export '" + run_.export_name + "': batch " + std::to_string(batch.sequence) +
                                  " has a row of " + std::to_string(row.values.size()) + " values for " +
                                  std::to_string(run_.schema.fields.size()) + " fields");
    }
    if (!run_.delta && row.change != RowChange::kAdded) {
      return InvalidArgumentError("export '" + run_.export_name + "': a full run sent a row marked '" +
                                  std::string(RowChangeName(row.change)) + "'");
    }
    const std::vector<std::optional<std::string>>* out = &row.values;
    if (run_.delta) {
      values.clear();
      values.emplace_back(std::string(RowChangeName(row.change)));
      values.insert(values.end(), row.values.begin(), row.values.end());
      out = &values;
    }
    if (options_.format == FileFormat::kCsv) {
      AppendCsvRecord(&text, *out);
    } else {
      AppendJsonRecord(&text, fields_, *out);
    }
  }
  if (Status s = Send(text, false); !s.ok()) return Fail(s);
  rows_ += static_cast<int64_t>(batch.rows.size());
  return Status::Ok();
}

Status SftpSession::Commit() {
  if (state_ != State::kOpen) {
    return FailedPreconditionError(Prefix(connection_) + ": Commit after Commit or Abort");
  }
  const std::string prefix = Prefix(connection_);
  if (options_.gzip) {
    if (Status s = Send("", true); !s.ok()) return Fail(s);
  }
  if (sftp_extension_supported(conn_->sftp(), "fsync@openssh.com", "1") && sftp_fsync(file_) != SSH_OK) {
    return Fail(UnavailableError(prefix + ": fsync of remote file " + temp_path_ + " failed: " + conn_->Error()));
  }
  const int closed = sftp_close(file_);
  file_ = nullptr;
  if (closed != SSH_OK) {
    return Fail(UnavailableError(prefix + ": closing remote file " + temp_path_ + " failed: " + conn_->Error()));
  }
  // SFTP version 3 (OpenSSH) does not rename over an existing file: move the
  // old file aside, put the new one in place, then remove the old one. A
  // reader sees the old file or the new one (or, for that instant, none),
  // never a partial file.
  std::string aside;
  if (RemoteExists(*conn_, final_path_)) {
    aside = temp_path_ + ".old";
    (void)sftp_unlink(conn_->sftp(), aside.c_str());
    if (sftp_rename(conn_->sftp(), final_path_.c_str(), aside.c_str()) != SSH_OK) {
      return Fail(UnavailableError(prefix + ": cannot move the previous " + final_path_ + " aside: " +
                                   conn_->Error()));
    }
  }
  if (sftp_rename(conn_->sftp(), temp_path_.c_str(), final_path_.c_str()) != SSH_OK) {
    Status failed = UnavailableError(prefix + ": cannot rename " + temp_path_ + " to " + final_path_ + ": " +
                                     conn_->Error());
    if (!aside.empty()) (void)sftp_rename(conn_->sftp(), aside.c_str(), final_path_.c_str());
    return Fail(failed);
  }
  if (!aside.empty()) (void)sftp_unlink(conn_->sftp(), aside.c_str());
  state_ = State::kCommitted;
  if (samples_.size() < kMaxSamples) {
    samples_.push_back("wrote " + std::to_string(rows_) + " rows (" + std::to_string(bytes_) + " bytes) to " +
                       conn_->where() + ":" + final_path_);
  }
  return Status::Ok();
}

void SftpSession::Abort() {
  if (state_ != State::kOpen) return;
  state_ = State::kAborted;
  if (file_ != nullptr) {
    (void)sftp_close(file_);
    file_ = nullptr;
  }
  if (conn_ != nullptr && conn_->sftp() != nullptr && !temp_path_.empty()) {
    (void)sftp_unlink(conn_->sftp(), temp_path_.c_str());
  }
}

StatusOr<std::unique_ptr<DestinationSession>> Begin(const ResolvedConnection& connection,
                                                    const ExportRunInfo& run) {
  CDP_RETURN_IF_ERROR(ValidateConnection(connection));
  CDP_ASSIGN_OR_RETURN(FileOptions options, ParseOptions(connection, run.options));
  CDP_RETURN_IF_ERROR(ValidateTarget(run));
  if (run.schema.fields.empty()) {
    return InvalidArgumentError("export '" + run.export_name + "' has no fields");
  }
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<SftpConnection> conn, SftpConnection::Open(connection));
  auto session = std::make_unique<SftpSession>(connection, run, options, std::move(conn));
  if (Status s = session->Open(); !s.ok()) {
    session->Abort();
    return s;
  }
  return std::unique_ptr<DestinationSession>(std::move(session));
}

Status Check(const ResolvedConnection& connection) {
  CDP_RETURN_IF_ERROR(ValidateConnection(connection));
  CDP_ASSIGN_OR_RETURN(std::unique_ptr<SftpConnection> conn, SftpConnection::Open(connection));
  const std::string dir = RemoteDirectory(connection);
  sftp_attributes attributes = sftp_stat(conn->sftp(), dir.c_str());
  if (attributes == nullptr) {
    if (sftp_get_error(conn->sftp()) == SSH_FX_NO_SUCH_FILE) return Status::Ok();  // created by the first run
    return UnavailableError(Prefix(connection) + ": cannot stat remote directory " + dir + ": " + conn->Error());
  }
  const bool is_dir = attributes->type == SSH_FILEXFER_TYPE_DIRECTORY;
  sftp_attributes_free(attributes);
  if (!is_dir) {
    return FailedPreconditionError(Prefix(connection) + ": remote path " + dir + " is not a directory");
  }
  return Status::Ok();
}

}  // namespace

Status RegisterSftpDestination(DestinationRegistry& registry) {
  DestinationKind kind;
  kind.kind = kKind;
  kind.durable_batches = false;  // the file appears at Commit, whole
  kind.validate = ValidateConnection;
  kind.validate_options = [](const ResolvedConnection& connection,
                             const std::map<std::string, std::string>& options) -> Status {
    return ParseOptions(connection, options).status();
  };
  kind.begin = Begin;
  kind.check = Check;
  return registry.Register(std::move(kind));
}

}  // namespace cdp
