#include "store/layout.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "spec/grid.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store::layout {
namespace {

using store::testing::parse;
using store::testing::small_spec_text;

TEST(RecordStepUnion, IsTheRecordStepsOfAFixedStepCount) {
  EXPECT_EQ(record_step_union(parse(small_spec_text)), (std::vector<std::int64_t>{0, 10, 20, 30, 40}));
}

TEST(RecordStepUnion, MergesEveryStepsAndRecordEveryCombination) {
  const auto spec = parse(R"(fixed: {dim: 6, invariant_rank: 1, spurious_rank: 1}
grid:
  steps: [25, 40]
  record_every: [10, 20]
)");
  // steps 25: 0 10 20 25 and 0 20 25; steps 40: 0 10 20 30 40 and 0 20 40.
  EXPECT_EQ(record_step_union(spec), (std::vector<std::int64_t>{0, 10, 20, 25, 30, 40}));
}

TEST(RowLayout, EncodesAndDecodesEveryParameter) {
  const RowLayout layout;
  RowIdentity identity;
  identity.run = 12;
  identity.key = 0xfedcba9876543210ULL;
  identity.params.dim = 33;
  identity.params.heterogeneity = 0.1;
  identity.params.algorithm = science::Algorithm::pooled_gd;
  identity.params.sampler = science::Sampler::materialized;  // the longest choice name
  identity.params.sensing = science::Sensing::rank_one;
  identity.replicate = 3;
  identity.seed = 0xffffffffffffffffULL;
  std::vector<std::byte> buffer(layout.identity_size());
  layout.encode(identity, buffer.data());
  const auto decoded = layout.decode(buffer.data());
  EXPECT_EQ(decoded.run, identity.run);
  EXPECT_EQ(decoded.key, identity.key);
  EXPECT_EQ(decoded.params, identity.params);
  EXPECT_EQ(decoded.replicate, identity.replicate);
  EXPECT_EQ(decoded.seed, identity.seed);
}

TEST(RowLayout, FileTypeHasTheFormatsColumnsInOrder) {
  const RowLayout layout;
  const auto type = layout.file_type();
  std::vector<std::string> names;
  const int members = h5::check(H5Tget_nmembers(type.id()), "H5Tget_nmembers", "test");
  for (int i = 0; i < members; ++i) {
    char* name = H5Tget_member_name(type.id(), static_cast<unsigned>(i));
    names.emplace_back(name);
    h5::check(H5free_memory(name), "H5free_memory", "test");
  }
  std::vector<std::string> expected{"run", "key"};
  for (const auto& p : science::parameters()) expected.emplace_back(p.name);
  for (const auto* name :
       {"replicate", "seed", "status", "steps_done", "wall_seconds", "finished_at", "final_true_signal",
        "final_spurious_signal", "final_err_invariant", "final_err_pooled", "final_loss"}) {
    expected.emplace_back(name);
  }
  EXPECT_EQ(names, expected);
}

TEST(CubeIndex, PlacesEveryGridPointAtItsOwnIndex) {
  const auto spec = parse(small_spec_text);
  const spec::Grid grid(spec);
  const CubeIndex cube(spec);
  EXPECT_EQ(cube.shape(), grid.shape());
  EXPECT_EQ(cube.cells(), grid.size());
  for (std::int64_t i = 0; i < grid.size(); ++i) {
    const auto point = grid.point(i);
    const auto coords = cube.coords(point.params, point.replicate);
    ASSERT_TRUE(coords);
    EXPECT_EQ(*coords, point.coords);
    EXPECT_EQ(cube.cell(*coords, point.replicate), i);
  }
}

TEST(CubeIndex, FindsNoCellForValuesOffTheAxes) {
  const auto spec = parse(small_spec_text);
  const CubeIndex cube(spec);
  auto params = spec.base;
  params.step_size = 0.02;
  EXPECT_FALSE(cube.coords(params, 0));
  params.step_size = 0.05;
  EXPECT_TRUE(cube.coords(params, 1));
  EXPECT_FALSE(cube.coords(params, 2));
}

TEST(Normalized, MakesIntegralValuesOfRealParametersReal) {
  EXPECT_EQ(normalized(science::ParamKind::real, std::int64_t{2}), science::ParamValue(2.0));
  EXPECT_EQ(normalized(science::ParamKind::integer, 3.0), science::ParamValue(std::int64_t{3}));
  EXPECT_EQ(normalized(science::ParamKind::integer, std::int64_t{3}), science::ParamValue(std::int64_t{3}));
  EXPECT_EQ(normalized(science::ParamKind::choice, std::string("a")), science::ParamValue(std::string("a")));
}

}  // namespace
}  // namespace hetsweep::store::layout
