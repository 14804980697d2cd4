// FaultInjectionEnv: see env.h.
#include <algorithm>

#include "storage/env.h"

namespace cdp {
namespace {

// Collapses repeated slashes and drops a trailing one, so that the directory
// of "a//b/f" and the argument of SyncDir("a/b/") compare equal.
std::string NormalizePath(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status WriteWholeFile(Env* env, const std::string& path, std::string_view content) {
  CDP_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  CDP_RETURN_IF_ERROR(file->Append(content));
  CDP_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv* env, uint64_t id, std::unique_ptr<WritableFile> target)
      : env_(env), id_(id), target_(std::move(target)) {}
  ~File() override { env_->FileDestroyed(this); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  Status Append(std::string_view data) override { return env_->FileAppend(this, data); }
  Status Sync() override { return env_->FileSync(this); }
  Status Close() override { return env_->FileClose(this); }

 private:
  friend class FaultInjectionEnv;
  FaultInjectionEnv* const env_;
  const uint64_t id_;
  std::unique_ptr<WritableFile> target_;  // guarded by env_->mu_
  bool dead_ = false;                     // guarded by env_->mu_; set by SimulateCrash
};

FaultInjectionEnv::FaultInjectionEnv(Env* target) : target_(target) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::InjectFault(uint64_t n, FaultMode mode) {
  std::lock_guard<std::mutex> l(mu_);
  fault_at_ = n;
  fault_mode_ = mode;
}

void FaultInjectionEnv::ClearFault() {
  std::lock_guard<std::mutex> l(mu_);
  fault_at_.reset();
}

uint64_t FaultInjectionEnv::mutating_ops() const {
  std::lock_guard<std::mutex> l(mu_);
  return ops_;
}

void FaultInjectionEnv::ResetCounter() {
  std::lock_guard<std::mutex> l(mu_);
  ops_ = 0;
}

uint64_t FaultInjectionEnv::faults_injected() const {
  std::lock_guard<std::mutex> l(mu_);
  return faults_;
}

Status FaultInjectionEnv::MaybeFail(std::string_view op, const std::string& path) {
  uint64_t n = ops_++;
  if (!fault_at_) return Status::Ok();
  bool fail = fault_mode_ == FaultMode::kFailOnce ? n == *fault_at_ : n >= *fault_at_;
  if (!fail) return Status::Ok();
  ++faults_;
  return InternalError("injected fault in " + std::string(op) + " " + path + " (operation #" +
                       std::to_string(n) + ")");
}

std::optional<std::string> FaultInjectionEnv::DurableContent(const std::string& path) {
  auto content = target_->ReadFile(path);
  if (!content.ok()) return std::nullopt;
  std::string data = std::move(content).value();
  for (const auto& [id, st] : files_) {
    if (st.path == path && st.synced < data.size()) data.resize(st.synced);
  }
  return data;
}

void FaultInjectionEnv::ForgetPath(const std::string& path) {
  for (auto it = files_.begin(); it != files_.end();) {
    it = it->second.path == path ? files_.erase(it) : std::next(it);
  }
}

StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("create", path));
  std::string p = NormalizePath(path);
  bool existed = target_->FileExists(path);
  CDP_ASSIGN_OR_RETURN(auto target, target_->NewWritableFile(path));
  ForgetPath(p);
  uint64_t id = next_file_id_++;
  files_[id] = FileState{p, 0, 0};
  if (!existed) dir_ops_.push_back(DirOp{DirOp::Kind::kCreateFile, p, "", std::nullopt, {DirName(p)}});
  auto file = std::make_unique<File>(this, id, std::move(target));
  open_files_.insert(file.get());
  return std::unique_ptr<WritableFile>(std::move(file));
}

Status FaultInjectionEnv::FileAppend(File* f, std::string_view data) {
  std::lock_guard<std::mutex> l(mu_);
  if (f->dead_) return FailedPreconditionError("file written before a simulated crash");
  auto it = files_.find(f->id_);
  const std::string path = it == files_.end() ? "(untracked)" : it->second.path;
  CDP_RETURN_IF_ERROR(MaybeFail("append", path));
  CDP_RETURN_IF_ERROR(f->target_->Append(data));
  if (it != files_.end()) it->second.size += data.size();
  return Status::Ok();
}

Status FaultInjectionEnv::FileSync(File* f) {
  std::lock_guard<std::mutex> l(mu_);
  if (f->dead_) return FailedPreconditionError("file written before a simulated crash");
  auto it = files_.find(f->id_);
  const std::string path = it == files_.end() ? "(untracked)" : it->second.path;
  CDP_RETURN_IF_ERROR(MaybeFail("sync", path));
  CDP_RETURN_IF_ERROR(f->target_->Sync());
  if (it != files_.end()) it->second.synced = it->second.size;
  return Status::Ok();
}

Status FaultInjectionEnv::FileClose(File* f) {
  std::lock_guard<std::mutex> l(mu_);
  if (f->dead_) return Status::Ok();
  auto it = files_.find(f->id_);
  const std::string path = it == files_.end() ? "(untracked)" : it->second.path;
  CDP_RETURN_IF_ERROR(MaybeFail("close", path));
  return f->target_->Close();
}

void FaultInjectionEnv::FileDestroyed(File* f) {
  std::lock_guard<std::mutex> l(mu_);
  open_files_.erase(f);
  // Closing here (rather than in ~File) keeps a flush of buffered bytes
  // ordered with respect to SimulateCrash.
  if (!f->dead_) (void)f->target_->Close();
  f->target_.reset();
}

StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(const std::string& path) {
  return target_->NewRandomAccessFile(path);
}

StatusOr<std::string> FaultInjectionEnv::ReadFile(const std::string& path) { return target_->ReadFile(path); }

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("rename", from));
  std::string f = NormalizePath(from), t = NormalizePath(to);
  std::optional<std::string> replaced = DurableContent(to);
  CDP_RETURN_IF_ERROR(target_->RenameFile(from, to));
  ForgetPath(t);
  for (auto& [id, st] : files_) {
    if (st.path == f) st.path = t;
  }
  dir_ops_.push_back(DirOp{DirOp::Kind::kRename, f, t, std::move(replaced), {DirName(f), DirName(t)}});
  return Status::Ok();
}

