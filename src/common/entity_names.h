// Names of the entities the pipeline writes, shared by every stage.
#pragma once

#include <string_view>

namespace cdp {

inline constexpr std::string_view kCustomerEntity = "Customer";
inline constexpr std::string_view kSourceKeysEntity = "CustomerSourceKeys";
inline constexpr std::string_view kMatchPairsEntity = "ConflationMatchPairs";
inline constexpr std::string_view kUnifiedActivityEntity = "UnifiedActivity";
inline constexpr std::string_view kCustomerMeasureEntity = "Customer_Measure";

}  // namespace cdp
