#include "science/simulate.hpp"

#include "science/records.hpp"
#include "two_sample_ks.hpp"

#include <gtest/gtest.h>
#include <algorithm>
#include <cmath>

namespace hetsweep::science {
namespace {

Params paper_model() {
  Params p;  // d = 20, r = rs = 2, K = 2, mu = 1, alpha = 1e-3
  p.step_size = 0.05;
  p.batch_size = 1000;
  p.steps = 1000;
  return p;
}

TEST(Simulate, RecordsAtTheRecordSteps) {
  auto p = paper_model();
  p.steps = 25;
  p.record_every = 10;
  const auto result = simulate(p, 1);
  ASSERT_EQ(result.records.size(), 4u);
  EXPECT_EQ(result.records.back().step, 25);
  EXPECT_EQ(result.steps_done, 25);
  EXPECT_EQ(result.status, RunStatus::done);
}

TEST(Simulate, StopsBeforeTheStepTheCheckAsksFor) {
  auto p = paper_model();
  p.steps = 50;
  p.record_every = 5;
  constexpr std::int64_t k = 12;
  std::int64_t asked = 0;
  // Asked before steps 1, 2, ...: true the k-th time, so k steps have been done.
  const auto result = simulate(p, 3, [&] { return ++asked == k; });
  EXPECT_EQ(result.status, RunStatus::interrupted);
  EXPECT_EQ(result.steps_done, k);
  EXPECT_EQ(asked, k);
  ASSERT_EQ(result.records.size(), 3u);  // steps 0, 5, 10
  EXPECT_EQ(result.records.back().step, 10);
  EXPECT_TRUE(std::isnan(result.final_metrics.loss));
  EXPECT_GT(result.final_metrics.true_signal, 0);
  // The records it kept are the uninterrupted run's.
  const auto full = simulate(p, 3);
  EXPECT_TRUE(std::equal(result.records.begin(), result.records.end(), full.records.begin()));
}

TEST(Simulate, ACheckThatNeverStopsLeavesTheResultBitIdentical) {
  for (const auto algorithm : {Algorithm::hetero, Algorithm::pooled, Algorithm::hetero_gd}) {
    auto p = paper_model();
    p.algorithm = algorithm;
    p.steps = 40;
    std::int64_t asked = 0;
    const auto checked = simulate(p, 9, [&] { return ++asked < 0; });
    EXPECT_EQ(checked, simulate(p, 9));
    EXPECT_EQ(checked.status, RunStatus::done);
    EXPECT_EQ(asked, p.steps - 1);  // before steps 1..steps-1
  }
}

TEST(Simulate, AStopAskedAtTheLastStepDoesNotInterruptAFinishedRun) {
  auto p = paper_model();
  p.steps = 1;
  const auto result = simulate(p, 3, [] { return true; });
  EXPECT_EQ(result.status, RunStatus::done);
  EXPECT_EQ(result.steps_done, 1);
}

// On the axis basis with U0 = alpha I, hetero_gd keeps U diagonal and every coordinate follows its own
// scalar recurrence u <- u (1 + 2 eta (s - u^2)), s the coordinate's target eigenvalue at that step.
TEST(HeteroGd, FollowsTheScalarRecurrencesOnTheAxisBasis) {
  Params p;
  p.dim = 6;
  p.algorithm = Algorithm::hetero_gd;
  p.heterogeneity = 0.7;
  p.step_size = 0.05;
  p.steps = 300;
  p.record_every = 1;
  const auto result = simulate(p, 1);
  double u = p.init_scale, v = p.init_scale, w = p.init_scale;  // invariant, spurious, other coordinates
  const double s[2] = {p.spurious_mean - p.heterogeneity, p.spurious_mean + p.heterogeneity};
  for (const auto& record : result.records) {
    const double t = static_cast<double>(record.step);
    const double x = u * u, y = v * v, z = w * w;
    SCOPED_TRACE(t);
    EXPECT_NEAR(record.metrics.true_signal, std::sqrt(2.0) * x, 1e-12 * (1 + x));
    EXPECT_NEAR(record.metrics.spurious_signal, std::sqrt(2.0) * y, 1e-12 * (1 + y));
    const double err = std::sqrt(2 * (x - 1) * (x - 1) + 2 * y * y + 2 * z * z);
    EXPECT_NEAR(record.metrics.err_invariant, err, 1e-12 * (1 + err));
    const double env = s[record.step % 2];
    u *= 1 + 2 * p.step_size * (1 - x);
    v *= 1 + 2 * p.step_size * (env - y);
    w *= 1 + 2 * p.step_size * (0 - z);
  }
  EXPECT_GT(result.records.back().metrics.true_signal, 1.4);  // the invariant signal was learned
}

// Near zero a spurious coordinate is multiplied by (1 + 2 eta s_0)(1 + 2 eta s_1) = (1 + 2 eta mu)^2 -
// 4 eta^2 M^2 per pair of steps (K = 2, cyclic): it contracts exactly when that has magnitude below 1.
TEST(HeteroGd, SpuriousDirectionContractsExactlyWhenTheClosedFormSaysSo) {
  int contracting = 0, growing = 0;
  for (double eta : {0.02, 0.05, 0.1}) {
    for (double m = 0; m <= 12; m += 0.5) {
      const double factor = std::pow(1 + 2 * eta, 2) - 4 * eta * eta * m * m;
      if (std::abs(std::abs(factor) - 1) < 0.01) continue;  // too close to the boundary to call in 10 steps
      Params p;
      p.dim = 4;
      p.algorithm = Algorithm::hetero_gd;
      p.heterogeneity = m;
      p.step_size = eta;
      p.init_scale = 1e-8;  // v^2 ~ 1e-16: the cubic term is negligible, the recurrence is linear
      p.steps = 10;
      p.record_every = 2;
      const auto result = simulate(p, 1);
      const double start = result.records.front().metrics.spurious_signal;  // sqrt(rs) v^2
      const double after_pair = result.records[1].metrics.spurious_signal;
      const double end = result.records.back().metrics.spurious_signal;
      SCOPED_TRACE(testing::Message() << "eta " << eta << " M " << m);
      EXPECT_NEAR(std::sqrt(after_pair / start), std::abs(factor), 1e-6 * (1 + std::abs(factor)));
      EXPECT_EQ(end < start, std::abs(factor) < 1);
      (end < start ? contracting : growing)++;
    }
  }
  EXPECT_GT(contracting, 5);
  EXPECT_GT(growing, 5);
}

TEST(PooledGd, ConvergesToTheInvariantPlusMeanSpuriousSignal) {
  auto p = paper_model();
  p.algorithm = Algorithm::pooled_gd;
  p.heterogeneity = 6;
  p.steps = 2000;
  const auto m = simulate(p, 1).final_metrics;
  // What remains is the other 16 coordinates, still at about alpha^2 = 1e-6 each.
  EXPECT_LT(m.err_pooled, 1e-4);
  EXPECT_NEAR(m.spurious_signal, std::sqrt(2.0), 1e-4);
}

TEST(HeteroGd, LearnsOnlyTheInvariantSignalAboveTheThreshold) {
  auto p = paper_model();
  p.algorithm = Algorithm::hetero_gd;
  p.heterogeneity = 6;
  const auto m = simulate(p, 1).final_metrics;
  EXPECT_LT(m.err_invariant, 1e-4);
  EXPECT_LT(m.spurious_signal, 1e-10);
}

// The paper's claim at eta = 0.05, m = 1000, T = 1000, d = 20, r = rs = 2.
TEST(Hetero, SuppressesTheSpuriousSignalAtHighHeterogeneity) {
  auto p = paper_model();
  p.heterogeneity = 6;
  for (std::uint64_t seed : {1, 2, 3}) EXPECT_LT(simulate(p, seed).final_metrics.spurious_signal, 0.05) << seed;
}

TEST(Hetero, LearnsTheSpuriousSignalAtLowHeterogeneity) {
  auto p = paper_model();
  p.heterogeneity = 1;
  for (std::uint64_t seed : {1, 2, 3}) EXPECT_GT(simulate(p, seed).final_metrics.spurious_signal, 0.8) << seed;
}

TEST(Pooled, LearnsTheSpuriousSignalAtHighHeterogeneity) {
  auto p = paper_model();
  p.algorithm = Algorithm::pooled;
  p.heterogeneity = 6;
  const auto m = simulate(p, 1).final_metrics;
  EXPECT_GT(m.spurious_signal, 0.8);
  EXPECT_LT(m.err_pooled, m.err_invariant);
}

class Determinism : public ::testing::TestWithParam<Params> {};

TEST_P(Determinism, SameSeedGivesBitIdenticalTrajectories) {
  const auto first = simulate(GetParam(), 7);
  (void)simulate(GetParam(), 8);  // other work in between must not matter
  EXPECT_EQ(simulate(GetParam(), 7), first);
}

TEST_P(Determinism, DifferentSeedsGiveDifferentTrajectories) {
  EXPECT_NE(simulate(GetParam(), 7).records, simulate(GetParam(), 8).records);
}

Params determinism_case(Algorithm algorithm, Sensing sensing, Sampler sampler, Basis basis, Schedule schedule) {
  Params p;
  p.dim = 8;
  p.batch_size = 50;
  p.steps = 40;
  p.heterogeneity = 3;
  p.noise = 0.1;
  p.algorithm = algorithm;
  p.sensing = sensing;
  p.sampler = sampler;
  p.basis = basis;
  p.schedule = schedule;
  return p;
}

INSTANTIATE_TEST_SUITE_P(
    EveryPath, Determinism,
    ::testing::Values(
        determinism_case(Algorithm::hetero, Sensing::gaussian, Sampler::exact, Basis::axis, Schedule::cyclic),
        determinism_case(Algorithm::pooled, Sensing::gaussian, Sampler::exact, Basis::random, Schedule::cyclic),
        determinism_case(Algorithm::hetero, Sensing::gaussian, Sampler::materialized, Basis::axis, Schedule::random),
        determinism_case(Algorithm::pooled, Sensing::rank_one, Sampler::materialized, Basis::random, Schedule::cyclic),
        determinism_case(Algorithm::hetero_gd, Sensing::gaussian, Sampler::automatic, Basis::random,
                         Schedule::random)));

TEST(Simulate, NarrowFactorStartsFromTheSeedsGaussian) {
  auto p = determinism_case(Algorithm::hetero, Sensing::gaussian, Sampler::exact, Basis::axis, Schedule::cyclic);
  p.width = 2;
  const auto a = simulate(p, 1), b = simulate(p, 2);
  EXPECT_NE(a.records.front().metrics, b.records.front().metrics);
}

TEST(Simulate, ReportsDivergenceAsAResultWithTheStep) {
  auto p = paper_model();
  p.step_size = 1.0;
  p.heterogeneity = 6;
  p.steps = 200;
  const auto result = simulate(p, 1);
  EXPECT_EQ(result.status, RunStatus::diverged);
  EXPECT_LT(result.steps_done, 200);
  // The trajectory keeps to the record steps; the state where it diverged is the run's end state.
  const auto grid = record_steps(p);
  for (const auto& record : result.records) {
    EXPECT_NE(std::find(grid.begin(), grid.end(), record.step), grid.end()) << record.step;
    EXPECT_LE(record.step, result.steps_done);
  }
  EXPECT_GT(result.records.back().step, result.steps_done - p.record_every);
  const auto& end = result.final_metrics;
  EXPECT_TRUE(!std::isfinite(end.loss) || end.err_invariant > 1e3);
}

}  // namespace
}  // namespace hetsweep::science

