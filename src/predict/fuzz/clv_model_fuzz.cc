// libFuzzer target: any bytes, read as a CLV model's JSON (the catalog stores
// it; a user may import one), must give an error or a model that serializes
// and reparses to itself and scores a small fixed log to finite values
// (every parameter the parser accepts, at its bounds too, must be usable:
// this drives the 2F1 series and its quadrature fallback with odd values).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "predict/clv.h"

namespace {

const cdp::TransactionLog& Log() {
  static const cdp::TransactionLog* log = [] {
    cdp::TransactionLogBuilder b(4);
    b.AddTransaction(0, 100, 10.0, "a");
    b.AddTransaction(0, 130, 12.5, "a");
    b.AddTransaction(0, 190, 8.0, "b");
    b.AddTransaction(1, 199, 3.0, "a");  // first purchase on the last day: T = 0
    b.AddTransaction(2, 20, 100.0, "c");
    b.AddTransaction(2, 21, 90.0, "c");
    return new cdp::TransactionLog(std::move(b).Build().value());
  }();
  return *log;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = cdp::ClvModel::FromJson(text);
  if (!model.ok()) return 0;
  const std::string json = model->ToJson();
  auto back = cdp::ClvModel::FromJson(json);
  if (!back.ok() || back->ToJson() != json) std::abort();
  cdp::ClvOptions options;
  options.annual_discount_rate = 0.1;
  auto pred = cdp::PredictClv(*model, Log(), 200, options);
  if (!pred.ok()) std::abort();
  for (const auto& p : *pred) {
    if (!std::isfinite(p.clv) || !std::isfinite(p.expected_transactions) || !(p.probability_alive >= 0) ||
        !(p.probability_alive <= 1) || p.expected_transactions < 0) {
      std::abort();
    }
  }
  return 0;
}
