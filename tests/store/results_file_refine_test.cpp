// Refinement runs and the boundary in the results file: rows appended while the file is written (origin
// `refine`), their checks, /boundary, and hetsweep-2 files written before either existed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "spec/grid.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/results_file.hpp"
#include "store/results_file_parts.hpp"
#include "store/row_check.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using test_support::fake_outcome;
using test_support::fake_value;
using test_support::parse;
using test_support::read_vector;
using test_support::refine_spec_text;
using test_support::ScratchDirectory;
using test_support::small_spec_text;

// The refinement run at `step_size` for grid point `grid_index`'s other values and replicate.
spec::RunPoint refine_point(const spec::SweepSpec& spec, std::int64_t grid_index, double step_size) {
  auto point = spec::Grid(spec).point(grid_index);
  point.params.step_size = step_size;
  point.coords[0] = -1;
  point.key = spec::run_key(point.params, point.replicate);
  point.seed = spec::run_seed(spec.seed, point.key);
  return point;
}

std::vector<spec::RunPoint> midpoints(const spec::SweepSpec& spec) {
  // Grid points 0..3 have step_size 0.01 (algorithm x replicate): their midpoints towards 0.05.
  std::vector<spec::RunPoint> points;
  for (std::int64_t i = 0; i < 4; ++i) points.push_back(refine_point(spec, i, 0.03));
  return points;
}

std::vector<std::int8_t> read_origins(const fs::path& path) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto runs = h5::Dataset::open(file, layout::runs_path);
  auto type = h5::Datatype::compound(1);
  type.insert("origin", 0, H5T_NATIVE_INT8);
  std::vector<std::int8_t> origins(runs.dims().at(0));
  runs.read_all(type.id(), origins.data());
  return origins;
}

// --- appending refinement runs --------------------------------------------------------------------------

