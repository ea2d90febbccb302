#include "store/verify.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <fstream>

#include <set>

#include "science/simulate.hpp"
#include "spec/grid.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/results_file.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using test_support::parse;
using test_support::ScratchDirectory;

// 2 step sizes x 2 algorithms x 2 replicates = 8 runs; the large step size diverges.
const std::string spec_text = R"(name: verify-test
seed: 3
fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1, steps: 40, record_every: 10, batch_size: 50}
grid:
  step_size: [0.01, 3.0]
  algorithm: [hetero, pooled]
replicates: 2
)";
constexpr std::int64_t finished_rows = 6;  // rows 6 and 7 stay pending

// Computes rows 0..5 for real with the simulator and leaves rows 6 and 7 pending.
void write_computed_file(const fs::path& path) {
  const auto spec = parse(spec_text);
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  for (const auto& run : writer.pending()) {
    if (run.row >= finished_rows) break;
    science::RunOutcome outcome;
    outcome.row = run.row;
    outcome.result = science::simulate(run.params, run.seed);
    outcome.status =
        outcome.result.status == science::RunStatus::done ? science::RowStatus::done : science::RowStatus::diverged;
    outcome.wall_seconds = 0.01;
    writer.write(outcome);
  }
  writer.close();
}

bool mentions(const VerifyReport& report, const std::string& text) {
  return std::any_of(report.problems.begin(), report.problems.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}
std::string listing(const VerifyReport& report) {
  std::string text;
  for (const auto& line : report.problems) text += line + "\n";
  return text;
}

// --- editing a file ------------------------------------------------------------------------------------

struct RowView {
  std::int8_t status;
  std::int64_t steps_done;
  std::int64_t cell;
};

// A finished row's status, steps_done and cube cell, read through the public reader.
RowView row_view(const fs::path& path, std::int64_t row) {
  const ResultsReader reader(path);
  const auto summary = reader.rows().at(static_cast<std::size_t>(row));
  const layout::CubeIndex cube(reader.spec());
  const auto cell = cube.cell(summary.coords, summary.replicate);
  return {static_cast<std::int8_t>(summary.status), summary.steps_done, cell};
}

// The first done row.
std::int64_t done_row(const fs::path& path) {
  const ResultsReader reader(path);
  for (const auto& row : reader.rows()) {
    if (row.status == science::RowStatus::done) return row.row;
  }
  ADD_FAILURE() << "no done row";
  return 0;
}

// Rewrites one float64 field of a /runs row, through HDF5, so that every checksum stays valid.
void write_runs_field(const fs::path& path, std::int64_t row, const std::string& field, double value) {
  auto file = h5::File::open(path, h5::Access::write);
  auto runs = h5::Dataset::open(file, layout::runs_path);
  auto type = h5::Datatype::compound(sizeof(double));
  type.insert(field, 0, H5T_NATIVE_DOUBLE);
  auto selected = runs.space();
  selected.select_block(std::array{static_cast<hsize_t>(row)}, std::array{hsize_t{1}});
  runs.write(type.id(), h5::Dataspace::simple(std::array{hsize_t{1}}), selected, &value);
  file.close();
}

// Rewrites one value of a dataset of doubles or int8 at `coords`.
template <class T>
void write_cell(const fs::path& path, const std::string& object, std::vector<hsize_t> coords, T value, hid_t type) {
  auto file = h5::File::open(path, h5::Access::write);
  auto dataset = h5::Dataset::open(file, object);
  auto selected = dataset.space();
  selected.select_points(coords);
  dataset.write(type, h5::Dataspace::simple(std::array{hsize_t{1}}), selected, &value);
  file.close();
}

double read_cell(const fs::path& path, const std::string& object, std::vector<hsize_t> coords) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto dataset = h5::Dataset::open(file, object);
  auto selected = dataset.space();
  selected.select_points(coords);
  double value = 0;
  dataset.read(H5T_NATIVE_DOUBLE, h5::Dataspace::simple(std::array{hsize_t{1}}), selected, &value);
  return value;
}

