#pragma once
// One simulation run: multi-environment matrix sensing trained by HeteroSGD, PooledSGD or their
// infinite-batch (gradient descent) limits. Pure computation: no MPI, no files.

#include <cstdint>
#include <functional>

#include "science/params.hpp"
#include "science/run.hpp"

namespace hetsweep::science {

// Asked before each step whether the run should stop there (for a stop signal that must not wait for a long
// run to end). An empty function is never called. It runs once per step, so it should be cheap: reading an
// atomic flag, e.g. `[] { return sched::stop_requested(); }`.
using StopCheck = std::function<bool()>;

// Runs one simulation. Every random draw comes from a Philox stream keyed by `seed`, so the result is a pure
// function of (params, seed) for a given build. Requires valid params (see check_value, check_consistency).
// When `stop` returns true before step t (0 < t < steps; step 0 is always recorded), the run ends there: status
// `interrupted`, steps_done = t, the records of steps before t, and final_metrics the state U_t with a NaN loss. A run
// that is not stopped has exactly the result it has without `stop`.
RunResult simulate(const Params& params, std::uint64_t seed, const StopCheck& stop = {});

}  // namespace hetsweep::science
