#include "export/destination.h"

namespace cdp {

std::string ResolvedConnection::Setting(std::string_view key, std::string_view fallback) const {
  auto it = settings.find(std::string(key));
  return it == settings.end() ? std::string(fallback) : it->second;
}

std::string ResolvedConnection::Secret(std::string_view key, std::string_view fallback) const {
  auto it = secrets.find(std::string(key));
  return it == secrets.end() ? std::string(fallback) : it->second;
}

std::string_view RowChangeName(RowChange change) {
  switch (change) {
    case RowChange::kAdded: return "added";
    case RowChange::kChanged: return "changed";
    case RowChange::kRemoved: return "removed";
  }
  return "added";
}

Status DestinationRegistry::Register(DestinationKind kind) {
  if (kind.kind.empty() || !kind.validate || !kind.begin) {
    return InvalidArgumentError("an export destination needs a kind, a validate and a begin function");
  }
  std::lock_guard<std::mutex> l(mu_);
  if (kinds_.count(kind.kind)) {
    return AlreadyExistsError("a destination of kind '" + kind.kind + "' is already registered");
  }
  std::string name = kind.kind;
  kinds_.emplace(std::move(name), std::make_unique<DestinationKind>(std::move(kind)));
  return Status::Ok();
}

StatusOr<const DestinationKind*> DestinationRegistry::Find(std::string_view kind) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) {
    std::string known;
    for (const auto& [k, d] : kinds_) known += (known.empty() ? "" : ", ") + k;
    return FailedPreconditionError("no export destination of kind '" + std::string(kind) +
                                   "' is registered in this program (registered: " +
                                   (known.empty() ? "none" : known) + ")");
  }
  return it->second.get();  // kinds are never removed
}

std::vector<std::string> DestinationRegistry::Kinds() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> out;
  for (const auto& [k, d] : kinds_) out.push_back(k);
  return out;
}

DestinationRegistry& DestinationRegistry::Global() {
  static DestinationRegistry* registry = new DestinationRegistry();
  return *registry;
}

}  // namespace cdp
