#include "store/layout.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "science/records.hpp"
#include "spec/grid.hpp"

namespace hetsweep::store::layout {
namespace {

constexpr std::size_t align8(std::size_t n) { return (n + 7) / 8 * 8; }

// The fields of a RowResult, by name, with their offsets in the struct.
void insert_result_fields(h5::Datatype& type, std::size_t base, hid_t status_type) {
  type.insert("status", base + offsetof(RowResult, status), status_type);
  type.insert("steps_done", base + offsetof(RowResult, steps_done), H5T_NATIVE_INT64);
  type.insert("wall_seconds", base + offsetof(RowResult, wall_seconds), H5T_NATIVE_DOUBLE);
  type.insert("finished_at", base + offsetof(RowResult, finished_at), H5T_NATIVE_DOUBLE);
  for (std::size_t m = 0; m < metric_count; ++m) {
    type.insert(final_field(science::metric_names[m]), base + offsetof(RowResult, finals) + m * sizeof(double),
                H5T_NATIVE_DOUBLE);
  }
}

// Identity fields other than the parameters sit at fixed offsets: run, key first; replicate, seed last.
constexpr std::size_t run_offset = 0;
constexpr std::size_t key_offset = 8;
constexpr std::size_t params_offset = 16;

}  // namespace

std::string trajectory_path(std::string_view metric) { return fmt::format("/trajectories/{}", metric); }
std::string axis_path(std::string_view axis) { return fmt::format("{}/{}", axes_group, axis); }
std::string cube_scale_path(std::string_view axis) { return fmt::format("{}/{}", cube_group, axis); }
std::string cube_path(std::string_view metric) { return fmt::format("{}/{}", cube_group, final_field(metric)); }
std::string final_field(std::string_view metric) { return fmt::format("final_{}", metric); }
std::string boundary_path(std::string_view column) { return fmt::format("{}/{}", boundary_group, column); }

std::vector<std::string> boundary_axes(const spec::SweepSpec& spec) {
  std::vector<std::string> names;
  for (const auto& axis : spec.axes) {
    if (!spec.refine || axis.name != spec.refine->axis) names.push_back(axis.name);
  }
  return names;
}

RowResult pending_result() {
  RowResult r;
  r.finals.fill(std::numeric_limits<double>::quiet_NaN());
  return r;
}

std::string_view metric_long_name(std::string_view metric) {
  static const std::map<std::string_view, std::string_view> names{
      {"true_signal", "invariant signal ||PXP||_F"},
      {"spurious_signal", "spurious signal ||QXQ||_F"},
      {"err_invariant", "distance to the invariant solution ||X - A*||_F"},
      {"err_pooled", "distance to the pooled solution ||X - (A* + mean A^(e))||_F"},
      {"loss", "minibatch loss at the record step (population loss for the _gd algorithms)"},
  };
  return names.at(metric);
}

std::string parameter_long_name(std::string_view parameter) {
  const auto* param = science::find_parameter(parameter);
  // A choice's help lists its names; a number's starts with what it is ("heterogeneity M: ...").
  if (param->kind == science::ParamKind::choice) return std::string(param->name);
  return std::string(param->help.substr(0, param->help.find_first_of(":;")));
}

RowLayout::RowLayout(Format format, bool with_origin)
    : has_origin_(format == Format::hetsweep_2 && with_origin),
      status_type_(format == Format::hetsweep_1
                       ? h5::Datatype::int8_enum(status_names)
                       : h5::Datatype(h5::check(H5Tcopy(H5T_NATIVE_INT8), "H5Tcopy", "int8"))) {
  std::size_t offset = params_offset;
  for (const auto& spec : science::parameters()) {
    std::size_t size = 8;
    if (spec.kind == science::ParamKind::choice) {
      size = 1;
      for (auto name : spec.choices) size = std::max(size, name.size());
    }
    params_.push_back({&spec, offset, size});
    offset += align8(size);
  }
  const std::size_t replicate_offset = offset;
  const std::size_t seed_offset = offset + 8;
  identity_size_ = offset + 16;

  // Built once into each of the two compound types that hold identity fields.
  auto insert_identity = [&](h5::Datatype& type) {
    type.insert("run", run_offset, H5T_NATIVE_INT64);
    type.insert("key", key_offset, H5T_NATIVE_UINT64);
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const auto& field = params_[i];
      hid_t member = H5T_NATIVE_INT64;
      if (field.spec->kind == science::ParamKind::real) member = H5T_NATIVE_DOUBLE;
      if (field.spec->kind == science::ParamKind::choice) member = choice_types_[i].id();
      type.insert(std::string(field.spec->name), field.offset, member);
    }
    type.insert("replicate", replicate_offset, H5T_NATIVE_INT64);
    type.insert("seed", seed_offset, H5T_NATIVE_UINT64);
  };
  for (const auto& field : params_) {
    h5::Datatype choice;
    if (field.spec->kind == science::ParamKind::choice) {
      choice =
          format == Format::hetsweep_1 ? h5::Datatype::fixed_string(field.size) : h5::Datatype::char_array(field.size);
    }
    choice_types_.push_back(std::move(choice));
  }
  identity_type_ = h5::Datatype::compound(identity_size_);
  insert_identity(identity_type_);
  result_type_ = h5::Datatype::compound(sizeof(RowResult));
  insert_result_fields(result_type_, 0, status_type_.id());
  row_type_ = h5::Datatype::compound(row_size());
  insert_identity(row_type_);
  insert_result_fields(row_type_, identity_size_, status_type_.id());
  if (has_origin_) {
    row_type_.insert(std::string(origin_field), origin_offset(), H5T_NATIVE_INT8);
    origin_type_ = h5::Datatype::compound(1);
    origin_type_.insert(std::string(origin_field), 0, H5T_NATIVE_INT8);
  }
}