// The cube coordinates of a cell.
std::vector<hsize_t> cube_coords(const fs::path& path, std::int64_t cell) {
  const ResultsReader reader(path);
  const spec::Grid grid(reader.spec());
  const auto point = grid.point(cell);
  std::vector<hsize_t> coords(point.coords.begin(), point.coords.end());
  coords.push_back(static_cast<hsize_t>(point.replicate));
  return coords;
}

hsize_t last_column(const fs::path& path) {
  const auto file = h5::File::open(path, h5::Access::read);
  return h5::Dataset::open(file, layout::steps_path).dims().at(0) - 1;
}

// Flips one byte in the middle of the stored bytes of the first chunk of `object`.
void flip_byte_in_first_chunk(const fs::path& path, const std::string& object) {
  haddr_t address = 0;
  hsize_t size = 0;
  {
    const auto file = h5::File::open(path, h5::Access::read);
    const auto dataset = h5::Dataset::open(file, object);
    const auto space = dataset.space();
    std::array<hsize_t, 2> offset{};
    unsigned filter_mask = 0;
    ASSERT_GE(H5Dget_chunk_info(dataset.id(), space.id(), 0, offset.data(), &filter_mask, &address, &size), 0);
  }
  std::fstream bytes(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto at = static_cast<std::streamoff>(address + size / 2);
  bytes.seekg(at);
  char byte = 0;
  bytes.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  bytes.seekp(at);
  bytes.write(&byte, 1);
  ASSERT_TRUE(bytes.good());
}

// --- tests ---------------------------------------------------------------------------------------------

TEST(Verify, PassesACleanFileAndRecomputesEveryFinishedRunToTheSameBits) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  const auto report = verify(path, {recompute_all, 0});
  EXPECT_TRUE(report.clean()) << listing(report);
  EXPECT_EQ(report.format, "hetsweep-2");
  EXPECT_EQ(report.rows, 8);
  EXPECT_EQ(report.finished, finished_rows);
  EXPECT_EQ(report.recomputed, finished_rows);
  // The spec makes some runs diverge, so that their path is checked too.
  const ResultsReader reader(path);
  const auto rows = reader.rows();
  EXPECT_TRUE(
      std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.status == science::RowStatus::diverged; }));
}

TEST(Verify, FindsAFlippedByteInEveryDamagedChunkAndNamesItsRows) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  flip_byte_in_first_chunk(path, layout::trajectory_path("loss"));
  flip_byte_in_first_chunk(path, layout::trajectory_path("err_pooled"));
  const auto report = verify(path);
  EXPECT_FALSE(report.clean());
  EXPECT_TRUE(mentions(report, "/trajectories/loss rows 0..")) << listing(report);
  EXPECT_TRUE(mentions(report, "/trajectories/err_pooled rows 0..")) << listing(report);
  EXPECT_TRUE(mentions(report, "Fletcher32")) << listing(report);
  EXPECT_FALSE(mentions(report, "/trajectories/true_signal")) << listing(report);
}

TEST(Verify, FindsAFlippedByteInRuns) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  flip_byte_in_first_chunk(path, layout::runs_path);
  const auto report = verify(path);
  EXPECT_TRUE(mentions(report, "/runs rows 0..")) << listing(report);
}

TEST(Verify, FindsAChangedFinalValueWhoseChecksumIsValid) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  const auto row = done_row(path);
  write_runs_field(path, row, "final_true_signal", 0.5);
  const auto report = verify(path);
  const auto row_text = fmt::format("row {}", row);
  EXPECT_TRUE(mentions(report, fmt::format("/trajectories/true_signal {}: step 40 (steps_done)", row_text)))
      << listing(report);
  EXPECT_TRUE(mentions(report, "differs from /runs final_true_signal 0.5")) << listing(report);
  EXPECT_TRUE(mentions(report, "/cube/final_true_signal cell")) << listing(report);
  EXPECT_FALSE(mentions(report, "checksum")) << listing(report);
}

