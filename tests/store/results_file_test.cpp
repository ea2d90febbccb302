#include "store/results_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <set>

#include "spec/grid.hpp"
#include "spec/resume_policy.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using test_support::fake_outcome;
using test_support::fake_value;
using test_support::parse;
using test_support::read_vector;
using test_support::ScratchDirectory;
using test_support::small_spec_text;

constexpr std::size_t metric_count = science::metric_names.size();

// --- reading a closed file back through the HDF5 layer -------------------------------------------------

struct Matrix {
  std::size_t rows = 0;
  std::size_t columns = 0;
  std::vector<double> values;
  [[nodiscard]] double at(std::size_t r, std::size_t c) const { return values[r * columns + c]; }
};

Matrix read_trajectory(const fs::path& path, std::string_view metric) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto dataset = h5::Dataset::open(file, layout::trajectory_path(metric));
  const auto dims = dataset.dims();
  Matrix m{dims.at(0), dims.at(1), std::vector<double>(dims.at(0) * dims.at(1))};
  dataset.read_all(H5T_NATIVE_DOUBLE, m.values.data());
  return m;
}

// The /runs rows exactly as stored: the file's own compound type, byte for byte.
std::vector<std::byte> read_runs_bytes(const fs::path& path, std::size_t& row_size) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto runs = h5::Dataset::open(file, layout::runs_path);
  const auto type = runs.type();
  row_size = type.size();
  std::vector<std::byte> bytes(runs.dims().at(0) * row_size);
  runs.read_all(type.id(), bytes.data());
  return bytes;
}

// A dataset of variable-length strings.
std::vector<std::string> read_strings(const fs::path& path, const std::string& object) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto dataset = h5::Dataset::open(file, object);
  std::vector<char*> pointers(dataset.dims().at(0));
  const auto type = h5::Datatype::variable_string();
  dataset.read_all(type.id(), pointers.data());
  std::vector<std::string> values;
  for (char* p : pointers) {
    values.emplace_back(p);
    H5free_memory(p);
  }
  return values;
}

std::string attribute(const fs::path& path, const std::string& name) {
  const auto file = h5::File::open(path, h5::Access::read);
  return h5::read_string_attribute(file, "/", name).value_or("<missing>");
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// --- writing ---------------------------------------------------------------------------------------------

// Writes fake outcomes for the given rows (all pending) and closes.
void write_rows(const fs::path& path, const spec::SweepSpec& spec, const std::set<std::int64_t>& rows,
                science::RowStatus status = science::RowStatus::done) {
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  for (const auto& run : writer.pending()) {
    if (rows.contains(run.row)) writer.write(fake_outcome(run, status));
  }
  writer.close();
}

std::map<std::int64_t, RowSummary> rows_by_index(const fs::path& path) {
  std::map<std::int64_t, RowSummary> rows;
  for (auto& row : ResultsReader(path).rows()) rows.emplace(row.row, std::move(row));
  return rows;
}

void expect_finals(const RowSummary& row, std::int64_t last_step) {
  for (std::size_t m = 0; m < metric_count; ++m) {
    EXPECT_EQ(row.final_metrics.*science::metric_fields[m], fake_value(row.row, last_step, m)) << "row " << row.row;
  }
}

TEST(ResultsWriter, CreatesOnePendingRowPerGridPoint) {
  ScratchDirectory dir;
  const auto spec = parse(small_spec_text);
  const spec::Grid grid(spec);
  ResultsWriter writer(dir / "out.h5", spec, OpenMode::create_or_resume);
  EXPECT_EQ(writer.total_runs(), 8);
  const auto pending = writer.pending();
  ASSERT_EQ(pending.size(), 8U);
  for (std::int64_t i = 0; i < 8; ++i) {
    const auto point = grid.point(i);
    EXPECT_EQ(pending[i].row, i);
    EXPECT_EQ(pending[i].params, point.params);
    EXPECT_EQ(pending[i].seed, point.seed);
  }
  writer.close();

  const auto rows = ResultsReader(dir / "out.h5").rows();
  ASSERT_EQ(rows.size(), 8U);
  for (std::int64_t i = 0; i < 8; ++i) {
    const auto point = grid.point(i);
    EXPECT_EQ(rows[i].row, i);
    EXPECT_EQ(rows[i].key, point.key);
    EXPECT_EQ(rows[i].coords, point.coords);
    EXPECT_EQ(rows[i].replicate, point.replicate);
    EXPECT_EQ(rows[i].status, science::RowStatus::pending);
    EXPECT_EQ(rows[i].finished_at, 0.0);
    EXPECT_TRUE(std::isnan(rows[i].final_metrics.loss));
  }
}

TEST(ResultsWriter, ScatteredRowsWrittenTogetherLeaveTheRowsBetweenThemAsTheyWere) {
  ScratchDirectory dir;
  const auto spec = parse(small_spec_text);
  const auto path = dir / "out.h5";
  write_rows(path, spec, {3});
  // One flush writes rows 1 and 5 as one span: rows 2 to 4 are read and written back.
  write_rows(path, spec, {1, 5});
  for (const auto& [index, row] : rows_by_index(path)) {
    const bool finished = index == 1 || index == 3 || index == 5;
    EXPECT_EQ(row.status, finished ? science::RowStatus::done : science::RowStatus::pending) << "row " << index;
    if (finished) {
      expect_finals(row, spec.base.steps);
    } else {
      EXPECT_TRUE(std::isnan(row.final_metrics.loss)) << "row " << index;
    }
  }
  std::set<std::int64_t> with_records;
  for (const auto& run : ResultsReader(path).finished_runs()) {
    ASSERT_FALSE(run.outcome.result.records.empty());
    for (const auto& record : run.outcome.result.records) {
      for (std::size_t m = 0; m < metric_count; ++m) {
        EXPECT_EQ(record.metrics.*science::metric_fields[m], fake_value(run.outcome.row, record.step, m));
      }
    }
    with_records.insert(run.outcome.row);
  }
  EXPECT_EQ(with_records, (std::set<std::int64_t>{1, 3, 5}));
}

TEST(ResultsWriter, WritesTheFormatsRootAttributes) {
  ScratchDirectory dir;
  const auto spec = parse(small_spec_text);
  ResultsWriter(dir / "out.h5", spec, OpenMode::create_or_resume).close();
  EXPECT_EQ(attribute(dir / "out.h5", "format"), "hetsweep-2");
  EXPECT_EQ(attribute(dir / "out.h5", "spec"), small_spec_text);
  EXPECT_EQ(attribute(dir / "out.h5", "fingerprint"), spec::fingerprint(spec));
  EXPECT_FALSE(attribute(dir / "out.h5", "hetsweep_version").empty());
  const auto created = attribute(dir / "out.h5", "created");
  ASSERT_EQ(created.size(), 20U) << created;  // 2024-01-02T03:04:05Z
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created.back(), 'Z');
  EXPECT_EQ(ResultsReader(dir / "out.h5").spec().text, small_spec_text);
}

