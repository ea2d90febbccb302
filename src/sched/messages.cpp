#include "sched/messages.hpp"

#include <chrono>
#include <exception>

namespace hetsweep::sched {

namespace {

store::RowStatus row_status(science::RunStatus status) {
  switch (status) {
    case science::RunStatus::done: return store::RowStatus::done;
    case science::RunStatus::diverged: return store::RowStatus::diverged;
    case science::RunStatus::interrupted: return store::RowStatus::pending;
  }
  return store::RowStatus::failed;  // not reached: every status is handled above
}

}  // namespace

WorkResult compute(const WorkItem& item, const science::StopCheck& stop) {
  WorkResult r;
  r.outcome.row = item.row;
  const auto start = std::chrono::steady_clock::now();
  try {
    r.outcome.result = science::simulate(item.params, item.seed, stop);
    r.outcome.status = row_status(r.outcome.result.status);
  } catch (const std::exception& e) {
    r.outcome.status = store::RowStatus::failed;
    r.error = e.what();
  }
  r.outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

WorkResult not_computed(const WorkItem& item) {
  WorkResult r;
  r.outcome.row = item.row;
  r.outcome.status = store::RowStatus::pending;
  return r;
}

}  // namespace hetsweep::sched
