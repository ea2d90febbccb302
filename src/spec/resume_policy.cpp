#include "spec/resume_policy.hpp"
#include "spec/refine_spec.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xxhash.h>

#include "spec/yaml_scalars.hpp"

namespace hetsweep::spec {

std::string fingerprint(const SweepSpec& spec) {
  // Length-prefixed fields, so that no two different specs concatenate to the same text.
  std::string canonical;
  const auto field = [&](std::string_view label, std::string_view value) {
    canonical += fmt::format("{}:{}:{};", label, value.size(), value);
  };
  const auto swept = [&](std::string_view name) {
    return std::any_of(spec.axes.begin(), spec.axes.end(), [&](const Axis& a) { return a.name == name; });
  };
  field("name", spec.name);
  field("seed", std::to_string(spec.seed));
  for (const auto& param : science::parameters()) {
    if (!swept(param.name)) field(param.name, science::format_value(param.get(spec.base)));
  }
  std::vector<std::string> axis_names;
  for (const auto& axis : spec.axes) axis_names.push_back(axis.name);
  std::sort(axis_names.begin(), axis_names.end());
  for (const auto& name : axis_names) field("axis", name);
  return fmt::format("{:016x}", XXH3_64bits(canonical.data(), canonical.size()));
}

std::optional<std::string> resume_conflict(const SweepSpec& stored, const SweepSpec& now) {
  if (stored.name != now.name)
    return fmt::format("name differs: the file has {}, the spec has {}", stored.name, now.name);
  if (stored.seed != now.seed)
    return fmt::format("seed differs: the file has {}, the spec has {}", stored.seed, now.seed);
  const auto axis_names = [](const SweepSpec& spec) {
    std::vector<std::string> names;
    for (const auto& axis : spec.axes) names.push_back(axis.name);
    return names;
  };
  auto stored_names = axis_names(stored);
  auto now_names = axis_names(now);
  if (!std::is_permutation(stored_names.begin(), stored_names.end(), now_names.begin(), now_names.end())) {
    return fmt::format("the file sweeps [{}] but the spec sweeps [{}]", fmt::join(stored_names, ", "),
                       fmt::join(now_names, ", "));
  }
  for (const auto& param : science::parameters()) {
    if (std::find(stored_names.begin(), stored_names.end(), param.name) != stored_names.end()) continue;
    const auto before = param.get(stored.base);
    const auto after = param.get(now.base);
    if (before != after) {
      return fmt::format("fixed {} differs: the file has {}, the spec has {}", param.name, display(before),
                         display(after));
    }
  }
  for (const auto& axis : stored.axes) {
    const auto& values =
        std::find_if(now.axes.begin(), now.axes.end(), [&](const Axis& a) { return a.name == axis.name; })->values;
    const std::set<science::ParamValue> present(values.begin(), values.end());
    // The first few missing values, so the message stays one readable line.
    constexpr std::size_t shown = 10;
    std::vector<std::string> missing;
    std::size_t missing_count = 0;
    for (const auto& value : axis.values) {
      if (present.contains(value)) continue;
      if (++missing_count <= shown) missing.push_back(display(value));
    }
    if (missing_count > shown) missing.back() += fmt::format(" and {} more", missing_count - shown);
    if (missing_count > 0) {
      return fmt::format("axis {} lacks {} which the file holds", axis.name, fmt::join(missing, ", "));
    }
  }
  if (now.replicates < stored.replicates) {
    return fmt::format("replicates {} is fewer than the file's {}", now.replicates, stored.replicates);
  }
  return refine_conflict(stored, now);
}

}  // namespace hetsweep::spec
