#pragma once
// One simulation run: multi-environment matrix sensing trained by HeteroSGD, PooledSGD or their
// infinite-batch (gradient descent) limits. Pure computation: no MPI, no files.

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "science/params.hpp"
#include "science/records.hpp"

namespace hetsweep::science {

struct Metrics {
  double true_signal = 0;      // |P X P|_F, P the projector on the invariant subspace
  double spurious_signal = 0;  // |Q X Q|_F, Q the projector on the spurious subspace
  double err_invariant = 0;    // |X - A*|_F
  double err_pooled = 0;       // |X - (A* + mean_e A^(e))|_F
  double loss = 0;             // minibatch loss; the population loss for the *_gd algorithms
  friend bool operator==(const Metrics&, const Metrics&) = default;
};

inline constexpr std::array<std::string_view, 5> metric_names{"true_signal", "spurious_signal", "err_invariant",
                                                              "err_pooled", "loss"};
inline constexpr std::array<double Metrics::*, 5> metric_fields{&Metrics::true_signal, &Metrics::spurious_signal,
                                                                &Metrics::err_invariant, &Metrics::err_pooled,
                                                                &Metrics::loss};

struct Record {
  std::int64_t step = 0;
  Metrics metrics;
  friend bool operator==(const Record&, const Record&) = default;
};

// `interrupted`: stopped on request before its last step (see StopCheck); its results are incomplete and the
// run should be computed again.
enum class RunStatus : std::uint8_t { done, diverged, interrupted };

struct RunResult {
  RunStatus status = RunStatus::done;
  std::int64_t steps_done = 0;  // the step the run ended at: `steps`, where it diverged, or where it was stopped
  std::vector<Record> records;  // at the record_steps() the run reached; never empty (step 0 is always reached)
  Metrics final_metrics;        // at steps_done: the last record's for a finished run, the divergence state otherwise
  friend bool operator==(const RunResult&, const RunResult&) = default;
};

// Asked before each step whether the run should stop there (for a stop signal that must not wait for a long
// run to end). An empty function is never called. It runs once per step, so it should be cheap: reading an
// atomic flag, e.g. `[] { return sched::stop_requested(); }`.
using StopCheck = std::function<bool()>;

// Runs one simulation. Every random draw comes from a Philox stream keyed by `seed`, so the result is a pure
// function of (params, seed) for a given build. Requires valid params (see check_value, check_consistency).
// When `stop` returns true before step t (0 < t < steps; step 0 is always recorded), the run ends there: status `interrupted`,
// steps_done = t, the records of steps before t, and final_metrics the state U_t with a NaN loss. A run that is
// not stopped has exactly the result it has without `stop`.
RunResult simulate(const Params& params, std::uint64_t seed, const StopCheck& stop = {});

}  // namespace hetsweep::science