TEST(ResultsWriter, RoundTripsOutcomesExactly) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  const double before = static_cast<double>(std::time(nullptr));
  write_rows(path, spec, {1, 2, 6});

  const auto rows = rows_by_index(path);
  for (std::int64_t i : {1, 2, 6}) {
    const auto& row = rows.at(i);
    EXPECT_EQ(row.status, science::RowStatus::done);
    EXPECT_EQ(row.steps_done, 40);
    EXPECT_EQ(row.wall_seconds, 0.5 + static_cast<double>(i));
    EXPECT_GE(row.finished_at, before);
    expect_finals(row, 40);
  }
  const auto steps = read_vector<std::int64_t>(path, layout::steps_path, H5T_NATIVE_INT64);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 10, 20, 30, 40}));
  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto values = read_trajectory(path, science::metric_names[m]);
    ASSERT_EQ(values.rows, 8U);
    ASSERT_EQ(values.columns, 5U);
    for (std::int64_t i : {1, 2, 6}) {
      for (std::size_t c = 0; c < steps.size(); ++c) {
        EXPECT_EQ(values.at(static_cast<std::size_t>(i), c), fake_value(i, steps[c], m));
      }
    }
  }
}

TEST(ResultsWriter, LeavesPendingRowsNaN) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0});
  const auto rows = rows_by_index(path);
  std::size_t pending = 0;
  for (const auto& [i, row] : rows) {
    if (row.status != science::RowStatus::pending) continue;
    ++pending;
    EXPECT_EQ(row.steps_done, 0);
    EXPECT_EQ(row.finished_at, 0.0);
    for (auto field : science::metric_fields) EXPECT_TRUE(std::isnan(row.final_metrics.*field));
  }
  EXPECT_EQ(pending, 7U);
  const auto values = read_trajectory(path, "err_pooled");
  for (std::size_t r = 1; r < 8; ++r) {
    for (std::size_t c = 0; c < values.columns; ++c) EXPECT_TRUE(std::isnan(values.at(r, c)));
  }
  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto cube = read_vector<double>(path, layout::cube_path(science::metric_names[m]), H5T_NATIVE_DOUBLE);
    ASSERT_EQ(cube.size(), 8U);
    EXPECT_EQ(cube[0], fake_value(0, 40, m));
    for (std::size_t c = 1; c < 8; ++c) EXPECT_TRUE(std::isnan(cube[c]));
  }
}

