#pragma once
// The runs of a sweep: the Cartesian product of its axes times its replicates.

#include <cstdint>
#include <span>
#include <vector>

#include "science/params.hpp"
#include "spec/sweep_spec.hpp"

namespace hetsweep::spec {

struct RunPoint {
  std::vector<std::int64_t> coords;  // index into each axis's values, in axis order
  std::int64_t replicate = 0;
  science::Params params;
  std::uint64_t key = 0;   // run_key(params, replicate)
  std::uint64_t seed = 0;  // run_seed(sweep seed, key)
};

class Grid {
 public:
  // Keeps a reference to `spec`, which must outlive the grid.
  explicit Grid(const SweepSpec& spec);
  explicit Grid(SweepSpec&&) = delete;
  // Number of runs: the product of the axis sizes times the replicates.
  [[nodiscard]] std::int64_t size() const { return size_; }
  // Axis sizes followed by the replicate count.
  [[nodiscard]] std::vector<std::int64_t> shape() const;
  [[nodiscard]] std::span<const Axis> axes() const { return spec_->axes; }
  // The run at `index`, in row-major order over the axes with the replicate fastest.
  [[nodiscard]] RunPoint point(std::int64_t index) const;

 private:
  const SweepSpec* spec_;
  std::int64_t size_;
};

// The order of a sweep's runs and of its cube's cells: row-major over `shape` (the axes in file order, then the
// replicate), the last dimension fastest. The flat index of `coords` (one per dimension, each in range)...
std::int64_t row_major_index(std::span<const std::int64_t> coords, std::span<const std::int64_t> shape);
// ... and back: the coordinates of flat `index` (0 <= index < the product of `shape`).
std::vector<std::int64_t> row_major_coords(std::int64_t index, std::span<const std::int64_t> shape);

// The canonical key of a run: a hash of every parameter's value and the replicate, independent of the grid
// it came from, so the same run has the same key in any spec.
std::uint64_t run_key(const science::Params& params, std::int64_t replicate);
// The run's seed: a hash of the sweep seed and the run key.
std::uint64_t run_seed(std::uint64_t sweep_seed, std::uint64_t key);

}  // namespace hetsweep::spec
