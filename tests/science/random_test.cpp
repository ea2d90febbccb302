#include "science/random.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace hetsweep::science {
namespace {

std::vector<double> draw(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::size_t n) {
  std::vector<double> out(n);
  RandomStreams(seed).normals(purpose, step, out);
  return out;
}

TEST(RandomStreams, SameAddressGivesSameNumbers) {
  EXPECT_EQ(draw(5, Purpose::sensing, 3, 101), draw(5, Purpose::sensing, 3, 101));
}

TEST(RandomStreams, PrefixDoesNotDependOnLength) {
  const auto long_draw = draw(5, Purpose::sensing, 3, 100);
  const auto short_draw = draw(5, Purpose::sensing, 3, 7);
  EXPECT_TRUE(std::equal(short_draw.begin(), short_draw.end(), long_draw.begin()));
}

TEST(RandomStreams, SeedPurposeAndStepEachChangeTheStream) {
  const auto base = draw(5, Purpose::sensing, 3, 8);
  EXPECT_NE(base, draw(6, Purpose::sensing, 3, 8));
  EXPECT_NE(base, draw(5, Purpose::noise, 3, 8));
  EXPECT_NE(base, draw(5, Purpose::sensing, 4, 8));
}

TEST(RandomStreams, NormalsHaveStandardMoments) {
  const std::size_t n = 400'000;
  const auto x = draw(11, Purpose::sensing, 0, n);
  double sum = 0, sum2 = 0, sum4 = 0;
  for (double v : x) {
    sum += v;
    sum2 += v * v;
    sum4 += v * v * v * v;
  }
  const double nd = static_cast<double>(n);
  // Standard errors at n = 4e5: mean 0.0016, variance 0.0022, fourth moment 0.015; bounds are 5 of them.
  EXPECT_NEAR(sum / nd, 0.0, 0.008);
  EXPECT_NEAR(sum2 / nd, 1.0, 0.011);
  EXPECT_NEAR(sum4 / nd, 3.0, 0.075);
}

TEST(RandomStreams, UniformIndicesCoverTheRangeEvenly) {
  std::vector<std::int32_t> out(60'000);
  RandomStreams(2).uniform_indices(Purpose::sample_environment, 0, 3, out);
  std::vector<int> counts(3, 0);
  for (auto i : out) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 3);
    ++counts[static_cast<std::size_t>(i)];
  }
  // Each count is Binomial(6e4, 1/3): standard deviation 115; the bound is 5 of them.
  for (int c : counts) EXPECT_NEAR(c, 20'000, 580);
}

}  // namespace
}  // namespace hetsweep::science