TEST(ResultsWriter, LeavesTheTrajectoryOfADivergedRunNaNAfterItStopped) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  {
    ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
    const auto pending = writer.pending();
    writer.write(fake_outcome(pending[3], science::RowStatus::diverged, 20));
    writer.write(fake_outcome(pending[5], science::RowStatus::failed));
    writer.close();
  }
  const auto rows = rows_by_index(path);
  EXPECT_EQ(rows.at(3).status, science::RowStatus::diverged);
  EXPECT_EQ(rows.at(3).steps_done, 21);
  expect_finals(rows.at(3), 21);  // the state it diverged in, not its last record
  EXPECT_EQ(rows.at(5).status, science::RowStatus::failed);
  EXPECT_TRUE(std::isnan(rows.at(5).final_metrics.true_signal));
  const auto values = read_trajectory(path, "true_signal");
  EXPECT_EQ(values.at(3, 0), fake_value(3, 0, 0));
  EXPECT_EQ(values.at(3, 2), fake_value(3, 20, 0));
  EXPECT_TRUE(std::isnan(values.at(3, 3)));
  EXPECT_TRUE(std::isnan(values.at(3, 4)));
  for (std::size_t c = 0; c < 5; ++c) EXPECT_TRUE(std::isnan(values.at(5, c)));
}

TEST(ResultsWriter, WritesTheCubeFinalsOfDoneRunsOnlyAndEveryRunsStatus) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  {
    ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
    const auto pending = writer.pending();
    writer.write(fake_outcome(pending[1]));
    writer.write(fake_outcome(pending[3], science::RowStatus::diverged, 20));
    writer.write(fake_outcome(pending[5], science::RowStatus::failed));
    writer.close();
  }
  // The small spec's grid order is its cube order: row i is cell i.
  const auto status = read_vector<std::int8_t>(path, layout::cube_status_path, H5T_NATIVE_INT8);
  EXPECT_EQ(status, (std::vector<std::int8_t>{0, 1, 0, 2, 0, 3, 0, 0}));
  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto cube = read_vector<double>(path, layout::cube_path(science::metric_names[m]), H5T_NATIVE_DOUBLE);
    ASSERT_EQ(cube.size(), 8U);
    EXPECT_EQ(cube[1], fake_value(1, 40, m));
    for (std::size_t c : {0, 2, 3, 4, 5, 6, 7}) EXPECT_TRUE(std::isnan(cube[c])) << "cell " << c;
  }
  // The diverged run keeps its finals in /runs.
  expect_finals(rows_by_index(path).at(3), 21);
}

TEST(ResultsWriter, WritesFinalsIntoTheCubeCellOfTheRowsAxisValues) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  // Axes in another order than the parameter table, so that the cube's order is the spec's.
  const auto spec = parse(R"(fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 40, record_every: 10}
grid:
  algorithm: [pooled, hetero]
  step_size: [0.1, 0.01, 0.05]
)");
  write_rows(path, spec, {4});  // algorithm hetero (index 1), step_size 0.01 (index 1)
  const auto cube = read_vector<double>(path, layout::cube_path("loss"), H5T_NATIVE_DOUBLE);
  ASSERT_EQ(cube.size(), 6U);
  EXPECT_EQ(cube[1 * 3 + 1], fake_value(4, 40, 4));
  EXPECT_EQ(std::count_if(cube.begin(), cube.end(), [](double v) { return std::isnan(v); }), 5);
  EXPECT_EQ(rows_by_index(path).at(4).coords, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(read_vector<double>(path, layout::axis_path("step_size"), H5T_NATIVE_DOUBLE),
            (std::vector<double>{0.1, 0.01, 0.05}));
}

TEST(ResultsWriter, RefusesOutcomesItCannotPlace) {
  ScratchDirectory dir;
  ResultsWriter writer(dir / "out.h5", parse(small_spec_text), OpenMode::create_or_resume);
  const auto run = writer.pending()[0];
  auto outcome = fake_outcome(run);
  outcome.row = 8;
  EXPECT_THROW(writer.write(outcome), std::out_of_range);
  outcome = fake_outcome(run);
  outcome.status = science::RowStatus::pending;
  EXPECT_THROW(writer.write(outcome), std::invalid_argument);
  outcome = fake_outcome(run);
  outcome.result.records[1].step = 11;
  EXPECT_THROW(writer.write(outcome), std::invalid_argument);
  writer.write(fake_outcome(run));
  EXPECT_THROW(writer.write(fake_outcome(run)), std::logic_error);
  EXPECT_EQ(writer.pending().size(), 7U);
}

TEST(ResultsWriter, ResumeAppendsOnlyNewRunsAndKeepsOldResultsBitIdentical) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto small = parse(small_spec_text);
  write_rows(path, small, {0, 1, 2});
  write_rows(path, small, {3}, science::RowStatus::diverged);
  std::size_t row_size = 0;
  const auto runs_before = read_runs_bytes(path, row_size);
  std::array<Matrix, metric_count> before;
  for (std::size_t m = 0; m < metric_count; ++m) before[m] = read_trajectory(path, science::metric_names[m]);

  const std::string grown_text = R"(name: store-test
