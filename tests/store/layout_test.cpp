#include "store/layout.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "spec/grid.hpp"
#include "store_test_support.hpp"

namespace hetsweep::store::layout {
namespace {

using store::test_support::parse;
using store::test_support::small_spec_text;

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
        "final_spurious_signal", "final_err_invariant", "final_err_pooled", "final_loss", "origin"}) {
    expected.emplace_back(name);
  }
  EXPECT_EQ(names, expected);
}

// The class of member `name` of a compound type, and for an array its base type's class.
std::pair<H5T_class_t, H5T_class_t> member_class(hid_t compound, const char* name) {
  const int index = h5::check(H5Tget_member_index(compound, name), "H5Tget_member_index", name);
  const h5::Datatype member(
      h5::check(H5Tget_member_type(compound, static_cast<unsigned>(index)), "H5Tget_member_type", name));
  const auto outer = H5Tget_class(member.id());
  if (outer != H5T_ARRAY) return {outer, H5T_NO_CLASS};
  const h5::Datatype base(h5::check(H5Tget_super(member.id()), "H5Tget_super", name));
  return {outer, H5Tget_class(base.id())};
}

TEST(RowLayout, StoresChoicesAsCharArraysAndStatusAsInt8InHetsweep2) {
  const RowLayout layout(Format::hetsweep_2);
  const auto type = layout.file_type();
  EXPECT_EQ(member_class(type.id(), "algorithm"), std::make_pair(H5T_ARRAY, H5T_STRING));
  EXPECT_EQ(member_class(type.id(), "status"), std::make_pair(H5T_INTEGER, H5T_NO_CLASS));
  EXPECT_EQ(member_class(layout.result_type(), "status"), std::make_pair(H5T_INTEGER, H5T_NO_CLASS));
}

TEST(RowLayout, ReadsHetsweep1ChoicesAsStringsAndStatusAsAnEnum) {
  const RowLayout layout(Format::hetsweep_1);
  EXPECT_EQ(member_class(layout.identity_type(), "algorithm"), std::make_pair(H5T_STRING, H5T_NO_CLASS));
  EXPECT_EQ(member_class(layout.result_type(), "status"), std::make_pair(H5T_ENUM, H5T_NO_CLASS));
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
