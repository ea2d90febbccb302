#pragma once
// Computing one run of a sweep on whichever rank holds it, the master alone or a worker.

#include <string>

#include "science/run.hpp"
#include "science/simulate.hpp"

namespace hetsweep::sched {

struct WorkResult {
  science::RunOutcome outcome;
  std::string error;  // why a failed run failed
};

// Runs one pending run. A run that throws becomes a `failed` outcome carrying the reason, not a dead worker. A
// run that `stop` interrupts comes back `pending`: it is not written, and a resume computes it again.
WorkResult compute(const science::PendingRun& run, const science::StopCheck& stop = {});

// A run handed back without computing it (the worker was interrupted before it began): `pending`.
WorkResult not_computed(const science::PendingRun& run);

}  // namespace hetsweep::sched
