#pragma once
// How fast a sweep finishes runs, and when it will be done, from the times the master wrote its results.

#include <cstdint>
#include <optional>
#include <span>

namespace hetsweep::cli {

struct SweepRate {
  std::optional<double> runs_per_second;  // unknown with fewer than two distinct write times in the window
  std::optional<double> eta_seconds;      // 0 when nothing is pending; unknown without a rate or when stalled
  double covered_seconds = 0;             // the span the rate was measured over
  bool stalled = false;                   // runs are pending but nothing was written for a whole window
};

// `finished_at`: the Unix times the rows were written (0 for pending rows, which are skipped); `now` the
// current Unix time. The rate counts the n results written within `window_seconds` before the newest and
// divides the n - 1 intervals between them by the span they cover, newest - oldest: a sweep younger than
// the window is measured over its own age, not diluted by the empty rest of the window. ETA = pending / rate.
SweepRate estimate_rate(std::span<const double> finished_at, std::int64_t pending, double now,
                        double window_seconds = 120.0);

}  // namespace hetsweep::cli
