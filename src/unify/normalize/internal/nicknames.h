// The nickname table (data/nicknames.csv, embedded into the library at build time):
// nickname -> canonical given name, both lowercase ASCII. Thread-safe (built once).
#pragma once

#include <string_view>
#include <unordered_map>

namespace cdp::normalize_internal {

using NicknameMap = std::unordered_map<std::string_view, std::string_view>;

// The parsed table; keys and values point into the embedded data and live forever.
const NicknameMap& Nicknames();

// The canonical given name for `token`, or `token` itself when it is no known nickname.
std::string_view CanonicalGivenName(std::string_view token);

}  // namespace cdp::normalize_internal
