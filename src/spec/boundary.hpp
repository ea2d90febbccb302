#pragma once
// What adaptive refinement finds: the crossings of the refine threshold, shared by the bisection and the store.

#include <cstdint>
#include <vector>

#include "science/params.hpp"

namespace hetsweep::spec {

// One located crossing of the refine threshold along the refine axis, for one combination of the other axes.
struct Crossing {
  enum class Direction { down, up };       // down: the metric falls below the threshold as the axis grows
  std::vector<science::ParamValue> where;  // the other axes' values, in axis order (the refine axis left out)
  double lo = 0;
  double hi = 0;
  Direction direction = Direction::down;
  double estimate = 0;    // linear interpolation of the replicate means between lo and hi
  std::int64_t runs = 0;  // runs spent locating it, replicates included
  friend bool operator==(const Crossing&, const Crossing&) = default;
};

}  // namespace hetsweep::spec
