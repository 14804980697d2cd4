// libFuzzer target: any bytes, read as a JSON and as a YAML segment
// definition, must parse to an error or a definition that validates,
// serializes and reparses to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "segment/segment_definition.h"

namespace {

const cdp::SegmentSchema& Schema() {
  static const cdp::SegmentSchema* schema = [] {
    auto* s = new cdp::SegmentSchema;
    s->customer = cdp::Schema({{"State", cdp::DataType::kString, {}}, {"DateOfBirth", cdp::DataType::kDate, {}}});
    s->customer_measure = cdp::Schema({{"AverageWebPurchase", cdp::DataType::kDouble, {}}});
    s->related["Online Purchases"] = cdp::Schema({{"TotalPrice", cdp::DataType::kDouble, {}},
                                                  {"PurchasedOn", cdp::DataType::kTimestamp, {}}});
    return s;
  }();
  return *schema;
}

void Check(const cdp::StatusOr<cdp::SegmentDefinition>& d) {
  if (!d.ok()) return;
  (void)cdp::Validate(*d, Schema());
  auto back = cdp::ParseSegmentJson(cdp::SegmentToJson(*d));
  if (!back.ok() || !(*back == *d)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(cdp::ParseSegmentJson(text));
  Check(cdp::ParseSegmentYaml(text));
  return 0;
}
