// Building a results file's objects, all of them before SWMR writing starts: the root attributes, /runs and
// its row type, /trajectories, /axes and /cube, and the pending rows of grid points.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <numeric>

#include "science/isa.hpp"
#include "spec/grid.hpp"
#include "spec/resume_policy.hpp"
#include "store/results_file_parts.hpp"

namespace hetsweep::store::parts {
namespace {

// Chunks of the datasets with one entry per run are written whole at creation: a small sweep gets smaller ones,
// down to the minimum, so that its file stays small.
constexpr hsize_t min_per_run_chunk = 64;
constexpr hsize_t runs_chunk_rows = 256;  // /runs
constexpr hsize_t per_run_chunk = 4096;   // /run, /trajectories/run and the per-run coordinates
constexpr hsize_t steps_chunk = 1024;
constexpr hsize_t trajectory_chunk_values = 8 * 1024;  // 64 KiB chunks

std::vector<hsize_t> trajectory_chunk(hsize_t columns) {
  const hsize_t width = std::clamp<hsize_t>(columns, 1, 256);
  return {std::max<hsize_t>(1, trajectory_chunk_values / width), width};
}

h5::DatasetLayout chunked(std::vector<hsize_t> chunk, std::size_t cache_bytes = std::size_t{1} << 20,
                          std::optional<double> fill = std::nullopt) {
  h5::DatasetLayout layout;
  layout.chunk = std::move(chunk);
  layout.chunk_cache_bytes = cache_bytes;
  layout.fill = fill;
  return layout;
}

// Contiguous and allocated (filled) at creation: SWMR writing then only overwrites values, never allocates.
h5::DatasetLayout preallocated(double fill) {
  h5::DatasetLayout layout;
  layout.fill = fill;
  layout.allocate_early = true;
  return layout;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Writes `count` values of a one-dimensional dataset from `first` on.
void write_block(h5::Dataset& dataset, hid_t mem_type, hsize_t first, hsize_t count, const void* data) {
  auto file_space = dataset.space();
  file_space.select_block(std::array{first}, std::array{count});
  dataset.write(mem_type, h5::Dataspace::simple(std::array{count}), file_space, data);
}

void write_long_name(const h5::File& file, const std::string& object, const std::string& long_name,
                     bool dimensionless = true) {
  h5::write_string_attribute(file, object, "long_name", long_name);
  if (dimensionless) h5::write_string_attribute(file, object, "units", "1");
}

// The netCDF/CF way to say what the values of a status variable mean.
void write_status_flags(const h5::File& file, const std::string& object, const std::string& prefix) {
  h5::write_int8_attribute(file, object, prefix + "flag_values", layout::status_values);
  h5::write_string_attribute(file, object, prefix + "flag_meanings", layout::flag_meanings(layout::status_names));
}

std::string coordinate_long_name(const std::string& name) {
  return name == layout::replicate_name ? std::string("replicate") : layout::parameter_long_name(name);
}

void write_root_attributes(const h5::File& file, const spec::SweepSpec& spec) {
  h5::write_string_attribute(file, "/", "format", format_name);
  h5::write_string_attribute(file, "/", "hetsweep_version", HETSWEEP_VERSION);
  h5::write_string_attribute(file, "/", "spec", spec.text);
  // The spec's name too: when its text has no `name:`, the name came from its file's name, which the text
  // alone cannot give back.
  h5::write_string_attribute(file, "/", "name", spec.name);
  h5::write_string_attribute(file, "/", "fingerprint", spec::fingerprint(spec));
  h5::write_string_attribute(file, "/", "created", utc_now_iso8601());
  h5::write_string_attribute(file, "/", "isa", science::results_isa());
}

// A dataset of `n_rows` values, one per run, extensible with the rows.
h5::Dataset create_per_run(const h5::File& file, const std::string& path, hid_t type, hsize_t n_rows) {
  auto layout = chunked({std::clamp(n_rows, min_per_run_chunk, per_run_chunk)});
  // HDF5 refuses a filter that is not optional on variable-length data: string coordinates go unchecksummed
  // (they repeat what /runs holds).
  layout.fletcher32 = h5::check(H5Tis_variable_str(type), "H5Tis_variable_str", path) == 0;
  return h5::Dataset::create(file, path, type, h5::Dataspace::simple(std::array{n_rows}, std::array{H5S_UNLIMITED}),
                             layout);
}

// The row numbers 0..n-1 as the dimension scale `run` (their values come with the rows).
h5::Dataset create_run_scale(const h5::File& file, const std::string& path, hsize_t n_rows) {
  auto scale = create_per_run(file, path, H5T_STD_I64LE, n_rows);
  scale.make_scale(layout::run_name);
  write_long_name(file, path, "run: row of /runs");
  return scale;
}

// /run_row, the row type committed by name, and /runs of that type along the scale /run.
void create_runs(const h5::File& file, const layout::RowLayout& rows, hsize_t n_rows) {
  const auto type = rows.file_type();
  h5::commit_datatype(file, layout::row_type_path, type);
  const auto run = create_run_scale(file, layout::run_path, n_rows);
  auto runs = h5::Dataset::create(file, layout::runs_path, type.id(),
                                  h5::Dataspace::simple(std::array{n_rows}, std::array{H5S_UNLIMITED}),
                                  chunked({std::clamp(n_rows, min_per_run_chunk, runs_chunk_rows)}, runs_cache_bytes));
  runs.attach_scale(run, 0);
  write_long_name(file, layout::runs_path, "one row per run: parameters, replicate, seed, status and final metrics",
                  false);
  write_status_flags(file, layout::runs_path, "status_");
  if (rows.has_origin()) {
    h5::write_int8_attribute(file, layout::runs_path, "origin_flag_values", layout::origin_values);
    h5::write_string_attribute(file, layout::runs_path, "origin_flag_meanings",
                               layout::flag_meanings(layout::origin_names));
  }
}

// /trajectories: the scales `step` and `run`, each run's axis values and replicate along `run` (which the
// metrics name in their `coordinates` attribute), and the metrics [run, step].
void create_trajectories(const h5::File& file, const spec::SweepSpec& spec, hsize_t n_rows,
                         std::span<const std::int64_t> steps) {
  const hsize_t columns = steps.size();
  auto step = h5::Dataset::create(file, layout::steps_path, H5T_STD_I64LE,
                                  h5::Dataspace::simple(std::array{columns}, std::array{H5S_UNLIMITED}),
                                  chunked({steps_chunk}));
  step.write_all(H5T_NATIVE_INT64, steps.data());
  step.make_scale(layout::step_name);
  write_long_name(file, layout::steps_path, "SGD step");
  const auto run = create_run_scale(file, layout::trajectory_run_path, n_rows);

  const auto string_type = h5::Datatype::variable_string();
  const auto coordinates = run_coordinate_names(spec);
  for (const auto& name : coordinates) {
    const auto* param = science::find_parameter(name);
    hid_t type = H5T_STD_I64LE;
    if (param != nullptr && param->kind == science::ParamKind::real) type = H5T_IEEE_F64LE;
    if (param != nullptr && param->kind == science::ParamKind::choice) type = string_type.id();
    const auto path = layout::trajectory_path(name);
    auto values = create_per_run(file, path, type, n_rows);
    values.attach_scale(run, 0);
    write_long_name(file, path, coordinate_long_name(name));
  }
  const auto coordinates_attribute = fmt::format("{}", fmt::join(coordinates, " "));
  for (auto metric : science::metric_names) {
    const auto path = layout::trajectory_path(metric);
    auto values = h5::Dataset::create(
        file, path, H5T_IEEE_F64LE,
        h5::Dataspace::simple(std::array{n_rows, columns}, std::array{H5S_UNLIMITED, H5S_UNLIMITED}),
        chunked(trajectory_chunk(columns), trajectory_cache_bytes, nan));
    values.attach_scale(run, 0);
    values.attach_scale(step, 1);
    write_long_name(file, path, std::string(layout::metric_long_name(metric)));
    h5::write_string_attribute(file, path, "coordinates", coordinates_attribute);
  }
}

}  // namespace

// Writes points as new pending rows `first_row`, `first_row + 1`, ... of `origin`: their row numbers in /run
// and /trajectories/run and their per-run coordinates (taken from their parameters), then their /runs rows, so
// that a reader who sees a row finds the rest. The datasets already have room for them.
void write_rows(const h5::File& file, const layout::RowLayout& rows, const spec::SweepSpec& spec,
                std::span<const spec::RunPoint> points, std::int64_t first_row, RowOrigin origin) {
  auto runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  std::array row_numbers{h5::Dataset::open(file, layout::run_path),
                         h5::Dataset::open(file, layout::trajectory_run_path)};
  std::vector<h5::Dataset> coordinates;
  for (const auto& name : run_coordinate_names(spec)) {
    coordinates.push_back(h5::Dataset::open(file, layout::trajectory_path(name)));
  }
  const auto string_type = h5::Datatype::variable_string();
  const auto pending = layout::pending_result();
  const auto origin_value = static_cast<std::int8_t>(origin);
  const auto first = static_cast<hsize_t>(first_row);
  const std::size_t count = points.size();

  std::vector<std::int64_t> integers(count);
  std::iota(integers.begin(), integers.end(), first_row);
  for (auto& dataset : row_numbers) write_block(dataset, H5T_NATIVE_INT64, first, count, integers.data());
  std::vector<double> reals;
  std::vector<std::string> strings;
  std::vector<const char*> string_pointers;
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    const auto* param = science::find_parameter(spec.axes[a].name);
    switch (param->kind) {
      case science::ParamKind::integer:
        for (std::size_t i = 0; i < count; ++i) integers[i] = std::get<std::int64_t>(param->get(points[i].params));
        write_block(coordinates[a], H5T_NATIVE_INT64, first, count, integers.data());
        break;
      case science::ParamKind::real:
        reals.resize(count);
        for (std::size_t i = 0; i < count; ++i) reals[i] = std::get<double>(param->get(points[i].params));
        write_block(coordinates[a], H5T_NATIVE_DOUBLE, first, count, reals.data());
        break;
      case science::ParamKind::choice:
        strings.resize(count);
        string_pointers.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
          strings[i] = std::get<std::string>(param->get(points[i].params));
          string_pointers[i] = strings[i].c_str();
        }
        write_block(coordinates[a], string_type.id(), first, count, string_pointers.data());
        break;
    }
  }
  for (std::size_t i = 0; i < count; ++i) integers[i] = points[i].replicate;
  write_block(coordinates.back(), H5T_NATIVE_INT64, first, count, integers.data());