seed: 7
fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 40, record_every: 10}
grid:
  step_size: [0.01, 0.05, 0.1]
  algorithm: [hetero, pooled]
replicates: 3
)";
  const auto grown = parse(grown_text);
  const spec::Grid grid(grown);
  {
    ResultsWriter writer(path, grown, OpenMode::create_or_resume);
    EXPECT_EQ(writer.total_runs(), 18);
    const auto pending = writer.pending();
    ASSERT_EQ(pending.size(), 14U);  // 4 old pending rows + 10 new grid points
    std::map<std::uint64_t, science::Params> params_by_seed;
    for (std::int64_t i = 0; i < grid.size(); ++i) params_by_seed.emplace(grid.point(i).seed, grid.point(i).params);
    for (std::size_t i = 0; i < pending.size(); ++i) {
      EXPECT_EQ(pending[i].row, static_cast<std::int64_t>(i) + 4);
      ASSERT_TRUE(params_by_seed.contains(pending[i].seed));
      EXPECT_EQ(pending[i].params, params_by_seed.at(pending[i].seed));
    }
    writer.close();
  }
  EXPECT_EQ(attribute(path, "spec"), grown_text);

  std::size_t grown_row_size = 0;
  const auto runs_after = read_runs_bytes(path, grown_row_size);
  ASSERT_EQ(grown_row_size, row_size);
  ASSERT_EQ(runs_after.size(), 18 * row_size);
  EXPECT_EQ(std::memcmp(runs_before.data(), runs_after.data(), runs_before.size()), 0);

  const auto rows = rows_by_index(path);
  std::set<std::uint64_t> keys;
  for (const auto& [i, row] : rows) keys.insert(row.key);
  EXPECT_EQ(keys.size(), 18U);
  for (std::int64_t i = 0; i < grid.size(); ++i) EXPECT_TRUE(keys.contains(grid.point(i).key));
  for (std::int64_t i = 8; i < 18; ++i) EXPECT_EQ(rows.at(i).status, science::RowStatus::pending);

  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto after = read_trajectory(path, science::metric_names[m]);
    ASSERT_EQ(after.rows, 18U);
    ASSERT_EQ(after.columns, 5U);
    for (std::size_t i = 0; i < before[m].values.size(); ++i) {
      EXPECT_TRUE(same_bits(after.values[i], before[m].values[i])) << "metric " << m << " value " << i;
    }
    for (std::size_t i = before[m].values.size(); i < after.values.size(); ++i)
      EXPECT_TRUE(std::isnan(after.values[i]));

    // The cube was rebuilt for the grown axes: each done row's finals and every row's status sit at its new
    // cell; the diverged row's finals are NaN there.
    const auto cube = read_vector<double>(path, layout::cube_path(science::metric_names[m]), H5T_NATIVE_DOUBLE);
    const auto status = read_vector<std::int8_t>(path, layout::cube_status_path, H5T_NATIVE_INT8);
    ASSERT_EQ(cube.size(), 18U);
    ASSERT_EQ(status.size(), 18U);
    const layout::CubeIndex index(grown);
    for (const auto& [i, row] : rows) {
      const auto cell = static_cast<std::size_t>(index.cell(row.coords, row.replicate));
      EXPECT_EQ(status[cell], static_cast<std::int8_t>(row.status)) << "row " << i;
      if (row.status == science::RowStatus::done) {
        EXPECT_EQ(cube[cell], row.final_metrics.*science::metric_fields[m]);
      } else {
        EXPECT_TRUE(std::isnan(cube[cell])) << "row " << i;
      }
    }
  }
  // The new rows got their row numbers and per-run coordinates.
  std::vector<std::int64_t> row_numbers(18);
  std::iota(row_numbers.begin(), row_numbers.end(), std::int64_t{0});
  EXPECT_EQ(read_vector<std::int64_t>(path, layout::run_path, H5T_NATIVE_INT64), row_numbers);
  EXPECT_EQ(read_vector<std::int64_t>(path, layout::trajectory_run_path, H5T_NATIVE_INT64), row_numbers);
  const auto step_sizes = read_vector<double>(path, layout::trajectory_path("step_size"), H5T_NATIVE_DOUBLE);
  const auto algorithms = read_strings(path, layout::trajectory_path("algorithm"));
  const auto replicates = read_vector<std::int64_t>(path, layout::trajectory_path("replicate"), H5T_NATIVE_INT64);
  ASSERT_EQ(step_sizes.size(), 18U);
  ASSERT_EQ(algorithms.size(), 18U);
  ASSERT_EQ(replicates.size(), 18U);
  for (const auto& [i, row] : rows) {
    const auto u = static_cast<std::size_t>(i);
    EXPECT_EQ(step_sizes[u], std::get<double>(grown.axes[0].values[static_cast<std::size_t>(row.coords[0])]));
    EXPECT_EQ(algorithms[u], std::get<std::string>(grown.axes[1].values[static_cast<std::size_t>(row.coords[1])]));
    EXPECT_EQ(replicates[u], row.replicate);
  }
  EXPECT_EQ(read_vector<double>(path, layout::axis_path("step_size"), H5T_NATIVE_DOUBLE),
            (std::vector<double>{0.01, 0.05, 0.1}));
  EXPECT_EQ(read_vector<std::int64_t>(path, layout::cube_scale_path("replicate"), H5T_NATIVE_INT64),
            (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(ResultsWriter, ResumeMovesTrajectoriesToTheirStepsWhenNewRecordStepsInterleave) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto coarse = parse(R"(fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 20}
grid:
  record_every: [10]
)");
  write_rows(path, coarse, {0});
  const auto fine = parse(R"(fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 20}
grid:
  record_every: [10, 5]
)");
  write_rows(path, fine, {1});
  EXPECT_EQ(read_vector<std::int64_t>(path, layout::steps_path, H5T_NATIVE_INT64),
            (std::vector<std::int64_t>{0, 5, 10, 15, 20}));
  const auto values = read_trajectory(path, "spurious_signal");
  ASSERT_EQ(values.rows, 2U);
  for (std::size_t c : {0, 2, 4}) EXPECT_EQ(values.at(0, c), fake_value(0, static_cast<std::int64_t>(c) * 5, 1));
  for (std::size_t c : {1, 3}) EXPECT_TRUE(std::isnan(values.at(0, c)));
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(values.at(1, c), fake_value(1, static_cast<std::int64_t>(c) * 5, 1));
}

TEST(ResultsWriter, ResumeOfTheSameSpecKeepsTheFileAndItsResults) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  write_rows(path, spec, {0, 5});
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    const auto pending = writer.pending();
    EXPECT_EQ(pending.size(), 6U);
    EXPECT_TRUE(std::none_of(pending.begin(), pending.end(), [](const auto& p) { return p.row == 0 || p.row == 5; }));
    writer.write(fake_outcome(pending[0]));
    writer.close();
  }
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // resumed in place, not copied
  const auto rows = rows_by_index(path);
  expect_finals(rows.at(0), 40);
  expect_finals(rows.at(1), 40);
  expect_finals(rows.at(5), 40);
}

