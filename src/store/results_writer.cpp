// The SWMR writer: creates, resumes or grows the file at open, then writes outcomes in batches.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <numeric>
#include <unordered_set>

#include "science/isa.hpp"
#include "spec/grid.hpp"
#include "spec/resume_policy.hpp"
#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"

namespace hetsweep::store {

namespace fs = std::filesystem;
using namespace parts;

namespace {

// write() flushes by itself past either bound, which keeps the buffer's memory in check.
constexpr std::size_t max_buffered_outcomes = 4096;
constexpr std::size_t max_buffered_trajectory_bytes = std::size_t{64} << 20;
// flush() writes buffered rows at most this far apart as one span, the rows between read and written back,
// up to this many bytes of one trajectory dataset a span.
constexpr std::int64_t max_span_gap_rows = 64;
constexpr std::size_t max_span_bytes = std::size_t{8} << 20;

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string_view status_name(science::RowStatus status) {
  return layout::status_names.at(static_cast<std::size_t>(status));
}

}  // namespace

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
  // The file as this writer knows it: which one (device and inode when opened) and how long it was at the last
  // flush. A file deleted, replaced or truncated under the writer must not end in a reported success.
  dev_t device = 0;
  ino_t inode = 0;
  off_t flushed_size = 0;
  h5::Dataset runs;
  std::array<h5::Dataset, metric_count> trajectories;
  std::array<h5::Dataset, metric_count> cube;
  h5::Dataset cube_status;
  std::vector<std::int64_t> steps;         // the trajectory columns, sorted
  std::vector<science::RowStatus> status;  // per row, including buffered outcomes
  std::vector<std::int64_t> cell;          // per row, in the cube; RowCheck::off_grid for refinement rows
  std::vector<std::uint64_t> key;          // per row, checked against its parameters at open
  // The keys of the grid rows, sorted, made when has_run() first needs them (grid rows are all there at open).
  std::vector<std::uint64_t> sorted_grid_keys;
  // What a refinement row's run needs, by row (its parameters are off the grid, so not the spec's).
  std::map<std::int64_t, science::PendingRun> refine_runs;
  // Every row's checks, kept so that appended rows are checked against the rows before them.
  std::unique_ptr<RowCheck> check;
  std::vector<Buffered> buffered;
  std::vector<double> buffered_values;  // per buffered outcome: metric_count x steps.size()

  Impl(const fs::path& p, const spec::SweepSpec& s) : path(p), spec(s), cube_index(spec) {}

  void open(OpenMode mode);
  void open_resolved(OpenMode mode);
  void create(bool replace);
  // Whether the file was replaced by a grown copy (then already open for writing).
  bool resume();
  void publish_open(TemporaryFile& temporary, bool replace);
  void start_writing(const fs::path& file_path);
  void write(const science::RunOutcome& outcome);
  std::vector<std::int64_t> append_runs(std::span<const spec::RunPoint> points);
  void write_boundary(std::span<const spec::Crossing> crossings);
  void flush();
  void close();
  // Throws ResultsFileError, after dropping the file, when the file at `path` is no longer the one written.
  void check_unchanged();
  void abandon();
};

void ResultsWriter::Impl::open(OpenMode mode) {
  try {
    path = resolve_output(path);
    open_resolved(mode);
  } catch (const fs::filesystem_error& e) {
    // The OS refused to look at the path (too long, a loop, no permission to search a directory...).
    throw ResultsFileError(path, fmt::format("cannot be used as the output: {}", e.code().message()));
  }
}

void ResultsWriter::Impl::open_resolved(OpenMode mode) {
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
  if (!exists) {
    create(false);
  } else if (mode == OpenMode::restart) {
    check_replaceable(path);
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
    if (!resume()) start_writing(path);
  }
  remove_stale_temporaries(path);
  if (mode == OpenMode::retry_failed) {
    // Only in memory: the rows show `failed` until their new outcome is written, which is true until then.
    std::replace(status.begin(), status.end(), science::RowStatus::failed, science::RowStatus::pending);
  }
}

