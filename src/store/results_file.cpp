#include "store/results_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_set>

#include "store/file_system.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using layout::RowIdentity;
using layout::RowResult;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t metric_count = layout::metric_count;

// Chunking and caching, sized for the writer's pattern: rows finish roughly in order and are written in
// batches at flush(), so the chunks around the current rows stay in the cache until they are complete.
// Chunks of the datasets with one entry per run are written whole at creation: a small sweep gets smaller ones,
// down to the minimum, so that its file stays small.
constexpr hsize_t min_per_run_chunk = 64;
constexpr hsize_t runs_chunk_rows = 256;  // /runs
constexpr hsize_t per_run_chunk = 4096;   // /run, /trajectories/run and the per-run coordinates
constexpr hsize_t steps_chunk = 1024;
constexpr hsize_t trajectory_chunk_values = 8 * 1024;  // 64 KiB chunks
constexpr std::size_t runs_cache_bytes = std::size_t{8} << 20;
constexpr std::size_t trajectory_cache_bytes = std::size_t{8} << 20;
// Rows per read or write when walking all of /runs.
constexpr hsize_t io_block_rows = hsize_t{1} << 16;
// write() flushes by itself past either bound, which keeps the buffer's memory in check.
constexpr std::size_t max_buffered_outcomes = 4096;
constexpr std::size_t max_buffered_trajectory_bytes = std::size_t{64} << 20;

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

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

