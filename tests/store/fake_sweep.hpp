#pragma once
// A small sweep and outcomes whose every value is known, so that what a results file gives back can be
// compared exactly. Used by the store tests and by the program that writes the sample file for the Python
// layout check.

#include <cstdint>
#include <string>

#include "science/metrics.hpp"
#include "science/records.hpp"
#include "science/run.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"

namespace hetsweep::store::test_support {

// 2 step sizes x 2 algorithms x 2 replicates = 8 runs, records at steps 0, 10, 20, 30, 40.
inline const std::string small_spec_text = R"(name: store-test
seed: 7
fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 40, record_every: 10}
grid:
  step_size: [0.01, 0.05]
  algorithm: [hetero, pooled]
replicates: 2
)";

// The same sweep refined along step_size.
inline const std::string refine_spec_text = small_spec_text + R"(refine:
  axis: step_size
  metric: spurious_signal
  threshold: 0.5
  tolerance: 0.01
)";

inline spec::SweepSpec parse(const std::string& text) { return spec::parse_spec(text, "test.yaml"); }

// The value a fake run records for `metric` at `step`: distinct per row, step and metric, exact in binary.
inline double fake_value(std::int64_t row, std::int64_t step, std::size_t metric) {
  return static_cast<double>(row) * 1000.0 + static_cast<double>(step) + static_cast<double>(metric) * 0.125;
}

// A finished run with records at the run's record steps and end metrics fake_value(row, steps_done, m). A
// diverged run records up to `stop_step` and diverges one step later; a failed run has no records.
inline science::RunOutcome fake_outcome(const science::PendingRun& run,
                                        science::RowStatus status = science::RowStatus::done,
                                        std::int64_t stop_step = 10) {
  science::RunOutcome outcome;
  outcome.row = run.row;
  outcome.status = status;
  outcome.wall_seconds = 0.5 + static_cast<double>(run.row);
  outcome.result.status =
      status == science::RowStatus::diverged ? science::RunStatus::diverged : science::RunStatus::done;
  if (status == science::RowStatus::failed) return outcome;
  for (auto step : science::record_steps(run.params)) {
    if (status == science::RowStatus::diverged && step > stop_step) break;
    science::Record record;
    record.step = step;
    for (std::size_t m = 0; m < science::metric_fields.size(); ++m) {
      record.metrics.*science::metric_fields[m] = fake_value(run.row, step, m);
    }
    outcome.result.records.push_back(record);
  }
  outcome.result.steps_done = outcome.result.records.back().step + (status == science::RowStatus::diverged ? 1 : 0);
  for (std::size_t m = 0; m < science::metric_fields.size(); ++m) {
    outcome.result.final_metrics.*science::metric_fields[m] = fake_value(run.row, outcome.result.steps_done, m);
  }
  return outcome;
}

}  // namespace hetsweep::store::test_support