void ResultsWriter::Impl::create(bool replace) {
  try {
    TemporaryFile temporary(path);
    build_new_file(temporary.path(), spec, rows);
    publish_open(temporary, replace);
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
    throw ResultsFileError(
        path, fmt::format("was made by another sweep spec: {}; use the spec it was made with", *conflict), true);
  }
  // Kernels of another instruction-set level round differently: their results are never mixed in one file.
  // Files made before the level was recorded were all computed by baseline builds.
  const auto file_isa = h5::read_string_attribute(open_existing(path, h5::Access::read, true), "/", "isa")
                            .value_or(std::string(science::baseline_isa));
  if (file_isa != science::results_isa()) {
    throw ResultsFileError(
        path, fmt::format("holds results of {} kernels, and this hetsweep computes with {} kernels; "
                          "resume it with --isa {}",
                          file_isa, science::results_isa(), file_isa == science::v3_isa ? "v3" : "baseline"));
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
    grow_file(path, temporary.path(), spec, stored, new_points, steps_now);
    publish_open(temporary, true);
    return true;
  } catch (const fs::filesystem_error& e) {
    throw ResultsFileError(path, fmt::format("cannot be copied to grow it: {}", e.what()));
  } catch (const FileSystemError& e) {
    throw ResultsFileError(path, fmt::format("cannot be grown: {}", e.what()));
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be grown: {}", e.what()));
  }
}

// A new file is locked and opened for SWMR writing before it takes the output's name: a reader that polls for
// the output (h5py, `hetsweep status`) then never holds HDF5's lock on it, between the rename and this
// writer's open, and makes the open fail.
void ResultsWriter::Impl::publish_open(TemporaryFile& temporary, bool replace) {
  auto new_lock = lock_for_writing(temporary.path());
  start_writing(temporary.path());
  temporary.publish(replace);
  // The old file's lock (held while it was grown) goes only once the output names the new one.
  lock = std::move(new_lock);
}

void ResultsWriter::Impl::start_writing(const fs::path& file_path) {
  // Takes over from a writer that was killed, if any: the WriterLock proves none is alive.
  file = open_existing(file_path, h5::Access::write_swmr, true);
  struct stat opened {};
  if (::stat(file_path.c_str(), &opened) != 0) {
    throw ResultsFileError(path, fmt::format("cannot be checked: {}", std::strerror(errno)));
  }
  device = opened.st_dev;
  inode = opened.st_ino;
  flushed_size = opened.st_size;
  runs = h5::Dataset::open(file, layout::runs_path, runs_cache_bytes);
  rows = layout::RowLayout::of(layout::Format::hetsweep_2, runs);
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
  key.resize(n_rows);
  sorted_grid_keys.clear();
  refine_runs.clear();
  check = std::make_unique<RowCheck>(path, spec);
  for_each_row(runs, rows, [&](std::int64_t row, const RowIdentity& identity, const RowResult& result) {
    cell[static_cast<std::size_t>(row)] = check->point_of(row, identity, result);
    key[static_cast<std::size_t>(row)] = identity.key;
    status[static_cast<std::size_t>(row)] = static_cast<science::RowStatus>(result.status);
    if (identity.origin == static_cast<std::int8_t>(RowOrigin::refine)) {
      refine_runs[row] = {row, identity.params, identity.seed};
    }
  });
}

