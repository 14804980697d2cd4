#include "enrich/engagement.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "common/datetime.h"
#include "common/parallel.h"
#include "common/text.h"

namespace cdp {

std::string_view EngagementLevelName(EngagementLevel level) {
  switch (level) {
    case EngagementLevel::kNone:
      return "None";
    case EngagementLevel::kLow:
      return "Low";
    case EngagementLevel::kMedium:
      return "Medium";
    case EngagementLevel::kHigh:
      return "High";
  }
  return "None";
}

EngagementLevel EngagementLevelOfScore(int score) {
  if (score >= 70) return EngagementLevel::kHigh;
  if (score >= 35) return EngagementLevel::kMedium;
  if (score >= 1) return EngagementLevel::kLow;
  return EngagementLevel::kNone;
}

namespace {

std::string Num(double v) { return FormatFixed(v, 6); }

Status CheckOptions(const EngagementOptions& o, size_t types) {
  if (!o.as_of_day) return InvalidArgumentError("engagement option as_of_day is required");
  if (!IsSupportedRunDate(*o.as_of_day)) {
    return InvalidArgumentError("engagement option as_of_day " + std::to_string(*o.as_of_day) +
                                " is outside 1900-01-01..9999-12-31");
  }
  if (!std::isfinite(o.half_life_days) || o.half_life_days < 0.5 || o.half_life_days > 36500) {
    return InvalidArgumentError("engagement option half_life_days must be in [0.5, 36500], got " +
                                Num(o.half_life_days));
  }
  if (!o.type_weights.empty()) {
    if (o.type_weights.size() != types) {
      return InvalidArgumentError("engagement option type_weights has " +
                                  std::to_string(o.type_weights.size()) +
                                  " entries, expected 0 or one per type (" + std::to_string(types) + ")");
    }
    bool any = false;
    for (size_t t = 0; t < types; ++t) {
      double w = o.type_weights[t];
      if (!std::isfinite(w) || w < 0) {
        return InvalidArgumentError("engagement option type_weights[" + std::to_string(t) + "] = " + Num(w) +
                                    " must be finite and >= 0");
      }
      any = any || w > 0;
    }
    if (!any) return InvalidArgumentError("engagement option type_weights are all 0: nothing would count");
  }
  if (!std::isfinite(o.reference_quantile) || o.reference_quantile < 0.5 || o.reference_quantile > 1) {
    return InvalidArgumentError("engagement option reference_quantile must be in [0.5, 1], got " +
                                Num(o.reference_quantile));
  }
  if (!std::isfinite(o.reference_raw) || o.reference_raw < 0) {
    return InvalidArgumentError(
        "engagement option reference_raw must be finite and >= 0 (0 = the quantile), got " +
        Num(o.reference_raw));
  }
  return Status::Ok();
}

Status CheckEvents(const EngagementEvents& e) {
  if (e.offsets.empty())
    return InvalidArgumentError("engagement events: offsets is empty (needs customers + 1 entries)");
  if (e.offsets[0] != 0) {
    return InvalidArgumentError("engagement events: offsets[0] must be 0, got " +
                                std::to_string(e.offsets[0]));
  }
  for (size_t i = 1; i < e.offsets.size(); ++i) {
    if (e.offsets[i] < e.offsets[i - 1]) {
      return InvalidArgumentError("engagement events: offsets decrease at offsets[" + std::to_string(i) +
                                  "] = " + std::to_string(e.offsets[i]));
    }
  }
  if (e.days.size() != e.types.size()) {
    return InvalidArgumentError("engagement events: days has " + std::to_string(e.days.size()) +
                                " entries but types has " + std::to_string(e.types.size()));
  }
  if (e.offsets.back() != static_cast<int64_t>(e.types.size())) {
    return InvalidArgumentError("engagement events: last offset " + std::to_string(e.offsets.back()) +
                                " != types.size() " + std::to_string(e.types.size()));
  }
  if (e.type_names.size() > static_cast<size_t>(INT32_MAX)) {
    return InvalidArgumentError("engagement events: too many type_names");
  }
  const int32_t nt = static_cast<int32_t>(e.type_names.size());
  for (size_t i = 0; i < e.types.size(); ++i) {
    if (e.types[i] < 0 || e.types[i] >= nt) {
      return InvalidArgumentError("engagement events: types[" + std::to_string(i) +
                                  "] = " + std::to_string(e.types[i]) +
                                  " is not a code of type_names (size " + std::to_string(nt) + ")");
    }
  }
  return Status::Ok();
}

// Type-7 quantile (linear interpolation between order statistics) of `x`,
// which it reorders. x is not empty.
double Quantile(std::vector<double>& x, double q) {
  const double h = static_cast<double>(x.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  std::nth_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(lo), x.end());
  const double a = x[lo];
  if (lo + 1 >= x.size()) return a;
  const double b = *std::min_element(x.begin() + static_cast<std::ptrdiff_t>(lo) + 1, x.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
}

struct Worker {
  std::vector<double> raw;      // per type, 0 outside a customer
  std::vector<int64_t> events;  // per type
  std::vector<int32_t> touched;
};

constexpr size_t kGrain = 4096;

}  // namespace

StatusOr<EngagementResult> ComputeEngagement(const EngagementEvents& events,
                                             const EngagementOptions& options) {
  CDP_RETURN_IF_ERROR(CheckOptions(options, events.type_names.size()));
  CDP_RETURN_IF_ERROR(CheckEvents(events));
  const int64_t n = events.customers();
  const size_t nt = events.type_names.size();
  const int32_t as_of = *options.as_of_day;
  const double inv_half_life = 1.0 / options.half_life_days;

  EngagementResult r;
  r.raw.assign(static_cast<size_t>(n), 0.0);
  r.score.assign(static_cast<size_t>(n), 0);
  r.level.assign(static_cast<size_t>(n), EngagementLevel::kNone);
  r.last_day.assign(static_cast<size_t>(n), INT32_MIN);
  r.events.assign(static_cast<size_t>(n), 0);

  const int threads = ResolveThreads(options.threads);
  std::vector<Worker> workers(static_cast<size_t>(threads));
  for (Worker& w : workers) {
    w.raw.assign(nt, 0.0);
    w.events.assign(nt, 0);
  }
  const size_t chunks = (static_cast<size_t>(n) + kGrain - 1) / kGrain;
  std::vector<std::vector<EngagementContribution>> chunk_out(chunks);
  std::vector<int32_t> kinds(static_cast<size_t>(n), 0);
  std::vector<int64_t> chunk_ignored(chunks, 0);

  ParallelFor(threads, static_cast<size_t>(n), kGrain, [&](size_t begin, size_t end, int worker) {
    Worker& w = workers[static_cast<size_t>(worker)];
    std::vector<EngagementContribution>& out = chunk_out[begin / kGrain];
    int64_t ignored = 0;
    for (size_t c = begin; c < end; ++c) {
      int32_t last = INT32_MIN;
      int64_t used = 0;
      for (int64_t e = events.offsets[c]; e < events.offsets[c + 1]; ++e) {
        const int32_t day = events.days[static_cast<size_t>(e)];
        if (day >= as_of) {
          ++ignored;
          continue;
        }
        const size_t t = static_cast<size_t>(events.types[static_cast<size_t>(e)]);
        const double weight = options.type_weights.empty() ? 1.0 : options.type_weights[t];
        if (w.events[t] == 0) w.touched.push_back(static_cast<int32_t>(t));
        w.events[t] += 1;
        // as_of - day >= 1 and both are int32: the difference fits in int64.
        const double age = static_cast<double>(static_cast<int64_t>(as_of) - day);
        w.raw[t] += weight * std::exp2(-age * inv_half_life);
        last = std::max(last, day);
        ++used;
      }
      if (used == 0) continue;
      // Contributions, largest first; R summed in that (deterministic) order.
      const size_t first = out.size();
      for (int32_t t : w.touched) {
        EngagementContribution ec;
        ec.type = t;
        ec.events = w.events[static_cast<size_t>(t)];
        ec.raw = w.raw[static_cast<size_t>(t)];
        out.push_back(ec);
        w.raw[static_cast<size_t>(t)] = 0;
        w.events[static_cast<size_t>(t)] = 0;
      }
      w.touched.clear();
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                [](const EngagementContribution& x, const EngagementContribution& y) {
                  if (x.raw != y.raw) return x.raw > y.raw;
                  return x.type < y.type;
                });
      double total = 0;
      for (size_t i = first; i < out.size(); ++i) total += out[i].raw;
      r.raw[c] = total;
      r.last_day[c] = last;
      r.events[c] = used;
      kinds[c] = static_cast<int32_t>(out.size() - first);
    }
    chunk_ignored[begin / kGrain] += ignored;
  });

