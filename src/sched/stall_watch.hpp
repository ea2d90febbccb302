#pragma once
// Workers that have gone silent: a worker that holds work but has sent nothing for longer than
// max(floor, 20 x the expected time of the batch it is computing) is stalled (a stopped process, a node that
// hangs). The expected time is the batch's run count times the mean run time measured so far; while no run
// time is known, a batch gets at least 60 s. Pure bookkeeping on times the caller passes in, so the decisions
// are testable without a clock.

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace hetsweep::sched {

struct StallRule {
  static constexpr double expected_time_factor = 20;
  static constexpr double unknown_cost_seconds = 60;  // the least limit while no run time is known
  double floor_seconds = 60;
  // How long a worker may stay silent on a batch expected to take `expected_batch_seconds` (none: unknown).
  [[nodiscard]] double limit_seconds(std::optional<double> expected_batch_seconds) const;
};

struct Stall {
  int worker = 0;
  double silent_seconds = 0;
  std::optional<double> expected_batch_seconds;
};

class StallWatch {
 public:
  // Workers are ranks 1..workers. Silences beyond `warn` are reported once each; beyond `stop` (when given)
  // they end the sweep.
  StallWatch(int workers, StallRule warn, std::optional<StallRule> stop);

  // A batch of `runs` was handed to `worker`; a worker computes its batches in the order it receives them.
  void sent(int worker, std::int64_t runs, double now);
  // `worker` answered its oldest batch.
  void heard(int worker, double now);

  // The workers whose silence crossed the warning limit since the last call, each once per silence.
  // `mean_run_seconds`: the mean run time measured so far (none before the first result).
  [[nodiscard]] std::vector<Stall> newly_stalled(double now, std::optional<double> mean_run_seconds);
  // A worker whose silence crossed the stop limit, if any.
  [[nodiscard]] std::optional<Stall> stalled_past_stop(double now, std::optional<double> mean_run_seconds) const;

 private:
  struct Worker {
    std::deque<std::int64_t> batch_runs;  // the batches it holds, oldest first
    double silent_since = 0;              // when it last answered, or was handed work while idle
    bool warned = false;
  };
  [[nodiscard]] std::optional<Stall> silence(int worker, double now, std::optional<double> mean_run_seconds) const;

  std::vector<Worker> workers_;  // [rank - 1]
  StallRule warn_;
  std::optional<StallRule> stop_;
};

}  // namespace hetsweep::sched
