#pragma once
// The `refine:` block of a sweep spec: reading and checking it, and what a resume may change of it.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "spec/sweep_spec.hpp"

namespace YAML {
class Node;
struct Mark;
}  // namespace YAML

namespace hetsweep::spec {

// Reads the block under the top-level key `refine` (whose own position is `key_mark`) of a spec whose axes
// are already read and checked. Throws SpecError naming `file`, the line, column and key (`refine.metric`).
Refine parse_refine(const YAML::Node& block, const YAML::Mark& key_mark, const SweepSpec& spec,
                    const std::string& file);

// Why a file made with `stored` cannot be resumed with `now` because of refinement, or nullopt. The block must
// be the same, and while there is one the refined axis's values and the replicate count must stay as they
// were: refinement points are a function of the grid's results along that axis, so a new grid point or
// replicate there would leave the file's refinement runs off the points the new grid calls for.
std::optional<std::string> refine_conflict(const SweepSpec& stored, const SweepSpec& now);

// "axis heterogeneity, metric spurious_signal, threshold 0.05, tolerance 0.02, diverged_as above".
std::string describe(const Refine& refine);
std::string_view to_string(Refine::Diverged diverged);

}  // namespace hetsweep::spec