TEST(ResultsWriter, RefusesAConflictingSpecAndLeavesTheFileUntouched) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0});
  const auto bytes = file_bytes(path);
  const auto mtime = fs::last_write_time(path);
  auto other_seed = small_spec_text;
  other_seed.replace(other_seed.find("seed: 7"), 7, "seed: 8");
  try {
    ResultsWriter writer(path, parse(other_seed), OpenMode::create_or_resume);
    FAIL() << "resumed a file made by another spec";
  } catch (const ResultsFileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
  EXPECT_EQ(file_bytes(path), bytes);
  EXPECT_EQ(fs::last_write_time(path), mtime);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(ResultsWriter, RestartReplacesTheFile) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0, 1});
  auto other_seed = small_spec_text;
  other_seed.replace(other_seed.find("seed: 7"), 7, "seed: 8");
  {
    ResultsWriter writer(path, parse(other_seed), OpenMode::restart);
    EXPECT_EQ(writer.pending().size(), 8U);
    writer.close();
  }
  EXPECT_EQ(ResultsReader(path).spec().seed, 8U);
  for (const auto& row : ResultsReader(path).rows()) EXPECT_EQ(row.status, science::RowStatus::pending);
}

TEST(ResultsWriter, RefusesASecondWriterOnTheSameFile) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  ResultsWriter first(path, spec, OpenMode::create_or_resume);
  for (auto mode : {OpenMode::create_or_resume, OpenMode::restart}) {
    try {
      ResultsWriter second(path, spec, mode);
      FAIL() << "two writers on one file";
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find("another hetsweep process"), std::string::npos) << e.what();
    }
  }
  first.write(fake_outcome(first.pending()[0]));
  first.close();
  EXPECT_EQ(rows_by_index(path).at(0).status, science::RowStatus::done);
}