fs::path directory_of(const fs::path& path) {
  const auto parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

std::string_view status_name(RowStatus status) { return layout::status_names.at(static_cast<std::size_t>(status)); }

// ---------------------------------------------------------------------------------------------------------
// Walking /runs.

// Calls visit(row, identity, result) for every row, reading io_block_rows at a time.
template <class Visit>
void for_each_row(const h5::Dataset& runs, const layout::RowLayout& rows, Visit&& visit) {
  const hsize_t n = runs.dims().at(0);
  std::vector<std::byte> identities;
  std::vector<RowResult> results;
  auto file_space = runs.space();
  for (hsize_t first = 0; first < n; first += io_block_rows) {
    const hsize_t count = std::min(io_block_rows, n - first);
    identities.resize(count * rows.identity_size());
    results.resize(count);
    file_space.select_block(std::array{first}, std::array{count});
    const auto memory = h5::Dataspace::simple(std::array{count});
    runs.read(rows.identity_type(), memory, file_space, identities.data());
    runs.read(rows.result_type(), memory, file_space, results.data());
    for (hsize_t i = 0; i < count; ++i) {
      visit(static_cast<std::int64_t>(first + i), rows.decode(identities.data() + i * rows.identity_size()),
            results[i]);
    }
  }
}

std::vector<std::int64_t> read_steps(const h5::Dataset& steps) {
  std::vector<std::int64_t> values(steps.dims().at(0));
  steps.read_all(H5T_NATIVE_INT64, values.data());
  return values;
}

// The per-run coordinates of /trajectories: every grid axis, then the replicate.
std::vector<std::string> run_coordinate_names(const spec::SweepSpec& spec) {
  std::vector<std::string> names;
  for (const auto& axis : spec.axes) names.push_back(axis.name);
  names.push_back(layout::replicate_name);
  return names;
}

// Writes `count` values of a one-dimensional dataset from `first` on.
void write_block(h5::Dataset& dataset, hid_t mem_type, hsize_t first, hsize_t count, const void* data) {
  auto file_space = dataset.space();
  file_space.select_block(std::array{first}, std::array{count});
  dataset.write(mem_type, h5::Dataspace::simple(std::array{count}), file_space, data);
}

// Writes grid points as new rows `first_row`, `first_row + 1`, ...: pending /runs rows, their row numbers in
// /run and /trajectories/run, and their per-run coordinates. The datasets already have room for them.
void write_new_rows(const h5::File& file, const layout::RowLayout& rows, const spec::SweepSpec& spec,
                    std::span<const std::int64_t> grid_indices, std::int64_t first_row) {
  const spec::Grid grid(spec);
  auto runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  std::array row_numbers{h5::Dataset::open(file, layout::run_path),
                         h5::Dataset::open(file, layout::trajectory_run_path)};
  std::vector<h5::Dataset> coordinates;
  for (const auto& name : run_coordinate_names(spec)) {
    coordinates.push_back(h5::Dataset::open(file, layout::trajectory_path(name)));
  }
  const auto string_type = h5::Datatype::variable_string();
  const auto pending = layout::pending_result();
  std::vector<spec::RunPoint> points;
  std::vector<std::byte> buffer;
  std::vector<std::int64_t> integers;
  std::vector<double> reals;
  std::vector<std::string> strings;
  std::vector<const char*> string_pointers;
  for (std::size_t done = 0; done < grid_indices.size(); done += io_block_rows) {
    const std::size_t count = std::min<std::size_t>(io_block_rows, grid_indices.size() - done);
    const auto first = static_cast<hsize_t>(first_row) + done;
    points.clear();
    for (std::size_t i = 0; i < count; ++i) points.push_back(grid.point(grid_indices[done + i]));

    buffer.assign(count * rows.row_size(), std::byte{0});
    for (std::size_t i = 0; i < count; ++i) {
      const auto& point = points[i];
      std::byte* row = buffer.data() + i * rows.row_size();
      rows.encode({static_cast<std::int64_t>(first + i), point.key, point.params, point.replicate, point.seed}, row);
      std::memcpy(row + rows.identity_size(), &pending, sizeof pending);
    }
    write_block(runs, rows.row_type(), first, count, buffer.data());

    integers.resize(count);
    std::iota(integers.begin(), integers.end(), static_cast<std::int64_t>(first));
    for (auto& dataset : row_numbers) write_block(dataset, H5T_NATIVE_INT64, first, count, integers.data());

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
  }
}

// ---------------------------------------------------------------------------------------------------------
// Building the file's objects. All of them exist before SWMR writing starts.

void write_long_name(const h5::File& file, const std::string& object, const std::string& long_name,
                     bool dimensionless = true) {
  h5::write_string_attribute(file, object, "long_name", long_name);
  if (dimensionless) h5::write_string_attribute(file, object, "units", "1");
}

// The netCDF/CF way to say what the values of a status variable mean.
void write_status_flags(const h5::File& file, const std::string& object, const std::string& prefix) {
  h5::write_int8_attribute(file, object, prefix + "flag_values", layout::status_values);
  h5::write_string_attribute(file, object, prefix + "flag_meanings", std::string(layout::status_meanings));
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
  write_long_name(file, layout::runs_path,
                  "one row per run: parameters, replicate, seed, status and final metrics", false);
  write_status_flags(file, layout::runs_path, "status_");
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

// The cube's contents: the final metrics of done runs (NaN elsewhere) and every run's status, by cell.
struct CubeValues {
  std::array<std::vector<double>, metric_count> finals;
  std::vector<std::int8_t> status;
};

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
  auto status = h5::Dataset::create(file, layout::cube_status_path, H5T_STD_I8LE, h5::Dataspace::simple(shape),
                                    status_layout);
  if (!values_by_cell.status.empty()) status.write_all(H5T_NATIVE_INT8, values_by_cell.status.data());
  for (std::size_t d = 0; d < scales.size(); ++d) status.attach_scale(scales[d], static_cast<unsigned>(d));
  write_long_name(file, layout::cube_status_path, "run status", false);
  write_status_flags(file, layout::cube_status_path, "");
}

void build_new_file(const fs::path& path, const spec::SweepSpec& spec, const layout::RowLayout& rows) {
  auto file = h5::File::create(path);
  write_root_attributes(file, spec);
  const spec::Grid grid(spec);
  std::vector<std::int64_t> all(static_cast<std::size_t>(grid.size()));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  create_runs(file, rows, all.size());
  create_trajectories(file, spec, all.size(), layout::record_step_union(spec));
  write_new_rows(file, rows, spec, all, 0);
  create_axes_and_cube(file, spec, {});
  // The datasets above are still open, so closing the file alone would defer their writes to the handles'
  // destructors, where a failure (a full disk) goes unseen: flush while failures still throw.
  file.flush();
  file.close();
}

// ---------------------------------------------------------------------------------------------------------
// Resuming.

// What an existing file holds, read without modifying it.
struct StoredSweep {
  spec::SweepSpec spec;
  std::vector<std::uint64_t> keys;  // per row
  std::vector<std::int64_t> steps;
};

// Opens an existing file, turning HDF5's refusals into what the user should know.
h5::File open_existing(const fs::path& path, h5::Access access, bool recover_after_crash) {
  bool hdf5 = false;
  try {
    hdf5 = h5::File::is_hdf5(path);
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be read: {}", e.what()));
  }
  if (!hdf5) {
    throw ResultsFileError(path, "is not an HDF5 file, so not a hetsweep results file", true);
  }
  try {
    return h5::File::open(path, access, recover_after_crash);
  } catch (const h5::Error& e) {
    if (e.mentions("truncated file")) {
      throw ResultsFileError(path,
                             fmt::format("is truncated (shorter than its HDF5 superblock says), e.g. an incomplete "
                                         "copy; restore the whole file ({})",
                                         e.what()),
                             true);
    }
    if (e.mentions("unable to lock file")) {
      throw ResultsFileError(path, fmt::format("is locked by another process (a reader that opened it before "
                                               "this writer, or a non-SWMR writer); close it and retry ({})",
                                               e.what()));
    }
    throw ResultsFileError(path, fmt::format("cannot be opened as an HDF5 file: {}", e.what()));
  }
}

// Checks that `file` is a results file of a format this version reads, and returns the format.
layout::Format stored_format(const fs::path& path, const h5::File& file) {
  const auto format = h5::read_string_attribute(file, "/", "format");
  if (format && *format == layout::format_v2_name) return layout::Format::hetsweep_2;
  if (format && *format == layout::format_v1_name) return layout::Format::hetsweep_1;
  throw ResultsFileError(path,
                         fmt::format("is not a hetsweep results file (its `format` attribute is {}, not {})",
                                     format ? fmt::format("\"{}\"", *format) : std::string("missing"), format_name),
                         true);
}

// Checks that `file` is a results file (stored_format) and returns its spec, parsed.
spec::SweepSpec stored_spec(const fs::path& path, const h5::File& file) {
  stored_format(path, file);
  const auto text = h5::read_string_attribute(file, "/", "spec");
  if (!text) throw ResultsFileError(path, "has no `spec` attribute: it is damaged");
  spec::SweepSpec spec;
  try {
    spec = spec::parse_spec(*text, fmt::format("{} (stored spec)", path.string()));
  } catch (const spec::SpecError& e) {
    throw ResultsFileError(path, fmt::format("holds a spec this version cannot parse: {}", e.what()));
  }
  if (auto name = h5::read_string_attribute(file, "/", "name")) spec.name = std::move(*name);
  return spec;
}

StoredSweep read_stored(const fs::path& path) {
  // Read-only: what a killed writer left is recovered in memory only, the file is untouched.
  auto file = open_existing(path, h5::Access::read, true);
  if (stored_format(path, file) == layout::Format::hetsweep_1) {
    throw ResultsFileError(path,
                           "is a hetsweep-1 file; convert it with `hetsweep merge NEW.h5 OLD.h5` (writes hetsweep-2), "
                           "then resume NEW.h5");
  }
  try {
    StoredSweep stored{stored_spec(path, file), {}, {}};
    RowCheck check(path, stored.spec);
    for_each_row(h5::Dataset::open(file, layout::runs_path), layout::RowLayout(),
                 [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
                   check.point_of(row, identity, result);
                   stored.keys.push_back(identity.key);
                 });
    stored.steps = read_steps(h5::Dataset::open(file, layout::steps_path));
    file.close();
    return stored;
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("is damaged: {}", e.what()));
  }
}

