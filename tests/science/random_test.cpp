#include "science/random.hpp"

#include "two_sample_ks.hpp"

#include <Random123/philox.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <vector>

namespace hetsweep::science {
namespace {

std::vector<double> draw(std::uint64_t seed, Purpose purpose, std::uint64_t step, std::size_t n) {
  std::vector<double> out(n);
  RandomStreams(seed).normals(purpose, step, out);
  return out;
}

// Random123's Philox4x32-10 block `counter` under `key`, as the two words philox_blocks promises.
std::array<std::uint64_t, 2> reference_block(PhiloxKey key, PhiloxCounterTail tail, std::uint32_t counter) {
  const r123::Philox4x32::ctr_type block =
      r123::Philox4x32{}({{counter, tail[0], tail[1], tail[2]}}, {{key[0], key[1]}});
  return {block.v[0] | std::uint64_t{block.v[1]} << 32, block.v[2] | std::uint64_t{block.v[3]} << 32};
}

class PhiloxBlocks : public ::testing::TestWithParam<PhiloxKernel> {};

TEST_P(PhiloxBlocks, EqualRandom123sPhilox4x32ForEveryCountAndStart) {
  if (!philox_kernel_supported(GetParam())) GTEST_SKIP() << "this CPU lacks the kernel's instructions";
  const PhiloxKey key = {0x9e3779b9u, 0x01234567u};
  const PhiloxCounterTail tail = {7, 0xffffffffu, 5};
  // Counts around every kernel's group sizes (4, 8, 16, 32 blocks), and starts up to the last counter.
  for (std::uint32_t first : {0u, 1u, 1000u, 0xffffffffu - 200u}) {
    for (std::size_t blocks : {0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 64, 77, 128, 200}) {
      std::vector<std::uint64_t> words(2 * blocks);
      philox_blocks(GetParam(), key, tail, first, words);
      for (std::size_t b = 0; b < blocks; ++b) {
        const auto expected = reference_block(key, tail, first + static_cast<std::uint32_t>(b));
        ASSERT_EQ(words[2 * b], expected[0]) << "first " << first << " blocks " << blocks << " block " << b;
        ASSERT_EQ(words[2 * b + 1], expected[1]) << "first " << first << " blocks " << blocks << " block " << b;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, PhiloxBlocks,
                         ::testing::Values(PhiloxKernel::portable, PhiloxKernel::avx2, PhiloxKernel::avx512),
                         [](const auto& info) {
                           switch (info.param) {
                             case PhiloxKernel::portable:
                               return "Portable";
                             case PhiloxKernel::avx2:
                               return "Avx2";
                             case PhiloxKernel::avx512:
                               return "Avx512";
                           }
                           return "Unknown";
                         });

TEST(PhiloxKernels, FastestIsSupported) { EXPECT_TRUE(philox_kernel_supported(fastest_philox_kernel())); }

TEST(StreamBits, AreThePhiloxBlocksKeyedBySeedAndCountedByBlockStepAndPurpose) {
  const std::uint64_t seed = 0x0123456789abcdefULL, step = 0x0000000500000003ULL;
  StreamBits bits(seed, Purpose::noise, step);
  const PhiloxKey key = {0x89abcdefu, 0x01234567u};
  const PhiloxCounterTail tail = {3, 5, static_cast<std::uint32_t>(Purpose::noise)};
  // 1000 blocks span several refills of growing size.
  for (std::uint32_t block = 0; block < 1000; ++block) {
    const auto expected = reference_block(key, tail, block);
    ASSERT_EQ(bits(), expected[0]) << "block " << block;
    ASSERT_EQ(bits(), expected[1]) << "block " << block;
  }
}

TEST(StreamBits, GiveTheSameWordsWhateverTheExpectedCount) {
  StreamBits plain(11, Purpose::complement, 4);
  for (std::size_t expected : {1, 2, 17, 219, 256, 5000}) {
    StreamBits hinted(11, Purpose::complement, 4, expected);
    StreamBits reference(11, Purpose::complement, 4);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(hinted(), reference()) << "expected " << expected << " word " << i;
  }
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
  EXPECT_NE(base, draw(5, Purpose::sensing, 3 + (std::uint64_t{1} << 32), 8));  // the step's high word counts
  EXPECT_NE(base, draw(5 + (std::uint64_t{1} << 32), Purpose::sensing, 3, 8));  // and the seed's
}

TEST(Variates, DrawingNormalsInPiecesGivesTheNumbersOfOneDraw) {
  const auto whole = draw(9, Purpose::sensing, 2, 5000);
  auto stream = RandomStreams(9).variates(Purpose::sensing, 2);
  std::vector<double> pieces(whole.size());
  std::size_t drawn = 0;
  for (std::size_t piece : {1, 2, 250, 13, 1000, 3734}) {
    stream.fill_normals(std::span(pieces).subspan(drawn, piece));
    drawn += piece;
  }
  ASSERT_EQ(drawn, whole.size());
  EXPECT_EQ(pieces, whole);
}

// fill_normals runs Boost's first ziggurat test itself and calls Boost only for the words it rejects; the
// numbers must be Boost's own, bit for bit. 10^7 draws take about 276,000 rejections and 5,800 tail draws.
TEST(Variates, NormalsAreBoostsZigguratOnTheStreamsWords) {
  const std::size_t n = 10'000'000;
  std::vector<double> ours(n), boosts(n);
  RandomStreams(7).variates(Purpose::sensing, 3).fill_normals(ours);
  StreamBits bits(7, Purpose::sensing, 3);
  boost::random::detail::unit_normal_distribution<double> ziggurat;
  for (auto& x : boosts) x = ziggurat(bits);
  const auto mismatch = std::mismatch(ours.begin(), ours.end(), boosts.begin(), [](double a, double b) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
  });
  EXPECT_EQ(mismatch.first, ours.end()) << "first difference at draw " << (mismatch.first - ours.begin());
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

double standard_normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// 10^6 normals tested against N(0,1) three ways. Each bound is about the statistic's 1e-6 upper quantile under
// N(0,1), so a correct generator fails one with probability about 3e-6, while a wrong layer, wedge or tail of
// the ziggurat moves its statistic far past it.
const std::vector<double>& sample() {
  static const auto normals = draw(21, Purpose::sensing, 4, 1'000'000);
  return normals;
}

TEST(NormalDistribution, KolmogorovSmirnovDistanceIsSmall) {
  auto x = sample();
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double distance = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = standard_normal_cdf(x[i]);
    distance = std::max({distance, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  // sqrt(n) D tends to the Kolmogorov distribution, whose 1e-6 upper quantile is 2.693.
  EXPECT_LT(std::sqrt(n) * distance, 2.693);
}

TEST(NormalDistribution, ChiSquareOverTwoHundredEquallyLikelyBinsIsSmall) {
  constexpr int bins = 200;
  std::vector<double> counts(bins, 0.0);
  for (double v : sample()) {
    ++counts[static_cast<std::size_t>(std::min(bins - 1, static_cast<int>(bins * standard_normal_cdf(v))))];
  }
  const double expected = static_cast<double>(sample().size()) / bins;
  double chi_square = 0;
  for (double c : counts) chi_square += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi_square, 308.6);  // the 1e-6 upper quantile of chi-square with 199 degrees of freedom
}

TEST(NormalDistribution, TailWhereTheZigguratSwitchesAlgorithmHasItsMass) {
  // Boost's ziggurat draws |x| > 3.4426 (its second layer's edge) by a separate tail algorithm. The mass there is
  // 5.761e-4: 576.1 expected in 10^6, standard deviation 24.0; the bound is 5 of them.
  const auto tail =
      std::count_if(sample().begin(), sample().end(), [](double v) { return std::abs(v) > 3.4426198558966521; });
  EXPECT_NEAR(static_cast<double>(tail), 576.1, 120.0);
}

// Sample mean and variance of 2 10^5 chi-squares against nu and 2 nu, within 5 standard errors (the variance's
// is sqrt((8 nu^2 + 48 nu) / n), from the fourth central moment 12 nu (nu + 4)).
TEST(Variates, ChiSquareHasItsMeanAndVarianceForEveryDegree) {
  const int n = 200'000;
  for (std::int64_t degrees : {1, 2, 3, 10, 1000}) {
    auto draws = RandomStreams(31).variates(Purpose::sensing, static_cast<std::uint64_t>(degrees));
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = draws.chi_square(degrees);
      ASSERT_GE(x, 0.0);
      sum += x;
      sum2 += x * x;
    }
    const double nu = static_cast<double>(degrees), mean = sum / n, variance = sum2 / n - mean * mean;
    EXPECT_NEAR(mean, nu, 5 * std::sqrt(2 * nu / n)) << degrees;
    EXPECT_NEAR(variance, 2 * nu, 5 * std::sqrt((8 * nu * nu + 48 * nu) / n)) << degrees;
  }
}

// Chi-square(3) by Marsaglia-Tsang against z1^2 + z2^2 + z3^2 from another stream: two-sample Kolmogorov-Smirnov
// with the 1e-6 bound 2.693 sqrt(2 / n).
TEST(Variates, ChiSquareHasTheLawOfASumOfSquaredNormals) {
  const std::size_t n = 200'000;
  auto draws = RandomStreams(37).variates(Purpose::sensing, 0);
  std::vector<double> direct(n), summed(n);
  for (auto& x : direct) x = draws.chi_square(3);
  const auto z = draw(37, Purpose::noise, 0, 3 * n);
  for (std::size_t i = 0; i < n; ++i) {
    summed[i] = z[3 * i] * z[3 * i] + z[3 * i + 1] * z[3 * i + 1] + z[3 * i + 2] * z[3 * i + 2];
  }
  EXPECT_LT(two_sample_ks(direct, summed), 2.693 * std::sqrt(2.0 / static_cast<double>(n)));
}

TEST(Variates, UniformsLieInTheUnitIntervalWithMeanOneHalf) {
  auto draws = RandomStreams(41).variates(Purpose::sensing, 0);
  const int n = 100'000;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double u = draws.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));  // 5 standard errors
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

TEST(RandomStreams, CountedUniformIndicesAreTheCountsOfTheDrawnOnes) {
  for (std::uint32_t bound : {1u, 2u, 3u, 7u}) {
    for (std::int64_t n : {0, 1, 15, 16, 17, 255, 256, 1000, 4097}) {
      std::vector<std::int32_t> drawn(static_cast<std::size_t>(n));
      RandomStreams(5).uniform_indices(Purpose::sample_environment, 9, bound, drawn);
      std::vector<std::int64_t> expected(bound, 0), counted(bound, -1);
      for (auto i : drawn) ++expected[static_cast<std::size_t>(i)];
      RandomStreams(5).count_uniform_indices(Purpose::sample_environment, 9, n, counted);
      EXPECT_EQ(counted, expected) << "bound " << bound << " n " << n;
    }
  }
}

}  // namespace
}  // namespace hetsweep::science
