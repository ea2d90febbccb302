#include "sched/stall_watch.hpp"

#include <algorithm>

namespace hetsweep::sched {

double StallRule::limit_seconds(std::optional<double> expected_batch_seconds) const {
  if (!expected_batch_seconds) return std::max(floor_seconds, unknown_cost_seconds);
  return std::max(floor_seconds, expected_time_factor * *expected_batch_seconds);
}

StallWatch::StallWatch(int workers, StallRule warn, std::optional<StallRule> stop)
    : workers_(static_cast<std::size_t>(std::max(workers, 0))), warn_(warn), stop_(stop) {}

void StallWatch::sent(int worker, std::int64_t runs, double now) {
  auto& w = workers_.at(static_cast<std::size_t>(worker - 1));
  if (w.batch_runs.empty()) {
    w.silent_since = now;  // an idle worker owes nothing until it is handed work
    w.warned = false;
  }
  w.batch_runs.push_back(runs);
}

void StallWatch::heard(int worker, double now) {
  auto& w = workers_.at(static_cast<std::size_t>(worker - 1));
  if (!w.batch_runs.empty()) w.batch_runs.pop_front();
  w.silent_since = now;
  w.warned = false;
}

std::optional<Stall> StallWatch::silence(int worker, double now, std::optional<double> mean_run_seconds) const {
  const auto& w = workers_[static_cast<std::size_t>(worker - 1)];
  if (w.batch_runs.empty()) return std::nullopt;
  std::optional<double> expected;
  if (mean_run_seconds) expected = static_cast<double>(w.batch_runs.front()) * *mean_run_seconds;
  return Stall{worker, now - w.silent_since, expected};
}

std::vector<Stall> StallWatch::newly_stalled(double now, std::optional<double> mean_run_seconds) {
  std::vector<Stall> stalls;
  for (int worker = 1; worker <= static_cast<int>(workers_.size()); ++worker) {
    auto& w = workers_[static_cast<std::size_t>(worker - 1)];
    const auto s = silence(worker, now, mean_run_seconds);
    if (!s || w.warned || s->silent_seconds <= warn_.limit_seconds(s->expected_batch_seconds)) continue;
    w.warned = true;
    stalls.push_back(*s);
  }
  return stalls;
}

std::optional<Stall> StallWatch::stalled_past_stop(double now, std::optional<double> mean_run_seconds) const {
  if (!stop_) return std::nullopt;
  for (int worker = 1; worker <= static_cast<int>(workers_.size()); ++worker) {
    const auto s = silence(worker, now, mean_run_seconds);
    if (s && s->silent_seconds > stop_->limit_seconds(s->expected_batch_seconds)) return s;
  }
  return std::nullopt;
}

}  // namespace hetsweep::sched
