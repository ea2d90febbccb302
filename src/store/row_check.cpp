#include "store/row_check.hpp"

#include <fmt/format.h>

#include <algorithm>

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

std::int64_t RowCheck::point_of(std::int64_t row, const layout::RowIdentity& identity,
                                const layout::RowResult& result) {
  if (result.status < 0 || result.status >= static_cast<std::int8_t>(layout::status_names.size())) {
    refuse(row, "status", fmt::format("{} is not a status (0 pending, 1 done, 2 diverged, 3 failed)", result.status));
  }
  if (identity.run != row) refuse(row, "run", fmt::format("{} is not the row's index", identity.run));
  if (identity.replicate < 0 || identity.replicate >= spec_.replicates) {
    refuse(row, "replicate",
           fmt::format("{} is outside the spec's replicates 0..{}", identity.replicate, spec_.replicates - 1));
  }
  const auto coords = cube_.coords(identity.params, identity.replicate);
  if (!coords) {
    for (const auto& axis : spec_.axes) {
      const auto* param = science::find_parameter(axis.name);
      const auto value = param->get(identity.params);
      const bool on_axis = std::any_of(axis.values.begin(), axis.values.end(), [&](const auto& v) {
        return layout::normalized(param->kind, v) == value;
      });
      if (!on_axis) refuse(row, axis.name, fmt::format("{} is not a value of the spec's axis", display(value)));
    }
  }
  const auto point_index = cube_.cell(*coords, identity.replicate);
  const auto point = grid_.point(point_index);
  for (const auto& param : science::parameters()) {
    const auto stored = param.get(identity.params);
    const auto expected = param.get(point.params);
    if (stored != expected) {
      refuse(row, param.name, fmt::format("{} differs from the spec's {}", display(stored), display(expected)));
    }
  }
  if (identity.key != point.key) {
    refuse(row, "key",
           fmt::format("{:016x} is not the key of the row's parameters ({:016x})", identity.key, point.key));
  }
  if (identity.seed != point.seed) {
    refuse(row, "seed", fmt::format("{} is not the seed of the row's key ({})", identity.seed, point.seed));
  }
  if (const auto [found, added] = row_of_key_.emplace(identity.key, row); !added) {
    refuse(row, "key", fmt::format("{:016x} is also the key of row {}", identity.key, found->second));
  }
  return point_index;
}

}  // namespace hetsweep::store
