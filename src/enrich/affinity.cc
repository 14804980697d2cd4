#include "enrich/affinity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "common/parallel.h"

namespace cdp {

std::string_view AffinityLevelName(AffinityLevel level) {
  switch (level) {
    case AffinityLevel::kNone:
      return "None";
    case AffinityLevel::kLow:
      return "Low";
    case AffinityLevel::kMedium:
      return "Medium";
    case AffinityLevel::kHigh:
      return "High";
    case AffinityLevel::kVeryHigh:
      return "Very high";
  }
  return "None";
}

AffinityLevel AffinityLevelOfScore(int score) {
  if (score >= 85) return AffinityLevel::kVeryHigh;
  if (score >= 70) return AffinityLevel::kHigh;
  if (score >= 35) return AffinityLevel::kMedium;
  if (score >= 1) return AffinityLevel::kLow;
  return AffinityLevel::kNone;
}

namespace {

Status CheckOptions(const AffinityOptions& o) {
  if (o.top_k < 1 || o.top_k > 1000) {
    return InvalidArgumentError("affinity option top_k must be in 1..1000, got " + std::to_string(o.top_k));
  }
  if (o.min_score < 1 || o.min_score > 100) {
    return InvalidArgumentError("affinity option min_score must be in 1..100, got " +
                                std::to_string(o.min_score));
  }
  if (!std::isfinite(o.prior_strength) || o.prior_strength <= 0 || o.prior_strength > 1e6) {
    return InvalidArgumentError("affinity option prior_strength must be in (0, 1e6], got " +
                                std::to_string(o.prior_strength));
  }
  if (!std::isfinite(o.full_score_lift) || o.full_score_lift <= 1 || o.full_score_lift > 1e6) {
    return InvalidArgumentError("affinity option full_score_lift must be in (1, 1e6], got " +
                                std::to_string(o.full_score_lift));
  }
  if (o.high_score < 1 || o.high_score > 100) {
    return InvalidArgumentError("affinity option high_score must be in 1..100, got " +
                                std::to_string(o.high_score));
  }
  return Status::Ok();
}

Status CheckEvents(const AffinityEvents& e) {
  if (e.offsets.empty())
    return InvalidArgumentError("affinity events: offsets is empty (needs customers + 1 entries)");
  if (e.offsets[0] != 0) {
    return InvalidArgumentError("affinity events: offsets[0] must be 0, got " + std::to_string(e.offsets[0]));
  }
  for (size_t i = 1; i < e.offsets.size(); ++i) {
    if (e.offsets[i] < e.offsets[i - 1]) {
      return InvalidArgumentError("affinity events: offsets decrease at offsets[" + std::to_string(i) +
                                  "] = " + std::to_string(e.offsets[i]));
    }
  }
  if (e.offsets.back() != static_cast<int64_t>(e.values.size())) {
    return InvalidArgumentError("affinity events: last offset " + std::to_string(e.offsets.back()) +
                                " != values.size() " + std::to_string(e.values.size()));
  }
  if (e.value_names.size() > static_cast<size_t>(INT32_MAX)) {
    return InvalidArgumentError("affinity events: too many value_names");
  }
  const int32_t nv = static_cast<int32_t>(e.value_names.size());
  for (size_t i = 0; i < e.values.size(); ++i) {
    if (e.values[i] < 0 || e.values[i] >= nv) {
      return InvalidArgumentError("affinity events: values[" + std::to_string(i) +
                                  "] = " + std::to_string(e.values[i]) +
                                  " is not a code of value_names (size " + std::to_string(nv) + ")");
    }
  }
  if (!e.weights.empty()) {
    if (e.weights.size() != e.values.size()) {
      return InvalidArgumentError(
          "affinity events: weights has " + std::to_string(e.weights.size()) +
          " entries, expected 0 or values.size() = " + std::to_string(e.values.size()));
    }
    for (size_t i = 0; i < e.weights.size(); ++i) {
      if (!std::isfinite(e.weights[i]) || e.weights[i] < 0) {
        return InvalidArgumentError("affinity events: weights[" + std::to_string(i) +
                                    "] = " + std::to_string(e.weights[i]) + " must be finite and >= 0");
      }
    }
  }
  return Status::Ok();
}

// Per-worker scratch: a dense accumulator over values with a touched list,
// and the worker's per-value level counts.
struct Worker {
  std::vector<double> weight;   // per value, 0 outside a customer
  std::vector<int64_t> events;  // per value
  std::vector<int32_t> touched;
  std::vector<std::array<int64_t, 5>> per_level;  // per value
  std::vector<int64_t> high;                      // per value
  std::vector<CustomerAffinity> candidates;
};

constexpr size_t kGrain = 4096;

}  // namespace

StatusOr<AffinityResult> ComputeAffinities(const AffinityEvents& events, const AffinityOptions& options) {
  CDP_RETURN_IF_ERROR(CheckOptions(options));
  CDP_RETURN_IF_ERROR(CheckEvents(events));
  const int64_t n = events.customers();
  const size_t nv = events.value_names.size();
  const bool weighted = !events.weights.empty();
  auto weight_of = [&](int64_t e) { return weighted ? events.weights[static_cast<size_t>(e)] : 1.0; };

  AffinityResult result;
  result.values.resize(nv);
  // Population shares: one sequential pass (a fixed summation order keeps
  // the result independent of the thread count).
  for (size_t e = 0; e < events.values.size(); ++e) {
    double w = weight_of(static_cast<int64_t>(e));
    if (w <= 0) continue;
    ValueAffinityStats& s = result.values[static_cast<size_t>(events.values[e])];
    s.weight += w;
    s.events += 1;
  }
  double total = 0;
  int64_t total_events = 0;
  for (const ValueAffinityStats& s : result.values) {
    total += s.weight;
    total_events += s.events;
  }
  result.total_weight = total;
  result.events = total_events;
  for (ValueAffinityStats& s : result.values) s.population_share = total > 0 ? s.weight / total : 0.0;

  const double a = options.prior_strength;
  const double log_full = std::log(options.full_score_lift);
  const int threads = ResolveThreads(options.threads);
  std::vector<Worker> workers(static_cast<size_t>(threads));
  for (Worker& w : workers) {
    w.weight.assign(nv, 0.0);
    w.events.assign(nv, 0);
    w.per_level.assign(nv, {});
    w.high.assign(nv, 0);
  }
  const size_t chunks = (static_cast<size_t>(n) + kGrain - 1) / kGrain;
  std::vector<std::vector<CustomerAffinity>> chunk_out(chunks);
  std::vector<int32_t> kept(static_cast<size_t>(n), 0);
  std::vector<uint8_t> has_events(static_cast<size_t>(n), 0);

  ParallelFor(threads, static_cast<size_t>(n), kGrain, [&](size_t begin, size_t end, int worker) {
    Worker& w = workers[static_cast<size_t>(worker)];
    std::vector<CustomerAffinity>& out = chunk_out[begin / kGrain];
    for (size_t c = begin; c < end; ++c) {
      double wc = 0;
      int64_t nc = 0;
      for (int64_t e = events.offsets[c]; e < events.offsets[c + 1]; ++e) {
        double x = weight_of(e);
        if (x <= 0) continue;
        int32_t v = events.values[static_cast<size_t>(e)];
        if (w.events[static_cast<size_t>(v)] == 0) w.touched.push_back(v);
        w.weight[static_cast<size_t>(v)] += x;
        w.events[static_cast<size_t>(v)] += 1;
        wc += x;
        ++nc;
      }
      if (nc == 0) continue;
      has_events[c] = 1;
      w.candidates.clear();
      for (int32_t v : w.touched) {
        const size_t vi = static_cast<size_t>(v);
        const double p = result.values[vi].population_share;  // > 0: v has positive weight
        const double share = w.weight[vi] / wc;
        const double observed = static_cast<double>(nc) * share;
        const double expected = static_cast<double>(nc) * p;
        const double shrunk = (observed + a) / (expected + a);
        double scaled = shrunk > 1 ? 100.0 * std::log(shrunk) / log_full : 0.0;
        int score = static_cast<int>(std::lround(std::min(100.0, std::max(0.0, scaled))));
        AffinityLevel level = AffinityLevelOfScore(score);
        w.per_level[vi][static_cast<size_t>(level)] += 1;
        if (score >= options.high_score) w.high[vi] += 1;
        if (score >= options.min_score) {
          CustomerAffinity ca;
          ca.value = v;
          ca.score = score;
          ca.level = level;
          ca.shrunk_lift = shrunk;
          ca.lift = share / p;
          ca.share = share;
          ca.events = w.events[vi];
          w.candidates.push_back(ca);
        }
        w.weight[vi] = 0;
        w.events[vi] = 0;
      }
      w.touched.clear();
      auto better = [](const CustomerAffinity& x, const CustomerAffinity& y) {
        if (x.score != y.score) return x.score > y.score;
        if (x.shrunk_lift != y.shrunk_lift) return x.shrunk_lift > y.shrunk_lift;
        return x.value < y.value;
      };
      size_t k = std::min(w.candidates.size(), static_cast<size_t>(options.top_k));
      std::partial_sort(w.candidates.begin(), w.candidates.begin() + static_cast<std::ptrdiff_t>(k),
                        w.candidates.end(), better);
      out.insert(out.end(), w.candidates.begin(), w.candidates.begin() + static_cast<std::ptrdiff_t>(k));
      kept[c] = static_cast<int32_t>(k);
    }
  });

  result.offsets.assign(static_cast<size_t>(n) + 1, 0);
  for (int64_t c = 0; c < n; ++c) {
    result.offsets[static_cast<size_t>(c) + 1] =
        result.offsets[static_cast<size_t>(c)] + kept[static_cast<size_t>(c)];
    result.customers_with_events += has_events[static_cast<size_t>(c)];
  }
  result.affinities.reserve(static_cast<size_t>(result.offsets.back()));
  for (std::vector<CustomerAffinity>& out : chunk_out) {
    result.affinities.insert(result.affinities.end(), out.begin(), out.end());
    std::vector<CustomerAffinity>().swap(out);
  }
  for (const Worker& w : workers) {
    for (size_t v = 0; v < nv; ++v) {
      ValueAffinityStats& s = result.values[v];
      for (size_t l = 0; l < 5; ++l) {
        s.customers_per_level[l] += w.per_level[v][l];
        s.customers += w.per_level[v][l];
      }
      s.high_customers += w.high[v];
    }
  }
  return result;
}

}  // namespace cdp