  std::vector<std::byte> buffer(count * rows.row_size(), std::byte{0});
  for (std::size_t i = 0; i < count; ++i) {
    const auto& point = points[i];
    std::byte* row = buffer.data() + i * rows.row_size();
    rows.encode({static_cast<std::int64_t>(first + i), point.key, point.params, point.replicate, point.seed}, row);
    std::memcpy(row + rows.identity_size(), &pending, sizeof pending);
    if (rows.has_origin()) std::memcpy(row + rows.origin_offset(), &origin_value, 1);
  }
  write_block(runs, rows.row_type(), first, count, buffer.data());
}

void write_new_rows(const h5::File& file, const layout::RowLayout& rows, const spec::SweepSpec& spec,
                    std::span<const std::int64_t> grid_indices, std::int64_t first_row) {
  const spec::Grid grid(spec);
  std::vector<spec::RunPoint> points;
  for (std::size_t done = 0; done < grid_indices.size(); done += io_block_rows) {
    const std::size_t count = std::min<std::size_t>(io_block_rows, grid_indices.size() - done);
    points.clear();
    for (std::size_t i = 0; i < count; ++i) points.push_back(grid.point(grid_indices[done + i]));
    write_rows(file, rows, spec, points, first_row + static_cast<std::int64_t>(done), RowOrigin::grid);
  }
}