TEST(ResultsWriter, AppendRunsAddsPendingRowsThatWriteAndFlushTake) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto spec = parse(refine_spec_text);
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  const auto points = midpoints(spec);
  const auto rows = writer.append_runs(points);
  EXPECT_EQ(rows, (std::vector<std::int64_t>{8, 9, 10, 11}));
  EXPECT_EQ(writer.total_runs(), 12);
  const auto pending = writer.pending();
  ASSERT_EQ(pending.size(), 12u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(pending[8 + i].row, rows[i]);
    EXPECT_EQ(pending[8 + i].params.step_size, 0.03);
    EXPECT_EQ(pending[8 + i].params.algorithm, points[i].params.algorithm);
    EXPECT_EQ(pending[8 + i].seed, points[i].seed);
  }
  writer.write(fake_outcome(pending[9]));
  writer.write(fake_outcome(pending[0]));
  writer.close();

  EXPECT_EQ(read_origins(path), (std::vector<std::int8_t>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  const auto step_sizes = read_vector<double>(path, layout::trajectory_path("step_size"), H5T_NATIVE_DOUBLE);
  EXPECT_EQ(step_sizes, (std::vector<double>{0.01, 0.01, 0.01, 0.01, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03}));
  const auto run_numbers = read_vector<std::int64_t>(path, layout::trajectory_run_path, H5T_NATIVE_INT64);
  EXPECT_EQ(run_numbers.size(), 12u);
  EXPECT_EQ(run_numbers.back(), 11);
  EXPECT_EQ(read_vector<std::int64_t>(path, layout::run_path, H5T_NATIVE_INT64), run_numbers);
  // Row 9's trajectory is its outcome's; the pending refinement rows stay NaN.
  const auto loss = read_vector<double>(path, layout::trajectory_path("loss"), H5T_NATIVE_DOUBLE);
  ASSERT_EQ(loss.size(), 12u * 5u);
  for (std::size_t c = 0; c < 5; ++c) {
    EXPECT_EQ(loss[9 * 5 + c], fake_value(9, static_cast<std::int64_t>(c) * 10, 4));
    EXPECT_TRUE(std::isnan(loss[8 * 5 + c]));
  }
  // The cube holds the grid: one done cell, row 0's.
  const auto cube_status = read_vector<std::int8_t>(path, layout::cube_status_path, H5T_NATIVE_INT8);
  EXPECT_EQ(cube_status.size(), 8u);
  EXPECT_EQ(std::count(cube_status.begin(), cube_status.end(), 1), 1);
  EXPECT_EQ(cube_status[0], 1);
}

TEST(ResultsWriter, AppendRunsRefusesPointsAReaderWouldRefuseAndWritesNothing) {
  ScratchDirectory dir;
  const auto spec = parse(refine_spec_text);
  ResultsWriter writer(dir / "out.h5", spec, OpenMode::create_or_resume);
  auto outside = refine_point(spec, 0, 0.2);
  auto on_grid = refine_point(spec, 4, 0.05);
  auto wrong_key = refine_point(spec, 0, 0.02);
  wrong_key.key ^= 1;
  const auto good = refine_point(spec, 1, 0.02);
  for (const auto& bad : {outside, on_grid, wrong_key}) {
    // The good point of the same batch is taken back too.
    const std::vector<spec::RunPoint> batch{good, bad};
    EXPECT_THROW(writer.append_runs(batch), std::invalid_argument);
    EXPECT_EQ(writer.total_runs(), 8);
  }
  EXPECT_EQ(writer.append_runs(std::vector{good}), (std::vector<std::int64_t>{8}));
  EXPECT_THROW(writer.append_runs(std::vector{good}), std::invalid_argument);  // already in the file
  EXPECT_EQ(writer.total_runs(), 9);
}

TEST(ResultsWriter, AppendRunsNeedsARefineBlock) {
  ScratchDirectory dir;
  const auto spec = parse(small_spec_text);
  ResultsWriter writer(dir / "out.h5", spec, OpenMode::create_or_resume);
  EXPECT_THROW(writer.append_runs(std::vector{refine_point(parse(refine_spec_text), 0, 0.03)}), std::logic_error);
  EXPECT_THROW(writer.write_boundary({}), std::logic_error);
}

TEST(ResultsWriter, ResumeReturnsPendingRefinementRowsWithTheirOwnParameters) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto points = midpoints(spec);
  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    writer.append_runs(points);
    writer.write(fake_outcome(writer.pending()[8]));
    writer.close();
  }
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  EXPECT_EQ(writer.total_runs(), 12);
  std::vector<science::PendingRun> refinement;
  for (const auto& run : writer.pending()) {
    if (run.row >= 8) refinement.push_back(run);
  }
  ASSERT_EQ(refinement.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(refinement[i].row, static_cast<std::int64_t>(9 + i));
    EXPECT_EQ(refinement[i].params.step_size, 0.03);
    EXPECT_EQ(refinement[i].seed, points[1 + i].seed);
  }
  for (const auto& run : refinement) writer.write(fake_outcome(run));
  writer.close();
  const ResultsReader reader(path);
  const auto rows = reader.rows();
  ASSERT_EQ(rows.size(), 12u);
  for (std::size_t r = 8; r < 12; ++r) {
    EXPECT_EQ(rows[r].origin, RowOrigin::refine);
    EXPECT_EQ(rows[r].status, science::RowStatus::done);
    EXPECT_EQ(rows[r].coords[0], -1);
    EXPECT_EQ(rows[r].coords[1], points[r - 8].coords[1]);
    EXPECT_EQ(rows[r].refine_value, science::ParamValue(0.03));
  }
  EXPECT_EQ(rows[0].origin, RowOrigin::grid);
  const auto finished = reader.finished_runs();
  ASSERT_EQ(finished.size(), 4u);
  EXPECT_EQ(finished[0].origin, RowOrigin::refine);
  EXPECT_EQ(finished[0].params.step_size, 0.03);
}

