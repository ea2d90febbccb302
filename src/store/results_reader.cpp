// The reader: any number of them, while the writer writes (SWMR); every row checked against the stored spec.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "science/isa.hpp"
#include "science/records.hpp"
#include "spec/grid.hpp"
#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {

namespace fs = std::filesystem;
using namespace parts;

namespace {

// visit_finished_runs reads this many bytes of trajectories at most at a time (all metrics together).
constexpr hsize_t trajectory_block_bytes = hsize_t{16} << 20;

}  // namespace

struct ResultsReader::Impl {
  fs::path path;
  h5::File file;
  spec::SweepSpec spec;
  layout::RowLayout rows;
  h5::Dataset runs;
  // Every row is checked once, in order: at open, and the rows a writer added since when they are first read.
  // Later reads check only what a writer changes (the status), and take each row's grid point from here.
  std::unique_ptr<RowCheck> check;
  std::vector<std::int64_t> point_of_row;

  // Checks the rows up to `n` not checked yet.
  void check_rows(hsize_t n) {
    if (!check) check = std::make_unique<RowCheck>(path, spec);
    for_each_row_in(runs, rows, point_of_row.size(), n,
                    [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
                      point_of_row.push_back(check->point_of(row, identity, result));
                    });
  }
  // The trajectory datasets and the column of each record step, opened once. A reader sees the steps of the
  // file as opened: a grown file is a new file.
  std::vector<h5::Dataset> trajectories;
  std::map<std::int64_t, std::size_t> column_of;
  void open_trajectories() {
    if (!trajectories.empty()) return;
    const auto steps = read_steps(h5::Dataset::open(file, layout::steps_path));
    for (std::size_t c = 0; c < steps.size(); ++c) column_of[steps[c]] = c;
    for (auto metric : science::metric_names) {
      trajectories.push_back(h5::Dataset::open(file, layout::trajectory_path(metric)));
    }
  }

  // The rows as last flushed, every one checked.
  hsize_t refreshed_rows() {
    runs.refresh();
    for (auto& dataset : trajectories) dataset.refresh();
    const hsize_t n = runs.dims().at(0);
    check_rows(n);
    return n;
  }

  // A checked refinement row's index on each axis: the grid's on the others, -1 on the refine axis.
  [[nodiscard]] std::vector<std::int64_t> refine_coords(const science::Params& params, std::int64_t replicate) const {
    const layout::CubeIndex cube(spec);
    auto on_grid = params;
    std::size_t refine_axis = 0;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      if (spec.axes[a].name != spec.refine->axis) continue;
      const auto* param = science::find_parameter(spec.axes[a].name);
      param->set(on_grid, layout::normalized(param->kind, spec.axes[a].values.front()));
      refine_axis = a;
    }
    auto coords = cube.coords(on_grid, replicate).value();
    coords[refine_axis] = -1;
    return coords;
  }
};

ResultsReader::ResultsReader(const fs::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  try {
    if (!fs::exists(path)) throw ResultsFileError(path, "does not exist");
    if (!fs::is_regular_file(path)) throw ResultsFileError(path, "is not a regular file");
  } catch (const fs::filesystem_error& e) {
    throw ResultsFileError(path, fmt::format("cannot be read: {}", e.code().message()));
  }
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
    impl_->runs = h5::Dataset::open(impl_->file, layout::runs_path);
    impl_->rows = layout::RowLayout::of(stored_format(path, impl_->file), impl_->runs);
    impl_->check_rows(impl_->runs.dims().at(0));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("is damaged: {}", e.what()));
  }
}

ResultsReader::~ResultsReader() = default;

const spec::SweepSpec& ResultsReader::spec() const { return impl_->spec; }

std::vector<RowSummary> ResultsReader::rows() const {
  std::vector<RowSummary> summaries;
  visit_rows([&](const RowSummary& summary) { summaries.push_back(summary); });
  return summaries;
}

