// The Online Retail recommendations part of bench_predictions: ALS, item-kNN
// and the most-purchased baseline (src/predict/recommend.h, default options:
// 10 products, no repeats, all history, the header's hyper-parameters, which
// were fixed before this data was scored) fitted on every purchase before the
// cut-off and measured on the hold-back = the last 30 days of the data
// (2011-11-10 .. 2011-12-09 inclusive; as_of = last day + 1 = 2011-12-10,
// cut-off = as_of - 30). Prints Success@10 and precision@10 per algorithm,
// fit and scoring seconds, the grade against popular, the same with repeats
// allowed (extra figures), the scikit-learn item-kNN peer (reco_speed.h
// RunKnnPeer; same data, same task) with the ratios, and the line
//   online-retail recommendations k=10 als=… knn=… popular=…
// (Success@10 of each, repeats not allowed). Not thread-safe to run twice at
// once (prints to stdout).
#pragma once

#include "bench/predictions/datasets.h"
#include "common/status.h"

namespace cdp {

Status RunOnlineRetailRecommendBench(const OnlineRetailData& data);

}  // namespace cdp
