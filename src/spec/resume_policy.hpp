#pragma once
// Which specs may resume a results file made with another: the fingerprint stored in the file, and the
// check that the new spec only grows the old one.

#include <optional>
#include <string>

#include "spec/sweep_spec.hpp"

namespace hetsweep::spec {

// Hex digest of what must stay equal for a results file to be resumed with another spec: name, seed, the
// fixed parameters and the axis names (not the axis values or replicate count, which may grow).
std::string fingerprint(const SweepSpec& spec);

// Why `now` cannot resume a file made with `stored`, or nullopt when it can: the same fingerprint, and every
// axis's values and the replicate count a superset of the stored ones.
std::optional<std::string> resume_conflict(const SweepSpec& stored, const SweepSpec& now);

}  // namespace hetsweep::spec