void ResultsReader::visit_rows(const std::function<void(const RowSummary&)>& visit) const {
  const auto n = impl_->refreshed_rows();
  const auto& spec = impl_->spec;
  const auto shape = layout::CubeIndex(spec).shape();
  const auto axes = spec.axes.size();
  RowSummary summary;
  for_each_row_in(impl_->runs, impl_->rows, 0, n,
                  [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
                    impl_->check->check_result(row, result);
                    summary.row = row;
                    summary.key = identity.key;
                    summary.origin = static_cast<RowOrigin>(identity.origin);
                    const auto point = impl_->point_of_row[static_cast<std::size_t>(row)];
                    if (point == RowCheck::off_grid) {
                      summary.coords = impl_->refine_coords(identity.params, identity.replicate);
                      summary.refine_value = science::find_parameter(spec.refine->axis)->get(identity.params);
                    } else {
                      // The point's index is row-major over the axes, the replicate fastest (spec::Grid).
                      summary.coords.resize(axes);
                      std::int64_t rest = point / spec.replicates;
                      for (std::size_t a = axes; a-- > 0;) {
                        summary.coords[a] = rest % shape[a];
                        rest /= shape[a];
                      }
                      summary.refine_value = {};
                    }
                    summary.replicate = identity.replicate;
                    summary.status = static_cast<science::RowStatus>(result.status);
                    summary.steps_done = result.steps_done;
                    summary.wall_seconds = result.wall_seconds;
                    summary.finished_at = result.finished_at;
                    for (std::size_t m = 0; m < metric_count; ++m) {
                      summary.final_metrics.*science::metric_fields[m] = result.finals[m];
                    }
                    visit(summary);
                  });
}

std::vector<ResultsReader::FinishedRun> ResultsReader::finished_runs() const {
  std::vector<FinishedRun> finished;
  visit_finished_runs([&](FinishedRun& run) { finished.push_back(std::move(run)); });
  return finished;
}

void ResultsReader::visit_finished_runs(const std::function<void(FinishedRun&)>& visit) const {
  const auto end_row = impl_->refreshed_rows();
  impl_->open_trajectories();
  const auto& trajectories = impl_->trajectories;
  const auto& column_of = impl_->column_of;
  const hsize_t columns = column_of.size();
  // Rows are read a block at a time, with the block's trajectory rows of every metric: one read per dataset
  // and block, and memory bounded whatever the row count.
  const hsize_t block_rows = std::clamp<hsize_t>(
      trajectory_block_bytes / std::max<hsize_t>(1, columns * sizeof(double) * metric_count), 1, io_block_rows);
  std::vector<std::vector<double>> values(metric_count);  // [metric][row in block * columns + column]
  hsize_t block_first = 0, block_count = 0;               // the rows in `values`
  const auto read_block = [&](hsize_t row) {
    block_first = row;
    block_count = std::min(block_rows, end_row - row);
    const std::array block{block_count, columns};
    for (std::size_t m = 0; m < metric_count; ++m) {
      values[m].resize(block_count * columns);
      auto file_space = trajectories[m].space();
      file_space.select_block(std::array{block_first, hsize_t{0}}, block);
      trajectories[m].read(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(block), file_space, values[m].data());
    }
  };
  FinishedRun run;
  const auto visit_row = [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    impl_->check->check_result(row, result);
    const auto status = static_cast<science::RowStatus>(result.status);
    if (status == science::RowStatus::pending) return;
    run.key = identity.key;
    run.origin = static_cast<RowOrigin>(identity.origin);
    run.replicate = identity.replicate;
    run.params = identity.params;
    run.outcome = {};
    run.outcome.row = row;
    run.outcome.status = status;
    run.outcome.wall_seconds = result.wall_seconds;
    auto& r = run.outcome.result;
    r.status = status == science::RowStatus::diverged ? science::RunStatus::diverged : science::RunStatus::done;
    r.steps_done = result.steps_done;
    for (std::size_t m = 0; m < metric_count; ++m) r.final_metrics.*science::metric_fields[m] = result.finals[m];
    if (status != science::RowStatus::failed && columns > 0) {
      const auto at_row = static_cast<hsize_t>(row);
      if (at_row < block_first || at_row >= block_first + block_count) read_block(at_row);
      for (const auto step : science::record_steps(identity.params)) {
        if (step > result.steps_done) break;
        science::Record record{step, {}};
        const auto column = column_of.at(step);
        for (std::size_t m = 0; m < metric_count; ++m) {
          record.metrics.*science::metric_fields[m] = values[m][(at_row - block_first) * columns + column];
        }
        r.records.push_back(record);
      }
    }
    visit(run);
  };
  for_each_row_in(impl_->runs, impl_->rows, 0, end_row, visit_row);
}