// Moves each old row's trajectory values to the columns of their steps in the grown step list.
void move_trajectory_columns(h5::Dataset& values, std::span<const std::int64_t> old_steps,
                             std::span<const std::int64_t> new_steps, hsize_t old_rows) {
  std::vector<std::size_t> target;
  for (auto step : old_steps) {
    target.push_back(
        static_cast<std::size_t>(std::lower_bound(new_steps.begin(), new_steps.end(), step) - new_steps.begin()));
  }
  const hsize_t old_columns = old_steps.size();
  const hsize_t new_columns = new_steps.size();
  values.set_extent(std::array{old_rows, new_columns});
  const hsize_t block = std::max<hsize_t>(1, (hsize_t{1} << 20) / new_columns);
  std::vector<double> before;
  std::vector<double> after;
  auto file_space = values.space();
  for (hsize_t first = 0; first < old_rows; first += block) {
    const hsize_t count = std::min(block, old_rows - first);
    before.resize(count * old_columns);
    file_space.select_block(std::array{first, hsize_t{0}}, std::array{count, old_columns});
    values.read(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(std::array{count, old_columns}), file_space, before.data());
    after.assign(count * new_columns, nan);
    for (hsize_t r = 0; r < count; ++r) {
      for (hsize_t c = 0; c < old_columns; ++c) after[r * new_columns + target[c]] = before[r * old_columns + c];
    }
    file_space.select_block(std::array{first, hsize_t{0}}, std::array{count, new_columns});
    values.write(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(std::array{count, new_columns}), file_space, after.data());
  }
}

