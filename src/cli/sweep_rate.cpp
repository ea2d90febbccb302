#include "cli/sweep_rate.hpp"

#include <algorithm>

namespace hetsweep::cli {

SweepRate estimate_rate(std::span<const double> finished_at, std::int64_t pending, double now, double window_seconds) {
  SweepRate estimate;
  double newest = 0;
  for (double t : finished_at) newest = std::max(newest, t);
  if (pending == 0) estimate.eta_seconds = 0.0;
  if (newest == 0) return estimate;  // nothing written yet

  double oldest = newest;
  std::int64_t recent = 0;
  for (double t : finished_at) {
    if (t > 0 && t >= newest - window_seconds) {
      ++recent;
      oldest = std::min(oldest, t);
    }
  }
  estimate.covered_seconds = newest - oldest;
  if (estimate.covered_seconds > 0) {
    estimate.runs_per_second = static_cast<double>(recent - 1) / estimate.covered_seconds;
  }
  estimate.stalled = pending > 0 && now - newest > window_seconds;
  if (pending > 0 && estimate.runs_per_second && !estimate.stalled) {
    estimate.eta_seconds = static_cast<double>(pending) / *estimate.runs_per_second;
  }
  return estimate;
}

}  // namespace hetsweep::cli