RowLayout RowLayout::of(Format format, const h5::Dataset& runs) {
  return RowLayout(format, runs.type().has_member(origin_field));
}

void RowLayout::encode(const RowIdentity& identity, std::byte* out) const {
  std::memset(out, 0, identity_size_);
  std::memcpy(out + run_offset, &identity.run, 8);
  std::memcpy(out + key_offset, &identity.key, 8);
  for (const auto& field : params_) {
    const auto value = field.spec->get(identity.params);
    if (const auto* i = std::get_if<std::int64_t>(&value)) std::memcpy(out + field.offset, i, 8);
    if (const auto* d = std::get_if<double>(&value)) std::memcpy(out + field.offset, d, 8);
    if (const auto* s = std::get_if<std::string>(&value)) {
      std::memcpy(out + field.offset, s->data(), std::min(s->size(), field.size));
    }
  }
  std::memcpy(out + identity_size_ - 16, &identity.replicate, 8);
  std::memcpy(out + identity_size_ - 8, &identity.seed, 8);
}

RowIdentity RowLayout::decode(const std::byte* in) const {
  RowIdentity identity;
  std::memcpy(&identity.run, in + run_offset, 8);
  std::memcpy(&identity.key, in + key_offset, 8);
  for (const auto& field : params_) {
    switch (field.spec->kind) {
      case science::ParamKind::integer: {
        std::int64_t i = 0;
        std::memcpy(&i, in + field.offset, 8);
        field.spec->set(identity.params, i);
        break;
      }
      case science::ParamKind::real: {
        double d = 0;
        std::memcpy(&d, in + field.offset, 8);
        field.spec->set(identity.params, d);
        break;
      }
      case science::ParamKind::choice: {
        const auto* chars = reinterpret_cast<const char*>(in + field.offset);
        field.spec->set(identity.params, std::string(chars, strnlen(chars, field.size)));
        break;
      }
    }
  }
  std::memcpy(&identity.replicate, in + identity_size_ - 16, 8);
  std::memcpy(&identity.seed, in + identity_size_ - 8, 8);
  return identity;
}

// ---------------------------------------------------------------------------------------------------------

std::string flag_meanings(std::span<const std::string_view> names) { return fmt::format("{}", fmt::join(names, " ")); }

std::vector<std::int64_t> record_step_union(const spec::SweepSpec& spec) {
  // Only science::record_step_inputs (steps, record_every) decide the record steps: take the values each has
  // in the sweep.
  auto values_of = [&](std::string_view name) {
    const auto* param = science::find_parameter(name);
    for (const auto& axis : spec.axes) {
      if (axis.name == name) return axis.values;
    }
    return std::vector<science::ParamValue>{param->get(spec.base)};
  };
  const auto [steps_name, every_name] = science::record_step_inputs;
  const auto* steps_param = science::find_parameter(steps_name);
  const auto* every_param = science::find_parameter(every_name);
  std::vector<std::int64_t> steps;
  for (const auto& total : values_of(steps_name)) {
    for (const auto& every : values_of(every_name)) {
      auto params = spec.base;
      steps_param->set(params, normalized(science::ParamKind::integer, total));
      every_param->set(params, normalized(science::ParamKind::integer, every));
      const auto run_steps = science::record_steps(params);
      steps.insert(steps.end(), run_steps.begin(), run_steps.end());
    }
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  return steps;
}

science::ParamValue normalized(science::ParamKind kind, const science::ParamValue& value) {
  if (kind == science::ParamKind::real) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  }
  if (kind == science::ParamKind::integer) {
    if (const auto* d = std::get_if<double>(&value); d != nullptr && std::trunc(*d) == *d) {
      return static_cast<std::int64_t>(*d);
    }
  }
  return value;
}

CubeIndex::CubeIndex(const spec::SweepSpec& spec) {
  for (const auto& axis : spec.axes) {
    AxisLookup lookup{science::find_parameter(axis.name), {}};
    for (std::size_t i = 0; i < axis.values.size(); ++i) {
      lookup.index.emplace(normalized(lookup.param->kind, axis.values[i]), static_cast<std::int64_t>(i));
    }
    axes_.push_back(std::move(lookup));
    shape_.push_back(static_cast<std::int64_t>(axis.values.size()));
  }
  shape_.push_back(spec.replicates);
}

std::int64_t CubeIndex::cells() const {
  std::int64_t n = 1;
  for (auto s : shape_) n *= s;
  return n;
}

std::optional<std::vector<std::int64_t>> CubeIndex::coords(const science::Params& params,
                                                           std::int64_t replicate) const {
  if (replicate < 0 || replicate >= shape_.back()) return std::nullopt;
  std::vector<std::int64_t> coords;
  coords.reserve(axes_.size());
  for (const auto& axis : axes_) {
    const auto found = axis.index.find(axis.param->get(params));
    if (found == axis.index.end()) return std::nullopt;
    coords.push_back(found->second);
  }
  return coords;
}

std::int64_t CubeIndex::cell(std::span<const std::int64_t> coords, std::int64_t replicate) const {
  std::vector<std::int64_t> point(coords.begin(), coords.end());
  point.push_back(replicate);
  return spec::row_major_index(point, shape_);
}

}  // namespace hetsweep::store::layout
