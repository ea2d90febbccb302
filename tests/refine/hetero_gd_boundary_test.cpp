// The phase boundary of hetero_gd found by refinement against the one computed exactly.
//
// On the axis basis with U0 = alpha I (width = dim), K = 2 environments taken in turn (cyclic) and Gaussian
// sensing, the population gradient 2(UU^T - X_e)U keeps U diagonal. Environment e's target has eigenvalue
// s_e on the spurious coordinates, s_0 = mu - M and s_1 = mu + M, and step t uses e = t mod 2, so each
// spurious coordinate follows the scalar recurrence
//   v_{t+1} = v_t - eta 2 (v_t^2 - s_{t mod 2}) v_t = v_t (1 + 2 eta (s_{t mod 2} - v_t^2)),   v_0 = alpha,
// the invariant ones u_{t+1} = u_t - eta 2 (u_t^2 - 1) u_t. With dim = 4 (r = r_s = 2) there are no others,
// ||U||_F = sqrt(2 u^2 + 2 v^2), and the run diverges at the first step where that exceeds the divergence
// threshold or is not finite. The final spurious signal is ||QXQ||_F = ||diag(v_T^2, v_T^2)||_F = sqrt(2) v_T^2.
//
// Near zero, v is multiplied per pair of steps by (1 + 2 eta mu)^2 - 4 eta^2 M^2, so for T -> infinity the
// spurious signal dies exactly for sqrt(mu/eta + mu^2) < M < sqrt((1 + 2 eta mu)^2 + 1) / (2 eta) (README,
// "Closed form"). After T steps from v_0 = alpha a slowly growing coordinate has not yet reached the
// threshold, so the finite-T boundaries M*, where sqrt(2) v_T^2 crosses the threshold (a diverged run counting
// as above), lie just outside that window. They are computed here by bisecting the recurrence to 1e-6, and
// the brackets a refinement finds with science::simulate must contain them.

#include <cmath>
#include <cstdio>
#include <optional>

#include <gtest/gtest.h>

#include "refine/bisection.hpp"
#include "refine/refiner.hpp"
#include "science/simulate.hpp"

namespace hetsweep::refine {
namespace {

const std::string sweep = R"(seed: 3
fixed: {dim: 4, algorithm: hetero_gd, steps: 1000, record_every: 1000}
grid:
  heterogeneity: {start: 0, stop: 16, num: 17}
  step_size: [0.1, 0.05]
refine: {axis: heterogeneity, metric: spurious_signal, threshold: 0.05, tolerance: 0.02}
)";

// The final spurious signal of the recurrence, in simulate's order of operations; nullopt when it diverges.
std::optional<double> recurrence_spurious_signal(const science::Params& p, double heterogeneity) {
  const double eta = p.step_size;
  const double s[2] = {p.spurious_mean - heterogeneity, p.spurious_mean + heterogeneity};
  double u = p.init_scale, v = p.init_scale;
  for (std::int64_t t = 0; t < p.steps; ++t) {
    u = u - eta * ((2 * (u * u - 1)) * u);
    v = v - eta * ((2 * (v * v - s[t % 2])) * v);
    const double norm = std::sqrt(2 * u * u + 2 * v * v);
    if (!std::isfinite(u) || !std::isfinite(v) || norm > p.divergence_threshold) return std::nullopt;
  }
  return std::sqrt(2 * (v * v) * (v * v));
}

bool above(const science::Params& p, double heterogeneity, double threshold) {
  const auto signal = recurrence_spurious_signal(p, heterogeneity);
  return !signal || *signal >= threshold;
}

// Bisects the recurrence's side between a and b (on different sides) to 1e-6; returns the middle.
double exact_boundary(const science::Params& p, double a, double b, double threshold) {
  const bool side_a = above(p, a, threshold);
  EXPECT_NE(side_a, above(p, b, threshold)) << "no crossing in [" << a << ", " << b << "]";
  while (b - a > 1e-6) {
    const double m = a + (b - a) / 2;
    (above(p, m, threshold) == side_a ? a : b) = m;
  }
  return a + (b - a) / 2;
}

TEST(HeteroGdBoundary, RefinementBracketsTheExactFiniteStepBoundaries) {
  const auto spec = spec::parse_spec(sweep, "boundary.yaml");
  const auto& refine = *spec.refine;
  Refiner refiner(spec);
  const spec::Grid grid(spec);
  std::int64_t runs = grid.size();
  const auto compute = [&](const spec::RunPoint& run) {
    const auto result = science::simulate(run.params, run.seed);
    // The recurrence is the model: the same final value to rounding, and the same divergence.
    const auto expected = recurrence_spurious_signal(run.params, run.params.heterogeneity);
    EXPECT_EQ(result.status == science::RunStatus::diverged, !expected.has_value()) << run.params.heterogeneity;
    if (expected && result.status == science::RunStatus::done) {
      EXPECT_NEAR(result.final_metrics.spurious_signal, *expected, 1e-9 * (1 + *expected));
    }
    refiner.record(run.params, run.replicate,
                   result.status == science::RunStatus::diverged ? Outcome::diverged : Outcome::done,
                   result.final_metrics);
  };
  for (std::int64_t i = 0; i < grid.size(); ++i) compute(grid.point(i));
  for (auto ready = refiner.take_ready(); !ready.empty(); ready = refiner.take_ready()) {
    for (const auto& run : ready) compute(run);
    runs += static_cast<std::int64_t>(ready.size());
  }
  ASSERT_TRUE(refiner.resolved());
  const auto crossings = refiner.crossings();
  ASSERT_EQ(crossings.size(), 4u);  // a lower and an upper boundary for each step size
  for (std::size_t i = 0; i < crossings.size(); ++i) {
    const auto& c = crossings[i];
    science::Params p = spec.base;
    p.step_size = std::get<double>(c.where.at(0));
    const double mu = p.spurious_mean, eta = p.step_size;
    const double lower_window = std::sqrt(mu / eta + mu * mu);
    const double upper_window = std::sqrt((1 + 2 * eta * mu) * (1 + 2 * eta * mu) + 1) / (2 * eta);
    const bool lower = i % 2 == 0;
    const double exact = lower ? exact_boundary(p, lower_window - 1, lower_window + 0.5, refine.threshold)
                               : exact_boundary(p, upper_window - 0.5, upper_window + 1, refine.threshold);
    SCOPED_TRACE(testing::Message() << "eta " << eta << (lower ? " lower" : " upper") << " M* " << exact);
    EXPECT_EQ(c.direction, lower ? Direction::down : Direction::up);
    EXPECT_LE(as_double(c.lo), exact);
    EXPECT_GE(as_double(c.hi), exact);
    EXPECT_LE(as_double(c.hi) - as_double(c.lo), refine.tolerance);
    EXPECT_NEAR(c.estimate, exact, refine.tolerance);
    // After finitely many steps the window where the spurious signal dies is wider than for T -> infinity.
    EXPECT_LT(lower ? exact : upper_window, lower ? lower_window : exact);
    std::printf("eta %g %s: M* = %.6f (T -> infinity: %.4f), bracket [%.6f, %.6f], estimate %.6f, %lld runs\n", eta,
                lower ? "lower" : "upper", exact, lower ? lower_window : upper_window, as_double(c.lo), as_double(c.hi),
                c.estimate, static_cast<long long>(c.runs));
  }
  std::printf("%lld runs in all (%lld on the grid)\n", static_cast<long long>(runs),
              static_cast<long long>(grid.size()));
}

}  // namespace
}  // namespace hetsweep::refine
