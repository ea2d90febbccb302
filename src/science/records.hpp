#pragma once
// The record-step rule: at which steps a run records its metrics. The one statement of it: the simulator
// records at these steps, the spec checks count them, the results file lays out and verifies its
// trajectories by them.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "science/params.hpp"

namespace hetsweep::science {

// The parameters the rule reads: runs that agree on these record at the same steps.
inline constexpr std::array<std::string_view, 2> record_step_inputs{"steps", "record_every"};

// Whether a run records its metrics at step t (0 <= t <= steps, t reached): every record_every-th step
// from 0, and the last step.
bool is_record_step(const Params& params, std::int64_t t);
// The steps at which a run that does not diverge records its metrics: 0, e, 2e, ..., and `steps`. No
// arithmetic on steps and record_every can overflow, whatever their values (steps >= 0, record_every >= 1).
std::vector<std::int64_t> record_steps(const Params& params);
// record_steps(params).size() without building the list; unsigned because steps = 2^63 - 1 with
// record_every = 1 records 2^63 times.
std::uint64_t record_count(const Params& params);

}  // namespace hetsweep::science