TEST(ResultsWriter, VisitRowsGivesEachRowsRunStatusAndFinalsAsTheWriterHoldsThem) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  const auto points = midpoints(spec);
  std::vector<science::RunOutcome> written;
  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    writer.append_runs(points);
    const auto pending = writer.pending();
    written = {fake_outcome(pending[1]), fake_outcome(pending[9], science::RowStatus::diverged),
               fake_outcome(pending[2], science::RowStatus::failed)};
    for (const auto& outcome : written) writer.write(outcome);
    writer.close();
  }
  // Under retry_failed the failed row is pending again.
  ResultsWriter writer(path, spec, OpenMode::retry_failed);
  const spec::Grid grid(spec);
  std::vector<ResultsWriter::Row> rows;
  writer.visit_rows([&](const ResultsWriter::Row& row) { rows.push_back(row); });
  ASSERT_EQ(rows.size(), 12u);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& expected = r < 8 ? grid.point(static_cast<std::int64_t>(r)) : points[r - 8];
    EXPECT_EQ(rows[r].row, static_cast<std::int64_t>(r));
    EXPECT_EQ(rows[r].params, expected.params) << r;
    EXPECT_EQ(rows[r].replicate, expected.replicate) << r;
  }
  EXPECT_EQ(rows[1].status, science::RowStatus::done);
  EXPECT_EQ(rows[9].status, science::RowStatus::diverged);
  EXPECT_EQ(rows[2].status, science::RowStatus::pending);
  EXPECT_EQ(rows[0].status, science::RowStatus::pending);
  for (std::size_t m = 0; m < science::metric_fields.size(); ++m) {
    const auto field = science::metric_fields[m];
    EXPECT_EQ(rows[1].final_metrics.*field, written[0].result.final_metrics.*field);
    EXPECT_EQ(rows[9].final_metrics.*field, written[1].result.final_metrics.*field);
    EXPECT_TRUE(std::isnan(rows[0].final_metrics.*field));
  }
}

TEST(ResultsReader, SeesRefinementRowsAppendedAfterItOpened) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  const ResultsReader reader(path);  // after the writer: HDF5 1.10 locks
  EXPECT_EQ(reader.rows().size(), 8u);
  writer.append_runs(midpoints(spec));
  writer.flush();
  const auto rows = reader.rows();
  ASSERT_EQ(rows.size(), 12u);
  EXPECT_EQ(rows.back().origin, RowOrigin::refine);
  writer.close();
}

// --- checking refinement rows ---------------------------------------------------------------------------

layout::RowIdentity identity_of(const spec::RunPoint& point, std::int64_t row) {
  return {row, point.key, point.params, point.replicate, point.seed, static_cast<std::int8_t>(RowOrigin::refine)};
}

TEST(RowCheck, AcceptsARefinementRowStrictlyInsideTheRefineAxis) {
  const auto spec = parse(refine_spec_text);
  const fs::path where = "test.h5";
  RowCheck check(where, spec);
  EXPECT_EQ(check.point_of(8, identity_of(refine_point(spec, 2, 0.03), 8), layout::pending_result()),
            RowCheck::off_grid);
  EXPECT_EQ(check.point_of(9, identity_of(refine_point(spec, 2, 0.0100001), 9), layout::pending_result()),
            RowCheck::off_grid);
}

TEST(RowCheck, RefusesHostileRefinementRowsNamingTheField) {
  const auto spec = parse(refine_spec_text);
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Case {
    std::string name;
    layout::RowIdentity identity;
    std::string reason;
  };
  std::vector<Case> cases;
  for (double value : {0.01, 0.05, 0.2, -0.03, inf, -inf, nan}) {
    cases.push_back(
        {fmt::format("step_size {}", value), identity_of(refine_point(spec, 0, value), 8), "row 8, field step_size: "});
  }
  auto identity = identity_of(refine_point(spec, 0, 0.03), 8);
  identity.origin = 7;
  cases.push_back({"origin 7", identity, "row 8, field origin: 7 is not an origin"});
  identity = identity_of(refine_point(spec, 0, 0.03), 8);
  identity.key ^= 1;
  cases.push_back({"key", identity, "row 8, field key: "});
  identity = identity_of(refine_point(spec, 0, 0.03), 8);
  identity.seed ^= 1;
  cases.push_back({"seed", identity, "row 8, field seed: "});
  identity = identity_of(refine_point(spec, 0, 0.03), 8);
  science::find_parameter("algorithm")->set(identity.params, std::string("hetero_gd"));
  cases.push_back({"algorithm off its axis", identity, "row 8, field algorithm: hetero_gd is not a value"});
  identity = identity_of(refine_point(spec, 0, 0.03), 8);
  identity.params.dim = 7;
  cases.push_back({"dim", identity, "row 8, field dim: 7 differs from the spec's 6"});
  identity = identity_of(refine_point(spec, 0, 0.03), 8);
  identity.replicate = 2;
  cases.push_back({"replicate", identity, "row 8, field replicate: 2 is outside"});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path where = "test.h5";
    RowCheck check(where, spec);
    try {
      check.point_of(8, c.identity, layout::pending_result());
      ADD_FAILURE() << "accepted";
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find(c.reason), std::string::npos) << e.what();
    }
  }
}