TEST(ResultsWriter, RetryFailedMakesFailedRowsPendingAgainOnlyWhenAsked) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  write_rows(path, spec, {1, 4}, science::RowStatus::failed);
  write_rows(path, spec, {2}, science::RowStatus::done);
  const auto pending_rows = [&](OpenMode mode) {
    ResultsWriter writer(path, spec, mode);
    std::set<std::int64_t> rows;
    for (const auto& run : writer.pending()) rows.insert(run.row);
    writer.close();
    return rows;
  };
  EXPECT_EQ(pending_rows(OpenMode::create_or_resume), (std::set<std::int64_t>{0, 3, 5, 6, 7}));
  EXPECT_EQ(pending_rows(OpenMode::retry_failed), (std::set<std::int64_t>{0, 1, 3, 4, 5, 6, 7}));
  {
    ResultsWriter writer(path, spec, OpenMode::retry_failed);
    for (const auto& run : writer.pending()) {
      if (run.row == 1) writer.write(fake_outcome(run));
    }
    writer.close();
  }
  const auto rows = rows_by_index(path);
  EXPECT_EQ(rows.at(1).status, science::RowStatus::done);
  expect_finals(rows.at(1), 40);
  EXPECT_EQ(rows.at(4).status, science::RowStatus::failed);  // not recomputed in that session: still failed
  EXPECT_EQ(read_vector<std::int8_t>(path, layout::cube_status_path, H5T_NATIVE_INT8).at(1), 1);
  EXPECT_EQ(read_trajectory(path, "loss").at(1, 4), fake_value(1, 40, 4));
}

// --- a file that changes under the writer ----------------------------------------------------------------

// Writes and flushes two rows, lets `change` act on the file, writes a third and expects close() to refuse
// success with `what`.
template <class Change>
void expect_close_to_report(const std::string& what, Change&& change) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
  const auto pending = writer.pending();
  writer.write(fake_outcome(pending[0]));
  writer.write(fake_outcome(pending[1]));
  writer.flush();
  change(path, dir);
  writer.write(fake_outcome(pending[2]));
  try {
    writer.close();
    FAIL() << "close() reported success on a file that " << what;
  } catch (const ResultsFileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(ResultsWriter, CloseThrowsWhenTheFileWasTruncatedUnderIt) {
  expect_close_to_report("was truncated while this sweep wrote it", [](const fs::path& path, const ScratchDirectory&) {
    fs::resize_file(path, fs::file_size(path) / 2);
  });
}

TEST(ResultsWriter, CloseThrowsWhenTheFileWasReplacedUnderIt) {
  expect_close_to_report("was replaced by another file", [](const fs::path& path, const ScratchDirectory& dir) {
    fs::copy_file(path, dir / "copy.h5");
    fs::rename(dir / "copy.h5", path);
  });
}

TEST(ResultsWriter, CloseThrowsWhenTheFileWasDeletedUnderIt) {
  expect_close_to_report("was deleted while this sweep wrote it",
                         [](const fs::path& path, const ScratchDirectory&) { fs::remove(path); });
}

// --- output paths ----------------------------------------------------------------------------------------

void expect_refused(const fs::path& path, const std::string& reason) {
  try {
    ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
    FAIL() << "accepted " << path;
  } catch (const ResultsFileError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  }
}

TEST(ResultsWriter, RefusesADirectory) {
  ScratchDirectory dir;
  expect_refused(dir.path(), "is a directory");
}

TEST(ResultsWriter, RefusesAMissingDirectory) {
  ScratchDirectory dir;
  expect_refused(dir / "no" / "out.h5", "does not exist");
}

TEST(ResultsWriter, RefusesAnUnwritableDirectory) {
  ScratchDirectory dir;
  const auto locked = dir / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  // Root writes anywhere permissions forbid; sysfs refuses everyone.
  const bool permissions_bind = ::access(locked.c_str(), W_OK) != 0;
  expect_refused(permissions_bind ? locked / "out.h5" : fs::path("/sys/hetsweep-out.h5"), "Permission denied");
  fs::permissions(locked, fs::perms::owner_all);
}

TEST(ResultsWriter, RefusesAFileThatIsNotHdf5) {
  ScratchDirectory dir;
  std::ofstream(dir / "notes.txt") << "my only copy of something\n";
  expect_refused(dir / "notes.txt", "not an HDF5 file");
  EXPECT_EQ(file_bytes(dir / "notes.txt"), "my only copy of something\n");
}

TEST(ResultsWriter, RefusesAnHdf5FileWithoutTheFormatAttribute) {
  ScratchDirectory dir;
  h5::File::create(dir / "other.h5").close();
  expect_refused(dir / "other.h5", "not a hetsweep results file");
}

TEST(ResultsWriter, RefusesAResultsFileMissingItsRuns) {
  ScratchDirectory dir;
  {
    auto file = h5::File::create(dir / "damaged.h5");
    h5::write_string_attribute(file, "/", "format", "hetsweep-2");
    h5::write_string_attribute(file, "/", "spec", small_spec_text);
    file.close();
  }
  expect_refused(dir / "damaged.h5", "is damaged");
  EXPECT_THROW(ResultsReader(dir / "damaged.h5"), ResultsFileError);
}

TEST(ResultsWriter, RefusesATruncatedFile) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0});
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_refused(path, "truncated");
}

