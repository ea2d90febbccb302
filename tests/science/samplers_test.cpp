#include "science/samplers.hpp"

#include <gtest/gtest.h>

#include <tuple>

namespace hetsweep::science {
namespace {

// A small model at a fixed, generic U (not near any target), so every gradient term is non-zero.
Params small_model(Algorithm algorithm, Sensing sensing, Sampler sampler) {
  Params p;
  p.dim = 6;
  p.invariant_rank = 2;
  p.spurious_rank = 2;
  p.environments = 2;
  p.heterogeneity = 3.0;
  p.batch_size = 40;
  p.algorithm = algorithm;
  p.sensing = sensing;
  p.sampler = sampler;
  return p;
}

Matrix fixed_factor(Eigen::Index d) {
  Matrix u(d, d);
  for (Eigen::Index i = 0; i < d; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) u(i, j) = 0.3 * std::sin(1.0 + 2.0 * i + 3.0 * j) + (i == j ? 0.5 : 0.0);
  }
  return u;
}

// Sample moments of the flattened gradient over `draws` steps whose environment (hetero: step mod 2) is
// `parity` (or every step when parity < 0), with the mean loss.
struct Moments {
  Vector mean;
  Matrix covariance;
  double mean_loss = 0;
  int draws = 0;
};

Moments gradient_moments(const Params& p, const Matrix& u, int draws, int parity, std::uint64_t seed) {
  const RandomStreams streams(seed);
  const Model model(p, streams);
  auto gradient = make_step_gradient(model, p, streams);
  const auto n = u.size();
  Moments m{Vector::Zero(n), Matrix::Zero(n, n), 0, 0};
  Matrix g(u.rows(), u.cols());
  for (std::int64_t step = 0; m.draws < draws; ++step) {
    if (parity >= 0 && step % 2 != parity) continue;
    m.mean_loss += gradient->evaluate(u, step, g);
    const Eigen::Map<const Vector> flat(g.data(), n);
    m.mean += flat;
    m.covariance += flat * flat.transpose();
    ++m.draws;
  }
  m.mean /= m.draws;
  m.mean_loss /= m.draws;
  m.covariance = m.covariance / m.draws - m.mean * m.mean.transpose();
  return m;
}

// Asserts the sample mean equals `expected` entry by entry within 5 standard errors (36 entries: a false
// alarm has probability about 2e-5), and as a whole within 5% of |expected|.
void expect_mean_matches(const Moments& m, const Matrix& expected) {
  const Eigen::Map<const Vector> want(expected.data(), expected.size());
  for (Eigen::Index i = 0; i < want.size(); ++i) {
    const double standard_error = std::sqrt(m.covariance(i, i) / m.draws);
    EXPECT_LT(std::abs(m.mean[i] - want[i]), 5 * standard_error + 1e-12) << "entry " << i;
  }
  EXPECT_LT((m.mean - want).norm(), 0.05 * want.norm());
}

class GaussianSamplers : public ::testing::TestWithParam<Sampler> {};

TEST_P(GaussianSamplers, HeteroGradientMeanIsPopulationGradientOfTheStepsEnvironment) {
  const auto p = small_model(Algorithm::hetero, Sensing::gaussian, GetParam());
  const Matrix u = fixed_factor(p.dim);
  const Model model(p, RandomStreams(1));
  const Matrix x = u * u.transpose();
  for (int e = 0; e < 2; ++e) {
    const auto m = gradient_moments(p, u, 6000, e, 17);
    const Matrix d = x - model.environment_target(e);
    expect_mean_matches(m, 2.0 * d * u);
    EXPECT_NEAR(m.mean_loss, 0.5 * d.squaredNorm(), 0.05 * 0.5 * d.squaredNorm());
  }
}

TEST_P(GaussianSamplers, PooledGradientMeanIsPopulationGradientOfTheMixture) {
  const auto p = small_model(Algorithm::pooled, Sensing::gaussian, GetParam());
  const Matrix u = fixed_factor(p.dim);
  const Model model(p, RandomStreams(1));
  const auto m = gradient_moments(p, u, 6000, -1, 23);
  expect_mean_matches(m, 2.0 * (u * u.transpose() - model.pooled_target()) * u);
}

TEST_P(GaussianSamplers, NoiseAddsHalfItsVarianceToTheMeanLoss) {
  auto p = small_model(Algorithm::hetero, Sensing::gaussian, GetParam());
  p.noise = 2.0;
  const Matrix u = fixed_factor(p.dim);
  const Model model(p, RandomStreams(1));
  const Matrix d = u * u.transpose() - model.environment_target(0);
  const auto m = gradient_moments(p, u, 6000, 0, 29);
  const double expected = 0.5 * d.squaredNorm() + 0.5 * p.noise * p.noise;
  EXPECT_NEAR(m.mean_loss, expected, 0.05 * expected);
  expect_mean_matches(m, 2.0 * d * u);
}

INSTANTIATE_TEST_SUITE_P(BothSamplers, GaussianSamplers, ::testing::Values(Sampler::exact, Sampler::materialized),
                         [](const auto& info) { return info.param == Sampler::exact ? "Exact" : "Materialized"; });

// For A = x x^T with x ~ N(0, I), Isserlis' theorem gives E[(x^T D x) x x^T] = 2D + tr(D) I, so the
// population gradient is 2 (2D + tr(D) I) U and the population loss (2|D|^2 + tr(D)^2) / 2.
TEST(RankOneSampler, GradientMeanIsTheIsserlisPopulationGradient) {
  const auto p = small_model(Algorithm::hetero, Sensing::rank_one, Sampler::materialized);
  const Matrix u = fixed_factor(p.dim);
  const Model model(p, RandomStreams(1));
  const Matrix d = u * u.transpose() - model.environment_target(1);
  Matrix expected = 2.0 * d;
  expected.diagonal().array() += d.trace();
  const auto m = gradient_moments(p, u, 20000, 1, 31);
  expect_mean_matches(m, 2.0 * expected * u);
  const double loss = 0.5 * (2.0 * d.squaredNorm() + d.trace() * d.trace());
  EXPECT_NEAR(m.mean_loss, loss, 0.05 * loss);
}

TEST(RankOneSampler, PopulationGradientMatchesItsMonteCarloMean) {
  const auto sampled = small_model(Algorithm::pooled, Sensing::rank_one, Sampler::materialized);
  auto population = sampled;
  population.algorithm = Algorithm::pooled_gd;
  const Matrix u = fixed_factor(sampled.dim);
  const RandomStreams streams(1);
  const Model model(population, streams);
  Matrix expected(u.rows(), u.cols());
  make_step_gradient(model, population, streams)->evaluate(u, 0, expected);
  expect_mean_matches(gradient_moments(sampled, u, 20000, -1, 37), expected);
}

// The exact sampler is a different random stream with the same law: its gradient's covariance must match
// the materialized sampler's. With 8000 draws each, a covariance entry's relative standard error is about
// 2-3%, so the whole matrix must agree within 10% (Frobenius) and each variance within 15%.
TEST(ExactSampler, GradientCovarianceMatchesMaterialized) {
  for (auto algorithm : {Algorithm::hetero, Algorithm::pooled}) {
    const auto exact = small_model(algorithm, Sensing::gaussian, Sampler::exact);
    const auto materialized = small_model(algorithm, Sensing::gaussian, Sampler::materialized);
    const Matrix u = fixed_factor(exact.dim);
    const auto a = gradient_moments(exact, u, 8000, algorithm == Algorithm::hetero ? 0 : -1, 41);
    const auto b = gradient_moments(materialized, u, 8000, algorithm == Algorithm::hetero ? 0 : -1, 43);
    EXPECT_LT((a.covariance - b.covariance).norm(), 0.10 * b.covariance.norm()) << to_string(algorithm);
    for (Eigen::Index i = 0; i < a.mean.size(); ++i) {
      EXPECT_NEAR(a.covariance(i, i) / b.covariance(i, i), 1.0, 0.15) << to_string(algorithm) << " entry " << i;
    }
  }
}

// Batches smaller than the basis (m = 2 over K = 3 environments with noise: each environment's n_e < J + 1),
// where the exact sampler forms each W_e from drawn vectors instead of Bartlett's decomposition. At 10^5 draws
// the covariances' relative standard error is about 1%, the per-entry one about 1.5%.
TEST(ExactSampler, GradientCovarianceMatchesMaterializedForBatchesSmallerThanTheBasis) {
  auto exact = small_model(Algorithm::pooled, Sensing::gaussian, Sampler::exact);
  exact.environments = 3;
  exact.batch_size = 2;
  exact.noise = 0.5;
  auto materialized = exact;
  materialized.sampler = Sampler::materialized;
  const Matrix u = fixed_factor(exact.dim);
  const auto a = gradient_moments(exact, u, 100'000, -1, 47);
  const auto b = gradient_moments(materialized, u, 100'000, -1, 53);
  EXPECT_LT((a.covariance - b.covariance).norm(), 0.08 * b.covariance.norm());
  for (Eigen::Index i = 0; i < a.mean.size(); ++i) {
    EXPECT_NEAR(a.covariance(i, i) / b.covariance(i, i), 1.0, 0.10) << "entry " << i;
  }
  EXPECT_NEAR(a.mean_loss / b.mean_loss, 1.0, 0.03);
}

TEST(StepGradient, SameStepGivesSameBatch) {
  const auto p = small_model(Algorithm::pooled, Sensing::gaussian, Sampler::materialized);
  const RandomStreams streams(3);
  const Model model(p, streams);
  auto gradient = make_step_gradient(model, p, streams);
  const Matrix u = fixed_factor(p.dim);
  Matrix first(6, 6), again(6, 6), other(6, 6);
  gradient->evaluate(u, 5, first);
  gradient->evaluate(u, 6, other);
  gradient->evaluate(u, 5, again);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

// The record metrics reuse the step's X = U U^T, so it must be the product at the last evaluate's U, bit for bit
// what metrics() computes from U, for every sampler that offers it (rank one computes no X).
TEST(StepGradient, ProductIsTheLastEvaluatesXAndGivesTheSameMetrics) {
  const std::tuple<Algorithm, Sensing, Sampler> kinds[] = {
      {Algorithm::hetero, Sensing::gaussian, Sampler::exact},
      {Algorithm::pooled, Sensing::gaussian, Sampler::exact},
      {Algorithm::pooled, Sensing::gaussian, Sampler::materialized},
      {Algorithm::hetero_gd, Sensing::gaussian, Sampler::exact},
      {Algorithm::pooled_gd, Sensing::rank_one, Sampler::materialized},
      {Algorithm::hetero, Sensing::rank_one, Sampler::materialized}};
  for (const auto& [algorithm, sensing, sampler] : kinds) {
    auto p = small_model(algorithm, sensing, sampler);
    p.basis = Basis::random;
    const RandomStreams streams(4);
    const Model model(p, streams);
    auto step_gradient = make_step_gradient(model, p, streams);
    const Matrix u = fixed_factor(p.dim), v = 0.5 * u;
    Matrix gradient(p.dim, p.dim);
    step_gradient->evaluate(u, 0, gradient);
    step_gradient->evaluate(v, 1, gradient);
    const Matrix* x = step_gradient->product();
    if (sensing == Sensing::rank_one && algorithm == Algorithm::hetero) {
      EXPECT_EQ(x, nullptr);
      continue;
    }
    ASSERT_NE(x, nullptr);
    const Matrix expected = v * v.transpose();
    EXPECT_EQ(*x, expected);
    EXPECT_EQ(model.metrics_of_product(*x, 0.25), model.metrics(v, 0.25));
  }
}

TEST(HeteroEnvironment, CyclicTakesEnvironmentsInTurn) {
  Params p;
  p.environments = 3;
  const RandomStreams streams(1);
  EXPECT_EQ(hetero_environment(p, streams, 0), 0);
  EXPECT_EQ(hetero_environment(p, streams, 4), 1);
  EXPECT_EQ(hetero_environment(p, streams, 8), 2);
}

TEST(HeteroEnvironment, RandomScheduleVisitsEveryEnvironment) {
  Params p;
  p.environments = 3;
  p.schedule = Schedule::random;
  const RandomStreams streams(1);
  std::vector<int> counts(3, 0);
  for (int t = 0; t < 3000; ++t) ++counts[static_cast<std::size_t>(hetero_environment(p, streams, t))];
  // Binomial(3000, 1/3): standard deviation 26; the bound is 5 of them.
  for (int c : counts) EXPECT_NEAR(c, 1000, 130);
}

}  // namespace
}  // namespace hetsweep::science