// Brings `copy`, a copy of the file at `path`, up to `spec`: new grid points become pending rows (with their row
// numbers and per-run coordinates), trajectories grow to the new rows and steps, /axes and /cube are rebuilt
// for the new axes, the spec attribute is replaced.
void grow_file(const fs::path& path, const fs::path& copy, const spec::SweepSpec& spec, const layout::RowLayout& rows,
               const StoredSweep& stored, std::span<const std::int64_t> new_points,
               std::span<const std::int64_t> steps) {
  auto file = h5::File::open(copy, h5::Access::write, true);
  const hsize_t old_rows = stored.keys.size();
  const hsize_t total_rows = old_rows + new_points.size();

  auto runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  runs.set_extent(std::array{total_rows});
  std::vector<std::string> per_run{layout::run_path, layout::trajectory_run_path};
  for (const auto& name : run_coordinate_names(spec)) per_run.push_back(layout::trajectory_path(name));
  for (const auto& object : per_run) h5::Dataset::open(file, object).set_extent(std::array{total_rows});
  write_new_rows(file, rows, spec, new_points, static_cast<std::int64_t>(old_rows));

  const bool steps_appended = std::equal(stored.steps.begin(), stored.steps.end(), steps.begin());
  for (auto metric : science::metric_names) {
    auto values = h5::Dataset::open(file, layout::trajectory_path(metric), trajectory_cache_bytes);
    if (!steps_appended) move_trajectory_columns(values, stored.steps, steps, old_rows);
    values.set_extent(std::array{total_rows, static_cast<hsize_t>(steps.size())});
  }
  auto step = h5::Dataset::open(file, layout::steps_path);
  step.set_extent(std::array{static_cast<hsize_t>(steps.size())});
  step.write_all(H5T_NATIVE_INT64, steps.data());

  const layout::CubeIndex cube(spec);
  CubeValues values;
  for (auto& f : values.finals) f.assign(static_cast<std::size_t>(cube.cells()), nan);
  values.status.assign(static_cast<std::size_t>(cube.cells()), static_cast<std::int8_t>(RowStatus::pending));
  for_each_row(runs, rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    if (result.status == static_cast<std::int8_t>(RowStatus::pending)) return;
    const auto coords = cube.coords(identity.params, identity.replicate);
    if (!coords) throw ResultsFileError(path, fmt::format("row {} does not lie on the spec's axes", row));
    const auto cell = static_cast<std::size_t>(cube.cell(*coords, identity.replicate));
    values.status[cell] = result.status;
    if (result.status != static_cast<std::int8_t>(RowStatus::done)) return;
    for (std::size_t m = 0; m < metric_count; ++m) values.finals[m][cell] = result.finals[m];
  });
  h5::unlink(file, layout::axes_group);
  h5::unlink(file, layout::cube_group);
  create_axes_and_cube(file, spec, values);
  h5::write_string_attribute(file, "/", "spec", spec.text);
  file.close();
}

ResultsFileError another_writer(const fs::path& path) {
  return {path,
          "is being written by another hetsweep process; wait for it to finish, or stop it, before writing "
          "this file"};
}

WriterLock lock_for_writing(const fs::path& path) {
  WriterLock lock;
  try {
    lock = WriterLock::try_acquire(path);
  } catch (const FileSystemError& e) {
    throw ResultsFileError(path, fmt::format("cannot be opened for writing: {}", e.reason()));
  }
  if (!lock.held()) throw another_writer(path);
  return lock;
}

}  // namespace

ResultsFileError::ResultsFileError(const fs::path& path, const std::string& message, bool replaceable)
    : std::runtime_error(fmt::format("{}: {}", path.string(), message)), path_(path), replaceable_(replaceable) {}

// ---------------------------------------------------------------------------------------------------------

struct ResultsWriter::Impl {
  // An outcome waiting for flush().
  struct Buffered {
    std::int64_t row;
    std::int64_t cell;
    RowResult result;
  };

