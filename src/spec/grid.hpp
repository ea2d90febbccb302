#pragma once
// The runs of a sweep: the Cartesian product of its axes times its replicates.

#include <cstdint>
#include <span>
#include <string>
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
  // The parameters of the point at `coords` (one index per axis, each in range): the spec's fixed values with
  // each axis at its value.
  [[nodiscard]] science::Params params(std::span<const std::int64_t> coords) const;
  // run_key of that point's parameters and `replicate`, from the text of each axis value formatted once when
  // the grid was made (run_key formats every parameter): for code that walks every point of a large grid.
  [[nodiscard]] std::uint64_t key(std::span<const std::int64_t> coords, std::int64_t replicate) const;

 private:
  const SweepSpec* spec_;
  std::int64_t size_;
  std::vector<const science::ParamSpec*> axis_params_;  // per axis
  // run_key's text of a point: fixed_text_[s] then slot s's axis value text, for every slot s (the axes in
  // parameter table order), then fixed_text_.back() and the replicate.
  std::vector<std::string> fixed_text_;
  std::vector<std::size_t> slot_axis_;
  std::vector<std::vector<std::string>> slot_value_text_;  // [slot][value index]
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