namespace hetsweep::science {
namespace {

// The exact sampler is another random stream of the same law as the materialized one: over many seeds the
// final metrics of the two must have the same distribution. A small model near the transition (M = 3,
// eta = 0.1: the final spurious signal varies widely between seeds) and 150 seeds per sampler; the
// two-sample KS test rejects at level 0.001 above 1.95 sqrt(2/150) = 0.225.
TEST(ExactSampler, FinalMetricsHaveTheMaterializedDistributionOverSeeds) {
  Params p;
  p.dim = 6;
  p.batch_size = 40;
  p.steps = 150;
  p.record_every = 150;
  p.heterogeneity = 3;
  p.step_size = 0.1;
  p.noise = 0.2;
  for (auto algorithm : {Algorithm::hetero, Algorithm::pooled}) {
    p.algorithm = algorithm;
    std::vector<std::vector<double>> exact(3), materialized(3);
    for (std::uint64_t seed = 1; seed <= 150; ++seed) {
      p.sampler = Sampler::exact;
      const auto a = simulate(p, seed).final_metrics;
      p.sampler = Sampler::materialized;
      const auto b = simulate(p, 1000 + seed).final_metrics;
      for (auto [k, field] :
           {std::pair{0, &Metrics::spurious_signal}, {1, &Metrics::err_invariant}, {2, &Metrics::loss}}) {
        exact[static_cast<std::size_t>(k)].push_back(a.*field);
        materialized[static_cast<std::size_t>(k)].push_back(b.*field);
      }
    }
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_LT(two_sample_ks(exact[k], materialized[k]), 0.225) << to_string(algorithm) << " metric " << k;
    }
  }
}

}  // namespace
}  // namespace hetsweep::science