std::vector<std::int64_t> ResultsWriter::Impl::append_runs(std::span<const spec::RunPoint> points) {
  if (!file.valid()) throw std::logic_error(fmt::format("{}: append_runs() after close()", path.string()));
  if (!spec.refine) {
    throw std::logic_error(fmt::format("{}: refinement runs need a spec with a refine block", path.string()));
  }
  if (!rows.has_origin()) {
    throw std::logic_error(
        fmt::format("{}: was made before refinement existed (its /runs has no origin field)", path.string()));
  }
  const auto first_row = static_cast<std::int64_t>(status.size());
  std::vector<std::int64_t> new_rows;
  // Checked as a reader will check them before anything is written; a refused point takes its batch back.
  std::vector<std::uint64_t> accepted;
  try {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& point = points[i];
      const auto row = first_row + static_cast<std::int64_t>(i);
      check->point_of(
          row, {row, point.key, point.params, point.replicate, point.seed, static_cast<std::int8_t>(RowOrigin::refine)},
          layout::pending_result());
      accepted.push_back(point.key);
      new_rows.push_back(row);
    }
  } catch (const ResultsFileError& e) {
    for (auto accepted_key : accepted) check->forget_refinement(accepted_key);
    throw std::invalid_argument(fmt::format("not a refinement run of this sweep: {}", e.what()));
  }
  if (points.empty()) return new_rows;
  check_unchanged();
  const auto total = static_cast<hsize_t>(first_row) + points.size();
  // Everything a reader finds through a /runs row is there before the row: the per-run datasets grow and are
  // written first, /runs last.
  std::vector<h5::Dataset> per_run;
  per_run.push_back(h5::Dataset::open(file, layout::run_path));
  per_run.push_back(h5::Dataset::open(file, layout::trajectory_run_path));
  for (const auto& name : run_coordinate_names(spec)) {
    per_run.push_back(h5::Dataset::open(file, layout::trajectory_path(name)));
  }
  for (auto& dataset : per_run) dataset.set_extent(std::array{total});
  for (auto& dataset : trajectories) dataset.set_extent(std::array{total, static_cast<hsize_t>(steps.size())});
  runs.set_extent(std::array{total});
  write_rows(file, rows, spec, points, first_row, RowOrigin::refine);
  for (auto& dataset : per_run) dataset.flush();
  for (auto& dataset : trajectories) dataset.flush();
  runs.flush();
  for (std::size_t i = 0; i < points.size(); ++i) {
    status.push_back(science::RowStatus::pending);
    cell.push_back(RowCheck::off_grid);
    key.push_back(points[i].key);
    refine_runs[new_rows[i]] = {new_rows[i], points[i].params, points[i].seed};
  }
  return new_rows;
}

void ResultsWriter::Impl::write_boundary(std::span<const spec::Crossing> crossings) {
  if (!file.valid()) throw std::logic_error(fmt::format("{}: write_boundary() after close()", path.string()));
  if (!spec.refine || !h5::exists(file, layout::boundary_group)) {
    throw std::logic_error(fmt::format("{}: has no /boundary (its spec has no refine block)", path.string()));
  }
  const auto axes = layout::boundary_axes(spec);
  for (const auto& crossing : crossings) {
    if (crossing.where.size() != axes.size()) {
      throw std::invalid_argument(fmt::format("{}: a crossing names {} axis values; the refine axis has {} others",
                                              path.string(), crossing.where.size(), axes.size()));
    }
  }
  check_unchanged();
  const hsize_t n = crossings.size();
  const auto write_column = [&](const std::string& name, hid_t type, const void* data) {
    auto dataset = h5::Dataset::open(file, layout::boundary_path(name));
    dataset.set_extent(std::array{n});
    if (n > 0) dataset.write_all(type, data);
    dataset.flush();
  };
  const auto string_type = h5::Datatype::variable_string();
  for (std::size_t a = 0; a < axes.size(); ++a) {
    const auto* param = science::find_parameter(axes[a]);
    std::vector<std::int64_t> integers;
    std::vector<double> reals;
    std::vector<std::string> strings;
    std::vector<const char*> pointers;
    for (const auto& crossing : crossings) {
      const auto value = layout::normalized(param->kind, crossing.where[a]);
      switch (param->kind) {
        case science::ParamKind::integer:
          integers.push_back(std::get<std::int64_t>(value));
          break;
        case science::ParamKind::real:
          reals.push_back(std::get<double>(value));
          break;
        case science::ParamKind::choice:
          strings.push_back(std::get<std::string>(value));
          break;
      }
    }
    for (const auto& text : strings) pointers.push_back(text.c_str());
    switch (param->kind) {
      case science::ParamKind::integer:
        write_column(axes[a], H5T_NATIVE_INT64, integers.data());
        break;
      case science::ParamKind::real:
        write_column(axes[a], H5T_NATIVE_DOUBLE, reals.data());
        break;
      case science::ParamKind::choice:
        write_column(axes[a], string_type.id(), pointers.data());
        break;
    }
  }
  std::vector<double> lo, hi, estimate;
  std::vector<std::int8_t> direction;
  std::vector<std::int64_t> runs_spent, index;
  for (const auto& crossing : crossings) {
    lo.push_back(crossing.lo);
    hi.push_back(crossing.hi);
    estimate.push_back(crossing.estimate);
    direction.push_back(static_cast<std::int8_t>(crossing.direction));
    runs_spent.push_back(crossing.runs);
    index.push_back(static_cast<std::int64_t>(index.size()));
  }
  write_column("lo", H5T_NATIVE_DOUBLE, lo.data());
  write_column("hi", H5T_NATIVE_DOUBLE, hi.data());
  write_column("direction", H5T_NATIVE_INT8, direction.data());
  write_column("estimate", H5T_NATIVE_DOUBLE, estimate.data());
  write_column("runs", H5T_NATIVE_INT64, runs_spent.data());
  // The scale last: a reader sizes the table by it.
  write_column(layout::crossing_name, H5T_NATIVE_INT64, index.data());
}

