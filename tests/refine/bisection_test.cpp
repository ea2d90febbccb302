#include "refine/bisection.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace hetsweep::refine {
namespace {

using science::ParamValue;

TEST(Midpoint, IsLoPlusHalfTheWidthForReals) {
  EXPECT_EQ(midpoint(0.0, 1.0), ParamValue(0.5));
  EXPECT_EQ(midpoint(2.5, 2.75), ParamValue(2.625));
  const double lo = 0.1, hi = 0.3;
  EXPECT_EQ(midpoint(lo, hi), ParamValue(lo + (hi - lo) / 2));
}

TEST(Midpoint, RoundsDownForIntegers) {
  EXPECT_EQ(midpoint(std::int64_t{10}, std::int64_t{15}), ParamValue(std::int64_t{12}));
  EXPECT_EQ(midpoint(std::int64_t{10}, std::int64_t{12}), ParamValue(std::int64_t{11}));
}

TEST(Midpoint, IsNoneBetweenAdjacentValues) {
  EXPECT_EQ(midpoint(std::int64_t{7}, std::int64_t{8}), std::nullopt);
  const double x = 3.0;
  EXPECT_EQ(midpoint(x, std::nextafter(x, 4.0)), std::nullopt);
}

TEST(Midpoint, StaysFiniteAcrossTheWholeDoubleRange) {
  const double big = std::numeric_limits<double>::max();
  EXPECT_EQ(midpoint(-big, big), ParamValue(0.0));
  EXPECT_FALSE(std::signbit(std::get<double>(*midpoint(-big, big))));
}

TEST(IsFinal, WhenAtMostToleranceWideOrNotSplittable) {
  EXPECT_TRUE(is_final(1.0, 1.25, 0.25));
  EXPECT_FALSE(is_final(1.0, 1.25, 0.2));
  EXPECT_TRUE(is_final(std::int64_t{4}, std::int64_t{5}, 0.1));  // adjacent integers, whatever the tolerance
  EXPECT_FALSE(is_final(std::int64_t{4}, std::int64_t{6}, 0.1));
}

TEST(MaxPoints, CountsTheHalvingsToTheTolerance) {
  EXPECT_EQ(max_points(0.0, 1.0, 1.0), 0);
  EXPECT_EQ(max_points(0.0, 1.0, 0.5), 1);
  EXPECT_EQ(max_points(0.0, 1.0, 0.02), 6);                           // 1/64 <= 0.02 < 1/32
  EXPECT_EQ(max_points(std::int64_t{0}, std::int64_t{100}, 0.5), 7);  // 100, 50, 25, 13, 7, 4, 2, 1
}

TEST(MaxPointsPerCombination, SumsThePairsOrBoundsEachCrossingByTheAxisWithSkip) {
  auto spec = spec::parse_spec(
      "grid:\n  heterogeneity: [0, 2, 1]\n  dim: [4, 6]\nrefine: {axis: heterogeneity, metric: "
      "loss, threshold: 1, tolerance: 0.1}\n",
      "t.yaml");
  EXPECT_EQ(max_points_per_combination(spec), 2 * 4);  // [0, 1] and [1, 2]: 1/16 <= 0.1
  spec.refine->diverged_as = spec::Refine::Diverged::skip;
  EXPECT_EQ(max_points_per_combination(spec), 2 * 5);  // two crossings, each within [0, 2]: 2/32 <= 0.1
}

}  // namespace
}  // namespace hetsweep::refine
