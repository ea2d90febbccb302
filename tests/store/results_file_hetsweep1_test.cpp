// Files of the previous format, hetsweep-1: readers read them, writers refuse to resume them. The fixture
// (data/hetsweep-1.h5.tar.gz, unpacked by CMake) was written by hetsweep 0.1.0 before hetsweep-2 existed:
// `hetsweep run data/hetsweep-1.yaml -o hetsweep-1.h5 --shard 0/2`, so that some rows are pending.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "spec/grid.hpp"
#include "store/h5.hpp"
#include "store/layout.hpp"
#include "store/results_file.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store {
namespace {

namespace fs = std::filesystem;
using test_support::ScratchDirectory;

constexpr std::size_t metric_count = science::metric_names.size();
const fs::path fixture = HETSWEEP1_FIXTURE;

// The fixture's rows as h5py shows them.
constexpr science::RowStatus pending = science::RowStatus::pending, done = science::RowStatus::done,
                             diverged = science::RowStatus::diverged;
const std::vector<science::RowStatus> fixture_status{done,     pending,  done,     done,    pending, diverged,
                                                     pending,  diverged, done,     done,    pending, done,
                                                     diverged, diverged, diverged, diverged};
const std::vector<std::int64_t> fixture_steps_done{20, 0, 20, 20, 0, 8, 0, 12, 20, 20, 0, 20, 5, 5, 12, 12};

fs::path copy_of_fixture(const ScratchDirectory& dir) {
  const auto path = dir / "old.h5";
  fs::copy_file(fixture, path);
  return path;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// One field of every /runs row, read through the HDF5 C API alone (not through RowLayout).
std::vector<double> read_runs_field(const fs::path& path, const std::string& field) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto runs = h5::Dataset::open(file, layout::runs_path);
  auto type = h5::Datatype::compound(sizeof(double));
  type.insert(field, 0, H5T_NATIVE_DOUBLE);
  std::vector<double> values(runs.dims().at(0));
  runs.read_all(type.id(), values.data());
  return values;
}

// Row `row` of /trajectories/<metric>.
std::vector<double> read_trajectory_row(const fs::path& path, std::string_view metric, std::size_t row) {
  const auto file = h5::File::open(path, h5::Access::read);
  const auto dataset = h5::Dataset::open(file, layout::trajectory_path(metric));
  const auto dims = dataset.dims();
  std::vector<double> all(dims.at(0) * dims.at(1));
  dataset.read_all(H5T_NATIVE_DOUBLE, all.data());
  return {all.begin() + static_cast<std::ptrdiff_t>(row * dims[1]),
          all.begin() + static_cast<std::ptrdiff_t>((row + 1) * dims[1])};
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(ResultsReader, ReadsTheRowsOfAHetsweep1File) {
  ScratchDirectory dir;
  const auto path = copy_of_fixture(dir);
  const ResultsReader reader(path);
  EXPECT_EQ(reader.spec().name, "v1-fixture");
  const spec::Grid grid(reader.spec());
  const auto rows = reader.rows();
  ASSERT_EQ(rows.size(), 16U);
  std::array<std::vector<double>, metric_count> finals;
  for (std::size_t m = 0; m < metric_count; ++m) {
    finals[m] = read_runs_field(path, layout::final_field(science::metric_names[m]));
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto point = grid.point(static_cast<std::int64_t>(i));
    EXPECT_EQ(rows[i].row, static_cast<std::int64_t>(i));
    EXPECT_EQ(rows[i].key, point.key) << "row " << i;
    EXPECT_EQ(rows[i].coords, point.coords) << "row " << i;
    EXPECT_EQ(rows[i].replicate, point.replicate) << "row " << i;
    EXPECT_EQ(rows[i].status, fixture_status[i]) << "row " << i;
    EXPECT_EQ(rows[i].steps_done, fixture_steps_done[i]) << "row " << i;
    EXPECT_EQ(rows[i].finished_at > 0, fixture_status[i] != science::RowStatus::pending) << "row " << i;
    for (std::size_t m = 0; m < metric_count; ++m) {
      const double final_value = rows[i].final_metrics.*science::metric_fields[m];
      EXPECT_TRUE(same_bits(final_value, finals[m][i])) << "row " << i << " metric " << m;
      EXPECT_EQ(std::isnan(final_value), fixture_status[i] == science::RowStatus::pending) << "row " << i;
    }
  }
}

TEST(ResultsReader, GivesTheFinishedRunsOfAHetsweep1FileWithTheirRecords) {
  ScratchDirectory dir;
  const auto path = copy_of_fixture(dir);
  const ResultsReader reader(path);
  const spec::Grid grid(reader.spec());
  const auto finished = reader.finished_runs();
  ASSERT_EQ(finished.size(), 12U);
  std::set<std::int64_t> seen;
  for (const auto& run : finished) {
    const auto row = static_cast<std::size_t>(run.outcome.row);
    seen.insert(run.outcome.row);
    EXPECT_EQ(run.key, grid.point(run.outcome.row).key);
    EXPECT_EQ(run.outcome.status, fixture_status.at(row));
    EXPECT_EQ(run.outcome.result.steps_done, fixture_steps_done.at(row));
    // Records at 0, 5, 10, ... up to where the run stopped, equal to the trajectory columns.
    const auto& records = run.outcome.result.records;
    ASSERT_EQ(records.size(), static_cast<std::size_t>(fixture_steps_done[row] / 5 + 1)) << "row " << row;
    for (std::size_t m = 0; m < metric_count; ++m) {
      const auto trajectory = read_trajectory_row(path, science::metric_names[m], row);
      for (std::size_t r = 0; r < records.size(); ++r) {
        EXPECT_EQ(records[r].step, static_cast<std::int64_t>(r) * 5);
        EXPECT_TRUE(same_bits(records[r].metrics.*science::metric_fields[m], trajectory[r])) << "row " << row;
      }
    }
  }
  for (std::size_t i = 0; i < fixture_status.size(); ++i) {
    EXPECT_EQ(seen.contains(static_cast<std::int64_t>(i)), fixture_status[i] != science::RowStatus::pending)
        << "row " << i;
  }
}

TEST(ResultsWriter, RefusesToResumeAHetsweep1FileAndLeavesItUntouched) {
  ScratchDirectory dir;
  const auto path = copy_of_fixture(dir);
  const auto spec = ResultsReader(path).spec();
  const auto bytes = file_bytes(path);
  const auto mtime = fs::last_write_time(path);
  try {
    ResultsWriter writer(path, spec, OpenMode::create_or_resume);
    FAIL() << "resumed a hetsweep-1 file";
  } catch (const ResultsFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              path.string() +
                  ": is a hetsweep-1 file; convert it with `hetsweep merge NEW.h5 OLD.h5` (writes hetsweep-2), then "
                  "resume NEW.h5");
  }
  EXPECT_EQ(file_bytes(path), bytes);
  EXPECT_EQ(fs::last_write_time(path), mtime);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(ResultsWriter, ConvertsAHetsweep1FileByWritingItsFinishedRunsIntoANewFile) {
  ScratchDirectory dir;
  const auto old_path = copy_of_fixture(dir);
  const ResultsReader old_reader(old_path);
  const auto new_path = dir / "new.h5";
  {
    ResultsWriter writer(new_path, old_reader.spec(), OpenMode::create_or_resume);
    for (auto run : old_reader.finished_runs()) writer.write(run.outcome);  // same spec: same rows
    writer.close();
  }
  const auto old_rows = old_reader.rows();
  const auto new_rows = ResultsReader(new_path).rows();
  ASSERT_EQ(new_rows.size(), old_rows.size());
  for (std::size_t i = 0; i < old_rows.size(); ++i) {
    EXPECT_EQ(new_rows[i].key, old_rows[i].key);
    EXPECT_EQ(new_rows[i].status, old_rows[i].status);
    EXPECT_EQ(new_rows[i].steps_done, old_rows[i].steps_done);
    EXPECT_EQ(new_rows[i].wall_seconds, old_rows[i].wall_seconds);
    for (auto field : science::metric_fields) {
      EXPECT_TRUE(same_bits(new_rows[i].final_metrics.*field, old_rows[i].final_metrics.*field)) << "row " << i;
    }
  }
  for (std::size_t m = 0; m < metric_count; ++m) {
    for (std::size_t row = 0; row < old_rows.size(); ++row) {
      const auto before = read_trajectory_row(old_path, science::metric_names[m], row);
      const auto after = read_trajectory_row(new_path, science::metric_names[m], row);
      ASSERT_EQ(after.size(), before.size());
      for (std::size_t c = 0; c < before.size(); ++c) EXPECT_TRUE(same_bits(after[c], before[c])) << "row " << row;
    }
  }
}

}  // namespace
}  // namespace hetsweep::store
