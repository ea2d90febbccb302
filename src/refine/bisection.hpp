#pragma once
// The bisection rule of refinement along one numeric axis: a bracket's midpoint, when a bracket is final, and
// how many points bisection can add.

#include <cstdint>
#include <optional>

#include "science/params.hpp"
#include "spec/sweep_spec.hpp"

namespace hetsweep::refine {

// An integer or real axis value as a double (integers of the parameter ranges are exact).
double as_double(const science::ParamValue& value);

// The point halving lo < hi, in the axis's kind: lo + (hi - lo) / 2, rounded down for integers (so always an
// exact function of the two ends, whatever order the results came in); nullopt when nothing lies strictly
// between them (adjacent integers, or adjacent doubles).
std::optional<science::ParamValue> midpoint(const science::ParamValue& lo, const science::ParamValue& hi);

// A bracket is final when it is at most `tolerance` wide or cannot be halved.
bool is_final(const science::ParamValue& lo, const science::ParamValue& hi, double tolerance);

// The most points bisecting [lo, hi] can add: the halvings of the wider half until it is final.
std::int64_t max_points(const science::ParamValue& lo, const science::ParamValue& hi, double tolerance);

// The most refinement points one combination of the other axes can take (each computed for every
// replicate). Without `skip`, each pair of neighbouring grid values brackets at most one crossing; with it a
// crossing may span skipped grid values, so each of the (values - 1) crossings is bounded by the whole axis.
// Requires spec.refine.
std::int64_t max_points_per_combination(const spec::SweepSpec& spec);

}  // namespace hetsweep::refine
