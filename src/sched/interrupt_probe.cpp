#include "sched/interrupt_probe.hpp"

#include "sched/messages.hpp"

namespace hetsweep::sched {
namespace {

// CLOCK_MONOTONIC_COARSE: read from the vDSO without a system call, to within a scheduler tick (1-4 ms).
double coarse_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

}  // namespace

bool InterruptProbe::operator()() {
  if (interrupted_) return true;
  const double now = coarse_seconds();
  if (now - last_probe_ < probe_interval_seconds) return false;
  last_probe_ = now;
  if (world_.iprobe(0, tag_interrupt)) {
    world_.recv(0, tag_interrupt);
    interrupted_ = true;
  }
  return interrupted_;
}

}  // namespace hetsweep::sched