void create_boundary(const h5::File& file, const spec::SweepSpec& spec) {
  const auto& refine = spec.refine.value();
  h5::create_group(file, layout::boundary_group);
  h5::write_string_attribute(file, layout::boundary_group, "axis", refine.axis);
  h5::write_string_attribute(file, layout::boundary_group, "metric", refine.metric);
  h5::write_double_attribute(file, layout::boundary_group, "threshold", refine.threshold);
  h5::write_double_attribute(file, layout::boundary_group, "tolerance", refine.tolerance);
  h5::write_string_attribute(
      file, layout::boundary_group, "long_name",
      fmt::format("crossings of {} = {} along {}", layout::final_field(refine.metric), refine.threshold, refine.axis));
  const auto empty = [&](const std::string& path, hid_t type) {
    auto layout = chunked({min_per_run_chunk});
    layout.fletcher32 = h5::check(H5Tis_variable_str(type), "H5Tis_variable_str", path) == 0;
    return h5::Dataset::create(file, path, type,
                               h5::Dataspace::simple(std::array{hsize_t{0}}, std::array{H5S_UNLIMITED}), layout);
  };
  const auto crossing_path = layout::boundary_path(layout::crossing_name);
  auto crossing = empty(crossing_path, H5T_STD_I64LE);
  crossing.make_scale(layout::crossing_name);
  write_long_name(file, crossing_path, "crossing: row of /boundary");
  const auto string_type = h5::Datatype::variable_string();
  const auto column = [&](const std::string& name, hid_t type, const std::string& long_name, bool dimensionless) {
    const auto path = layout::boundary_path(name);
    auto values = empty(path, type);
    values.attach_scale(crossing, 0);
    write_long_name(file, path, long_name, dimensionless);
  };
  for (const auto& name : layout::boundary_axes(spec)) {
    const auto* param = science::find_parameter(name);
    hid_t type = H5T_STD_I64LE;
    if (param->kind == science::ParamKind::real) type = H5T_IEEE_F64LE;
    if (param->kind == science::ParamKind::choice) type = string_type.id();
    column(name, type, coordinate_long_name(name), true);
  }
  const auto axis_name = coordinate_long_name(refine.axis);
  column("lo", H5T_IEEE_F64LE, fmt::format("{}: the bracket's lower end", axis_name), true);
  column("hi", H5T_IEEE_F64LE, fmt::format("{}: the bracket's upper end", axis_name), true);
  column("direction", H5T_STD_I8LE, "direction of the crossing as the axis grows", false);
  h5::write_int8_attribute(file, layout::boundary_path("direction"), "flag_values", layout::direction_values);
  h5::write_string_attribute(file, layout::boundary_path("direction"), "flag_meanings",
                             layout::flag_meanings(layout::direction_names));
  column("estimate", H5T_IEEE_F64LE,
         fmt::format("{}: where the replicate mean crosses the threshold, linearly interpolated", axis_name), true);
  column("runs", H5T_STD_I64LE, "runs spent locating the crossing, replicates included", true);
}

