// Growing a results file for a spec whose grid is a superset of the file's: new pending rows, trajectories
// widened to new record steps, /axes and /cube rebuilt. Done on a copy that replaces the file when complete.
#include <fmt/format.h>

#include <algorithm>

#include "store/results_file_parts.hpp"

namespace hetsweep::store::parts {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

void grow_file(const fs::path& path, const fs::path& copy, const spec::SweepSpec& spec, const StoredSweep& stored,
               std::span<const std::int64_t> new_points, std::span<const std::int64_t> steps) {
  auto file = h5::File::open(copy, h5::Access::write, true);
  const hsize_t old_rows = stored.keys.size();
  const hsize_t total_rows = old_rows + new_points.size();

  auto runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  // A file written before refinement existed stays without the origin field (its rows are all grid rows).
  const auto rows = layout::RowLayout::of(layout::Format::hetsweep_2, runs);
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
  values.status.assign(static_cast<std::size_t>(cube.cells()), static_cast<std::int8_t>(science::RowStatus::pending));
  for_each_row(runs, rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    if (result.status == static_cast<std::int8_t>(science::RowStatus::pending)) return;
    if (identity.origin == static_cast<std::int8_t>(RowOrigin::refine)) return;  // no cube cell
    const auto coords = cube.coords(identity.params, identity.replicate);
    if (!coords) throw ResultsFileError(path, fmt::format("row {} does not lie on the spec's axes", row));
    const auto cell = static_cast<std::size_t>(cube.cell(*coords, identity.replicate));
    values.status[cell] = result.status;
    if (result.status != static_cast<std::int8_t>(science::RowStatus::done)) return;
    for (std::size_t m = 0; m < metric_count; ++m) values.finals[m][cell] = result.finals[m];
  });
  h5::unlink(file, layout::axes_group);
  h5::unlink(file, layout::cube_group);
  create_axes_and_cube(file, spec, values);
  if (spec.refine && !h5::exists(file, layout::boundary_group)) create_boundary(file, spec);
  h5::write_string_attribute(file, "/", "spec", spec.text);
  file.close();
}

}  // namespace hetsweep::store::parts
