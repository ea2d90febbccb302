#include "sched/stall_watch.hpp"

#include <algorithm>

namespace hetsweep::sched {

double StallRule::limit_seconds(double expected_batch_seconds) const {
  return std::max(floor_seconds, expected_time_factor * expected_batch_seconds);
}

StallWatch::StallWatch(int workers, StallRule warn, std::optional<StallRule> stop)
    : workers_(static_cast<std::size_t>(std::max(workers, 0))), warn_(warn), stop_(stop) {}

void StallWatch::sent(int worker, double expected_batch_seconds, double now) {
  auto& w = workers_.at(static_cast<std::size_t>(worker - 1));
  if (w.expected_batch_seconds.empty()) {
    w.silent_since = now;  // an idle worker owes nothing until it is handed work
    w.warned = false;
  }
  w.expected_batch_seconds.push_back(expected_batch_seconds);
}

void StallWatch::heard(int worker, double now) {
  auto& w = workers_.at(static_cast<std::size_t>(worker - 1));
  if (!w.expected_batch_seconds.empty()) w.expected_batch_seconds.pop_front();
  w.silent_since = now;
  w.warned = false;
}

std::optional<Stall> StallWatch::silence(int worker, double now) const {
  const auto& w = workers_[static_cast<std::size_t>(worker - 1)];
  if (w.expected_batch_seconds.empty()) return std::nullopt;
  return Stall{worker, now - w.silent_since, w.expected_batch_seconds.front()};
}

std::vector<Stall> StallWatch::newly_stalled(double now) {
  std::vector<Stall> stalls;
  for (int worker = 1; worker <= static_cast<int>(workers_.size()); ++worker) {
    auto& w = workers_[static_cast<std::size_t>(worker - 1)];
    const auto s = silence(worker, now);
    if (!s || w.warned || s->silent_seconds <= warn_.limit_seconds(s->expected_batch_seconds)) continue;
    w.warned = true;
    stalls.push_back(*s);
  }
  return stalls;
}

std::optional<Stall> StallWatch::stalled_past_stop(double now) const {
  if (!stop_) return std::nullopt;
  for (int worker = 1; worker <= static_cast<int>(workers_.size()); ++worker) {
    const auto s = silence(worker, now);
    if (s && s->silent_seconds > stop_->limit_seconds(s->expected_batch_seconds)) return s;
  }
  return std::nullopt;
}

}  // namespace hetsweep::sched