// A refine axis with a value inside its range, where a refinement run can repeat a grid run (same key).
spec::SweepSpec three_step_sizes() {
  auto text = refine_spec_text;
  text.replace(text.find("[0.01, 0.05]"), 12, "[0.01, 0.03, 0.05]");
  return parse(text);
}

// Grid point `index` of `spec` as a row of `origin`.
layout::RowIdentity row_of_point(const spec::SweepSpec& spec, std::int64_t index, std::int64_t row, RowOrigin origin) {
  const auto point = spec::Grid(spec).point(index);
  return {row, point.key, point.params, point.replicate, point.seed, static_cast<std::int8_t>(origin)};
}

TEST(RowCheck, RefusesARefinementRowThatRepeatsAGridRowsRunInEitherOrder) {
  const auto spec = three_step_sizes();
  const std::int64_t middle = 4;  // step_size 0.03, hetero, replicate 0
  ASSERT_EQ(spec::Grid(spec).point(middle).params.step_size, 0.03);
  for (const auto first : {RowOrigin::grid, RowOrigin::refine}) {
    const auto second = first == RowOrigin::grid ? RowOrigin::refine : RowOrigin::grid;
    SCOPED_TRACE(first == RowOrigin::grid ? "grid row first" : "refinement row first");
    const fs::path where = "test.h5";
    RowCheck check(where, spec);
    check.point_of(0, row_of_point(spec, middle, 0, first), layout::pending_result());
    try {
      check.point_of(1, row_of_point(spec, middle, 1, second), layout::pending_result());
      ADD_FAILURE() << "accepted";
    } catch (const ResultsFileError& e) {
      EXPECT_NE(std::string(e.what()).find("row 1, field key: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("is also the key of row 0"), std::string::npos) << e.what();
    }
  }
}

TEST(RowCheck, ForgettingARefinementRowAtAGridValueFreesItsGridPoint) {
  const auto spec = three_step_sizes();
  const fs::path where = "test.h5";
  RowCheck check(where, spec);
  const auto refinement = row_of_point(spec, 4, 0, RowOrigin::refine);
  EXPECT_EQ(check.point_of(0, refinement, layout::pending_result()), RowCheck::off_grid);
  EXPECT_TRUE(check.has_refinement_key(refinement.key));
  check.forget_refinement(refinement.key);
  EXPECT_FALSE(check.has_refinement_key(refinement.key));
  EXPECT_EQ(check.point_of(1, row_of_point(spec, 4, 1, RowOrigin::grid), layout::pending_result()), 4);
}

TEST(RowCheck, RefusesARefinementRowWhenTheSpecHasNoRefineBlock) {
  const auto spec = parse(small_spec_text);
  const fs::path where = "test.h5";
  RowCheck check(where, spec);
  EXPECT_THROW(
      check.point_of(8, identity_of(refine_point(parse(refine_spec_text), 0, 0.03), 8), layout::pending_result()),
      ResultsFileError);
}

TEST(RowCheck, RefusesAFileWithADamagedRefinementRowAndLeavesItUntouched) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    writer.append_runs(midpoints(spec));
    writer.close();
  }
  {
    auto file = h5::File::open(path, h5::Access::write);
    auto runs = h5::Dataset::open(file, layout::runs_path);
    auto type = h5::Datatype::compound(sizeof(double));
    type.insert("step_size", 0, H5T_NATIVE_DOUBLE);
    auto selected = runs.space();
    selected.select_block(std::array{hsize_t{10}}, std::array{hsize_t{1}});
    const double outside = 0.5;
    runs.write(type.id(), h5::Dataspace::simple(std::array{hsize_t{1}}), selected, &outside);
    file.close();
  }
  try {
    ResultsReader reader(path);
    ADD_FAILURE() << "read a file with a damaged refinement row";
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("/runs row 10, field step_size: 0.5 is not strictly inside"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ResultsWriter(path, spec, OpenMode::create_or_resume), ResultsFileError);
}

// --- /boundary ------------------------------------------------------------------------------------------

std::vector<spec::Crossing> sample_crossings() {
  return {{{std::string("hetero")}, 0.02, 0.025, spec::Crossing::Direction::down, 0.0231, 12},
          {{std::string("pooled")}, 0.04, 0.045, spec::Crossing::Direction::up, 0.0449, 20}};
}

TEST(ResultsWriter, WriteBoundaryReplacesTheCrossingsAReaderReads) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  const ResultsReader reader(path);
  EXPECT_EQ(reader.boundary(), std::vector<spec::Crossing>{});
  const auto crossings = sample_crossings();
  writer.write_boundary(crossings);
  EXPECT_EQ(reader.boundary(), crossings);
  writer.write_boundary(std::span(crossings).subspan(1));
  EXPECT_EQ(reader.boundary(), std::vector{crossings[1]});
  writer.write_boundary(crossings);
  writer.close();
  EXPECT_EQ(ResultsReader(path).boundary(), crossings);
  const auto file = h5::File::open(path, h5::Access::read);
  EXPECT_EQ(h5::read_string_attribute(file, layout::boundary_group, "axis"), "step_size");
  EXPECT_EQ(h5::read_string_attribute(file, layout::boundary_group, "metric"), "spurious_signal");
  EXPECT_EQ(h5::read_string_attribute(file, layout::boundary_path("direction"), "flag_meanings"), "down up");
}