// Flips one byte in the middle of the chunk of `dataset` that holds element `coords`.
void flip_byte_in_chunk(const fs::path& path, const std::string& dataset, std::vector<hsize_t> coords) {
  haddr_t address = 0;
  hsize_t size = 0;
  {
    const auto file = h5::File::open(path, h5::Access::read);
    const auto values = h5::Dataset::open(file, dataset);
    unsigned filters = 0;
    h5::check(H5Dget_chunk_info_by_coord(values.id(), coords.data(), &filters, &address, &size),
              "H5Dget_chunk_info_by_coord", dataset);
  }
  ASSERT_GT(size, 8U);
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  const auto at = static_cast<std::streamoff>(address + size / 2);
  file.seekg(at);
  const char byte = static_cast<char>(file.get() ^ 0x10);
  file.seekp(at);
  file.put(byte);
}

TEST(ResultsReader, RefusesAFileWhoseRunsFailTheirChecksumNamingTheDatasetAndRows) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0, 1});
  flip_byte_in_chunk(path, layout::runs_path, {0});
  try {
    ResultsReader reader(path);
    FAIL() << "read /runs whose bytes changed";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("is damaged"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(":/runs: rows 0 to 7 (a chunk each) fail their checksum"), std::string::npos)
        << e.what();
  }
}

TEST(ResultsReader, ThrowsAChecksumFailureNamingTheTrajectoryAndRowsWhenATrajectoryChunkChanged) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_rows(path, parse(small_spec_text), {0, 1});
  flip_byte_in_chunk(path, layout::trajectory_path("loss"), {0, 0});
  const ResultsReader reader(path);  // /runs is whole
  try {
    (void)reader.finished_runs();
    FAIL() << "read a trajectory whose bytes changed";
  } catch (const h5::ChecksumFailure& e) {
    EXPECT_NE(std::string(e.what()).find(":/trajectories/loss: rows 0 to 7 (a chunk each) fail their checksum"),
              std::string::npos)
        << e.what();
  }
}

// A link in one directory to a file in another: every mode writes the target and leaves the link a link.
TEST(ResultsWriter, WritesTheTargetOfASymlinkInEveryModeAndKeepsTheLink) {
  ScratchDirectory dir;
  fs::create_directory(dir / "data");
  fs::create_directory(dir / "links");
  const auto target = dir / "data" / "out.h5";
  const auto link = dir / "links" / "out.h5";
  fs::create_symlink("../data/out.h5", link);  // dangling until the first run creates the target
  const auto small = parse(small_spec_text);
  write_rows(link, small, {0});  // create
  ASSERT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  ASSERT_TRUE(fs::is_regular_file(fs::symlink_status(target)));
  write_rows(link, small, {1});  // resume
  EXPECT_EQ(rows_by_index(target).at(1).status, science::RowStatus::done);
  auto grown_text = small_spec_text;
  grown_text.replace(grown_text.find("replicates: 2"), 13, "replicates: 3");
  write_rows(link, parse(grown_text), {8});  // grow
  ASSERT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  const auto rows = rows_by_index(target);
  EXPECT_EQ(rows.size(), 12U);
  EXPECT_EQ(rows.at(0).status, science::RowStatus::done);
  EXPECT_EQ(rows.at(8).status, science::RowStatus::done);
  ResultsWriter(link, small, OpenMode::restart).close();  // restart
  ASSERT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_EQ(rows_by_index(target).size(), 8U);
  for (const auto& [i, row] : rows_by_index(target)) EXPECT_EQ(row.status, science::RowStatus::pending);
  // No temporary was left in either directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "data"), fs::directory_iterator()), 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "links"), fs::directory_iterator()), 1);
}

TEST(ResultsWriter, RefusesAnOverlongPathWithTheOperatingSystemsWords) {
  ScratchDirectory dir;
  const auto path = dir / std::string(5000, 'x');
  try {
    ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
    FAIL() << "accepted a 5000-character name";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("File name too long"), std::string::npos) << e.what();
  }
}

TEST(ResultsWriter, RestartRefusesAFileThatIsNotAResultsFileAndLeavesItUntouched) {
  ScratchDirectory dir;
  std::ofstream(dir / "spec.yaml") << small_spec_text;
  h5::File::create(dir / "other.h5").close();
  for (const auto* name : {"spec.yaml", "other.h5"}) {
    const auto path = dir / name;
    const auto bytes = file_bytes(path);
    try {
      ResultsWriter writer(path, parse(small_spec_text), OpenMode::restart);
      FAIL() << "--restart replaced " << name;
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find("replaces only a hetsweep results file or an empty file"), std::string::npos)
          << e.what();
      EXPECT_FALSE(e.replaceable());
    }
    EXPECT_EQ(file_bytes(path), bytes) << name;
  }
}

TEST(ResultsWriter, RestartReplacesAnEmptyFile) {
  ScratchDirectory dir;
  std::ofstream(dir / "out.h5").close();
  ResultsWriter(dir / "out.h5", parse(small_spec_text), OpenMode::restart).close();
  EXPECT_EQ(ResultsReader(dir / "out.h5").rows().size(), 8U);
}

