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
    : path_(path), spec_(spec), grid_(spec), cube_(spec), row_of_point_(static_cast<std::size_t>(grid_.size()), -1) {}

void RowCheck::see_point(std::int64_t row, std::int64_t point, std::uint64_t key) {
  auto& seen = row_of_point_[static_cast<std::size_t>(point)];
  if (seen >= 0) refuse(row, "key", fmt::format("{:016x} is also the key of row {}", key, seen));
  seen = row;
}

void RowCheck::compare_params(std::int64_t row, const science::Params& stored, const science::Params& expected) const {
  if (stored == expected) return;
  for (const auto& param : science::parameters()) {
    const auto stored_value = param.get(stored);
    const auto expected_value = param.get(expected);
    if (stored_value != expected_value) {
      refuse(row, param.name,
             fmt::format("{} differs from the spec's {}", display(stored_value), display(expected_value)));
    }
  }
}

void RowCheck::check_key_and_seed(std::int64_t row, const layout::RowIdentity& identity, std::uint64_t key) const {
  if (identity.key != key) {
    refuse(row, "key", fmt::format("{:016x} is not the key of the row's parameters ({:016x})", identity.key, key));
  }
  const auto seed = spec::run_seed(spec_.seed, key);
  if (identity.seed != seed) {
    refuse(row, "seed", fmt::format("{} is not the seed of the row's key ({})", identity.seed, seed));
  }
}

std::optional<std::int64_t> RowCheck::grid_point(const science::Params& params, std::int64_t replicate) const {
  const auto coords = cube_.coords(params, replicate);
  if (!coords) return std::nullopt;
  return cube_.cell(*coords, replicate);
}

void RowCheck::forget_refinement(std::uint64_t key) {
  const auto found = refinement_rows_.find(key);
  if (found == refinement_rows_.end()) return;
  if (found->second.point != off_grid) row_of_point_[static_cast<std::size_t>(found->second.point)] = -1;
  refinement_rows_.erase(found);
}

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
  auto expected = grid_.params(*coords);
  param->set(expected, value);
  return expected;
}

void RowCheck::check_result(std::int64_t row, const layout::RowResult& result) const {
  if (result.status < 0 || result.status >= static_cast<std::int8_t>(layout::status_names.size())) {
    refuse(row, "status", fmt::format("{} is not a status (0 pending, 1 done, 2 diverged, 3 failed)", result.status));
  }
}

std::int64_t RowCheck::point_of(std::int64_t row, const layout::RowIdentity& identity,
                                const layout::RowResult& result) {
  check_result(row, result);
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
  if (refine) {
    const auto expected_params = refine_params(row, identity);
    compare_params(row, identity.params, expected_params);
    const auto key = spec::run_key(expected_params, identity.replicate);
    check_key_and_seed(row, identity, key);
    // A refine value that is a value of the axis makes the grid point's run (and key) again.
    const auto point = grid_point(identity.params, identity.replicate);
    const auto [found, added] = refinement_rows_.emplace(key, RefinementRow{row, point.value_or(off_grid)});
    if (!added) refuse(row, "key", fmt::format("{:016x} is also the key of row {}", key, found->second.row));
    if (point) {
      try {
        see_point(row, *point, key);
      } catch (const ResultsFileError&) {
        refinement_rows_.erase(found);
        throw;
      }
    }
    return off_grid;
  }
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
  const auto point_index = cube_.cell(*coords, identity.replicate);
  compare_params(row, identity.params, grid_.params(*coords));
  check_key_and_seed(row, identity, grid_.key(*coords, identity.replicate));
  see_point(row, point_index, identity.key);
  return point_index;
}

}  // namespace hetsweep::store
