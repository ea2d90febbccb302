#include "sched/batch_sizer.hpp"

#include <algorithm>
#include <cmath>

namespace hetsweep::sched {

void BatchSizer::observe(double run_seconds) {
  constexpr double weight = 0.1;
  mean_run_seconds_ = mean_run_seconds_ < 0 ? run_seconds : (1 - weight) * mean_run_seconds_ + weight * run_seconds;
}

std::int64_t BatchSizer::next(std::int64_t remaining, int workers) const {
  if (remaining <= 0) return 0;
  std::int64_t size = 1;
  if (mean_run_seconds_ >= 0) {
    const double ideal = target_seconds_ / std::max(mean_run_seconds_, 1e-9);
    size = static_cast<std::int64_t>(std::clamp(ideal, 1.0, static_cast<double>(max_batch_)));
  }
  // Keep at least two batches per worker in the remaining work so the tail stays balanced.
  const std::int64_t fair_share = std::max<std::int64_t>(1, remaining / (2 * std::max(workers, 1)));
  return std::min({size, fair_share, remaining});
}

std::optional<double> BatchSizer::mean_run_seconds() const {
  if (mean_run_seconds_ < 0) return std::nullopt;
  return mean_run_seconds_;
}

}  // namespace hetsweep::sched
