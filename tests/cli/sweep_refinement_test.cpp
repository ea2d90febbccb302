#include "cli/sweep_refinement.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "sched/compute.hpp"
#include "spec/grid.hpp"
#include "spec/sweep_spec.hpp"
#include "store/results_file.hpp"

namespace hetsweep::cli {
namespace {

namespace fs = std::filesystem;

// hetero_gd at one step size (exact and fast: tests/refine/hetero_gd_boundary_test.cpp), two replicates.
const std::string spec_text = R"(seed: 3
replicates: 2
fixed: {dim: 4, algorithm: hetero_gd, steps: 1000, record_every: 1000, step_size: 0.1}
grid:
  heterogeneity: {start: 0, stop: 16, num: 17}
  noise: [0, 0.5]
refine: {axis: heterogeneity, metric: spurious_signal, threshold: 0.05, tolerance: 0.02}
)";

class Scratch {
 public:
  Scratch() : path_(fs::temp_directory_path() / ("hetsweep-cli-" + std::string(test_name()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~Scratch() { fs::remove_all(path_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  [[nodiscard]] fs::path file() const { return path_ / "out.h5"; }

 private:
  static const char* test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  fs::path path_;
};

std::set<std::int64_t> rows_of(const std::vector<science::PendingRun>& runs) {
  std::set<std::int64_t> rows;
  for (const auto& run : runs) rows.insert(run.row);
  return rows;
}

// A sweep stopped after its grid results were written but before the runs they ask for became rows: the
// resumed sweep adds those runs first, once; a second resume finds them as pending rows and adds none.
TEST(SweepRefinement, AddsTheRunsFinishedRowsAskForThatTheFileLacksOnce) {
  const auto spec = spec::parse_spec(spec_text, "refine.yaml");
  Scratch scratch;
  const auto grid_size = spec::Grid(spec).size();
  {
    store::ResultsWriter writer(scratch.file(), spec, store::OpenMode::create_or_resume);
    for (const auto& run : writer.pending()) writer.write(sched::compute(run).outcome);
    writer.close();
  }
  std::set<std::int64_t> added;
  {
    store::ResultsWriter writer(scratch.file(), spec, store::OpenMode::create_or_resume);
    SweepRefinement refinement(spec, writer, Shard{});
    const auto work = refinement.initial_work();
    ASSERT_FALSE(work.empty());
    added = rows_of(work);
    EXPECT_EQ(*added.begin(), grid_size);
    EXPECT_EQ(writer.total_runs(), grid_size + static_cast<std::int64_t>(work.size()));
    EXPECT_EQ(rows_of(writer.pending()), added);
    EXPECT_EQ(refinement.added(), static_cast<std::int64_t>(work.size()));
    for (const auto& run : work) {
      EXPECT_TRUE(writer.has_run(spec::run_key(run.params, 0)) && writer.has_run(spec::run_key(run.params, 1)));
    }
    writer.close();
  }
  store::ResultsWriter writer(scratch.file(), spec, store::OpenMode::create_or_resume);
  SweepRefinement refinement(spec, writer, Shard{});
  EXPECT_EQ(rows_of(refinement.initial_work()), added);
  EXPECT_EQ(refinement.added(), 0);
}

// Run to the end through after(): every crossing is located and /boundary holds them, each at most the
// tolerance wide; nothing is left pending.
TEST(SweepRefinement, LocatesEveryCrossingThroughTheResultsAndWritesThemToTheBoundary) {
  const auto spec = spec::parse_spec(spec_text, "refine.yaml");
  Scratch scratch;
  {
    store::ResultsWriter writer(scratch.file(), spec, store::OpenMode::create_or_resume);
    SweepRefinement refinement(spec, writer, Shard{});
    auto work = refinement.initial_work();
    EXPECT_EQ(static_cast<std::int64_t>(work.size()), spec::Grid(spec).size());
    while (!work.empty()) {
      const auto run = work.back();
      work.pop_back();
      const auto result = sched::compute(run);
      writer.write(result.outcome);
      const auto more = refinement.after(result);
      work.insert(work.end(), more.begin(), more.end());
    }
    EXPECT_TRUE(writer.pending().empty());
    EXPECT_GT(refinement.added(), 0);
    refinement.write_boundary();
    EXPECT_EQ(refinement.located(), 4);  // a lower and an upper crossing for each noise level
    writer.close();
  }
  const store::ResultsReader reader(scratch.file());
  const auto crossings = reader.boundary();
  ASSERT_TRUE(crossings.has_value());
  ASSERT_EQ(crossings->size(), 4u);
  for (const auto& crossing : *crossings) {
    EXPECT_LT(crossing.lo, crossing.hi);
    EXPECT_LE(crossing.hi - crossing.lo, 0.02);
    EXPECT_EQ(crossing.runs % 2, 0);  // every midpoint with both replicates
  }
}

// A combination of the other axes goes to one shard whole: every value of the refine axis with it.
TEST(SweepRefinement, PutsEachCombinationInOneShard) {
  const auto spec = spec::parse_spec(spec_text, "refine.yaml");
  Scratch scratch;
  store::ResultsWriter writer(scratch.file(), spec, store::OpenMode::create_or_resume);
  const SweepRefinement first(spec, writer, Shard{0, 2});
  const SweepRefinement second(spec, writer, Shard{1, 2});
  for (const double noise : {0.0, 0.5}) {
    science::Params params = spec.base;
    params.noise = noise;
    const bool in_first = first.in_shard(params);
    for (const double heterogeneity : {0.0, 3.3, 16.0}) {
      params.heterogeneity = heterogeneity;
      EXPECT_EQ(first.in_shard(params), in_first);
      EXPECT_NE(second.in_shard(params), in_first);
    }
  }
}

}  // namespace
}  // namespace hetsweep::cli
