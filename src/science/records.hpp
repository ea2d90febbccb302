#pragma once
// The record-step rule: at which steps a run records its metrics. Apart from the simulator, so that the spec
// checks can count records without linking it.

#include <cstdint>
#include <vector>

#include "science/params.hpp"

namespace hetsweep::science {

// The steps at which a run that does not diverge records its metrics: 0, e, 2e, ..., and `steps`. No
// arithmetic on steps and record_every can overflow, whatever their values (steps >= 0, record_every >= 1).
std::vector<std::int64_t> record_steps(const Params& params);
// record_steps(params).size() without building the list; unsigned because steps = 2^63 - 1 with
// record_every = 1 records 2^63 times.
std::uint64_t record_count(const Params& params);

}  // namespace hetsweep::science
