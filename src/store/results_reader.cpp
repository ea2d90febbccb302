// The reader: any number of them, while the writer writes (SWMR); every row checked against the stored spec.
#include <fmt/format.h>

#include <map>

#include "science/isa.hpp"
#include "spec/grid.hpp"
#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {

namespace fs = std::filesystem;
using namespace parts;

struct ResultsReader::Impl {
  fs::path path;
  h5::File file;
  spec::SweepSpec spec;
  layout::RowLayout rows;
  h5::Dataset runs;
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

std::string ResultsReader::isa() const {
  return h5::read_string_attribute(impl_->file, "/", "isa").value_or(std::string(science::baseline_isa));
}

}  // namespace hetsweep::store