// /axes/<name> holds each axis's values; /cube/<name> is a second link to the same dataset, a dimension
// scale of the cube arrays, which netCDF readers (h5netcdf, xarray) want in the group they open.
// `values` empty: all NaN and pending.
void create_axes_and_cube(const h5::File& file, const spec::SweepSpec& spec, const CubeValues& values_by_cell) {
  h5::create_group(file, layout::axes_group);
  h5::create_group(file, layout::cube_group);
  std::vector<h5::Dataset> scales;
  for (const auto& axis : spec.axes) {
    const auto* param = science::find_parameter(axis.name);
    const auto path = layout::axis_path(axis.name);
    const std::vector<hsize_t> dims{axis.values.size()};
    h5::Dataset values;
    switch (param->kind) {
      case science::ParamKind::integer: {
        std::vector<std::int64_t> numbers;
        for (const auto& v : axis.values) numbers.push_back(std::get<std::int64_t>(layout::normalized(param->kind, v)));
        values = h5::Dataset::create(file, path, H5T_STD_I64LE, h5::Dataspace::simple(dims));
        values.write_all(H5T_NATIVE_INT64, numbers.data());
        break;
      }
      case science::ParamKind::real: {
        std::vector<double> numbers;
        for (const auto& v : axis.values) numbers.push_back(std::get<double>(layout::normalized(param->kind, v)));
        values = h5::Dataset::create(file, path, H5T_IEEE_F64LE, h5::Dataspace::simple(dims));
        values.write_all(H5T_NATIVE_DOUBLE, numbers.data());
        break;
      }
      case science::ParamKind::choice: {
        std::vector<std::string> names;
        for (const auto& v : axis.values) names.push_back(std::get<std::string>(v));
        values = h5::create_string_dataset(file, path, names);
        break;
      }
    }
    h5::hard_link(file, path, layout::cube_scale_path(axis.name));
    values.make_scale(axis.name);
    write_long_name(file, path, layout::parameter_long_name(axis.name));
    scales.push_back(std::move(values));
  }
  std::vector<std::int64_t> replicates(static_cast<std::size_t>(spec.replicates));
  std::iota(replicates.begin(), replicates.end(), std::int64_t{0});
  auto replicate = h5::Dataset::create(file, layout::cube_scale_path(layout::replicate_name), H5T_STD_I64LE,
                                       h5::Dataspace::simple(std::array{static_cast<hsize_t>(spec.replicates)}));
  replicate.write_all(H5T_NATIVE_INT64, replicates.data());
  replicate.make_scale(layout::replicate_name);
  write_long_name(file, layout::cube_scale_path(layout::replicate_name), "replicate");
  scales.push_back(std::move(replicate));

  const spec::Grid grid(spec);
  std::vector<hsize_t> shape;
  for (auto n : grid.shape()) shape.push_back(static_cast<hsize_t>(n));
  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto path = layout::cube_path(science::metric_names[m]);
    auto cube = h5::Dataset::create(file, path, H5T_IEEE_F64LE, h5::Dataspace::simple(shape), preallocated(nan));
    if (!values_by_cell.finals[m].empty()) cube.write_all(H5T_NATIVE_DOUBLE, values_by_cell.finals[m].data());
    for (std::size_t d = 0; d < scales.size(); ++d) cube.attach_scale(scales[d], static_cast<unsigned>(d));
    write_long_name(file, path, fmt::format("final {}", layout::metric_long_name(science::metric_names[m])));
  }
  h5::DatasetLayout status_layout;  // contiguous, allocated at creation as 0 (pending)
  status_layout.allocate_early = true;
  auto status =
      h5::Dataset::create(file, layout::cube_status_path, H5T_STD_I8LE, h5::Dataspace::simple(shape), status_layout);
  if (!values_by_cell.status.empty()) status.write_all(H5T_NATIVE_INT8, values_by_cell.status.data());
  for (std::size_t d = 0; d < scales.size(); ++d) status.attach_scale(scales[d], static_cast<unsigned>(d));
  write_long_name(file, layout::cube_status_path, "run status", false);
  write_status_flags(file, layout::cube_status_path, "");
}

void build_new_file(const std::filesystem::path& path, const spec::SweepSpec& spec, const layout::RowLayout& rows) {
  auto file = h5::File::create(path);
  write_root_attributes(file, spec);
  const spec::Grid grid(spec);
  std::vector<std::int64_t> all(static_cast<std::size_t>(grid.size()));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  create_runs(file, rows, all.size());
  create_trajectories(file, spec, all.size(), layout::record_step_union(spec));
  write_new_rows(file, rows, spec, all, 0);
  create_axes_and_cube(file, spec, {});
  if (spec.refine) create_boundary(file, spec);
  // The datasets above are still open, so closing the file alone would defer their writes to the handles'
  // destructors, where a failure (a full disk) goes unseen: flush while failures still throw.
  file.flush();
  file.close();
}

}  // namespace hetsweep::store::parts
