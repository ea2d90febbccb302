#include "spec/grid.hpp"

#include <set>

#include <gtest/gtest.h>

namespace hetsweep::spec {
namespace {

const std::filesystem::path data_dir = HETSWEEP_SPEC_TEST_DATA;

SweepSpec spec_of(std::string_view text) { return parse_spec(text, "t.yaml"); }

// The run of `grid` whose parameters and replicate are these.
RunPoint find_run(const Grid& grid, const science::Params& params, std::int64_t replicate) {
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    auto p = grid.point(i);
    if (p.params == params && p.replicate == replicate) return p;
  }
  ADD_FAILURE() << "no such run in the grid";
  return {};
}

TEST(Grid, SizeIsTheProductOfTheAxesAndTheReplicates) {
  const auto spec = load_spec(data_dir / "fig2-heterogeneity.yaml");
  const Grid grid(spec);
  EXPECT_EQ(grid.size(), 21 * 3 * 3 * 2 * 4);
  EXPECT_EQ(grid.shape(), (std::vector<std::int64_t>{21, 3, 3, 2, 4}));
}

TEST(Grid, HasOneRunPerReplicateWithoutAxes) {
  const auto spec = spec_of("replicates: 3\n");
  const Grid grid(spec);
  EXPECT_EQ(grid.size(), 3);
  EXPECT_EQ(grid.point(2).params, science::Params{});
  EXPECT_EQ(grid.point(2).replicate, 2);
}

TEST(Grid, EnumeratesRowMajorWithTheReplicateFastest) {
  const auto spec = spec_of("grid:\n  dim: [10, 20]\n  noise: [0, 0.5, 1]\nreplicates: 2\n");
  const Grid grid(spec);
  const auto first = grid.point(0);
  EXPECT_EQ(first.coords, (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(first.replicate, 0);
  EXPECT_EQ(grid.point(1).coords, (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(grid.point(1).replicate, 1);
  EXPECT_EQ(grid.point(2).coords, (std::vector<std::int64_t>{0, 1}));
  const auto last = grid.point(11);
  EXPECT_EQ(last.coords, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(last.replicate, 1);
  EXPECT_EQ(last.params.dim, 20);
  EXPECT_EQ(last.params.noise, 1.0);
}

TEST(Grid, KeysEachPointAsRunKeyDoesItsParameters) {
  // Axes of every kind, in another order than the parameter table's, and a fixed value off its default.
  const auto spec = spec_of(
      "fixed: {steps: 30}\ngrid:\n  noise: [0, 0.25]\n  algorithm: [hetero, pooled_gd]\n  dim: [10, 12]\n"
      "replicates: 3\n");
  const Grid grid(spec);
  std::set<std::uint64_t> keys;
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    const auto point = grid.point(i);
    EXPECT_EQ(point.params, grid.params(point.coords));
    EXPECT_EQ(point.key, run_key(point.params, point.replicate)) << "point " << i;
    EXPECT_EQ(grid.key(point.coords, point.replicate), point.key) << "point " << i;
    keys.insert(point.key);
  }
  EXPECT_EQ(static_cast<std::int64_t>(keys.size()), grid.size());
}

TEST(RowMajor, NumbersCellsWithTheLastDimensionFastestAndBack) {
  const std::vector<std::int64_t> shape{2, 3, 4};
  std::int64_t expected = 0;
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) {
      for (std::int64_t k = 0; k < 4; ++k, ++expected) {
        const std::vector<std::int64_t> coords{i, j, k};
        EXPECT_EQ(row_major_index(coords, shape), expected);
        EXPECT_EQ(row_major_coords(expected, shape), coords);
      }
    }
  }
  EXPECT_EQ(row_major_index({}, {}), 0);
  EXPECT_TRUE(row_major_coords(0, {}).empty());
}

TEST(Grid, AppliesAxisValuesOverTheFixedBase) {
  const auto spec = spec_of("fixed: {steps: 50, algorithm: pooled}\ngrid:\n  step_size: [0.01, 0.1]\n");
  const auto point = Grid(spec).point(1);
  science::Params expected;
  expected.steps = 50;
  expected.algorithm = science::Algorithm::pooled;
  expected.step_size = 0.1;
  EXPECT_EQ(point.params, expected);
  EXPECT_EQ(point.key, run_key(expected, 0));
  EXPECT_EQ(point.seed, run_seed(0, point.key));
}

TEST(Grid, RunKeysAreDistinctWithinAGrid) {
  const auto spec = load_spec(data_dir / "fig2-heterogeneity.yaml");
  const Grid grid(spec);
  std::set<std::uint64_t> keys;
  for (std::int64_t i = 0; i < grid.size(); ++i) keys.insert(grid.point(i).key);
  EXPECT_EQ(static_cast<std::int64_t>(keys.size()), grid.size());
}

TEST(RunKey, IsIndependentOfAxisOrderAndGridSize) {
  const auto small = spec_of("seed: 5\ngrid:\n  step_size: [0.01, 0.05]\n  batch_size: [80, 200]\nreplicates: 2\n");
  const auto large =
      spec_of("seed: 5\ngrid:\n  batch_size: [1000, 200, 80]\n  noise: [0, 0.1]\n  step_size: [0.05]\nreplicates: 3\n");
  science::Params params;
  params.step_size = 0.05;
  params.batch_size = 200;
  const auto in_small = find_run(Grid(small), params, 1);
  const auto in_large = find_run(Grid(large), params, 1);
  EXPECT_EQ(in_small.key, in_large.key);
  EXPECT_EQ(in_small.seed, in_large.seed);
  EXPECT_NE(in_small.coords, in_large.coords);
}

TEST(RunKey, IsTheSameWhetherAValueIsFixedOrSwept) {
  const auto fixed = spec_of("fixed: {noise: 0.1}\n");
  const auto swept = spec_of("grid:\n  noise: [0.2, 0.1]\n");
  EXPECT_EQ(Grid(fixed).point(0).key, Grid(swept).point(1).key);
}

TEST(RunKey, ChangesWithEveryParameterAndTheReplicate) {
  const science::Params base;
  const auto key = run_key(base, 0);
  EXPECT_NE(run_key(base, 1), key);
  for (const auto& param : science::parameters()) {
    science::Params changed = base;
    switch (param.kind) {
      case science::ParamKind::integer:
        param.set(changed, std::get<std::int64_t>(param.get(base)) + 1);
        break;
      case science::ParamKind::real:
        param.set(changed, std::get<double>(param.get(base)) + 0.5);
        break;
      case science::ParamKind::choice:
        param.set(changed, std::string(param.choices[1]));
        break;
    }
    ASSERT_NE(changed, base) << param.name;
    EXPECT_NE(run_key(changed, 0), key) << param.name;
  }
}

TEST(RunSeed, DiffersAcrossSweepSeedsAndReplicates) {
  const auto first_spec = spec_of("seed: 1\nreplicates: 2\n");
  const auto second_spec = spec_of("seed: 2\nreplicates: 2\n");
  const Grid a(first_spec);
  const Grid b(second_spec);
  EXPECT_EQ(a.point(0).key, b.point(0).key);
  EXPECT_NE(a.point(0).seed, b.point(0).seed);
  EXPECT_NE(a.point(0).seed, a.point(1).seed);
  EXPECT_NE(b.point(0).seed, b.point(1).seed);
}

}  // namespace
}  // namespace hetsweep::spec