  fs::path path;
  spec::SweepSpec spec;
  layout::RowLayout rows;
  layout::CubeIndex cube_index;
  WriterLock lock;
  h5::File file;
  h5::Dataset runs;
  std::array<h5::Dataset, metric_count> trajectories;
  std::array<h5::Dataset, metric_count> cube;
  h5::Dataset cube_status;
  std::vector<std::int64_t> steps;  // the trajectory columns, sorted
  std::vector<RowStatus> status;    // per row, including buffered outcomes
  std::vector<std::int64_t> cell;   // per row, in the cube
  std::vector<Buffered> buffered;
  std::vector<double> buffered_values;  // per buffered outcome: metric_count x steps.size()

  Impl(const fs::path& p, const spec::SweepSpec& s) : path(p), spec(s), cube_index(spec) {}

  void open(OpenMode mode);
  void create(bool replace);
  // Whether the file was replaced by a grown copy.
  bool resume();
  void start_writing();
  void write(const RunOutcome& outcome);
  void flush();
  void close();
};

void ResultsWriter::Impl::open(OpenMode mode) {
  if (fs::is_directory(path)) {
    throw ResultsFileError(path, "is a directory; the output must name a file, e.g. DIR/results.h5");
  }
  if (!fs::is_directory(directory_of(path))) {
    throw ResultsFileError(
        path, fmt::format("cannot be created: the directory {} does not exist", directory_of(path).string()));
  }
  const bool exists = fs::exists(path);
  if (exists && !fs::is_regular_file(path)) {
    throw ResultsFileError(path, "is not a regular file; the output must name a file");
  }
  bool replaced = true;
  if (!exists) {
    create(false);
  } else if (mode == OpenMode::restart) {
    // Refused while another writer holds the file; a file this process cannot write is replaced all the same.
    WriterLock old;
    bool lockable = true;
    try {
      old = WriterLock::try_acquire(path);
    } catch (const FileSystemError&) {
      lockable = false;
    }
    if (lockable && !old.held()) throw another_writer(path);
    create(true);
  } else {
    lock = lock_for_writing(path);
    replaced = resume();
  }
  // The path now names a new file: lock that one before the old lock goes.
  if (replaced) lock = lock_for_writing(path);
  remove_stale_temporaries(path);
  start_writing();
}

void ResultsWriter::Impl::create(bool replace) {
  try {
    TemporaryFile temporary(path);
    build_new_file(temporary.path(), spec, rows);
    temporary.publish(replace);
  } catch (const FileSystemError& e) {
    if (e.error_number() == EEXIST) {
      throw ResultsFileError(path, "was created by another process meanwhile; run again to resume it");
    }
    throw ResultsFileError(path, fmt::format("cannot be created: {}", e.what()));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be created: {}", e.what()));
  }
}

bool ResultsWriter::Impl::resume() {
  const auto stored = read_stored(path);
  if (const auto conflict = spec::resume_conflict(stored.spec, spec)) {
    throw ResultsFileError(path,
                           fmt::format("was made by another sweep spec: {}; use the spec it was made with", *conflict),
                           true);
  }
  const std::unordered_set<std::uint64_t> stored_keys(stored.keys.begin(), stored.keys.end());
  const spec::Grid grid(spec);
  std::vector<std::int64_t> new_points;
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    if (!stored_keys.contains(grid.point(i).key)) new_points.push_back(i);
  }
  auto steps_now = layout::record_step_union(spec);
  steps_now.insert(steps_now.end(), stored.steps.begin(), stored.steps.end());
  std::sort(steps_now.begin(), steps_now.end());
  steps_now.erase(std::unique(steps_now.begin(), steps_now.end()), steps_now.end());
  if (new_points.empty() && steps_now == stored.steps && stored.spec.text == spec.text) return false;

  // Changes are made to a copy that replaces the file only once complete, so a crash meanwhile leaves the
  // stored results as they were.
  try {
    TemporaryFile temporary(path);
    fs::copy_file(path, temporary.path(), fs::copy_options::overwrite_existing);
    grow_file(path, temporary.path(), spec, rows, stored, new_points, steps_now);
    temporary.publish(true);
    return true;
  } catch (const fs::filesystem_error& e) {
    throw ResultsFileError(path, fmt::format("cannot be copied to grow it: {}", e.what()));
  } catch (const FileSystemError& e) {
    throw ResultsFileError(path, fmt::format("cannot be grown: {}", e.what()));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be grown: {}", e.what()));
  }
}