Status FaultInjectionEnv::DeleteFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("delete", path));
  std::string p = NormalizePath(path);
  std::optional<std::string> content = DurableContent(path);
  CDP_RETURN_IF_ERROR(target_->DeleteFile(path));
  ForgetPath(p);
  dir_ops_.push_back(DirOp{DirOp::Kind::kDelete, p, "", std::move(content), {DirName(p)}});
  return Status::Ok();
}

Status FaultInjectionEnv::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("create directory", path));
  std::string p = NormalizePath(path);
  bool existed = target_->FileExists(path);
  CDP_RETURN_IF_ERROR(target_->CreateDir(path));
  if (!existed) dir_ops_.push_back(DirOp{DirOp::Kind::kCreateDir, p, "", std::nullopt, {DirName(p)}});
  return Status::Ok();
}

Status FaultInjectionEnv::RemoveDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("remove directory", path));
  std::string p = NormalizePath(path);
  CDP_RETURN_IF_ERROR(target_->RemoveDir(path));
  dir_ops_.push_back(DirOp{DirOp::Kind::kRemoveDir, p, "", std::nullopt, {DirName(p)}});
  return Status::Ok();
}

StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  return target_->GetChildren(dir);
}

bool FaultInjectionEnv::FileExists(const std::string& path) { return target_->FileExists(path); }

StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) {
  return target_->GetFileSize(path);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  CDP_RETURN_IF_ERROR(MaybeFail("sync directory", dir));
  CDP_RETURN_IF_ERROR(target_->SyncDir(dir));
  std::string d = NormalizePath(dir);
  for (auto& op : dir_ops_) op.dirs.erase(d);
  dir_ops_.erase(
      std::remove_if(dir_ops_.begin(), dir_ops_.end(), [](const DirOp& op) { return op.dirs.empty(); }),
      dir_ops_.end());
  return Status::Ok();
}

StatusOr<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  return target_->LockFile(path);
}

int64_t FaultInjectionEnv::NowMicros() { return target_->NowMicros(); }

Status FaultInjectionEnv::SimulateCrash(bool undo_unsynced_dir_ops) {
  std::lock_guard<std::mutex> l(mu_);
  Status first;
  auto note = [&first](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // The process dies: whatever open files had buffered reaches the target
  // now, so that the truncation below sees it; the files stay dead.
  for (File* f : open_files_) {
    (void)f->target_->Close();
    f->dead_ = true;
  }
  open_files_.clear();
  // Unsynced tails are lost.
  for (const auto& [id, st] : files_) {
    if (!target_->FileExists(st.path)) continue;
    auto size = target_->GetFileSize(st.path);
    if (size.ok() && *size == st.synced) continue;
    auto content = target_->ReadFile(st.path);
    if (!content.ok()) {
      note(content.status());
      continue;
    }
    std::string data = std::move(content).value();
    data.resize(std::min<uint64_t>(data.size(), st.synced));
    note(WriteWholeFile(target_, st.path, data));
  }
  // Namespace changes not made durable by a directory sync are lost.
  if (undo_unsynced_dir_ops) {
    for (auto it = dir_ops_.rbegin(); it != dir_ops_.rend(); ++it) {
      const DirOp& op = *it;
      switch (op.kind) {
        case DirOp::Kind::kCreateFile: {
          Status s = target_->DeleteFile(op.path);
          if (s.code() != StatusCode::kNotFound) note(s);
          break;
        }
        case DirOp::Kind::kRename:
          note(target_->RenameFile(op.to, op.path));
          if (op.old_content) note(WriteWholeFile(target_, op.to, *op.old_content));
          break;
        case DirOp::Kind::kDelete:
          if (op.old_content) note(WriteWholeFile(target_, op.path, *op.old_content));
          break;
        case DirOp::Kind::kCreateDir:
          (void)target_->RemoveDir(op.path);
          break;
        case DirOp::Kind::kRemoveDir:
          note(target_->CreateDir(op.path));
          break;
      }
    }
  }
  files_.clear();
  dir_ops_.clear();
  fault_at_.reset();
  return first;
}

}  // namespace cdp