TEST(ResultsReader, BoundaryIsNulloptForAFileWithoutARefineBlock) {
  ScratchDirectory dir;
  const auto path = dir / "out.h5";
  ResultsWriter(path, parse(small_spec_text), OpenMode::create_or_resume).close();
  EXPECT_FALSE(ResultsReader(path).boundary().has_value());
}

// --- hetsweep-2 files written before refinement existed ------------------------------------------------

// A file as the previous version wrote it: /runs without the origin field.
fs::path file_without_origin(const ScratchDirectory& dir) {
  const auto path = dir / "old.h5";
  parts::build_new_file(path, parse(small_spec_text), layout::RowLayout(layout::Format::hetsweep_2, false));
  return path;
}

TEST(ResultsReader, ReadsAFileWithoutOriginAsAllGrid) {
  ScratchDirectory dir;
  const auto path = file_without_origin(dir);
  {
    const auto file = h5::File::open(path, h5::Access::read);
    EXPECT_FALSE(h5::Dataset::open(file, layout::runs_path).type().has_member("origin"));
  }
  {
    ResultsWriter writer(path, parse(small_spec_text), OpenMode::create_or_resume);
    ASSERT_EQ(writer.pending().size(), 8u);
    writer.write(fake_outcome(writer.pending()[3]));
    writer.close();
  }
  const ResultsReader reader(path);
  const auto rows = reader.rows();
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& row : rows) EXPECT_EQ(row.origin, RowOrigin::grid);
  EXPECT_EQ(rows[3].status, science::RowStatus::done);
  EXPECT_EQ(rows[3].final_metrics.loss, fake_value(3, 40, 4));
}

TEST(ResultsWriter, GrowsAFileWithoutOriginWithoutAddingTheField) {
  ScratchDirectory dir;
  const auto path = file_without_origin(dir);
  auto grown = small_spec_text;
  grown.replace(grown.find("replicates: 2"), 13, "replicates: 3");
  ResultsWriter(path, parse(grown), OpenMode::create_or_resume).close();
  EXPECT_EQ(ResultsReader(path).rows().size(), 12u);
  const auto file = h5::File::open(path, h5::Access::read);
  EXPECT_FALSE(h5::Dataset::open(file, layout::runs_path).type().has_member("origin"));
}

TEST(ResultsWriter, AppendRunsRefusesAFileWithoutOrigin) {
  const auto spec = parse(refine_spec_text);
  ScratchDirectory dir;
  const auto path = dir / "old.h5";
  parts::build_new_file(path, spec, layout::RowLayout(layout::Format::hetsweep_2, false));
  ResultsWriter writer(path, spec, OpenMode::create_or_resume);
  EXPECT_THROW(writer.append_runs(midpoints(spec)), std::logic_error);
  EXPECT_EQ(writer.total_runs(), 8);
}

}  // namespace
}  // namespace hetsweep::store
