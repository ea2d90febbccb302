#include "spec/grid.hpp"

#include <xxhash.h>

namespace hetsweep::spec {

Grid::Grid(const SweepSpec& spec) : spec_(&spec), size_(spec.replicates) {
  for (const auto& axis : spec.axes) size_ *= static_cast<std::int64_t>(axis.values.size());
}

std::vector<std::int64_t> Grid::shape() const {
  std::vector<std::int64_t> s;
  for (const auto& axis : spec_->axes) s.push_back(static_cast<std::int64_t>(axis.values.size()));
  s.push_back(spec_->replicates);
  return s;
}

RunPoint Grid::point(std::int64_t index) const {
  RunPoint p;
  p.coords = row_major_coords(index, shape());
  p.replicate = p.coords.back();
  p.coords.pop_back();
  p.params = spec_->base;
  for (std::size_t a = 0; a < spec_->axes.size(); ++a) {
    const auto& axis = spec_->axes[a];
    science::find_parameter(axis.name)->set(p.params, axis.values[static_cast<std::size_t>(p.coords[a])]);
  }
  p.key = run_key(p.params, p.replicate);
  p.seed = run_seed(spec_->seed, p.key);
  return p;
}

std::int64_t row_major_index(std::span<const std::int64_t> coords, std::span<const std::int64_t> shape) {
  std::int64_t index = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) index = index * shape[d] + coords[d];
  return index;
}

std::vector<std::int64_t> row_major_coords(std::int64_t index, std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> coords(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    coords[d] = index % shape[d];
    index /= shape[d];
  }
  return coords;
}

std::uint64_t run_key(const science::Params& params, std::int64_t replicate) {
  std::string canonical;
  for (const auto& spec : science::parameters()) {
    canonical.append(spec.name).append("=").append(science::format_value(spec.get(params))).append(";");
  }
  canonical.append("replicate=").append(std::to_string(replicate));
  return XXH3_64bits(canonical.data(), canonical.size());
}

std::uint64_t run_seed(std::uint64_t sweep_seed, std::uint64_t key) {
  return XXH3_64bits_withSeed(&key, sizeof key, sweep_seed);
}

}  // namespace hetsweep::spec