void ResultsWriter::Impl::start_writing() {
  // Takes over from a writer that was killed, if any: the WriterLock proves none is alive.
  file = open_existing(path, h5::Access::write_swmr, true);
  runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  for (std::size_t m = 0; m < metric_count; ++m) {
    trajectories[m] =
        h5::Dataset::open(file, layout::trajectory_path(science::metric_names[m]), trajectory_cache_bytes);
    cube[m] = h5::Dataset::open(file, layout::cube_path(science::metric_names[m]));
  }
  cube_status = h5::Dataset::open(file, layout::cube_status_path);
  steps = read_steps(h5::Dataset::open(file, layout::steps_path));
  const auto n_rows = static_cast<std::size_t>(runs.dims().at(0));
  status.resize(n_rows);
  cell.resize(n_rows);
  RowCheck check(path, spec);
  for_each_row(runs, rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    cell[static_cast<std::size_t>(row)] = check.point_of(row, identity, result);
    status[static_cast<std::size_t>(row)] = static_cast<RowStatus>(result.status);
  });
}

void ResultsWriter::Impl::write(const RunOutcome& outcome) {
  if (!file.valid()) throw std::logic_error(fmt::format("{}: write() after close()", path.string()));
  if (outcome.row < 0 || outcome.row >= static_cast<std::int64_t>(status.size())) {
    throw std::out_of_range(
        fmt::format("{}: row {} is outside the file's {} rows", path.string(), outcome.row, status.size()));
  }
  const auto row = static_cast<std::size_t>(outcome.row);
  if (status[row] != RowStatus::pending) {
    throw std::logic_error(
        fmt::format("{}: row {} is already {}; a run is written once", path.string(), row, status_name(status[row])));
  }
  if (outcome.status == RowStatus::pending) {
    throw std::invalid_argument(fmt::format("{}: row {}: an outcome cannot be pending", path.string(), row));
  }
  const std::size_t columns = steps.size();
  const std::size_t values_at = buffered_values.size();
  buffered_values.resize(values_at + metric_count * columns, nan);
  for (const auto& record : outcome.result.records) {
    const auto found = std::lower_bound(steps.begin(), steps.end(), record.step);
    if (found == steps.end() || *found != record.step) {
      buffered_values.resize(values_at);
      throw std::invalid_argument(
          fmt::format("{}: row {}: step {} is not a record step of this sweep", path.string(), row, record.step));
    }
    const auto column = static_cast<std::size_t>(found - steps.begin());
    for (std::size_t m = 0; m < metric_count; ++m) {
      buffered_values[values_at + m * columns + column] = record.metrics.*science::metric_fields[m];
    }
  }
  RowResult result;
  result.status = static_cast<std::int8_t>(outcome.status);
  result.steps_done = outcome.result.steps_done;
  result.wall_seconds = outcome.wall_seconds;
  result.finished_at = unix_now();
  result.finals.fill(nan);
  if (outcome.status != RowStatus::failed) {
    const auto& final_metrics = outcome.result.final_metrics();
    for (std::size_t m = 0; m < metric_count; ++m) result.finals[m] = final_metrics.*science::metric_fields[m];
  }
  status[row] = outcome.status;
  buffered.push_back({outcome.row, cell[row], result});
  if (buffered.size() >= max_buffered_outcomes ||
      buffered_values.size() * sizeof(double) >= max_buffered_trajectory_bytes) {
    flush();
  }
}

