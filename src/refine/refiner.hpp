#pragma once
// Adaptive refinement of one sweep axis towards the crossings of a threshold (the spec's `refine:` block).
//
// For every combination of the other axes, the points along the refined axis are sorted and classified by
// the mean over the replicates of the final metric: below when mean < threshold, above otherwise (a mean
// exactly at the threshold is above); a point with a diverged or failed replicate is above, below, or left
// out (skip) as diverged_as says; a point with a replicate not finished is unknown. Each pair of neighbouring
// classified points on different sides is a crossing, bisected by midpoints (bisection.hpp) until it is at
// most `tolerance` wide. Which points are asked for is a pure function of the finished results, whatever the
// order they arrive in, so a resumed sweep asks for exactly the same points. No MPI, no files.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "science/metrics.hpp"
#include "science/params.hpp"
#include "spec/grid.hpp"
#include "spec/sweep_spec.hpp"

namespace hetsweep::refine {

// How a run ended, as far as refinement cares.
enum class Outcome : std::uint8_t { done, diverged, failed };

// down: the metric falls below the threshold as the axis grows; up: it rises to or above it.
enum class Direction : std::uint8_t { down, up };

struct Crossing {
  std::int64_t combination = 0;            // row-major index over the other axes, in axis order
  std::vector<science::ParamValue> where;  // the other axes' values, in axis order
  science::ParamValue lo, hi;              // the bracket: neighbouring points on either side
  Direction direction = Direction::up;
  double estimate = 0;    // where the line through (lo, mean at lo) and (hi, mean at hi) meets the threshold;
                          // the bracket's middle when an end has no mean (it diverged or failed)
  std::int64_t runs = 0;  // refinement runs asked for this crossing (its midpoints x replicates)
  // Final: at most `tolerance` wide, or it cannot be halved (adjacent integers or doubles), or its midpoint
  // was skipped (diverged_as: skip), which leaves it wider. Not final: its next midpoint is still running.
  bool resolved = false;
  friend bool operator==(const Crossing&, const Crossing&) = default;
};

class Refiner {
 public:
  // Decides whether a combination belongs to this process's shard, from combination_seed(). Empty: all do.
  using ShardFilter = std::function<bool(std::uint64_t combination_seed)>;

  // Keeps a reference to `spec`, which must have a refine block and outlive the refiner.
  explicit Refiner(const spec::SweepSpec& spec, const ShardFilter& in_shard = {});
  explicit Refiner(spec::SweepSpec&&, const ShardFilter& = {}) = delete;

  // A run that already has a row (a grid or refinement row of a resumed file, pending or finished): it is
  // never returned by take_ready(). Runs of other shards' combinations are ignored.
  void note_existing(const science::Params& params, std::int64_t replicate);
  // A finished run (grid or refinement); the same run recorded again replaces its result. Runs of other
  // shards' combinations are ignored. Throws std::invalid_argument for a run off the other axes' values or
  // a replicate out of range.
  void record(const science::Params& params, std::int64_t replicate, Outcome outcome,
              const science::Metrics& final_metrics);

  // The refinement runs the results so far ask for and that were neither returned before nor noted as
  // existing: every replicate of each new point, by combination, then in the order bisection found them.
  // On the refined axis coords is -1 (its value is off the grid); params, key and seed as for grid runs.
  std::vector<spec::RunPoint> take_ready();

  // Every combination of the shard has all its grid and refinement runs finished and its crossings final.
  [[nodiscard]] bool resolved() const { return resolved_count_ == in_shard_count_; }
  // The crossings found so far, by combination and along the axis.
  [[nodiscard]] std::vector<Crossing> crossings() const;

  // The shard key of the combination `params` belongs to: the run seed its run at the refined parameter's
  // default value, replicate 0, would have. A pure function of the other axes' values, fixed values and the
  // sweep seed, so that a combination's runs (grid and refinement) go to one shard.
  [[nodiscard]] std::uint64_t combination_seed(const science::Params& params) const;

 private:
  enum class Side : std::uint8_t { unknown, below, above, skipped };
  struct Finished {
    Outcome outcome;
    double metric;
  };
  struct Point {
    std::vector<std::optional<Finished>> results;  // by replicate
    std::vector<bool> known;                       // by replicate: finished, noted or handed out
  };
  struct Classified {
    science::ParamValue value;
    Side side = Side::unknown;
    std::optional<double> mean;
  };
  struct Verdict {
    Side side = Side::unknown;
    std::optional<double> mean;
    friend bool operator==(const Verdict&, const Verdict&) = default;
  };
  struct Combination {
    std::map<science::ParamValue, Point> points;
    std::vector<Verdict> grid;                // by position in grid_values_: kept up to date, so derive() reads no map
    std::vector<science::ParamValue> wanted;  // refinement points the results ask for, in the order found
    std::vector<Crossing> crossings;
    bool resolved = false;
  };

  std::optional<std::int64_t> combination_of(const science::Params& params) const;
  Point& point(Combination& combination, const science::ParamValue& value);
  Classified classify(const Combination& combination, const science::ParamValue& value) const;
  void derive(std::int64_t index, Combination& combination);
  bool bisect(std::int64_t index, Combination& combination, Classified lo, Classified hi);
  [[nodiscard]] bool is_grid_value(const science::ParamValue& value) const;
  [[nodiscard]] std::vector<std::int64_t> coordinates_of(std::int64_t index) const;  // per other axis
  [[nodiscard]] science::Params params_of(std::int64_t index, const science::ParamValue& value) const;

  const spec::SweepSpec* spec_;
  const spec::Refine* refine_;
  std::size_t axis_;                     // the refined axis's index in spec.axes
  const science::ParamSpec* parameter_;  // the refined parameter
  double science::Metrics::*metric_;
  std::vector<std::size_t> other_axes_;                                   // indices into spec.axes
  std::vector<std::map<science::ParamValue, std::int64_t>> other_index_;  // value -> coordinate, per other axis
  std::vector<science::ParamValue> grid_values_;                          // the refined axis's values, sorted
  std::int64_t combination_count_ = 1;
  std::vector<bool> in_shard_;  // by combination; empty: every combination
  std::int64_t in_shard_count_ = 0;
  std::int64_t resolved_count_ = 0;
  std::unordered_map<std::int64_t, Combination> combinations_;  // those with a run noted or recorded
  std::set<std::int64_t> fresh_;  // combinations whose wanted points may not all be handed out yet
};

}  // namespace hetsweep::refine
