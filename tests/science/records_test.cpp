#include "science/records.hpp"

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace hetsweep::science {
namespace {

TEST(RecordSteps, EveryIntervalAndTheLastStep) {
  Params p;
  p.steps = 25;
  p.record_every = 10;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, 10, 20, 25}));
  p.steps = 20;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, 10, 20}));
  p.steps = 0;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0}));
}

// The rule's arithmetic at the int64 extremes: t + record_every would pass 2^63 - 1 here.
TEST(RecordSteps, NoOverflowAtTheInt64Extremes) {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t two_62 = std::int64_t{1} << 62;
  Params p;
  p.steps = two_62;
  p.record_every = two_62;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, two_62}));
  EXPECT_EQ(record_count(p), 2u);
  p.steps = max;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, two_62, max}));
  EXPECT_EQ(record_count(p), 3u);
  p.record_every = max;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, max}));
  EXPECT_EQ(record_count(p), 2u);
  p.record_every = two_62 + 1;
  EXPECT_EQ(record_steps(p), (std::vector<std::int64_t>{0, two_62 + 1, max}));
  p.record_every = 1;
  EXPECT_EQ(record_count(p), std::uint64_t{1} << 63);  // too many to list, but counted exactly
  p.record_every = 3;
  EXPECT_EQ(record_count(p), static_cast<std::uint64_t>(max / 3) + 2);
}

TEST(RecordCount, MatchesTheListedSteps) {
  Params p;
  for (std::int64_t steps : {0, 1, 9, 10, 11, 25, 100}) {
    for (std::int64_t every : {1, 3, 10, 100, 1000}) {
      p.steps = steps;
      p.record_every = every;
      EXPECT_EQ(record_count(p), record_steps(p).size()) << steps << " " << every;
    }
  }
}

TEST(IsRecordStep, HoldsExactlyAtTheListedSteps) {
  Params p;
  for (const auto& [steps, every] : {std::pair<std::int64_t, std::int64_t>{25, 10}, {20, 10}, {0, 1}, {7, 1}, {5, 9}}) {
    p.steps = steps;
    p.record_every = every;
    std::vector<std::int64_t> listed;
    for (std::int64_t t = 0; t <= steps; ++t) {
      if (is_record_step(p, t)) listed.push_back(t);
    }
    EXPECT_EQ(listed, record_steps(p)) << steps << " steps, every " << every;
  }
}

}  // namespace
}  // namespace hetsweep::science
