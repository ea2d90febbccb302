#include "science/records.hpp"

namespace hetsweep::science {

bool is_record_step(const Params& params, std::int64_t t) { return t % params.record_every == 0 || t == params.steps; }

std::vector<std::int64_t> record_steps(const Params& p) {
  std::vector<std::int64_t> steps;
  steps.reserve(static_cast<std::size_t>(record_count(p)));
  // t + record_every is formed only when it is at most `steps`, so it never overflows.
  for (std::int64_t t = 0;; t += p.record_every) {
    steps.push_back(t);
    if (p.steps - t < p.record_every) break;
  }
  if (steps.back() != p.steps) steps.push_back(p.steps);
  return steps;
}

std::uint64_t record_count(const Params& p) {
  const auto steps = static_cast<std::uint64_t>(p.steps);
  const auto every = static_cast<std::uint64_t>(p.record_every);
  return steps / every + 1 + (steps % every != 0 ? 1 : 0);
}

}  // namespace hetsweep::science