  r.contribution_offsets.assign(static_cast<size_t>(n) + 1, 0);
  std::vector<double> positive;
  for (size_t c = 0; c < static_cast<size_t>(n); ++c) {
    r.contribution_offsets[c + 1] = r.contribution_offsets[c] + kinds[c];
    r.events_used += r.events[c];
    if (r.raw[c] > 0) positive.push_back(r.raw[c]);
  }
  for (int64_t x : chunk_ignored) r.events_ignored += x;
  r.active_customers = static_cast<int64_t>(positive.size());
  r.contributions.reserve(static_cast<size_t>(r.contribution_offsets.back()));
  for (std::vector<EngagementContribution>& out : chunk_out) {
    r.contributions.insert(r.contributions.end(), out.begin(), out.end());
    std::vector<EngagementContribution>().swap(out);
  }

  if (options.reference_raw > 0) {
    r.reference_raw = options.reference_raw;
  } else if (!positive.empty()) {
    r.reference_raw = Quantile(positive, options.reference_quantile);
  }
  std::vector<double>().swap(positive);

  const double log_ref = std::log1p(r.reference_raw);
  std::vector<std::array<int64_t, 4>> chunk_levels(chunks);
  ParallelFor(threads, static_cast<size_t>(n), kGrain, [&](size_t begin, size_t end, int) {
    std::array<int64_t, 4>& levels = chunk_levels[begin / kGrain];
    for (size_t c = begin; c < end; ++c) {
      int score = 0;
      if (r.raw[c] > 0) {
        const double s = log_ref > 0 ? 100.0 * std::log1p(r.raw[c]) / log_ref : 100.0;
        score = static_cast<int>(std::clamp<long>(std::lround(std::min(s, 100.0)), 1, 100));
      }
      r.score[c] = score;
      r.level[c] = EngagementLevelOfScore(score);
      levels[static_cast<size_t>(r.level[c])] += 1;
      for (int64_t i = r.contribution_offsets[c]; i < r.contribution_offsets[c + 1]; ++i) {
        EngagementContribution& ec = r.contributions[static_cast<size_t>(i)];
        ec.points = r.raw[c] > 0 ? score * ec.raw / r.raw[c] : 0.0;
      }
    }
  });
  for (const auto& levels : chunk_levels) {
    for (size_t l = 0; l < 4; ++l) r.customers_per_level[l] += levels[l];
  }
  return r;
}

}  // namespace cdp