void ResultsWriter::Impl::flush() {
  if (!file.valid()) throw std::logic_error(fmt::format("{}: flush() after close()", path.string()));
  if (!buffered.empty()) {
    std::vector<std::size_t> order(buffered.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return buffered[a].row < buffered[b].row; });
    const hsize_t count = buffered.size();
    const hsize_t columns = steps.size();

    // Rows finish roughly in order, so the buffered rows form few runs of consecutive rows.
    std::vector<std::array<hsize_t, 2>> row_runs;  // first row, count
    for (std::size_t i = 0; i < order.size();) {
      std::size_t end = i + 1;
      while (end < order.size() && buffered[order[end]].row == buffered[order[end - 1]].row + 1) ++end;
      row_runs.push_back({static_cast<hsize_t>(buffered[order[i]].row), static_cast<hsize_t>(end - i)});
      i = end;
    }

    // Trajectories first and flushed before /runs: a row that reads as finished has its data on disk. One
    // write per run of rows, from memory of the same [rows, columns] shape: HDF5 maps a selection onto
    // chunks quickly only when memory and file selections have the same shape.
    std::vector<double> values(count * columns);
    for (std::size_t m = 0; m < metric_count; ++m) {
      for (std::size_t i = 0; i < order.size(); ++i) {
        const double* from = buffered_values.data() + order[i] * metric_count * columns + m * columns;
        std::copy(from, from + columns, values.begin() + static_cast<std::ptrdiff_t>(i * columns));
      }
      auto selected = trajectories[m].space();
      const double* run_values = values.data();
      for (const auto& [first, rows_in_run] : row_runs) {
        const std::array block{rows_in_run, columns};
        selected.select_block(std::array{first, hsize_t{0}}, block);
        trajectories[m].write(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(block), selected, run_values);
        run_values += rows_in_run * columns;
      }
    }

    const auto& shape = cube_index.shape();
    std::vector<hsize_t> cells;
    cells.reserve(count * shape.size());
    for (auto i : order) {
      std::int64_t rest = buffered[i].cell;
      const std::size_t at = cells.size();
      cells.resize(at + shape.size());
      for (std::size_t d = shape.size(); d-- > 0;) {
        cells[at + d] = static_cast<hsize_t>(rest % shape[d]);
        rest /= shape[d];
      }
    }
    // The cube shows the finals of done runs only; a diverged run's stay in /runs.
    auto cells_selected = cube[0].space();
    cells_selected.select_points(cells);
    const auto cells_memory = h5::Dataspace::simple(std::array{count});
    std::vector<double> finals(count);
    for (std::size_t m = 0; m < metric_count; ++m) {
      for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& result = buffered[order[i]].result;
        finals[i] = result.status == static_cast<std::int8_t>(RowStatus::done) ? result.finals[m] : nan;
      }
      cube[m].write(H5T_NATIVE_DOUBLE, cells_memory, cells_selected, finals.data());
    }
    std::vector<std::int8_t> statuses;
    for (auto i : order) statuses.push_back(buffered[i].result.status);
    cube_status.write(H5T_NATIVE_INT8, cells_memory, cells_selected, statuses.data());
    for (auto& dataset : trajectories) dataset.flush();
    for (auto& dataset : cube) dataset.flush();
    cube_status.flush();

    std::vector<RowResult> results;
    for (auto i : order) results.push_back(buffered[i].result);
    auto runs_selected = runs.space();
    for (std::size_t r = 0; r < row_runs.size(); ++r) {
      const std::array first{row_runs[r][0]};
      const std::array rows_in_run{row_runs[r][1]};
      if (r == 0) {
        runs_selected.select_block(first, rows_in_run);
      } else {
        runs_selected.add_block(first, rows_in_run);
      }
    }
    // Only the result fields are written: HDF5 converts them through a buffer of whole rows.
    runs.write(rows.result_type(), h5::Dataspace::simple(std::array{count}), runs_selected, results.data(),
               count * rows.row_size());
    runs.flush();
    buffered.clear();
    buffered_values.clear();
  }
  file.flush();
}

void ResultsWriter::Impl::close() {
  if (!file.valid()) return;
  flush();
  runs = {};
  trajectories = {};
  cube = {};
  cube_status = {};
  file.close();
  lock = {};
}

ResultsWriter::ResultsWriter(const fs::path& path, const spec::SweepSpec& spec, OpenMode mode)
    : impl_(std::make_unique<Impl>(path, spec)) {
  impl_->open(mode);
}

ResultsWriter::~ResultsWriter() {
  try {
    impl_->close();
  } catch (const std::exception& e) {
    std::cerr << "hetsweep: closing the results file failed: " << e.what() << '\n';
  }
}

std::vector<PendingRun> ResultsWriter::pending() const {
  // From the spec, never from the file: a row's cell is its grid point (checked when the file was opened).
  const spec::Grid grid(impl_->spec);
  std::vector<PendingRun> runs;
  for (std::size_t row = 0; row < impl_->status.size(); ++row) {
    if (impl_->status[row] != RowStatus::pending) continue;
    auto point = grid.point(impl_->cell[row]);
    runs.push_back({static_cast<std::int64_t>(row), std::move(point.params), point.seed});
  }
  return runs;
}

std::int64_t ResultsWriter::total_runs() const { return static_cast<std::int64_t>(impl_->status.size()); }

void ResultsWriter::write(const RunOutcome& outcome) { impl_->write(outcome); }

void ResultsWriter::flush() { impl_->flush(); }

void ResultsWriter::close() { impl_->close(); }

// ---------------------------------------------------------------------------------------------------------

