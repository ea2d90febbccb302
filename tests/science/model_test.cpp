#include "science/model.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace hetsweep::science {
namespace {

Params small_model() {
  Params p;
  p.dim = 6;
  p.invariant_rank = 2;
  p.spurious_rank = 3;
  p.environments = 3;
  p.heterogeneity = 2.0;
  p.spurious_mean = 1.0;
  return p;
}

TEST(SpuriousValues, SpreadEvenlyAroundTheMean) {
  EXPECT_EQ(spurious_values(small_model()), (std::vector<double>{-1.0, 1.0, 3.0}));
  Params two;
  two.heterogeneity = 6;
  EXPECT_EQ(spurious_values(two), (std::vector<double>{-5.0, 7.0}));
  Params one;
  one.environments = 1;
  one.heterogeneity = 6;
  EXPECT_EQ(spurious_values(one), (std::vector<double>{1.0}));
}

TEST(SymmetricPacking, DotProductIsTheFrobeniusInnerProduct) {
  const SymmetricPacking packing(5);
  Matrix a = Matrix::Random(5, 5), b = Matrix::Random(5, 5);
  a = (a + a.transpose()).eval();
  b = (b + b.transpose()).eval();
  Vector va(packing.size()), vb(packing.size());
  packing.pack(a, va);
  packing.pack(b, vb);
  EXPECT_NEAR(va.dot(vb), (a.array() * b.array()).sum(), 1e-12);
  Matrix back;
  packing.unpack(va, back);
  EXPECT_LT((back - a).norm(), 1e-14);
}

TEST(Model, AxisTargetsAreDiagonal) {
  const auto p = small_model();
  const Model model(p, RandomStreams(1));
  Vector expected(6);
  expected << 1, 1, 3, 3, 3, 0;
  EXPECT_EQ(Matrix(model.environment_target(2)), Matrix(expected.asDiagonal()));
  expected << 1, 1, 1, 1, 1, 0;
  EXPECT_EQ(Matrix(model.pooled_target()), Matrix(expected.asDiagonal()));
}

TEST(Model, RandomBasisIsOrthogonalAndRotatesTheTargets) {
  auto p = small_model();
  p.basis = Basis::random;
  const Model model(p, RandomStreams(4));
  const Matrix& v = model.basis();
  EXPECT_LT((v.transpose() * v - Matrix::Identity(6, 6)).norm(), 1e-12);
  EXPECT_GT((v - Matrix::Identity(6, 6)).norm(), 0.1);
  Vector diagonal(6);
  diagonal << 1, 1, -1, -1, -1, 0;
  EXPECT_LT((model.environment_target(0) - v * diagonal.asDiagonal() * v.transpose()).norm(), 1e-12);
}

TEST(Model, MetricsMeasureTheSubspaceBlocks) {
  const auto p = small_model();
  const Model model(p, RandomStreams(1));
  Vector u_diagonal(6);
  u_diagonal << 1, 1, 2, 0, 0, 0;  // X = diag(1, 1, 4, 0, 0, 0)
  const Matrix u = u_diagonal.asDiagonal();
  const auto m = model.metrics(u, 0.5);
  EXPECT_DOUBLE_EQ(m.true_signal, std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(m.spurious_signal, 4.0);
  EXPECT_DOUBLE_EQ(m.err_invariant, 4.0);
  EXPECT_DOUBLE_EQ(m.err_pooled, std::sqrt(9.0 + 1.0 + 1.0));
  EXPECT_EQ(m.loss, 0.5);
}

TEST(Model, MetricsStayExactWhenTheSquaresUnderflow) {
  const auto p = small_model();
  const Model model(p, RandomStreams(1));
  // Down to the smallest normal double, whose square (and every square below 1e-154) underflows to zero.
  for (const double tiny : {1e-100, 1e-150, 1e-200, 1e-300, std::numeric_limits<double>::min()}) {
    Vector u_diagonal(6);
    u_diagonal << 1, 1, std::sqrt(tiny), std::sqrt(tiny), 0, 0;  // QXQ = diag(tiny, tiny, 0)
    const auto m = model.metrics(Matrix(u_diagonal.asDiagonal()), 0);
    EXPECT_NEAR(m.spurious_signal / (std::sqrt(2.0) * tiny), 1.0, 1e-14) << "at " << tiny;
    EXPECT_DOUBLE_EQ(m.true_signal, std::sqrt(2.0));
    // X - A* = diag(0, 0, tiny, tiny, 0, 0): A* is the identity on the invariant block.
    EXPECT_NEAR(m.err_invariant / (std::sqrt(2.0) * tiny), 1.0, 1e-14) << "at " << tiny;
  }
}

TEST(Model, MetricsDoNotDependOnTheBasis) {
  auto p = small_model();
  p.basis = Basis::random;
  const Model model(p, RandomStreams(9));
  Vector x_diagonal(6);
  x_diagonal << 1, 1, 2, 0, 0, 0;
  const Matrix u = model.basis() * x_diagonal.asDiagonal();  // X = V diag(1,1,4,0,0,0) V^T
  const auto m = model.metrics(u, 0);
  EXPECT_NEAR(m.true_signal, std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(m.spurious_signal, 4.0, 1e-12);
}

TEST(Model, InitialFactorIsScaledIdentityWhenWidthIsDim) {
  auto p = small_model();
  p.init_scale = 1e-3;
  const Model model(p, RandomStreams(1));
  EXPECT_EQ(model.initial_factor(RandomStreams(1)), Matrix(1e-3 * Matrix::Identity(6, 6)));
  p.width = 2;
  const Model narrow(p, RandomStreams(1));
  const Matrix u0 = narrow.initial_factor(RandomStreams(1));
  EXPECT_EQ(u0.rows(), 6);
  EXPECT_EQ(u0.cols(), 2);
  EXPECT_NE(u0, narrow.initial_factor(RandomStreams(2)));
}

}  // namespace
}  // namespace hetsweep::science