std::optional<std::vector<spec::Crossing>> ResultsReader::boundary() const {
  try {
    if (!h5::exists(impl_->file, layout::boundary_group) || !impl_->spec.refine) return std::nullopt;
    // The scale is written last: its length is the number of complete crossings.
    auto scale = h5::Dataset::open(impl_->file, layout::boundary_path(layout::crossing_name));
    scale.refresh();
    const auto n = static_cast<std::size_t>(scale.dims().at(0));
    const auto column = [&](const std::string& name) {
      auto dataset = h5::Dataset::open(impl_->file, layout::boundary_path(name));
      dataset.refresh();
      if (dataset.dims().at(0) < n) {
        throw ResultsFileError(impl_->path, fmt::format("is damaged: {} has {} values for {} crossings",
                                                        layout::boundary_path(name), dataset.dims().at(0), n));
      }
      auto space = dataset.space();
      space.select_block(std::array{hsize_t{0}}, std::array{static_cast<hsize_t>(n)});
      return std::pair{std::move(dataset), std::move(space)};
    };
    const auto memory = h5::Dataspace::simple(std::array{static_cast<hsize_t>(n)});
    std::vector<spec::Crossing> crossings(n);
    const auto read_doubles = [&](const std::string& name) {
      std::vector<double> values(n);
      const auto [dataset, space] = column(name);
      if (n > 0) dataset.read(H5T_NATIVE_DOUBLE, memory, space, values.data());
      return values;
    };
    const auto read_integers = [&](const std::string& name) {
      std::vector<std::int64_t> values(n);
      const auto [dataset, space] = column(name);
      if (n > 0) dataset.read(H5T_NATIVE_INT64, memory, space, values.data());
      return values;
    };
    for (const auto& name : layout::boundary_axes(impl_->spec)) {
      const auto* param = science::find_parameter(name);
      switch (param->kind) {
        case science::ParamKind::integer:
          for (std::size_t i = 0; const auto v : read_integers(name)) crossings[i++].where.emplace_back(v);
          break;
        case science::ParamKind::real:
          for (std::size_t i = 0; const auto v : read_doubles(name)) crossings[i++].where.emplace_back(v);
          break;
        case science::ParamKind::choice: {
          auto values = column(name).first.read_strings();
          for (std::size_t i = 0; i < n; ++i) crossings[i].where.emplace_back(std::move(values.at(i)));
          break;
        }
      }
    }
    const auto lo = read_doubles("lo");
    const auto hi = read_doubles("hi");
    const auto estimate = read_doubles("estimate");
    const auto runs = read_integers("runs");
    std::vector<std::int8_t> direction(n);
    if (n > 0) {
      const auto [dataset, space] = column("direction");
      dataset.read(H5T_NATIVE_INT8, memory, space, direction.data());
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (direction[i] != 0 && direction[i] != 1) {
        throw ResultsFileError(
            impl_->path,
            fmt::format("is damaged: /boundary/direction[{}] is {}, not 0 (down) or 1 (up)", i, direction[i]));
      }
      crossings[i].lo = lo[i];
      crossings[i].hi = hi[i];
      crossings[i].direction = static_cast<spec::Crossing::Direction>(direction[i]);
      crossings[i].estimate = estimate[i];
      crossings[i].runs = runs[i];
    }
    return crossings;
  } catch (const h5::Error& e) {
    throw ResultsFileError(impl_->path, fmt::format("is damaged: {}", e.what()));
  }
}

std::string ResultsReader::isa() const {
  return h5::read_string_attribute(impl_->file, "/", "isa").value_or(std::string(science::baseline_isa));
}

}  // namespace hetsweep::store
