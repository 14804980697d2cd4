// The `sftp` export destination: writes an export run's rows as one CSV or
// JSON Lines file (optionally gzip-compressed) into a directory of an SFTP
// server, through libssh. The file is uploaded under a hidden temporary name
// and renamed over `<target>.csv` (or `.jsonl`, `.gz`) at Commit, so a reader
// never sees half a file; a delta run writes `<target>.delta-<run id>.csv`
// with a `_change` column. The server's host key is always verified (a
// known_hosts file or a pinned SHA-256 fingerprint); unknown keys are refused.
// Registration is thread-safe (the registry is); a session is used by one
// thread at a time.
#pragma once

#include "common/status.h"
#include "export/destination.h"

namespace cdp {

// Registers the `sftp` kind.
//
// Connection settings: host (required), port (default 22), user (required),
// path (required: the remote directory, created if missing), and at least one
// of known_hosts (path of an OpenSSH known_hosts file holding the server's
// key) or host_key_sha256 (the key's fingerprint as `ssh-keygen -l` prints
// it, "SHA256:..."); both are checked when both are given.
// Secrets: private_key (OpenSSH or PEM text; private_key_passphrase if it is
// encrypted) and/or password.
// Export options: format (csv, the default, or jsonl), gzip (true/false).
// AlreadyExists if the kind is registered already.
Status RegisterSftpDestination(DestinationRegistry& registry);

}  // namespace cdp