struct ResultsReader::Impl {
  fs::path path;
  h5::File file;
  spec::SweepSpec spec;
  layout::RowLayout rows;
  h5::Dataset runs;
};

ResultsReader::ResultsReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (!fs::exists(path)) throw ResultsFileError(path, "does not exist");
  if (!fs::is_regular_file(path)) throw ResultsFileError(path, "is not a regular file");
  try {
    impl_->file = open_existing(path, h5::Access::read_swmr, false);
  } catch (const ResultsFileError&) {
    // SWMR reading needs the latest file format; a plain open tells whether this is a results file at all.
    auto plain = open_existing(path, h5::Access::read, false);
    stored_spec(path, plain);
    throw;
  }
  try {
    impl_->spec = stored_spec(path, impl_->file);
    impl_->rows = layout::RowLayout(stored_format(path, impl_->file));
    impl_->runs = h5::Dataset::open(impl_->file, layout::runs_path);
    RowCheck check(path, impl_->spec);
    for_each_row(impl_->runs, impl_->rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
      check.point_of(row, identity, result);
    });
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("is damaged: {}", e.what()));
  }
}

ResultsReader::~ResultsReader() = default;

const spec::SweepSpec& ResultsReader::spec() const { return impl_->spec; }

std::vector<RowSummary> ResultsReader::rows() const {
  impl_->runs.refresh();
  const spec::Grid grid(impl_->spec);
  RowCheck check(impl_->path, impl_->spec);
  std::vector<RowSummary> summaries;
  for_each_row(impl_->runs, impl_->rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    RowSummary summary;
    summary.row = row;
    summary.key = identity.key;
    summary.coords = grid.point(check.point_of(row, identity, result)).coords;
    summary.replicate = identity.replicate;
    summary.status = static_cast<RowStatus>(result.status);
    summary.steps_done = result.steps_done;
    summary.wall_seconds = result.wall_seconds;
    summary.finished_at = result.finished_at;
    for (std::size_t m = 0; m < metric_count; ++m) summary.final_metrics.*science::metric_fields[m] = result.finals[m];
    summaries.push_back(std::move(summary));
  });
  return summaries;
}

std::vector<ResultsReader::FinishedRun> ResultsReader::finished_runs() const {
  impl_->runs.refresh();
  const auto steps = read_steps(h5::Dataset::open(impl_->file, layout::steps_path));
  std::map<std::int64_t, std::size_t> column_of;
  for (std::size_t c = 0; c < steps.size(); ++c) column_of[steps[c]] = c;
  std::vector<h5::Dataset> trajectories;
  for (auto metric : science::metric_names) {
    trajectories.push_back(h5::Dataset::open(impl_->file, layout::trajectory_path(metric)));
  }

  std::vector<FinishedRun> finished;
  std::vector<std::vector<double>> values(metric_count);  // one trajectory row per metric
  const hsize_t columns = steps.size();
  RowCheck check(impl_->path, impl_->spec);
  for_each_row(impl_->runs, impl_->rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    check.point_of(row, identity, result);
    const auto status = static_cast<RowStatus>(result.status);
    if (status == RowStatus::pending) return;
    FinishedRun run;
    run.key = identity.key;
    run.outcome.row = row;
    run.outcome.status = status;
    run.outcome.wall_seconds = result.wall_seconds;
    auto& r = run.outcome.result;
    r.status = status == RowStatus::diverged ? science::RunStatus::diverged : science::RunStatus::done;
    r.steps_done = result.steps_done;
    for (std::size_t m = 0; m < metric_count; ++m) r.end_metrics.*science::metric_fields[m] = result.finals[m];
    if (status != RowStatus::failed) {
      for (std::size_t m = 0; m < metric_count; ++m) {
        values[m].resize(columns);
        auto file_space = trajectories[m].space();
        file_space.select_block(std::array{static_cast<hsize_t>(row), hsize_t{0}}, std::array{hsize_t{1}, columns});
        trajectories[m].read(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(std::array{columns}), file_space, values[m].data());
      }
      for (const auto step : science::record_steps(identity.params)) {
        if (step > result.steps_done) break;
        science::Record record{step, {}};
        const auto column = column_of.at(step);
        for (std::size_t m = 0; m < metric_count; ++m) record.metrics.*science::metric_fields[m] = values[m][column];
        r.records.push_back(record);
      }
    }
    finished.push_back(std::move(run));
  });
  return finished;
}

}  // namespace hetsweep::store
