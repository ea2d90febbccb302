#pragma once
// A worker's stop check (science::StopCheck): whether the master has asked it to interrupt the runs in
// progress. Workers ignore stop signals (the master decides), so the master's stop reaches them as a
// tag_interrupt message, which the worker looks for between steps.

#include <boost/mpi/communicator.hpp>
#include <ctime>

namespace hetsweep::sched {

class InterruptProbe {
 public:
  // How often the master's message is looked for: a stop waits at most one step and this long.
  static constexpr double probe_interval_seconds = 0.05;

  explicit InterruptProbe(const boost::mpi::communicator& world) : world_(world) {}

  // Asked before each step. Reads a coarse clock (a few nanoseconds, no system call) and probes MPI only
  // when probe_interval_seconds have passed since the last probe; receives the message when it is there.
  bool operator()();
  // The worker's own loop received the master's tag_interrupt message.
  void received() { interrupted_ = true; }
  [[nodiscard]] bool interrupted() const { return interrupted_; }

 private:
  const boost::mpi::communicator& world_;
  bool interrupted_ = false;
  double last_probe_ = -1e300;  // the first check probes at once
};

}  // namespace hetsweep::sched