TEST(Verify, FindsAChangedTrajectoryCell) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  // A value where a pending run has none.
  write_cell(path, layout::trajectory_path("spurious_signal"), {7, 1}, 2.5, H5T_NATIVE_DOUBLE);
  const auto report = verify(path);
  EXPECT_TRUE(
      mentions(report, "/trajectories/spurious_signal row 7: step 10: 2.5 where NaN belongs (the run is pending)"))
      << listing(report);
  EXPECT_EQ(report.problem_count, 1) << listing(report);
}

TEST(Verify, FindsACubeCellThatDisagreesWithRuns) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  const auto row = done_row(path);
  const auto coords = cube_coords(path, row_view(path, row).cell);
  write_cell(path, layout::cube_status_path, coords, std::int8_t{2}, H5T_NATIVE_INT8);
  write_cell(path, layout::cube_path("loss"), coords, 7.0, H5T_NATIVE_DOUBLE);
  const auto report = verify(path);
  EXPECT_TRUE(mentions(report, fmt::format("2 (diverged), but /runs row {} is done", row))) << listing(report);
  EXPECT_TRUE(mentions(report, fmt::format("/cube/final_loss cell [")) && mentions(report, ": 7, but /runs row"))
      << listing(report);
  EXPECT_EQ(report.problem_count, 2) << listing(report);
}

TEST(Verify, FindsRowsThatFailTheRowCheckAndListsEach) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  write_runs_field(path, 2, "heterogeneity", 0.25);  // not the spec's fixed value
  write_runs_field(path, 7, "step_size", 0.02);      // not on the axis
  const auto report = verify(path);
  EXPECT_TRUE(mentions(report, "/runs row 2, field heterogeneity: 0.25 differs from the spec's")) << listing(report);
  EXPECT_TRUE(mentions(report, "/runs row 7, field step_size: 0.02 is not a value of the spec's axis"))
      << listing(report);
  EXPECT_EQ(report.problem_count, 2) << listing(report);
}

TEST(Verify, ListsAtMostFiftyProblemsOfAKindAndCountsTheRest) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  auto spec = spec_text;
  spec.replace(spec.find("replicates: 2"), 13, "replicates: 20");  // 80 runs, all pending
  ResultsWriter(path, parse(spec), OpenMode::create_or_resume).close();
  {
    auto file = h5::File::open(path, h5::Access::write);
    auto loss = h5::Dataset::open(file, layout::trajectory_path("loss"));
    const auto dims = loss.dims();
    const std::vector<double> ones(dims[0] * dims[1], 1.0);
    loss.write_all(H5T_NATIVE_DOUBLE, ones.data());
    file.close();
  }
  const auto report = verify(path);
  EXPECT_EQ(report.problem_count, 80);
  ASSERT_EQ(report.problems.size(), 51U) << listing(report);
  EXPECT_TRUE(mentions(report, "/trajectories/loss row 49: step 0: 1 where NaN belongs")) << listing(report);
  EXPECT_EQ(report.problems.back(), "/trajectories/loss: trajectory: 30 more problems of this kind not listed");
}

TEST(Verify, FindsMissingDatasetsAndGroups) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  {
    auto file = h5::File::open(path, h5::Access::write);
    h5::unlink(file, layout::cube_status_path);
    h5::unlink(file, layout::axes_group);
    file.close();
  }
  const auto report = verify(path);
  EXPECT_TRUE(mentions(report, "/cube/status: missing")) << listing(report);
  EXPECT_TRUE(mentions(report, "/axes/step_size: missing")) << listing(report);
  EXPECT_TRUE(mentions(report, "/axes/algorithm: missing")) << listing(report);
  EXPECT_EQ(report.problem_count, 3) << listing(report);
}

