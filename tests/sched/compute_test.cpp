#include "sched/compute.hpp"

#include <gtest/gtest.h>
#include <cstdint>

namespace hetsweep::sched {
namespace {

science::PendingRun small_run() {
  science::PendingRun run;
  run.row = 100;
  run.params.dim = 6;
  run.params.batch_size = 20;
  run.params.steps = 30;
  run.seed = 3;
  return run;
}

TEST(Compute, TurnsAnExceptionIntoAFailedOutcome) {
  science::PendingRun run;
  run.params.dim = 4;
  // The materialized sampler holds the batch's sensing matrices: 2^40 of them cannot be allocated (the exact
  // sampler would not allocate per sample at all).
  run.params.sampler = science::Sampler::materialized;
  run.params.batch_size = std::int64_t{1} << 40;
  const auto result = compute(run);
  EXPECT_EQ(result.outcome.status, science::RowStatus::failed);
  EXPECT_FALSE(result.error.empty());
}

TEST(Compute, HandsBackARunStoppedMidwayAsPending) {
  const auto run = small_run();
  int checks = 0;
  const auto result = compute(run, [&] { return ++checks == 5; });
  EXPECT_EQ(result.outcome.status, science::RowStatus::pending);
  EXPECT_EQ(result.outcome.result.status, science::RunStatus::interrupted);
  EXPECT_EQ(result.outcome.result.steps_done, 5);
  EXPECT_EQ(result.outcome.row, run.row);
}

TEST(Compute, GivesTheSameResultWithAStopCheckThatNeverStops) {
  const auto run = small_run();
  const auto result = compute(run, [] { return false; });
  EXPECT_EQ(result.outcome.status, science::RowStatus::done);
  EXPECT_EQ(result.outcome.result, science::simulate(run.params, run.seed));
}

TEST(Compute, KeepsADivergedRunDiverged) {
  auto run = small_run();
  run.params.step_size = 50;  // far past stability: U blows up within a few steps
  const auto result = compute(run, [] { return false; });
  EXPECT_EQ(result.outcome.status, science::RowStatus::diverged);
}

TEST(NotComputed, HandsBackTheRunPendingWithoutAResult) {
  const auto run = small_run();
  const auto result = not_computed(run);
  EXPECT_EQ(result.outcome.row, run.row);
  EXPECT_EQ(result.outcome.status, science::RowStatus::pending);
  EXPECT_TRUE(result.outcome.result.records.empty());
}

}  // namespace
}  // namespace hetsweep::sched
