#include "ingest/header_check.h"

#include <unordered_set>

namespace cdp {
namespace {

// Lower-case letters and digits only: "E-Mail" = "email", "First Name" = "firstname".
std::string Loose(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80) {
      out.push_back(c);
    }
  }
  return out;
}

const std::string& InputName(const FieldOverride& f) { return f.source_field.empty() ? f.name : f.source_field; }

// "a, b, >>c<<, d" with the item at `mark` (if any) marked; at most 50 items.
std::string List(const std::vector<std::string>& items, size_t mark) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 50; ++i) {
    if (i > 0) out += ", ";
    out += i == mark ? ">>" + items[i] + "<<" : items[i];
  }
  if (items.size() > 50) out += ", ... (" + std::to_string(items.size()) + " in all)";
  if (items.empty()) out = "(none)";
  return out;
}

}  // namespace

Status CheckHeaderNamesDeclaredFields(const std::string& location, const std::vector<FieldOverride>& declared,
                                      const std::vector<std::string>& header) {
  std::unordered_set<std::string_view> in_header(header.begin(), header.end());
  std::vector<std::string> names;  // declared input names, in declaration order
  std::vector<size_t> missing;
  for (size_t d = 0; d < declared.size(); ++d) {
    names.push_back(InputName(declared[d]));
    if (!in_header.count(names.back())) missing.push_back(d);
  }
  if (missing.empty()) return Status::Ok();
  const size_t first = missing[0];
  // Its counterpart in the header: a loose match, else the field at the same
  // position when the declared fields before it are the header's first fields.
  size_t counterpart = header.size();
  const std::string want = Loose(names[first]);
  for (size_t h = 0; h < header.size() && !want.empty(); ++h) {
    if (Loose(header[h]) == want) {
      counterpart = h;
      break;
    }
  }
  std::string hint;
  if (counterpart < header.size()) {
    hint = " (did you mean '" + header[counterpart] + "'?)";
  } else if (first < header.size()) {
    bool same_prefix = true;
    for (size_t d = 0; d < first && same_prefix; ++d) same_prefix = names[d] == header[d];
    if (same_prefix) counterpart = first;
  }
  std::string missing_list;
  for (size_t m : missing) missing_list += (missing_list.empty() ? "" : ", ") + names[m];
  std::string message = location + ": the header does not match the declared fields: declared field '" +
                        names[first] + "' is not in the header" + hint + "; missing: " + missing_list +
                        "; declared: " + List(names, first) + "; header: " + List(header, counterpart) +
                        ". Columns are matched by name: give each declared field the header's name (or "
                        "source_field: HEADER NAME)";
  if (missing.size() == declared.size()) {
    message += "; no declared field is in the header: if the file has no header line, set header: false";
  }
  return InvalidArgumentError(message);
}

Status CheckNoHeaderLine(const std::string& location, const std::vector<FieldOverride>& declared,
                         const std::vector<std::string>& first_record_fields, int64_t first_line) {
  if (first_record_fields.empty()) return Status::Ok();
  size_t compared = 0;
  std::string shown;
  for (const FieldOverride& f : declared) {
    const std::string& input = InputName(f);
    if (input.compare(0, 6, "column") != 0 || input.size() == 6 || input.size() > 12) continue;
    size_t column = 0;
    bool digits = true;
    for (size_t i = 6; i < input.size(); ++i) {
      if (input[i] < '0' || input[i] > '9') {
        digits = false;
        break;
      }
      column = column * 10 + static_cast<size_t>(input[i] - '0');
    }
    if (!digits || column == 0 || column > first_record_fields.size()) continue;
    const std::string& value = first_record_fields[column - 1];
    const std::string loose = Loose(value);
    if (loose.empty() || loose != Loose(f.name)) return Status::Ok();
    ++compared;
    shown += (shown.empty() ? "" : ", ") + input + " = '" + value + "'";
  }
  if (compared == 0) return Status::Ok();
  return InvalidArgumentError(location + ": line " + std::to_string(first_line) +
                              " holds the declared field names (" + shown +
                              "): the file starts with a header line; set header: true (and name the fields as "
                              "the header does)");
}

}  // namespace cdp
