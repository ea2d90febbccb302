#include "science/footprint.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace hetsweep::science {
namespace {

constexpr double mib = 1024.0 * 1024.0;

TEST(EstimateRunMemory, TheDefaultRunTakesAFewMegabytesAtMost) {
  const auto estimate = estimate_run_memory(Params{});
  EXPECT_GT(estimate.bytes, 1 * mib);  // the fixed allowance alone
  EXPECT_LT(estimate.bytes, 4 * mib);
}

TEST(EstimateRunMemory, GrowsWithTheBatchByItsPerSampleBuffers) {
  Params p;
  p.sampler = Sampler::materialized;
  p.batch_size = 100'000'000;
  const auto large = estimate_run_memory(p);
  p.batch_size = 50'000'000;
  const auto half = estimate_run_memory(p);
  // 20 bytes a sample: a 4-byte environment index, its noise and its residual.
  EXPECT_NEAR(large.bytes - half.bytes, 50'000'000 * 20.0, 1.0);
  EXPECT_EQ(large.dominant, "batch_size");
}

TEST(EstimateRunMemory, TheExactSamplerGrowsWithTheSquareOfTheEnvironments) {
  Params p;
  p.environments = 20'000;
  const auto exact = estimate_run_memory(p);
  p.sampler = Sampler::materialized;
  const auto materialized = estimate_run_memory(p);
  // Its (K + 1) x K weights, (K + 1)^2 Wishart factor and P x K basis, against the materialized sampler's
  // block of 4096 / P = 19 packed sensing matrices (P = 210 at d = 20).
  const double packed = 20.0 * 21 / 2;
  EXPECT_NEAR(exact.bytes - materialized.bytes,
              8 * (20'001.0 * 20'000 + 20'001.0 * 20'001 + packed * 20'000 + 5 * 20'000 + packed - 19 * packed), 1.0);
  EXPECT_EQ(exact.dominant, "environments");
}

TEST(EstimateRunMemory, TheRecordsWeighFortyEightBytesEach) {
  Params p;
  p.algorithm = Algorithm::hetero_gd;
  p.steps = 1'000'000'000;
  p.record_every = 1;
  const auto estimate = estimate_run_memory(p);
  EXPECT_GT(estimate.bytes, 48e9);
  EXPECT_LT(estimate.bytes, 48e9 + 4 * mib);
  EXPECT_EQ(estimate.dominant, "steps");
}

// Out-of-range values must not wrap the estimate around to something small that would pass.
TEST(EstimateRunMemory, StaysLargeAndFiniteAtTheInt64Extremes) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  for (const std::int64_t huge : {std::int64_t{1} << 62, max}) {
    Params p;
    p.batch_size = huge;
    EXPECT_GE(estimate_run_memory(p).bytes, static_cast<double>(huge)) << huge;
    EXPECT_TRUE(std::isfinite(estimate_run_memory(p).bytes));
    p = Params{};
    p.environments = huge;
    EXPECT_GE(estimate_run_memory(p).bytes, static_cast<double>(huge)) << huge;
    p = Params{};
    p.steps = huge;
    p.record_every = 1;
    EXPECT_GE(estimate_run_memory(p).bytes, static_cast<double>(huge)) << huge;
    EXPECT_TRUE(check_memory(p, 1e12).has_value());
  }
}

TEST(CheckMemory, RefusesAboveTheLimitWithTheEstimateAndTheDominantParameter) {
  Params p;
  p.sampler = Sampler::materialized;
  p.batch_size = 100'000'000;  // 20 * 1e8 bytes = 1.9 GiB of batch buffers
  const auto problem = check_memory(p, 1024 * mib);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->key, "batch_size");
  EXPECT_NE(problem->message.find("about 1.9 GiB of memory, mostly for the batch"), std::string::npos)
      << problem->message;
  EXPECT_NE(problem->message.find("at most 1.0 GiB"), std::string::npos) << problem->message;
  EXPECT_FALSE(check_memory(p, 4096 * mib).has_value());
}

TEST(RunMemoryLimit, IsAQuarterOfThePhysicalMemory) {
  EXPECT_GT(machine_memory(), 64 * mib);
  EXPECT_DOUBLE_EQ(run_memory_limit(), machine_memory() / 4);
}

TEST(FormatBytes, UsesBinaryUnits) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1.5 * 1024), "1.5 KiB");
  EXPECT_EQ(format_bytes(3 * mib), "3.0 MiB");
  EXPECT_EQ(format_bytes(17.6 * 1024 * mib), "17.6 GiB");
}

}  // namespace
}  // namespace hetsweep::science