TEST(ResultsReader, RefusesAFileThatIsNotAResultsFile) {
  ScratchDirectory dir;
  h5::File::create(dir / "other.h5").close();
  EXPECT_THROW(ResultsReader(dir / "other.h5"), ResultsFileError);
  std::ofstream(dir / "notes.txt") << "text\n";
  EXPECT_THROW(ResultsReader(dir / "notes.txt"), ResultsFileError);
  EXPECT_THROW(ResultsReader(dir / "missing.h5"), ResultsFileError);
}

// --- crashes and concurrent readers ----------------------------------------------------------------------

// The writing process dies without closing: what it flushed must survive, and a new writer must take over.
TEST(ResultsWriter, ResumesAfterTheWritingProcessIsKilled) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      ResultsWriter writer(path, spec, OpenMode::create_or_resume);
      const auto pending = writer.pending();
      for (std::size_t i = 0; i < 4; ++i) writer.write(fake_outcome(pending[i]));
      writer.flush();
      for (std::size_t i = 4; i < 7; ++i) writer.write(fake_outcome(pending[i]));
      raise(SIGKILL);
    } catch (...) {
    }
    _exit(1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer failed before it was killed";

  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    const auto pending = writer.pending();
    for (const auto& run : pending) EXPECT_GE(run.row, 4);
    writer.close();
  }
  const auto rows = rows_by_index(path);
  for (std::int64_t i = 0; i < 8; ++i) {
    const auto& row = rows.at(i);
    if (i < 4) {
      EXPECT_EQ(row.status, science::RowStatus::done) << i;
    }
    if (row.status == science::RowStatus::done) {
      expect_finals(row, 40);
    } else {
      EXPECT_EQ(row.status, science::RowStatus::pending) << i;
    }
  }
  for (std::size_t m = 0; m < metric_count; ++m) {
    const auto values = read_trajectory(path, science::metric_names[m]);
    for (std::size_t r = 0; r < 4; ++r) {
      for (std::size_t c = 0; c < 5; ++c)
        EXPECT_EQ(values.at(r, c), fake_value(static_cast<std::int64_t>(r), static_cast<std::int64_t>(c) * 10, m));
    }
  }
  write_rows(path, spec, {4, 5, 6, 7});
  for (const auto& row : ResultsReader(path).rows()) EXPECT_EQ(row.status, science::RowStatus::done);
}

// A pipe the test's two processes use to take turns. Each process keeps only its own end, so that a peer's
// exit reads as end-of-file instead of blocking.
class Channel {
 public:
  Channel() { EXPECT_EQ(::pipe(fds_), 0); }
  ~Channel() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  void keep_reading_end() { drop(1); }
  void keep_writing_end() { drop(0); }
  void send(char c) const { (void)!::write(fds_[1], &c, 1); }
  [[nodiscard]] char receive() const {
    char c = 0;
    return ::read(fds_[0], &c, 1) == 1 ? c : '\0';
  }

 private:
  void drop(int end) {
    ::close(fds_[end]);
    fds_[end] = -1;
  }
  int fds_[2] = {-1, -1};
};

// Another process opens the file as a ResultsReader while this one writes, and sees each flush.
TEST(ResultsReader, ReadsWhileAWriterIsWriting) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(small_spec_text);
  Channel to_reader;
  Channel from_reader;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    to_reader.keep_reading_end();
    from_reader.keep_writing_end();
    // After each 'g', reports the number of finished rows the reader sees; 'E' on an error.
    int code = 0;
    try {
      if (to_reader.receive() != 'g') _exit(2);
      const ResultsReader reader(path);
      for (int turn = 0; turn < 2; ++turn) {
        if (turn > 0 && to_reader.receive() != 'g') _exit(2);
        const auto rows = reader.rows();
        const auto done =
            std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.status == science::RowStatus::done; });
        from_reader.send(static_cast<char>('0' + done));
      }
    } catch (const std::exception& e) {
      from_reader.send('E');
      code = 1;
    }
    _exit(code);
  }
  to_reader.keep_writing_end();
  from_reader.keep_reading_end();
  const auto previous_sigpipe = std::signal(SIGPIPE, SIG_IGN);  // a reader that died must fail the test, not kill it
  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    const auto pending = writer.pending();
    for (std::size_t i = 0; i < 3; ++i) writer.write(fake_outcome(pending[i]));
    writer.flush();
    to_reader.send('g');
    EXPECT_EQ(from_reader.receive(), '3');
    for (std::size_t i = 3; i < 5; ++i) writer.write(fake_outcome(pending[i]));
    writer.flush();
    to_reader.send('g');
    EXPECT_EQ(from_reader.receive(), '5');
    writer.close();
  }
  std::signal(SIGPIPE, previous_sigpipe);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace hetsweep::store