// A changed result written consistently into /runs, the trajectory and the cube: only recomputing tells.
TEST(Verify, FindsAConsistentlyChangedResultOnlyByRecomputing) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  const auto row = done_row(path);
  const auto view = row_view(path, row);
  const auto column = last_column(path);
  const double changed =
      std::nextafter(read_cell(path, layout::trajectory_path("loss"), {static_cast<hsize_t>(row), column}), 1e300);
  write_runs_field(path, row, "final_loss", changed);
  write_cell(path, layout::trajectory_path("loss"), {static_cast<hsize_t>(row), column}, changed, H5T_NATIVE_DOUBLE);
  write_cell(path, layout::cube_path("loss"), cube_coords(path, view.cell), changed, H5T_NATIVE_DOUBLE);

  const auto unchecked = verify(path);
  EXPECT_TRUE(unchecked.clean()) << listing(unchecked);
  const auto recomputed = verify(path, {recompute_all, 0});
  EXPECT_TRUE(mentions(recomputed, fmt::format("/runs row {} (recomputed): final_loss", row))) << listing(recomputed);
  EXPECT_TRUE(mentions(recomputed, fmt::format("/trajectories/loss row {} (recomputed): step 40", row)))
      << listing(recomputed);
  EXPECT_EQ(recomputed.problem_count, 2) << listing(recomputed);
}

TEST(Verify, ChoosesTheRunsToRecomputeBySeedDeterministically) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  write_computed_file(path);
  const auto row = done_row(path);
  write_runs_field(path, row, "wall_seconds", 1.0);  // not compared: still clean
  const auto column = last_column(path);
  const double changed =
      std::nextafter(read_cell(path, layout::trajectory_path("loss"), {static_cast<hsize_t>(row), column}), 1e300);
  write_runs_field(path, row, "final_loss", changed);
  write_cell(path, layout::trajectory_path("loss"), {static_cast<hsize_t>(row), column}, changed, H5T_NATIVE_DOUBLE);
  write_cell(path, layout::cube_path("loss"), cube_coords(path, row_view(path, row).cell), changed, H5T_NATIVE_DOUBLE);

  // One run of six recomputed: some seeds choose the changed one, others not, each always the same.
  std::set<std::uint64_t> finding;
  for (std::uint64_t seed = 0; seed < 24; ++seed) {
    const auto report = verify(path, {1, seed});
    EXPECT_EQ(report.recomputed, 1);
    if (!report.clean()) finding.insert(seed);
    EXPECT_EQ(verify(path, {1, seed}).clean(), report.clean());
  }
  EXPECT_FALSE(finding.empty());
  EXPECT_LT(finding.size(), 24U);
}

TEST(Verify, ChecksAFileWhileASweepWritesIt) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(go[1]);
    char signal = 0;
    if (read(go[0], &signal, 1) != 1) _exit(3);
    try {
      const auto report = verify(path, {recompute_all, 0});
      _exit(report.clean() && report.finished == 3 && report.recomputed == 3 ? 0 : 1);
    } catch (...) {
      _exit(2);
    }
  }
  close(go[0]);
  {
    const auto spec = parse(spec_text);
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    const auto pending = writer.pending();
    for (std::size_t i = 0; i < 3; ++i) {
      science::RunOutcome outcome;
      outcome.row = pending[i].row;
      outcome.result = science::simulate(pending[i].params, pending[i].seed);
      outcome.status =
          outcome.result.status == science::RunStatus::done ? science::RowStatus::done : science::RowStatus::diverged;
      writer.write(outcome);
    }
    writer.flush();
    ASSERT_EQ(write(go[1], "g", 1), 1);
    close(go[1]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit " << WEXITSTATUS(status);
    writer.close();
  }
}

TEST(Verify, PassesTheHetsweep1Fixture) {
  const auto report = verify(HETSWEEP1_FIXTURE);
  EXPECT_EQ(report.format, "hetsweep-1");
  EXPECT_EQ(report.rows, 16);
  EXPECT_TRUE(report.clean()) << listing(report);
}

TEST(Verify, RefusesWhatIsNotAResultsFile) {
  ScratchDirectory dir;
  EXPECT_THROW(verify(dir / "missing.h5"), ResultsFileError);
  const auto text = dir / "text.h5";
  std::ofstream(text) << "not hdf5\n";
  EXPECT_THROW(verify(text), ResultsFileError);
  const auto other = dir / "other.h5";
  h5::File::create(other).close();
  EXPECT_THROW(verify(other), ResultsFileError);
}

}  // namespace
}  // namespace hetsweep::store
