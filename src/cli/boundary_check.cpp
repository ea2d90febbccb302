#include "cli/boundary_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>

#include "cli/sweep_refinement.hpp"
#include "refine/refiner.hpp"

namespace hetsweep::cli {
namespace {

std::string describe(const spec::SweepSpec& spec, const spec::Crossing& crossing) {
  std::vector<std::string> where;
  for (std::size_t i = 0, other = 0; i < spec.axes.size(); ++i) {
    if (spec.axes[i].name == spec.refine->axis) continue;
    where.push_back(fmt::format("{} = {}", spec.axes[i].name, science::format_value(crossing.where.at(other++))));
  }
  return fmt::format("{} crossing in [{}, {}] at {}",
                     crossing.direction == spec::Crossing::Direction::down ? "down" : "up", crossing.lo, crossing.hi,
                     fmt::join(where, ", "));
}

}  // namespace

BoundaryCheck check_boundary(const store::ResultsReader& reader) {
  BoundaryCheck check;
  const auto& spec = reader.spec();
  const auto stored = reader.boundary();
  if (!spec.refine || !stored) return check;
  check.applies = true;
  check.stored = static_cast<std::int64_t>(stored->size());
  refine::Refiner refiner(spec);
  for (const auto& run : reader.finished_runs()) {
    refiner.record(run.params, run.replicate, outcome_of(run.outcome.status), run.outcome.result.final_metrics);
  }
  const auto implied = located_crossings(refiner);
  for (const auto& crossing : *stored) {
    if (std::find(implied.begin(), implied.end(), crossing) == implied.end()) {
      check.problems.push_back(
          fmt::format("/boundary: the {} (estimate {}, {} runs) is not what the finished runs "
                      "imply",
                      describe(spec, crossing), crossing.estimate, crossing.runs));
    }
  }
  for (const auto& crossing : implied) {
    if (std::find(stored->begin(), stored->end(), crossing) == stored->end()) ++check.missing;
  }
  return check;
}

}  // namespace hetsweep::cli
