#include "sched/compute.hpp"

#include <chrono>
#include <exception>

namespace hetsweep::sched {

namespace {

science::RowStatus row_status(science::RunStatus status) {
  switch (status) {
    case science::RunStatus::done:
      return science::RowStatus::done;
    case science::RunStatus::diverged:
      return science::RowStatus::diverged;
    case science::RunStatus::interrupted:
      return science::RowStatus::pending;
  }
  return science::RowStatus::failed;  // not reached: every status is handled above
}

}  // namespace

WorkResult compute(const science::PendingRun& run, const science::StopCheck& stop) {
  WorkResult r;
  r.outcome.row = run.row;
  const auto start = std::chrono::steady_clock::now();
  try {
    r.outcome.result = science::simulate(run.params, run.seed, stop);
    r.outcome.status = row_status(r.outcome.result.status);
  } catch (const std::exception& e) {
    r.outcome.status = science::RowStatus::failed;
    r.error = e.what();
  }
  r.outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

WorkResult not_computed(const science::PendingRun& run) {
  WorkResult r;
  r.outcome.row = run.row;
  r.outcome.status = science::RowStatus::pending;
  return r;
}

}  // namespace hetsweep::sched
