#pragma once
// How many runs to hand a worker at once.

#include <cstdint>
#include <optional>

namespace hetsweep::sched {

// Batches sized so each takes about `target_seconds`: runs of a few milliseconds then cost the master one
// message per batch instead of one per run. Never so large that the last batches leave workers idle.
class BatchSizer {
 public:
  explicit BatchSizer(double target_seconds = 0.1, std::int64_t max_batch = 512)
      : target_seconds_(target_seconds), max_batch_(max_batch) {}

  // A finished run's wall time; a moving average follows grids whose run cost varies along an axis.
  void observe(double run_seconds);
  // The next batch's size, with `remaining` runs not yet handed out to `workers` workers.
  [[nodiscard]] std::int64_t next(std::int64_t remaining, int workers) const;
  // The moving average of the run times observed; none before the first.
  [[nodiscard]] std::optional<double> mean_run_seconds() const;

 private:
  double target_seconds_;
  std::int64_t max_batch_;
  double mean_run_seconds_ = -1;  // negative until the first observation: start with single runs
};

}  // namespace hetsweep::sched