void ResultsWriter::Impl::write(const science::RunOutcome& outcome) {
  if (!file.valid()) throw std::logic_error(fmt::format("{}: write() after close()", path.string()));
  if (outcome.row < 0 || outcome.row >= static_cast<std::int64_t>(status.size())) {
    throw std::out_of_range(
        fmt::format("{}: row {} is outside the file's {} rows", path.string(), outcome.row, status.size()));
  }
  const auto row = static_cast<std::size_t>(outcome.row);
  if (status[row] != science::RowStatus::pending) {
    throw std::logic_error(
        fmt::format("{}: row {} is already {}; a run is written once", path.string(), row, status_name(status[row])));
  }
  if (outcome.status == science::RowStatus::pending) {
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
  if (outcome.status != science::RowStatus::failed) {
    const auto& final_metrics = outcome.result.final_metrics;
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
  // Before HDF5 writes more into a file that is no longer there as it was.
  check_unchanged();
  if (!buffered.empty()) {
    std::vector<std::size_t> order(buffered.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return buffered[a].row < buffered[b].row; });
    const hsize_t columns = steps.size();

    // Rows finish roughly in order, but a shard's or a merged input's rows are scattered over the file: rows
    // close to each other are written as one span, with the rows between them read and written back as they
    // were. One write per span, from memory of the same [rows, columns] shape: HDF5 maps a selection onto
    // chunks quickly only when memory and file selections have the same shape, and a selection of many small
    // blocks costs it time that grows faster than the number of blocks.
    struct Span {
      hsize_t first, rows;     // file rows first .. first + rows - 1
      std::size_t begin, end;  // their buffered outcomes: order[begin .. end)
    };
    std::vector<Span> spans;
    const auto max_span_rows =
        static_cast<std::int64_t>(std::max<std::size_t>(1, max_span_bytes / (columns * sizeof(double) + 1)));
    for (std::size_t i = 0; i < order.size();) {
      std::size_t end = i + 1;
      while (end < order.size() && buffered[order[end]].row - buffered[order[end - 1]].row <= max_span_gap_rows &&
             buffered[order[end]].row - buffered[order[i]].row < max_span_rows) {
        ++end;
      }
      const auto first = static_cast<hsize_t>(buffered[order[i]].row);
      spans.push_back({first, static_cast<hsize_t>(buffered[order[end - 1]].row) - first + 1, i, end});
      i = end;
    }
    const auto dense = [](const Span& span) { return span.rows == span.end - span.begin; };

    // Trajectories first and flushed before /runs: a row that reads as finished has its data on disk.
    std::vector<double> values;
    for (std::size_t m = 0; m < metric_count; ++m) {
      auto selected = trajectories[m].space();
      for (const auto& span : spans) {
        const std::array block{span.rows, columns};
        selected.select_block(std::array{span.first, hsize_t{0}}, block);
        const auto memory = h5::Dataspace::simple(block);
        values.resize(span.rows * columns);
        if (!dense(span)) trajectories[m].read(H5T_NATIVE_DOUBLE, memory, selected, values.data());
        for (std::size_t i = span.begin; i < span.end; ++i) {
          const double* from = buffered_values.data() + order[i] * metric_count * columns + m * columns;
          const auto at = (static_cast<hsize_t>(buffered[order[i]].row) - span.first) * columns;
          std::copy(from, from + columns, values.begin() + static_cast<std::ptrdiff_t>(at));
        }
        trajectories[m].write(H5T_NATIVE_DOUBLE, memory, selected, values.data());
      }
    }

    // Only grid rows have cube cells.
    std::vector<std::size_t> on_grid;
    for (auto i : order) {
      if (buffered[i].cell != RowCheck::off_grid) on_grid.push_back(i);
    }
    const hsize_t grid_count = on_grid.size();
    const auto& shape = cube_index.shape();
    std::vector<hsize_t> cells;
    cells.reserve(grid_count * shape.size());
    for (auto i : on_grid) {
      for (const auto coord : spec::row_major_coords(buffered[i].cell, shape))
        cells.push_back(static_cast<hsize_t>(coord));
    }
    if (grid_count > 0) {
      // The cube shows the finals of done runs only; a diverged run's stay in /runs.
      auto cells_selected = cube[0].space();
      cells_selected.select_points(cells);
      const auto cells_memory = h5::Dataspace::simple(std::array{grid_count});
      std::vector<double> finals(grid_count);
      for (std::size_t m = 0; m < metric_count; ++m) {
        for (std::size_t i = 0; i < on_grid.size(); ++i) {
          const auto& result = buffered[on_grid[i]].result;
          finals[i] = result.status == static_cast<std::int8_t>(science::RowStatus::done) ? result.finals[m] : nan;
        }
        cube[m].write(H5T_NATIVE_DOUBLE, cells_memory, cells_selected, finals.data());
      }
      std::vector<std::int8_t> statuses;
      for (auto i : on_grid) statuses.push_back(buffered[i].result.status);
      cube_status.write(H5T_NATIVE_INT8, cells_memory, cells_selected, statuses.data());
    }
    for (auto& dataset : trajectories) dataset.flush();
    for (auto& dataset : cube) dataset.flush();
    cube_status.flush();

    // Only the result fields are written: HDF5 converts them through a buffer of whole rows.
    std::vector<RowResult> results;
    auto runs_selected = runs.space();
    for (const auto& span : spans) {
      runs_selected.select_block(std::array{span.first}, std::array{span.rows});
      const auto memory = h5::Dataspace::simple(std::array{span.rows});
      results.resize(span.rows);
      if (!dense(span)) runs.read(rows.result_type(), memory, runs_selected, results.data());
      for (std::size_t i = span.begin; i < span.end; ++i) {
        results[static_cast<std::size_t>(static_cast<hsize_t>(buffered[order[i]].row) - span.first)] =
            buffered[order[i]].result;
      }
      runs.write(rows.result_type(), memory, runs_selected, results.data(), span.rows * rows.row_size());
    }
    runs.flush();
    buffered.clear();
    buffered_values.clear();
  }
  file.flush();
  struct stat flushed {};
  if (::stat(path.c_str(), &flushed) == 0 && flushed.st_dev == device && flushed.st_ino == inode) {
    flushed_size = flushed.st_size;
  }
}

void ResultsWriter::Impl::close() {
  if (!file.valid()) return;
  flush();
  runs = {};
  trajectories = {};
  cube = {};
  cube_status = {};
  file.close();
  check_unchanged();
  // Still readable as this sweep's file, as the next reader will open it.
  try {
    const auto reopened = open_existing(path, h5::Access::read, false);
    if (h5::read_string_attribute(reopened, "/", "fingerprint") != spec::fingerprint(spec)) {
      throw ResultsFileError(path, "no longer holds this sweep after writing");
    }
  } catch (const h5::Error& e) {
    throw ResultsFileError(path, fmt::format("cannot be read back after writing: {}", e.what()));
  }
  lock = {};
}

void ResultsWriter::Impl::abandon() {
  runs = {};
  trajectories = {};
  cube = {};
  cube_status = {};
  file = {};
  lock = {};
  buffered.clear();
  buffered_values.clear();
}

void ResultsWriter::Impl::check_unchanged() {
  struct stat now {};
  std::string what;
  if (::stat(path.c_str(), &now) != 0) {
    const int error = errno;
    what = error == ENOENT ? "was deleted while this sweep wrote it, so its results are lost; run the same command to "
                             "start over"
                           : fmt::format("cannot be checked while this sweep writes it: {}", std::strerror(error));
  } else if (now.st_dev != device || now.st_ino != inode) {
    what =
        "was replaced by another file while this sweep wrote it; this sweep's results went to the replaced file "
        "and are lost, and the file now there was left alone";
  } else if (now.st_size < flushed_size) {
    what = fmt::format(
        "was truncated while this sweep wrote it ({} bytes on disk, {} written before), so it is no "
        "longer whole; restore it from a copy, or start over with --restart",
        now.st_size, flushed_size);
  }
  if (what.empty()) return;
  if (file.valid()) abandon();
  throw ResultsFileError(path, what);
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

std::vector<science::PendingRun> ResultsWriter::pending() const {
  // From the spec, never from the file: a row's cell is its grid point (checked when the file was opened).
  const spec::Grid grid(impl_->spec);
  std::vector<science::PendingRun> runs;
  for (std::size_t row = 0; row < impl_->status.size(); ++row) {
    if (impl_->status[row] != science::RowStatus::pending) continue;
    if (impl_->cell[row] == RowCheck::off_grid) {
      runs.push_back(impl_->refine_runs.at(static_cast<std::int64_t>(row)));
      continue;
    }
    auto point = grid.point(impl_->cell[row]);
    runs.push_back({static_cast<std::int64_t>(row), std::move(point.params), point.seed});
  }
  return runs;
}

std::vector<std::pair<std::uint64_t, std::int64_t>> ResultsWriter::pending_keys() const {
  std::vector<std::pair<std::uint64_t, std::int64_t>> keys;
  for (std::size_t row = 0; row < impl_->status.size(); ++row) {
    if (impl_->status[row] == science::RowStatus::pending) {
      keys.emplace_back(impl_->key[row], static_cast<std::int64_t>(row));
    }
  }
  return keys;
}

bool ResultsWriter::has_run(std::uint64_t key) const {
  if (impl_->check->has_refinement_key(key)) return true;
  auto& grid_keys = impl_->sorted_grid_keys;
  if (grid_keys.empty()) {
    for (std::size_t row = 0; row < impl_->key.size(); ++row) {
      if (impl_->cell[row] != RowCheck::off_grid) grid_keys.push_back(impl_->key[row]);
    }
    std::sort(grid_keys.begin(), grid_keys.end());
  }
  return std::binary_search(grid_keys.begin(), grid_keys.end(), key);
}

void ResultsWriter::visit_rows(const std::function<void(const Row&)>& visit) const {
  if (!impl_->file.valid()) throw std::logic_error(fmt::format("{}: visit_rows() after close()", impl_->path.string()));
  Row row;
  parts::for_each_row(impl_->runs, impl_->rows,
                      [&](std::int64_t index, const RowIdentity& identity, const RowResult& result) {
                        row.row = index;
                        row.params = identity.params;
                        row.replicate = identity.replicate;
                        row.status = impl_->status.at(static_cast<std::size_t>(index));
                        for (std::size_t m = 0; m < metric_count; ++m)
                          row.final_metrics.*science::metric_fields[m] = result.finals[m];
                        visit(row);
                      });
}

std::int64_t ResultsWriter::total_runs() const { return static_cast<std::int64_t>(impl_->status.size()); }

void ResultsWriter::write(const science::RunOutcome& outcome) { impl_->write(outcome); }

std::vector<std::int64_t> ResultsWriter::append_runs(std::span<const spec::RunPoint> points) {
  return impl_->append_runs(points);
}

void ResultsWriter::write_boundary(std::span<const spec::Crossing> crossings) { impl_->write_boundary(crossings); }

void ResultsWriter::flush() { impl_->flush(); }

void ResultsWriter::close() { impl_->close(); }

}  // namespace hetsweep::store
