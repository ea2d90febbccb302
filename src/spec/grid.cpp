#include "spec/grid.hpp"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

namespace hetsweep::spec {
namespace {

// A run key hashes its canonical text: "name=value;" for every parameter in table order, then "replicate=R".
void append_parameter_text(std::string& text, const science::ParamSpec& param, const science::Params& params) {
  text.append(param.name).append("=").append(science::format_value(param.get(params))).append(";");
}

constexpr std::string_view replicate_text = "replicate=";

void append_replicate_number(std::string& text, std::int64_t replicate) {
  char digits[24];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), replicate).ptr;
  text.append(digits, end);
}

std::uint64_t hash_key_text(const std::string& text) { return XXH3_64bits(text.data(), text.size()); }

}  // namespace

Grid::Grid(const SweepSpec& spec) : spec_(&spec), size_(spec.replicates) {
  for (const auto& axis : spec.axes) {
    size_ *= static_cast<std::int64_t>(axis.values.size());
    axis_params_.push_back(science::find_parameter(axis.name));
  }
  // The pieces of the key text: the fixed parameters' text between the axes' slots, each axis value's text.
  std::string fixed;
  for (const auto& param : science::parameters()) {
    const auto axis =
        std::find_if(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.name == param.name; });
    if (axis == spec.axes.end()) {
      append_parameter_text(fixed, param, spec.base);
      continue;
    }
    fixed_text_.push_back(std::exchange(fixed, {}));
    slot_axis_.push_back(static_cast<std::size_t>(axis - spec.axes.begin()));
    std::vector<std::string> texts;
    for (const auto& value : axis->values) {
      auto params = spec.base;
      param.set(params, value);
      std::string text;
      append_parameter_text(text, param, params);
      texts.push_back(std::move(text));
    }
    slot_value_text_.push_back(std::move(texts));
  }
  fixed.append(replicate_text);
  fixed_text_.push_back(std::move(fixed));
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
  p.params = params(p.coords);
  p.key = key(p.coords, p.replicate);
  p.seed = run_seed(spec_->seed, p.key);
  return p;
}

science::Params Grid::params(std::span<const std::int64_t> coords) const {
  auto params = spec_->base;
  for (std::size_t a = 0; a < axis_params_.size(); ++a) {
    axis_params_[a]->set(params, spec_->axes[a].values[static_cast<std::size_t>(coords[a])]);
  }
  return params;
}

std::uint64_t Grid::key(std::span<const std::int64_t> coords, std::int64_t replicate) const {
  // The same text as run_key(params(coords), replicate): a parameter's text depends on its value alone.
  std::string text;
  text.reserve(512);
  for (std::size_t s = 0; s < slot_axis_.size(); ++s) {
    text += fixed_text_[s];
    text += slot_value_text_[s][static_cast<std::size_t>(coords[slot_axis_[s]])];
  }
  text += fixed_text_.back();
  append_replicate_number(text, replicate);
  return hash_key_text(text);
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
  for (const auto& param : science::parameters()) append_parameter_text(canonical, param, params);
  canonical.append(replicate_text);
  append_replicate_number(canonical, replicate);
  return hash_key_text(canonical);
}

std::uint64_t run_seed(std::uint64_t sweep_seed, std::uint64_t key) {
  return XXH3_64bits_withSeed(&key, sizeof key, sweep_seed);
}

}  // namespace hetsweep::spec
