#include "sched/stall_watch.hpp"

#include <gtest/gtest.h>

namespace hetsweep::sched {
namespace {

TEST(StallRule, IsTheFloorOrTwentyTimesTheExpectedTime) {
  const StallRule rule{60};
  EXPECT_EQ(rule.limit_seconds(0.0), 60);
  EXPECT_EQ(rule.limit_seconds(2.0), 60);
  EXPECT_EQ(rule.limit_seconds(10.0), 200);
}

TEST(StallRule, GivesABatchOfUnknownCostAtLeastAMinute) {
  EXPECT_EQ(StallRule{2}.limit_seconds(std::nullopt), 60);
  EXPECT_EQ(StallRule{600}.limit_seconds(std::nullopt), 600);
}

TEST(StallWatch, WarnsOnceAboutAWorkerSilentPastTheLimit) {
  StallWatch watch(2, {60}, std::nullopt);
  const double mean = 0.1;
  watch.sent(1, 1, 100);
  watch.sent(2, 1, 100);
  watch.heard(2, 150);
  watch.sent(2, 1, 150);
  EXPECT_TRUE(watch.newly_stalled(159, mean).empty());
  const auto stalls = watch.newly_stalled(161, mean);
  ASSERT_EQ(stalls.size(), 1u);
  EXPECT_EQ(stalls[0].worker, 1);
  EXPECT_DOUBLE_EQ(stalls[0].silent_seconds, 61);
  EXPECT_DOUBLE_EQ(*stalls[0].expected_batch_seconds, 0.1);
  const auto later = watch.newly_stalled(300, mean);
  ASSERT_EQ(later.size(), 1u) << "worker 1 is not warned about again";
  EXPECT_EQ(later[0].worker, 2);
  EXPECT_TRUE(watch.newly_stalled(301, mean).empty());
  EXPECT_FALSE(watch.stalled_past_stop(1e9, mean)) << "without a stop rule a stall never stops the sweep";
}

TEST(StallWatch, GivesALongBatchTwentyTimesItsExpectedTime) {
  StallWatch watch(1, {60}, StallRule{2});
  watch.sent(1, 4, 0);  // 4 runs of 2.5 s: 10 s expected, 200 s allowed
  EXPECT_TRUE(watch.newly_stalled(199, 2.5).empty());
  EXPECT_FALSE(watch.stalled_past_stop(199, 2.5));
  EXPECT_EQ(watch.newly_stalled(201, 2.5).size(), 1u);
  const auto stall = watch.stalled_past_stop(201, 2.5);
  ASSERT_TRUE(stall);
  EXPECT_EQ(stall->worker, 1);
}

TEST(StallWatch, StopsPastTheStopFloorWhenTheBatchIsShort) {
  StallWatch watch(3, {2}, StallRule{2});
  const double mean = 0.05;
  for (int w = 1; w <= 3; ++w) watch.sent(w, 1, 0);
  for (int w : {1, 3}) {
    watch.heard(w, 1.5);
    watch.sent(w, 1, 1.5);
  }
  EXPECT_FALSE(watch.stalled_past_stop(2.0, mean));
  const auto stall = watch.stalled_past_stop(2.1, mean);
  ASSERT_TRUE(stall);
  EXPECT_EQ(stall->worker, 2);
}

TEST(StallWatch, WaitsAMinuteBeforeAnyRunTimeIsKnown) {
  StallWatch watch(1, {2}, StallRule{2});
  watch.sent(1, 1, 0);
  EXPECT_FALSE(watch.stalled_past_stop(59, std::nullopt));
  EXPECT_TRUE(watch.newly_stalled(59, std::nullopt).empty());
  EXPECT_TRUE(watch.stalled_past_stop(59, 0.01)) << "once another worker's runs give a mean, the floor applies";
}

TEST(StallWatch, MeasuresSilenceFromTheLastAnswerOnTheBatchBeingComputed) {
  StallWatch watch(1, {60}, std::nullopt);
  watch.sent(1, 1, 0);   // computed first
  watch.sent(1, 10, 0);  // queued behind it: 10 runs of 1 s
  watch.heard(1, 50);    // the first is answered: now the 10 s batch, allowed 200 s from 50
  EXPECT_TRUE(watch.newly_stalled(249, 1.0).empty());
  EXPECT_EQ(watch.newly_stalled(251, 1.0).size(), 1u);
  watch.heard(1, 260);  // it spoke: after a new silence the warning comes again
  watch.sent(1, 1, 260);
  EXPECT_EQ(watch.newly_stalled(321, 1.0).size(), 1u);
}

TEST(StallWatch, NeverFlagsAnIdleWorker) {
  StallWatch watch(1, {60}, StallRule{2});
  watch.sent(1, 1, 0);
  watch.heard(1, 1);
  EXPECT_TRUE(watch.newly_stalled(1e6, 0.1).empty());
  EXPECT_FALSE(watch.stalled_past_stop(1e6, 0.1));
  watch.sent(1, 1, 1e6);  // work again after a long idle time: the silence starts now
  EXPECT_FALSE(watch.stalled_past_stop(1e6 + 1, 0.1));
}

}  // namespace
}  // namespace hetsweep::sched
