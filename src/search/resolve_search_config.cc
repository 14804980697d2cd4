// ResolveSearchConfig: the defaults of an empty SearchConfig and the checks of
// a configured one, against the Customer schema.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "search/search_index.h"

namespace cdp {

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

bool IsSourceKeysName(std::string_view name) {
  std::string l = Lower(name);
  return l == "sourcekey" || l == "sourcekeys";
}

// The default kind and weight of a Customer field, or false when it is not
// searched by default.
bool DefaultTextField(const Field& f, ResolvedSearchField* out) {
  if (f.name == "CustomerId") return false;
  const std::string l = Lower(f.name);
  const std::string& sem = f.semantic.name();
  out->field = f.name;
  out->weight = 1.0;
  if (sem == SemanticType::kEmail || Contains(l, "email") || Contains(l, "e_mail")) {
    out->kind = SearchFieldKind::kEmail;
    return true;
  }
  if (sem == SemanticType::kPhone || Contains(l, "phone") || StartsWith(l, "mobile") || StartsWith(l, "cell")) {
    out->kind = SearchFieldKind::kPhone;
    return true;
  }
  out->kind = SearchFieldKind::kText;
  static const char* kNames[] = {"name", "firstname", "lastname", "fullname", "middlename", "givenname",
                                 "surname", "familyname", "first_name", "last_name", "full_name"};
  if (sem == SemanticType::kFirstName || sem == SemanticType::kLastName || sem == SemanticType::kFullName ||
      std::find(std::begin(kNames), std::end(kNames), l) != std::end(kNames) || EndsWith(l, "firstname") ||
      EndsWith(l, "lastname") || EndsWith(l, "fullname")) {
    return true;
  }
  // Places weigh less than names: "Jackson" the person before "Jackson" the city.
  if (sem == SemanticType::kCity || sem == SemanticType::kAddress || l == "city" || EndsWith(l, "city") ||
      Contains(l, "address") || StartsWith(l, "street")) {
    out->weight = 0.5;
    return true;
  }
  return false;
}

StatusOr<SearchFieldKind> ParseKind(const SearchFieldConfig& f) {
  std::string n = Lower(f.normalize);
  if (n.empty() || n == "text") return SearchFieldKind::kText;
  if (n == "phone") return SearchFieldKind::kPhone;
  if (n == "email") return SearchFieldKind::kEmail;
  return InvalidArgumentError("search field '" + f.field + "': unknown normalize '" + f.normalize +
                              "' (known: \"\", phone, email)");
}

}  // namespace

bool SplitRelatedFilter(std::string_view name, std::string* entity, std::string* field) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return false;
  *entity = std::string(name.substr(0, dot));
  *field = std::string(name.substr(dot + 1));
  return true;
}

StatusOr<ResolvedSearchConfig> ResolveSearchConfig(const SearchConfig& config, const Schema& customer,
                                                   const std::map<std::string, RelatedFilterSource>& related) {
  ResolvedSearchConfig r;
  if (config.fields.empty()) {
    for (const Field& f : customer.fields()) {
      ResolvedSearchField rf;
      if (DefaultTextField(f, &rf)) r.fields.push_back(std::move(rf));
    }
    r.source_keys = true;
  } else {
    for (const SearchFieldConfig& f : config.fields) {
      if (customer.FieldIndex(f.field) < 0) {
        if (IsSourceKeysName(f.field)) {
          r.source_keys = true;
          continue;
        }
        return InvalidArgumentError("search field '" + f.field + "' is not a field of the Customer entity");
      }
      if (!(f.weight > 0) || !std::isfinite(f.weight)) {
        return InvalidArgumentError("search field '" + f.field + "': weight must be > 0");
      }
      CDP_ASSIGN_OR_RETURN(SearchFieldKind kind, ParseKind(f));
      auto dup = std::find_if(r.fields.begin(), r.fields.end(), [&](const auto& x) { return x.field == f.field; });
      if (dup != r.fields.end()) {
        return InvalidArgumentError("search field '" + f.field + "' is listed twice");
      }
      r.fields.push_back({f.field, kind, f.weight});
    }
  }

  auto add_filter = [&](const std::string& name) {
    if (std::find(r.filters.begin(), r.filters.end(), name) == r.filters.end()) r.filters.push_back(name);
  };
  auto add_related = [&](const std::string& entity, const std::string& field) -> Status {
    auto src = related.find(entity);
    const std::string name = entity + "." + field;
    if (src == related.end() || !src->second.table) {
      std::string known;
      for (const auto& [e, s] : related) known += (known.empty() ? "" : ", ") + e;
      return InvalidArgumentError("search filter '" + name + "': '" + entity +
                                  "' is neither a Customer field nor an entity with rows per customer (" +
                                  (known.empty() ? std::string("there are none") : "entities: " + known) + ")");
    }
    const Schema& schema = src->second.table->schema();
    if (field == "CustomerId" || schema.FieldIndex(field) < 0) {
      std::string known;
      for (const Field& f : schema.fields()) {
        if (f.name != "CustomerId") known += (known.empty() ? "" : ", ") + f.name;
      }
      return InvalidArgumentError("search filter '" + name + "': '" + field + "' is not a field of " + entity +
                                  " (fields: " + known + ")");
    }
    auto dup = std::find_if(r.related_filters.begin(), r.related_filters.end(),
                            [&](const RelatedFilter& x) { return x.name == name; });
    if (dup == r.related_filters.end()) r.related_filters.push_back({name, entity, field});
    return Status::Ok();
  };
  if (config.filters.empty()) {
    const Field* state = nullptr;
    const Field* gender = nullptr;
    const Field* tier = nullptr;
    const Field* loyalty = nullptr;
    for (const Field& f : customer.fields()) {
      std::string l = Lower(f.name);
      if (!state && (l == "state" || f.semantic.name() == SemanticType::kState)) state = &f;
      if (!gender && (l == "gender" || f.semantic.name() == SemanticType::kGender)) gender = &f;
      if (f.type != DataType::kString) continue;
      if (!tier && Contains(l, "tier")) tier = &f;
      if (!loyalty && Contains(l, "loyalty") && !EndsWith(l, "id") && !EndsWith(l, "key")) loyalty = &f;
    }
    if (state) add_filter(state->name);
    if (gender) add_filter(gender->name);
    if (tier) {
      add_filter(tier->name);
    } else if (loyalty) {
      add_filter(loyalty->name);
    }
    for (const auto& [entity, src] : related) {
      for (const std::string& field : src.default_filters) CDP_RETURN_IF_ERROR(add_related(entity, field));
    }
  } else {
    for (const std::string& name : config.filters) {
      if (name == kSegmentFilter) continue;
      if (customer.FieldIndex(name) >= 0) {
        add_filter(name);
        continue;
      }
      std::string entity, field;
      if (!SplitRelatedFilter(name, &entity, &field)) {
        return InvalidArgumentError("search filter '" + name +
                                    "' is not a field of the Customer entity (a related entity's field is "
                                    "written ENTITY.FIELD, e.g. Enrichment_Engagement.EngagementLevel)");
      }
      CDP_RETURN_IF_ERROR(add_related(entity, field));
    }
  }
  r.filters.emplace_back(kSegmentFilter);
  return r;
}

}  // namespace cdp
