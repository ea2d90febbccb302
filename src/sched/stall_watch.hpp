#pragma once
// Workers that have gone silent: a worker that holds work but has sent nothing for longer than
// max(floor, 20 x the expected time of the batch it is computing) is stalled (a stopped process, a node that
// hangs). Pure bookkeeping on times the caller passes in, so the decisions are testable without a clock.

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace hetsweep::sched {

// How long a worker may stay silent: the floor, or 20 times its batch's expected time when that is longer
// (run times vary along a grid; the expected time is unknown, 0, before the first result).
struct StallRule {
  static constexpr double expected_time_factor = 20;
  double floor_seconds = 60;
  [[nodiscard]] double limit_seconds(double expected_batch_seconds) const;
};

struct Stall {
  int worker = 0;
  double silent_seconds = 0;
  double expected_batch_seconds = 0;
};

class StallWatch {
 public:
  // Workers are ranks 1..workers. Silences beyond `warn` are reported once each; beyond `stop` (when given)
  // they end the sweep.
  StallWatch(int workers, StallRule warn, std::optional<StallRule> stop);

  // A batch was handed to `worker`; a worker computes its batches in the order it receives them.
  void sent(int worker, double expected_batch_seconds, double now);
  // `worker` answered its oldest batch.
  void heard(int worker, double now);

  // The workers whose silence crossed the warning limit since the last call, each once per silence.
  [[nodiscard]] std::vector<Stall> newly_stalled(double now);
  // A worker whose silence crossed the stop limit, if any.
  [[nodiscard]] std::optional<Stall> stalled_past_stop(double now) const;

 private:
  struct Worker {
    std::deque<double> expected_batch_seconds;  // of the batches it holds, oldest first
    double silent_since = 0;                     // when it last answered, or was handed work while idle
    bool warned = false;
  };
  [[nodiscard]] std::optional<Stall> silence(int worker, double now) const;

  std::vector<Worker> workers_;  // [rank - 1]
  StallRule warn_;
  std::optional<StallRule> stop_;
};

}  // namespace hetsweep::sched
