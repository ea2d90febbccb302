#pragma once
// A run of a sweep and what comes of it: the run to compute, the simulator's result, and the outcome the
// scheduler hands to the results file. Defined once here, for the simulator, the scheduler and the store.

#include <cstdint>
#include <vector>

#include "science/metrics.hpp"
#include "science/params.hpp"

namespace hetsweep::science {

// `interrupted`: stopped on request before its last step (see StopCheck); its results are incomplete and the
// run should be computed again.
enum class RunStatus : std::uint8_t { done, diverged, interrupted };

// What the simulator computed for one run.
struct RunResult {
  RunStatus status = RunStatus::done;
  std::int64_t steps_done = 0;  // the step the run ended at: `steps`, where it diverged, or where it was stopped
  std::vector<Record> records;  // at the record_steps() the run reached; never empty (step 0 is always reached)
  Metrics final_metrics;        // at steps_done: the last record's for a finished run, the divergence state otherwise
  friend bool operator==(const RunResult&, const RunResult&) = default;
};

// A run of a sweep still to compute: its row (its index in the sweep, the /runs row of the results file), its
// parameters and its seed.
struct PendingRun {
  std::int64_t row = 0;
  Params params;
  std::uint64_t seed = 0;
};

// Where a run of a sweep stands. The values are the `status` field of results files: never change them.
enum class RowStatus : std::int8_t { pending = 0, done = 1, diverged = 2, failed = 3 };

// A run of a sweep once computed (or handed back unfinished: `pending`).
struct RunOutcome {
  std::int64_t row = 0;
  RowStatus status = RowStatus::done;
  double wall_seconds = 0;
  RunResult result;  // records empty for a failed run
};

}  // namespace hetsweep::science
