#include "cli/sweep_rate.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace hetsweep::cli {
namespace {

constexpr double start = 1.8e9;  // a Unix time

// Results written every `interval` seconds from start + interval on, `n` of them; pending rows as zeros.
std::vector<double> steady_results(int n, double interval, int pending = 0) {
  std::vector<double> finished_at;
  for (int i = 1; i <= n; ++i) finished_at.push_back(start + i * interval);
  finished_at.insert(finished_at.end(), static_cast<std::size_t>(pending), 0.0);
  return finished_at;
}

TEST(EstimateRate, MeasuresAYoungSweepOverItsOwnAgeNotTheWholeWindow) {
  // 12 s into a sweep finishing 2 runs/s, with 400 runs left: the rate must not be diluted by the 108 s of
  // the window before the sweep started.
  const auto finished_at = steady_results(24, 0.5, 400);
  const auto rate = estimate_rate(finished_at, 400, start + 12.2);
  ASSERT_TRUE(rate.runs_per_second);
  EXPECT_DOUBLE_EQ(*rate.runs_per_second, 2.0);
  EXPECT_DOUBLE_EQ(rate.covered_seconds, 11.5);
  ASSERT_TRUE(rate.eta_seconds);
  EXPECT_DOUBLE_EQ(*rate.eta_seconds, 200.0);
  EXPECT_FALSE(rate.stalled);
}

TEST(EstimateRate, CountsOnlyTheResultsWithinTheWindowBeforeTheNewest) {
  // 1 run/s for 1000 s, then 4 runs/s for the last 200 s: the window sees only the recent pace.
  auto finished_at = steady_results(1000, 1.0);
  for (int i = 1; i <= 800; ++i) finished_at.push_back(start + 1000 + i * 0.25);
  const auto rate = estimate_rate(finished_at, 100, start + 1200, 120.0);
  ASSERT_TRUE(rate.runs_per_second);
  EXPECT_NEAR(*rate.runs_per_second, 4.0, 1e-9);
  EXPECT_NEAR(rate.covered_seconds, 120.0, 1e-6);
  EXPECT_NEAR(*rate.eta_seconds, 25.0, 1e-6);
}

TEST(EstimateRate, IsUnknownBeforeTwoDistinctWriteTimes) {
  EXPECT_FALSE(estimate_rate(std::vector<double>{0.0, 0.0}, 2, start).runs_per_second);
  const auto one = estimate_rate(std::vector<double>{start, 0.0}, 1, start + 1);
  EXPECT_FALSE(one.runs_per_second);
  EXPECT_FALSE(one.eta_seconds);
  // A batch written at one instant has no span to measure a rate over.
  EXPECT_FALSE(estimate_rate(std::vector<double>{start, start, start, 0.0}, 1, start + 1).runs_per_second);
}

TEST(EstimateRate, EtaIsZeroWhenNothingIsPending) {
  const auto rate = estimate_rate(steady_results(10, 1.0), 0, start + 5000);
  ASSERT_TRUE(rate.eta_seconds);
  EXPECT_EQ(*rate.eta_seconds, 0.0);
  EXPECT_FALSE(rate.stalled);
}

TEST(EstimateRate, EtaIsUnknownWhenNothingWasWrittenForAWholeWindow) {
  const auto rate = estimate_rate(steady_results(10, 1.0, 5), 5, start + 10 + 121, 120.0);
  EXPECT_TRUE(rate.stalled);
  EXPECT_TRUE(rate.runs_per_second);
  EXPECT_FALSE(rate.eta_seconds);
}

}  // namespace
}  // namespace hetsweep::cli
