#include "sched/batch_sizer.hpp"

#include <gtest/gtest.h>

namespace hetsweep::sched {
namespace {

TEST(BatchSizer, StartsWithSingleRuns) { EXPECT_EQ(BatchSizer(0.1).next(1000, 4), 1); }

TEST(BatchSizer, GrowsBatchesOfShortRunsToTheTargetDuration) {
  BatchSizer sizer(0.1);
  sizer.observe(0.001);
  EXPECT_EQ(sizer.next(100000, 4), 100);
}

TEST(BatchSizer, SendsLongRunsOneAtATime) {
  BatchSizer sizer(0.1);
  sizer.observe(5.0);
  EXPECT_EQ(sizer.next(100000, 4), 1);
}

TEST(BatchSizer, LeavesTwoBatchesPerWorkerInTheTail) {
  BatchSizer sizer(0.1);
  sizer.observe(0.0001);
  EXPECT_EQ(sizer.next(80, 4), 10);
  EXPECT_EQ(sizer.next(3, 4), 1);
  EXPECT_EQ(sizer.next(0, 4), 0);
}

TEST(BatchSizer, FollowsAChangingRunCost) {
  BatchSizer sizer(0.1);
  sizer.observe(0.001);
  for (int i = 0; i < 100; ++i) sizer.observe(0.05);
  EXPECT_LE(sizer.next(100000, 1), 3);
}

}  // namespace
}  // namespace hetsweep::sched
