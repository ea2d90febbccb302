#include "sched/messages.hpp"

#include <chrono>
#include <exception>

namespace hetsweep::sched {

WorkResult compute(const WorkItem& item) {
  WorkResult r;
  r.outcome.row = item.row;
  const auto start = std::chrono::steady_clock::now();
  try {
    r.outcome.result = science::simulate(item.params, item.seed);
    r.outcome.status = r.outcome.result.status == science::RunStatus::done ? store::RowStatus::done
                                                                             : store::RowStatus::diverged;
  } catch (const std::exception& e) {
    r.outcome.status = store::RowStatus::failed;
    r.error = e.what();
  }
  r.outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace hetsweep::sched
