#include "store/row_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "store/results_file.hpp"

namespace hetsweep::store {
namespace {

std::string display(const science::ParamValue& value) {
  return std::visit([](const auto& v) { return fmt::format("{}", v); }, value);
}

}  // namespace

RowCheck::RowCheck(const std::filesystem::path& path, const spec::SweepSpec& spec)
    : path_(path), spec_(spec), grid_(spec), cube_(spec) {}

void RowCheck::refuse(std::int64_t row, std::string_view field, const std::string& problem) const {
  throw ResultsFileError(path_, fmt::format("is damaged: /runs row {}, field {}: {}", row, field, problem));
}

science::Params RowCheck::refine_params(std::int64_t row, const layout::RowIdentity& identity) const {
  if (!spec_.refine) refuse(row, layout::origin_field, "1 (refine), but the spec has no refine block");
  const auto axis = std::find_if(spec_.axes.begin(), spec_.axes.end(),
                                 [&](const spec::Axis& a) { return a.name == spec_.refine->axis; });
  const auto* param = science::find_parameter(spec_.refine->axis);
  if (axis == spec_.axes.end() || param == nullptr || param->kind == science::ParamKind::choice) {
    refuse(row, layout::origin_field,
           fmt::format("1 (refine), but the spec's refine axis {} is not a numeric axis", spec_.refine->axis));
  }
  // The refine axis's value is off the grid by design: it must lie strictly inside the axis's range.
  const auto as_double = [](const science::ParamValue& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return std::get<double>(v);
  };
  double lowest = as_double(axis->values.front());
  double highest = lowest;
  for (const auto& v : axis->values) {
    lowest = std::min(lowest, as_double(v));
    highest = std::max(highest, as_double(v));
  }
  const auto value = param->get(identity.params);
  const double x = as_double(value);
  if (!std::isfinite(x) || !(x > lowest && x < highest)) {
    refuse(row, param->name,
           fmt::format("{} is not strictly inside the refine axis's range ({}, {})", display(value), lowest, highest));
  }
  // Every other axis on the grid: look the row up with the refine axis set to one of its grid values.
  auto on_grid = identity.params;
  param->set(on_grid, layout::normalized(param->kind, axis->values.front()));
  const auto coords = cube_.coords(on_grid, identity.replicate);
  if (!coords) {
    for (const auto& other : spec_.axes) {
      const auto* other_param = science::find_parameter(other.name);
      const auto other_value = other_param->get(on_grid);
      const bool on_axis = std::any_of(other.values.begin(), other.values.end(), [&](const auto& v) {
        return layout::normalized(other_param->kind, v) == other_value;
      });
      if (!on_axis) refuse(row, other.name, fmt::format("{} is not a value of the spec's axis", display(other_value)));
    }
  }
  auto expected = grid_.point(cube_.cell(*coords, identity.replicate)).params;
  param->set(expected, value);
  return expected;
}

std::int64_t RowCheck::point_of(std::int64_t row, const layout::RowIdentity& identity,
                                const layout::RowResult& result) {
  if (result.status < 0 || result.status >= static_cast<std::int8_t>(layout::status_names.size())) {
    refuse(row, "status", fmt::format("{} is not a status (0 pending, 1 done, 2 diverged, 3 failed)", result.status));
  }
  if (identity.origin != static_cast<std::int8_t>(RowOrigin::grid) &&
      identity.origin != static_cast<std::int8_t>(RowOrigin::refine)) {
    refuse(row, layout::origin_field, fmt::format("{} is not an origin (0 grid, 1 refine)", identity.origin));
  }
  if (identity.run != row) refuse(row, "run", fmt::format("{} is not the row's index", identity.run));
  if (identity.replicate < 0 || identity.replicate >= spec_.replicates) {
    refuse(row, "replicate",
           fmt::format("{} is outside the spec's replicates 0..{}", identity.replicate, spec_.replicates - 1));
  }
  const bool refine = identity.origin == static_cast<std::int8_t>(RowOrigin::refine);
  std::int64_t point_index = off_grid;
  science::Params expected_params;
  if (refine) {
    expected_params = refine_params(row, identity);
  } else {
    const auto coords = cube_.coords(identity.params, identity.replicate);
    if (!coords) {
      for (const auto& axis : spec_.axes) {
        const auto* param = science::find_parameter(axis.name);
        const auto value = param->get(identity.params);
        const bool on_axis = std::any_of(axis.values.begin(), axis.values.end(),
                                         [&](const auto& v) { return layout::normalized(param->kind, v) == value; });
        if (!on_axis) refuse(row, axis.name, fmt::format("{} is not a value of the spec's axis", display(value)));
      }
    }
    point_index = cube_.cell(*coords, identity.replicate);
    expected_params = grid_.point(point_index).params;
  }
  for (const auto& param : science::parameters()) {
    const auto stored = param.get(identity.params);
    const auto expected = param.get(expected_params);
    if (stored != expected) {
      refuse(row, param.name, fmt::format("{} differs from the spec's {}", display(stored), display(expected)));
    }
  }
  const auto key = spec::run_key(expected_params, identity.replicate);
  if (identity.key != key) {
    refuse(row, "key", fmt::format("{:016x} is not the key of the row's parameters ({:016x})", identity.key, key));
  }
  const auto seed = spec::run_seed(spec_.seed, key);
  if (identity.seed != seed) {
    refuse(row, "seed", fmt::format("{} is not the seed of the row's key ({})", identity.seed, seed));
  }
  if (const auto [found, added] = row_of_key_.emplace(identity.key, row); !added) {
    refuse(row, "key", fmt::format("{:016x} is also the key of row {}", identity.key, found->second));
  }
  return point_index;
}

}  // namespace hetsweep::store
